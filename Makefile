# Nestogy: `make run` (embedded SQLite, demo data, web + worker + scheduler) and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_PYTHON_DOWNLOADS := never
VENV := .venv
BIN := $(VENV)/bin

help:
	@echo "make install   create .venv with uv (finds Python >= 3.12 by itself)"
	@echo "make run       migrate, seed demo data, start web + worker + scheduler"
	@echo "make test      run the whole test suite (DATABASE_URL picks PostgreSQL)"
	@echo "make lint      ruff + import-linter layer contract + migrations check"
	@echo "make bench     run the benchmarks in bench/ (needs DATABASE_URL=postgres://...)"

$(BIN)/nestogy: pyproject.toml uv.lock
	@./scripts/bootstrap
	@touch $(BIN)/nestogy

install: $(BIN)/nestogy

run: install
	$(BIN)/nestogy run

test: install
	$(BIN)/pytest -n auto -q $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	NESTOGY_DATA_DIR=$$(mktemp -d) $(BIN)/nestogy makemigrations --check --dry-run

bench: install
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

.PHONY: help install run test lint bench clean
