"""Set-based row writing for the breach checker: a fixed number of statements per table,
whatever the count.

On PostgreSQL rows are streamed with ``COPY ... FROM STDIN`` (psycopg 3 ``cursor.copy``):
straight into the table, or, when conflicts must be skipped and the inserted rows returned,
into a temporary table first and then ``INSERT ... SELECT ... ON CONFLICT DO NOTHING
RETURNING``; many tickets' columns are updated from a COPY-filled temporary table with one
``UPDATE ... FROM``. No model instances, no per-row SQL. Elsewhere (SQLite) the same
functions send every row as one JSON parameter read with ``json_each``: one statement per
table as well, correct, not tuned.

COPY runs on the driver's cursor, so it is added to Django's query log by hand: query
counts (tests, the benchmark) include it.
"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from collections.abc import Iterable, Sequence

from django.db import connection, models, transaction

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



def _copy(cursor, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Stream ``rows`` into ``table`` with COPY on the driver's cursor (logged like a query)."""
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    started = time.perf_counter()
    # The driver's errors become Django's (an IntegrityError for a unique constraint).
    with connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
    if connection.queries_logged:
        connection.queries_log.append({"sql": sql,
                                       "time": f"{time.perf_counter() - started:.3f}"})


class JSONText(str):
    """A JSON column's value already serialised (a writer sharing one text among many rows
    with the same value), written as is."""


def _json_text(value) -> str | None:
    if value is None or isinstance(value, JSONText):
        return value
    return json.dumps(value)


def _prepared(fields: Sequence[models.Field], rows: Sequence[Sequence]) -> Iterable[tuple]:
    json_at = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    if not json_at:
        return rows
    def encode(row):
        row = list(row)
        for i in json_at:
            row[i] = _json_text(row[i])
        return row
    return (encode(row) for row in rows)


def _stage(cursor, table: str, columns: Sequence[str]) -> str:
    """A temporary table with these columns of ``table`` (no constraints), dropped at
    commit."""
    name = f"nestogy_stage_{uuid.uuid4().hex[:16]}"
    cursor.execute(f"CREATE TEMPORARY TABLE {name} ON COMMIT DROP AS "  # noqa: S608
                   f"SELECT {', '.join(columns)} FROM {table} WITH NO DATA")
    return name


def insert_rows(model: type[models.Model], names: Sequence[str], rows: Sequence[Sequence],
                *, ignore_conflicts: bool = False,
                returning: Sequence[str] = ()) -> list[tuple]:
    """Insert ``rows`` (tuples in the order of ``names``) into ``model``'s table.

    PostgreSQL: COPY (one statement; three with ``ignore_conflicts``/``returning``: a
    temporary table, the COPY, ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``). The
    ``returning`` columns of the rows actually inserted come back (rows another writer
    inserted first are not returned).
    SQLite: one ``INSERT [OR IGNORE] ... SELECT FROM json_each [RETURNING ...]`` (SQLite
    3.35+ returns only the rows it inserted, as PostgreSQL does).
    """
    if not rows:
        return []
    fields = [model._meta.get_field(n) for n in names]
    if not postgres():
        return _json_insert(model, fields, rows, ignore_conflicts=ignore_conflicts,
                            returning=[model._meta.get_field(n) for n in returning])
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = [quote(f.column) for f in fields]
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if not (ignore_conflicts or returning):
            _copy(cursor, table, columns, _prepared(fields, rows))
            return []
        stage = _stage(cursor, table, columns)
        _copy(cursor, stage, columns, _prepared(fields, rows))
        sql = (f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 (names only)
               f"SELECT {', '.join(columns)} FROM {stage}")
        if ignore_conflicts:
            sql += " ON CONFLICT DO NOTHING"
        if returning:
            sql += " RETURNING " + ", ".join(quote(model._meta.get_field(n).column)
                                             for n in returning)
        cursor.execute(sql)
        return cursor.fetchall() if returning else []


def update_columns(model: type[models.Model], objs: Sequence[models.Model],
                   names: Sequence[str]) -> None:
    """Write these attributes of many rows: on PostgreSQL a COPY into a temporary table and
    one ``UPDATE ... FROM`` it (three statements, inside a transaction); on SQLite one
    ``UPDATE ... FROM`` rows read from a JSON parameter."""
    if not objs:
        return
    fields = [model._meta.get_field(n) for n in names]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    if postgres():
        columns = [quote(f.column) for f in fields]
        with transaction.atomic(savepoint=False), connection.cursor() as cursor:
            stage = _stage(cursor, table, [quote("id"), *columns])
            _copy(cursor, stage, [quote("id"), *columns], _prepared(
                [model._meta.pk, *fields],
                [(o.pk, *(getattr(o, f.attname) for f in fields)) for o in objs]))
            sets = ", ".join(f"{c} = s.{c}" for c in columns)
            cursor.execute(f"UPDATE {table} SET {sets} FROM {stage} AS s "  # noqa: S608
                           f"WHERE {table}.{quote('id')} = s.{quote('id')}")
        return
    rows = [(o.pk, *(getattr(o, f.attname) for f in fields)) for o in objs]
    names = ["id", *[f"c{i}" for i in range(len(fields))]]
    assignments = ", ".join(f"{quote(f.column)} = v.c{i}" for i, f in enumerate(fields))
    # Only quoted column names are interpolated; the values are one JSON parameter.
    sql = (f"WITH v AS ({_json_rows(names)}) "  # noqa: S608
           f"UPDATE {table} SET {assignments} FROM v WHERE {table}.id = v.id")
    with connection.cursor() as cursor:
        cursor.execute(sql, [_json_param([model._meta.pk, *fields], rows)])


def _json_rows(names: Sequence[str]) -> str:
    """``SELECT`` of one row per element of a JSON array of arrays (SQLite's json_each)."""
    columns = ", ".join(f"json_extract(value, '$[{i}]') AS {name}"
                        for i, name in enumerate(names))
    return f"SELECT {columns} FROM json_each(%s)"  # noqa: S608 (generated aliases only)


def _json_param(fields: Sequence[models.Field], rows: Sequence[Sequence]) -> str:
    """The rows as one JSON text, each value as the database stores it."""
    def value(field, v):
        if v is None:
            return None
        if isinstance(field, models.JSONField):
            return _json_text(v)
        prepared = field.get_db_prep_save(v, connection)
        return prepared if isinstance(prepared, (int, float, str, bool)) else str(prepared)
    return json.dumps([[value(f, v) for f, v in zip(fields, row, strict=True)]
                       for row in rows])


def _json_insert(model, fields, rows, *, ignore_conflicts: bool,
                 returning: Sequence[models.Field] = ()) -> list[tuple]:
    """One ``INSERT ... SELECT FROM json_each(<all rows>)`` (SQLite: no per-row SQL and
    no limit on bound parameters); the ``returning`` columns of the rows inserted."""
    quote = connection.ops.quote_name
    names = [f"c{i}" for i in range(len(fields))]
    verb = "INSERT OR IGNORE" if ignore_conflicts else "INSERT"
    sql = (f"{verb} INTO {quote(model._meta.db_table)} "  # noqa: S608 (names only)
           f"({', '.join(quote(f.column) for f in fields)}) "
           f"SELECT {', '.join(names)} FROM ({_json_rows(names)}) WHERE true")
    if returning:
        sql += " RETURNING " + ", ".join(quote(f.column) for f in returning)
    with connection.cursor() as cursor:
        cursor.execute(sql, [_json_param(fields, rows)])
        return cursor.fetchall() if returning else []
