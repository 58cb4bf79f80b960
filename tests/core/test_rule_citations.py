"""Docstrings cite the business rules the code implements (docs/semantics.md#anchor); every
cited anchor must exist, and nothing in the repository cites a file outside it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CITATION = re.compile(r"docs/semantics\.md#([a-z0-9-]+)")


def _anchors() -> set[str]:
    anchors = set()
    for line in (ROOT / "docs" / "semantics.md").read_text().splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^a-z0-9 -]", "", title).replace(" ", "-"))
    return anchors


def test_every_cited_rule_exists():
    anchors = _anchors()
    cited = {}
    for path in (ROOT / "src").rglob("*.py"):
        for anchor in CITATION.findall(path.read_text()):
            cited.setdefault(anchor, []).append(path.relative_to(ROOT).as_posix())
    assert len(cited) >= 8, cited
    missing = {a: files for a, files in cited.items() if a not in anchors}
    assert not missing, f"cited anchors not in docs/semantics.md: {missing}"


def test_no_file_refers_to_rules_outside_the_repository():
    offenders = [path.relative_to(ROOT).as_posix()
                 for folder in ("src", "tests", "docs", "bench")
                 for path in (ROOT / folder).rglob("*")
                 if path.suffix in {".py", ".md", ".html", ".txt"} and path.is_file()
                 and path.name != "test_rule_citations.py"
                 and re.search(r"SEMANTICS\.md|\.\./shared", path.read_text(errors="ignore"))]
    assert not offenders, offenders
