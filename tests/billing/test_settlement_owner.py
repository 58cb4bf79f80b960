"""Invoice settlement has one owner: no module outside ``nestogy.billing`` assigns an
invoice's ``status``, ``amount_paid`` or ``balance`` (payments call billing.settlement), and
no payments module reaches into another module's private names."""

from __future__ import annotations

import ast
from pathlib import Path

import nestogy

SRC = Path(nestogy.__file__).resolve().parent
SETTLED = {"status", "amount_paid", "balance"}
WRITERS = {"update", "create", "bulk_create", "get_or_create", "update_or_create"}


def _root_name(node: ast.AST) -> str:
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else ""


def _holds_invoice(name: str) -> bool:
    return "invoice" in name.lower() or name in ("inv", "invs")


def invoice_writes(source: str) -> list[int]:
    """Line numbers where ``source`` writes an invoice's settled fields: an attribute assigned
    on a name that holds an invoice (``invoice.status = …``), or ``Invoice(...)`` /
    ``Invoice.objects….update/create(...)`` with one of those fields as a keyword."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if (isinstance(target, ast.Attribute) and target.attr in SETTLED
                    and _holds_invoice(_root_name(target.value))):
                lines.append(node.lineno)
        if isinstance(node, ast.Call) and {k.arg for k in node.keywords} & SETTLED:
            func = node.func
            direct = isinstance(func, ast.Name) and func.id == "Invoice"
            manager = (isinstance(func, ast.Attribute) and func.attr in WRITERS
                       and _root_name(func) == "Invoice")
            if direct or manager:
                lines.append(node.lineno)
    return lines


def test_the_detector_finds_each_kind_of_write():
    sample = (
        "invoice.status = 'paid'\n"
        "inv.balance -= x\n"
        "Invoice.objects.filter(pk=1).update(amount_paid=F('amount_paid') + 1)\n"
        "Invoice(company_id=1, status='issued')\n"
        "payment.status = 'refunded'\n"  # not an invoice
        "invitation.status = 'accepted'\n"  # not an invoice either
        "Invoice.objects.filter(status='issued').count()\n"  # a read
    )
    assert invoice_writes(sample) == [1, 2, 3, 4]
    # and it sees the owner's own writes
    assert invoice_writes((SRC / "billing" / "settlement.py").read_text())


def test_no_module_outside_billing_writes_invoice_settlement():
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC)
        if relative.parts[0] == "billing":
            continue
        for line in invoice_writes(path.read_text()):
            offenders.append(f"{relative}:{line}")
    assert offenders == []


def test_payments_modules_use_only_public_names_of_each_other():
    offenders = []
    for path in sorted((SRC / "payments").rglob("*.py")):
        tree = ast.parse(path.read_text())
        modules = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nestogy."):
                for alias in node.names:
                    if alias.name.startswith("_"):
                        offenders.append(f"{path.name}:{node.lineno} imports {alias.name}")
                    modules.add(alias.asname or alias.name)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in modules and node.attr.startswith("_")
                    and not node.attr.startswith("__")):
                offenders.append(f"{path.name}:{node.lineno} uses {node.value.id}.{node.attr}")
    assert offenders == []
