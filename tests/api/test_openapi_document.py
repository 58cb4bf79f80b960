"""The OpenAPI document tells the truth about the API.

- No two different schemas share one name (ninja keys components by class name, so two
  ``ReportOut`` classes made ``GET /tickets/sla-report`` document another operation's body).
- The documented response schema validates what the server really answers.
- Every input states the constraints the server checks: no free string, integer or number
  in a request body or query string (enums, patterns, lengths, ranges, formats), and every
  decimal input documents both forms, a patterned string and a number.
"""

from __future__ import annotations

import types
import typing
from collections import defaultdict

import jsonschema_rs
import pytest
from pydantic import BaseModel

from nestogy.api.app import api

DOC = api.get_openapi_schema(path_prefix="")
SCHEMAS = DOC["components"]["schemas"]


def _models_in(annotation, seen: set) -> None:
    """Every pydantic model reachable from a type annotation."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return
        seen.add(annotation)
        for field in annotation.model_fields.values():
            _models_in(field.annotation, seen)
        return
    for arg in typing.get_args(annotation):
        _models_in(arg, seen)
    if isinstance(annotation, types.UnionType):
        for arg in annotation.__args__:
            _models_in(arg, seen)


def api_models() -> set[type[BaseModel]]:
    """Request and response models of every operation, and the models they contain."""
    seen: set = set()
    for _prefix, router in api._routers:
        for view in router.path_operations.values():
            for operation in view.operations:
                for model in operation.response_models.values():
                    if isinstance(model, type) and issubclass(model, BaseModel):
                        _models_in(model.model_fields["response"].annotation, seen)
                for model in operation.models:
                    for field in model.model_fields.values():
                        _models_in(field.annotation, seen)
    return {m for m in seen if not m.__module__.startswith(("ninja.", "pydantic."))}


def test_no_two_schemas_share_a_name():
    by_name: dict[str, set[str]] = defaultdict(set)
    for model in api_models():
        by_name[model.__name__].add(f"{model.__module__}.{model.__qualname__}")
    clashes = {name: sorted(where) for name, where in by_name.items() if len(where) > 1}
    assert not clashes, f"rename these schemas, each name must be unique: {clashes}"


def _ok(operation: dict) -> dict:
    responses = operation["responses"]
    return responses.get(200) or responses["200"]


def _validator(schema: dict):
    return jsonschema_rs.Draft202012Validator({**schema, "components": DOC["components"]})


def test_sla_report_answer_matches_its_documented_schema(personas):
    from django_scopes import scope

    from nestogy.tickets.actions import create_ticket

    with scope(company=personas.company_a.pk):
        create_ticket(personas.company_a, {"client": personas.client_a, "subject": "Down"})
    answer = personas.owner_a.api.get("/tickets/sla-report", group_by="client")
    assert answer.status_code == 200
    schema = _ok(DOC["paths"]["/tickets/sla-report"]["get"])
    validator = _validator(schema["content"]["application/json"]["schema"])
    errors = [e.message for e in validator.iter_errors(answer.data)]
    assert not errors, errors
    check = personas.owner_a.api.post("/tickets/escalations/check", {"dry_run": True})
    schema = _ok(DOC["paths"]["/tickets/escalations/check"]["post"])
    validator = _validator(schema["content"]["application/json"]["schema"])
    assert not [e.message for e in validator.iter_errors(check.data)]


# -- inputs state their constraints ---------------------------------------------------------
def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _loose_leaves(schema: dict, where: str, out: list[str], depth: int = 0) -> None:
    """Scalar inputs that state no constraint at all."""
    if depth > 12:
        return
    schema = _resolve(schema)
    if schema.get("readOnly"):
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            _loose_leaves(option, where, out, depth + 1)
    kind = schema.get("type")
    if kind == "object":
        for name, sub in schema.get("properties", {}).items():
            _loose_leaves(sub, f"{where}.{name}", out, depth + 1)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            _loose_leaves(extra, f"{where}.*", out, depth + 1)
    elif kind == "array":
        if isinstance(schema.get("items"), dict):
            _loose_leaves(schema["items"], f"{where}[]", out, depth + 1)
    elif kind == "string":
        if not ({"enum", "const", "pattern", "maxLength", "format"} & set(schema)):
            out.append(f"{where}: a string with no enum, pattern, length or format")
    elif kind in ("integer", "number"):
        if "enum" not in schema and "const" not in schema and not (
                {"minimum", "exclusiveMinimum"} & set(schema)
                and {"maximum", "exclusiveMaximum"} & set(schema)):
            out.append(f"{where}: a {kind} without its range")


# Inputs whose only constraint is a lookup (a path id answers 404; cursor is checked whole).
FREE = {"path"}


def input_schemas():
    for path, methods in DOC["paths"].items():
        for method, spec in methods.items():
            label = f"{method.upper()} {path.removeprefix('/api/v1')}"
            for param in spec.get("parameters", []):
                if param["in"] not in FREE:
                    yield f"{label} ?{param['name']}", param["schema"]
            body = spec.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                yield f"{label} body", body["schema"]


def test_every_input_states_its_constraints():
    loose: list[str] = []
    for where, schema in input_schemas():
        _loose_leaves(schema, where, loose)
    assert not loose, "state these constraints in the schema:\n" + "\n".join(loose)


DECIMAL_FIELDS = [
    ("LineIn", "quantity"), ("LineIn", "unit_price"), ("LineIn", "tax_rate"),
    ("FixedItemIn", "quantity"), ("FixedItemIn", "unit_price"), ("TierIn", "up_to"),
    ("TierIn", "unit_price"), ("UsageIn", "quantity"), ("QuantityIn", "quantity"),
    ("ContractIn", "tax_rate_percent"), ("PaymentIn", "amount"), ("AllocationIn", "amount"),
]


@pytest.mark.parametrize(("schema", "field"), DECIMAL_FIELDS)
def test_decimal_inputs_document_a_patterned_string_or_a_bounded_number(schema, field):
    prop = SCHEMAS[schema]["properties"][field]
    options = [o for o in prop.get("anyOf", [prop]) if o.get("type") != "null"]
    assert len(options) == 1, prop
    forms = {o["type"]: o for o in options[0]["oneOf"]}
    assert set(forms) == {"string", "number"}
    assert forms["string"]["pattern"].startswith("^")
    assert "maximum" in forms["number"] and "multipleOf" in forms["number"]


def test_enums_come_from_the_models():
    from nestogy.clients.models import Client
    from nestogy.tickets.models import Priority

    assert SCHEMAS["ClientIn"]["properties"]["status"]["anyOf"][0]["enum"] == \
        list(Client.Status.values)
    assert SCHEMAS["TicketIn"]["properties"]["priority"]["enum"] == list(Priority.values)
    limit = next(p for p in DOC["paths"]["/clients"]["get"]["parameters"]
                 if p["name"] == "limit")
    assert limit["schema"]["minimum"] == 1 and limit["schema"]["maximum"] == 200
