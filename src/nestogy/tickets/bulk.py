"""Set-based row writing for the breach checker: one statement per table, whatever the count.

On PostgreSQL rows go in as one ``INSERT ... SELECT FROM unnest(<one array per column>)``
(optionally ``ON CONFLICT DO NOTHING RETURNING``), and many tickets' columns are updated with
one ``UPDATE ... FROM unnest(...)``: no model instances, no per-row SQL. Elsewhere (SQLite)
the same functions fall back to the ORM, correct but not fast.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Sequence

from django.db import connection, models

from nestogy.core.ids import new_public_id

_B32 = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789abcdefghjkmnpqrstvwxyz")


def public_ids(prefix: str, count: int) -> list[str]:
    """``count`` public ids in the layout of ``core.ids.new_public_id`` (the same time part,
    80 random bits each), generated at once."""
    head = new_public_id(prefix)[:len(prefix) + 11]  # "<prefix>_" + 10 time characters
    body = base64.b32encode(os.urandom(10 * count)).decode().translate(_B32)
    return [head + body[16 * i:16 * i + 16] for i in range(count)]


def postgres() -> bool:
    return connection.vendor == "postgresql"


def _array_type(field: models.Field) -> str:
    if isinstance(field, models.JSONField):
        return "text"  # sent as JSON text, cast per element
    db_type = field.db_type(connection) or "text"
    return db_type.split("(")[0].replace("serial", "integer")


def insert_rows(model: type[models.Model], names: Sequence[str], rows: Sequence[Sequence],
                *, ignore_conflicts: bool = False,
                returning: Sequence[str] = ()) -> list[tuple]:
    """Insert ``rows`` (tuples in the order of ``names``) into ``model``'s table.

    PostgreSQL: one statement. ``returning`` columns of the rows actually inserted come back
    (with ``ignore_conflicts``, the rows another writer inserted first are not returned).
    Other databases: ``bulk_create``; ``returning`` is not supported there.
    """
    if not rows:
        return []
    fields = [model._meta.get_field(n) for n in names]
    if not postgres():
        if returning:
            raise NotImplementedError("RETURNING needs PostgreSQL")
        model._base_manager.bulk_create(
            [model(**{f.attname: value for f, value in zip(fields, row, strict=True)})
             for row in rows], ignore_conflicts=ignore_conflicts, batch_size=500)
        return []
    quote = connection.ops.quote_name
    columns = list(zip(*rows, strict=True))
    params = []
    selects = []
    for i, (field, values) in enumerate(zip(fields, columns, strict=True)):
        if isinstance(field, models.JSONField):
            params.append([None if v is None else json.dumps(v) for v in values])
            selects.append(f"c{i}::jsonb")
        else:
            params.append(list(values))
            selects.append(f"c{i}")
    arrays = ", ".join(f"%s::{_array_type(f)}[]" for f in fields)
    aliases = ", ".join(f"c{i}" for i in range(len(fields)))
    sql = (f"INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608 (names only)
           f"({', '.join(quote(f.column) for f in fields)}) "
           f"SELECT {', '.join(selects)} FROM unnest({arrays}) AS v({aliases})")
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    if returning:
        sql += " RETURNING " + ", ".join(quote(model._meta.get_field(n).column)
                                         for n in returning)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if returning else []


def update_columns(model: type[models.Model], objs: Sequence[models.Model],
                   names: Sequence[str]) -> None:
    """Write these attributes of many rows: one ``UPDATE ... FROM unnest(...)`` on
    PostgreSQL; elsewhere one ``WITH v AS (VALUES ...) UPDATE`` per 500 rows."""
    if not objs:
        return
    fields = [model._meta.get_field(n) for n in names]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    if postgres():
        params: list = [[o.pk for o in objs]]
        for f in fields:
            values = [getattr(o, f.attname) for o in objs]
            params.append([None if v is None else json.dumps(v) for v in values]
                          if isinstance(f, models.JSONField) else values)
        arrays = ", ".join(["%s::integer[]"] + [f"%s::{_array_type(f)}[]" for f in fields])
        aliases = ", ".join(["id"] + [f"c{i}" for i in range(len(fields))])
        sets = ", ".join(f"{quote(f.column)} = v.c{i}" + ("::jsonb" if isinstance(
            f, models.JSONField) else "") for i, f in enumerate(fields))
        sql = (f"UPDATE {table} SET {sets} FROM unnest({arrays}) AS v({aliases}) "  # noqa: S608
               f"WHERE {table}.id = v.id")
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        return
    for start in range(0, len(objs), 500):
        chunk = objs[start:start + 500]
        row = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
        values_params: list = []
        for obj in chunk:
            values_params.append(obj.pk)
            values_params.extend(f.get_db_prep_save(getattr(obj, f.attname), connection)
                                 for f in fields)
        names_sql = ", ".join(["id", *[f"c{i}" for i in range(len(fields))]])
        assignments = ", ".join(f"{quote(f.column)} = v.c{i}" for i, f in enumerate(fields))
        # Only quoted column names and placeholders are interpolated; values are parameters.
        sql = (f"WITH v({names_sql}) AS (VALUES {', '.join([row] * len(chunk))}) "  # noqa: S608
               f"UPDATE {table} SET {assignments} FROM v WHERE {table}.id = v.id")
        with connection.cursor() as cursor:
            cursor.execute(sql, values_params)

