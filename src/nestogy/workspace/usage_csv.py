"""Usage uploads from CSV on a contract's page: read an uploaded file line by line, check each
line as ``contracts.actions.record_usage`` would (``validate_usage``: the one set of rules),
and say per line what recording it would do.

The file (docs/billing-clerk.md#contracts): UTF-8 text (a byte-order mark is fine), comma
separated, a header row naming the columns in any order:

- ``item``: the metered item's public id (``cti_...``) or its description (case ignored);
- ``quantity``: a decimal number, not negative;
- ``occurred_at``: ISO 8601; with an offset (``2027-03-03T09:00:00-05:00``, ``...Z``) it is
  that moment; without one (``2027-03-03 09:00``, or a date, ``2027-03-03``, meaning its
  midnight) it is read in the company's time zone;
- ``idempotency_key`` (optional column, optional value): a line whose key is already recorded
  for the item records nothing. Left empty, the key is derived from the line's item, quantity
  and moment (``csv-`` and 40 hex digits), so uploading the same file again records nothing
  twice (and two identical lines in one file are one measurement).

The file is attacker input: at most ``MAX_BYTES`` and ``MAX_LINES`` lines; not UTF-8, NUL
bytes, broken quoting, unknown columns, over-long values or spreadsheet formulas are refused
with a message, never an error page.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from nestogy.contracts import actions, queries
from nestogy.contracts.models import Contract, ContractItem
from nestogy.core.errors import ValidationError

MAX_BYTES = 2 * 1024 * 1024
MAX_LINES = 10_000  # as POST /api/v1/usage/bulk
MAX_VALUE = 300  # characters in one cell (descriptions are at most 300)
LINES_SHOWN = 500
COLUMNS = ("item", "quantity", "occurred_at", "idempotency_key")
REQUIRED = ("item", "quantity", "occurred_at")
FORMULA = ("=", "@", "+", "-", "\t", "\r")
# the action's field names, as the file's columns
FIELD_OF = {"contract_item_id": "item", "quantity": "quantity", "occurred_at": "occurred_at",
            "idempotency_key": "idempotency_key"}


@dataclass
class Line:
    number: int
    item: str = ""
    quantity: str = ""
    occurred_at: datetime | None = None
    key: str = ""
    derived: bool = False
    status: str = "refused"  # new | stored (already recorded) | repeated (earlier line)
    field: str = ""
    message: str = ""
    record: tuple[ContractItem, dict[str, Any]] | None = None


@dataclass
class Report:
    problem: str = ""  # the whole file is refused
    lines: list[Line] = field(default_factory=list)
    records: list[tuple[ContractItem, dict[str, Any]]] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for line in self.lines if line.status == status)

    @property
    def refused(self) -> int:
        return self.count("refused")

    @property
    def new(self) -> int:
        return self.count("new")

    @property
    def duplicates(self) -> int:
        return self.count("stored") + self.count("repeated")

    @property
    def ok(self) -> bool:
        return not self.problem and not self.refused and bool(self.lines)

    @property
    def shown(self) -> list[Line]:
        """The refused lines first (all of them up to the limit), then the others."""
        refused = [line for line in self.lines if line.status == "refused"]
        others = [line for line in self.lines if line.status != "refused"]
        return (refused + others)[:LINES_SHOWN]


def derived_key(item: ContractItem, quantity, occurred_at: datetime) -> str:
    content = f"{item.public_id}|{quantity.normalize():f}|{occurred_at.astimezone(UTC).isoformat()}"
    return "csv-" + hashlib.sha256(content.encode()).hexdigest()[:40]


def _find_item(value: str, items: list[ContractItem]) -> tuple[ContractItem | None, str]:
    for item in items:
        if item.public_id == value:
            if item.kind != ContractItem.Kind.METERED:
                return None, "is a fixed item; only metered items take usage"
            return item, ""
    wanted = value.casefold()
    found = [i for i in items if i.kind == ContractItem.Kind.METERED
             and i.description.strip().casefold() == wanted]
    if len(found) > 1:
        return None, "matches several metered items; give the item's id instead"
    if not found:
        return None, "is not a metered item of this contract (give its id or description)"
    return found[0], ""


def _moment(value: str, zone: ZoneInfo) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError("occurred_at", "must be an ISO 8601 date or timestamp, such as "
                                             "2027-03-03T09:00:00-05:00") from None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def _text(raw: bytes) -> tuple[str, str]:
    """The file as text, or a message refusing it."""
    if len(raw) > MAX_BYTES:
        return "", (f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it into "
                    "smaller files.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return "", (f"The file is not UTF-8 text (byte {exc.start + 1} is not). Save it as "
                    "“CSV UTF-8” and upload it again.")
    if "\x00" in text:
        return "", "The file contains NUL characters: it is not a CSV text file."
    if not text.strip():
        return "", "The file is empty."
    return text, ""


def _header(row: list[str]) -> tuple[list[str], str]:
    names = [cell.strip().lower() for cell in row]
    if len(names) == 1 and ";" in names[0]:
        return [], ("Line 1: the columns are separated by semicolons; save the file as CSV "
                    "separated by commas.")
    for name in names:
        if name not in COLUMNS:
            shown = name[:40] + ("…" if len(name) > 40 else "")
            return [], (f"Line 1: unknown column “{shown}”. The columns are item, quantity, "
                        "occurred_at and, optionally, idempotency_key.")
    if len(set(names)) != len(names):
        return [], "Line 1: a column is named twice."
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        return [], f"Line 1: the column “{missing[0]}” is missing."
    return names, ""


def read(raw: bytes, contract: Contract, company) -> Report:
    """Check every line of an uploaded file against the contract's metered items; write
    nothing. ``report.records`` are the accepted lines, ready for ``record_usage_bulk``."""
    report = Report()
    text, report.problem = _text(raw)
    if report.problem:
        return report
    if text.count("\n") > MAX_LINES + 1:
        report.problem = (f"The file has more than {MAX_LINES:,} lines of usage; split it "
                          "into smaller files.")
        return report
    zone = ZoneInfo(company.timezone or "UTC")
    items = list(contract.items.all())
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        names, report.problem = _header(next(reader))
        if report.problem:
            return report
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(report.lines) >= MAX_LINES:
                report.problem = (f"The file has more than {MAX_LINES:,} lines of usage; split "
                                  "it into smaller files.")
                return report
            report.lines.append(_line(reader.line_num, row, names, items, zone))
    except csv.Error as exc:
        report.problem = f"Line {reader.line_num}: the file is not valid CSV ({exc})."
        return report
    if not report.lines:
        report.problem = "The file has a header but no lines of usage."
        return report
    _mark_duplicates(report)
    return report


def _line(number: int, row: list[str], names: list[str], items: list[ContractItem],
          zone: ZoneInfo) -> Line:
    line = Line(number)
    if len(row) != len(names):
        line.message = f"has {len(row)} values; the header names {len(names)} columns"
        return line
    cells = {name: cell.strip() for name, cell in zip(names, row, strict=True)}
    line.item, line.quantity = cells["item"][:80], cells["quantity"][:40]
    for name in COLUMNS:
        value = cells.get(name, "")
        if len(value) > MAX_VALUE:
            line.field, line.message = name, f"is longer than {MAX_VALUE} characters"
            return line
        if name != "quantity" and value.startswith(FORMULA):
            line.field, line.message = name, "looks like a spreadsheet formula; give the value"
            return line
    if not cells["item"]:
        line.field, line.message = "item", "is required"
        return line
    item, why = _find_item(cells["item"], items)
    if item is None:
        line.field, line.message = "item", why
        return line
    line.item = item.description
    key = cells.get("idempotency_key", "")
    try:
        if not cells["occurred_at"]:
            raise ValidationError("occurred_at", "is required")
        moment = _moment(cells["occurred_at"], zone)
        data = {"quantity": cells["quantity"], "occurred_at": moment,
                "idempotency_key": key or "derived"}
        record = actions.validate_usage(item, data)
    except ValidationError as exc:
        error = exc.errors[0]
        line.field = FIELD_OF.get(error.field or "", error.field or "")
        line.message = error.message
        return line
    line.occurred_at = record.occurred_at
    if not key:
        key, line.derived = derived_key(item, record.quantity, record.occurred_at), True
    line.key, line.status = key, "new"
    line.record = (item, {**data, "idempotency_key": key})
    return line


def _mark_duplicates(report: Report) -> None:
    accepted = [line for line in report.lines if line.status == "new"]
    stored = queries.stored_usage_keys({(line.record[0].pk, line.key) for line in accepted})
    seen: set[tuple[int, str]] = set()
    for line in accepted:
        pair = (line.record[0].pk, line.key)
        if pair in stored:
            line.status = "stored"
        elif pair in seen:
            line.status = "repeated"
        seen.add(pair)
    report.records = [line.record for line in accepted]
