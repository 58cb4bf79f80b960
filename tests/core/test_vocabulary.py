"""One vocabulary: an audited action emits the event of the same name, and higher apps react
to lower ones through ``core.events.react`` rather than lists mutated at import time.

The source is read with ``ast``: every function that writes an audit entry (``log_action``,
``build_entry``) and emits an event (``emit``) is found, with names given as literals or as
module constants, and the ``(type, data)`` pairs handed to ``emit_many``.
"""

from __future__ import annotations

import ast
import collections
from pathlib import Path

import pytest

import nestogy
from nestogy.core import events

SRC = Path(nestogy.__file__).parent

# Pairs (audit action, event type) that one function writes together although the names
# differ: each is a different fact (or a narrower one) than the event, as stated.
DIFFERENT_FACTS = {
    ("user.invitation_resent", "user.invited"):
        "resending mails the invitation again; the event is the invitation mail",
    ("ticket.imported", "ticket.created"):
        "an imported ticket is created with its history; watchers hear of a new ticket",
    ("ticket.updated", "ticket.assigned"):
        "an edit may change the assignee among other fields",
    ("invoice.generated", "invoice.issued"):
        "a recurring run generates every invoice, drafts included; the event announces each "
        "one it issued",
    ("payment.attempt_error", "payment.failed"):
        "one failed attempt's record; the event tells the client the charge failed",
    ("contract.renewal_notice", "contract.renewal_upcoming"):
        "the notice stamp on the contract; the event is the reminder sent",
}


def _modules() -> dict[str, ast.Module]:
    trees = {}
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        dotted = "nestogy." + ".".join(path.relative_to(SRC).with_suffix("").parts)
        trees[dotted.removesuffix(".__init__")] = ast.parse(path.read_text())
    return trees


MODULES = _modules()


def _constants() -> dict[str, set[str]]:
    found: dict[str, set[str]] = collections.defaultdict(set)
    for tree in MODULES.values():
        for node in tree.body:
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, str)):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found[target.id].add(node.value.value)
    return found


CONSTANTS = _constants()


def _name(node: ast.expr) -> str | None:
    """A literal, or a module constant (``INVITED``, ``sender.EVENT``) with one value."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    ident = (node.id if isinstance(node, ast.Name)
             else node.attr if isinstance(node, ast.Attribute) else None)
    values = CONSTANTS.get(ident or "", set())
    return next(iter(values)) if len(values) == 1 else None


def _callee(call: ast.Call) -> str | None:
    func = call.func
    return (func.id if isinstance(func, ast.Name)
            else func.attr if isinstance(func, ast.Attribute) else None)


def _functions():
    """(module, function name, audited actions, emitted events, called names) per function."""
    for module, tree in MODULES.items():
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            logged, emitted, called = set(), set(), set()
            pairs = set()  # ("type", data) tuples, what emit_many is given
            for call in ast.walk(fn):
                if (isinstance(call, ast.Tuple) and len(call.elts) == 2
                        and isinstance(call.elts[0], ast.Constant)):
                    pairs.add(call.elts[0].value)
                if not isinstance(call, ast.Call):
                    continue
                callee = _callee(call)
                called.add(callee)
                if callee in ("log_action", "build_entry") and len(call.args) >= 2:
                    logged.add(_name(call.args[1]))
                elif callee == "emit" and call.args:
                    emitted.add(_name(call.args[0]))
            if "emit_many" in called:
                emitted |= pairs & set(events.REGISTRY)
            yield module, fn.name, logged, emitted, called


FUNCTIONS = list(_functions())


def test_the_scan_sees_the_actions():
    """The scan resolves names (a guard against a test that silently finds nothing)."""
    by_name = {(m, f): (logged, emitted) for m, f, logged, emitted, _ in FUNCTIONS}
    assert by_name[("nestogy.accounts.actions", "accept_invitation")] == (
        {"user.joined"}, {"user.joined"})
    assert by_name[("nestogy.clients.actions", "invite_contact")] == (
        {"contact.portal_invited"}, {"contact.portal_invited"})


def test_an_audited_action_named_like_an_event_emits_it():
    """Whoever writes audit action X, where X is a registered event type, emits X (itself or
    through an action it calls: the company settings change is audited by accounts and
    emitted by tenancy)."""
    emitters = collections.defaultdict(set)
    for _, fn, _, emitted, _ in FUNCTIONS:
        for name in emitted:
            emitters[fn].add(name)
    problems = []
    for module, fn, logged, emitted, called in FUNCTIONS:
        for action in logged & set(events.REGISTRY):
            via_callee = any(action in emitters.get(c, ()) for c in called)
            if action not in emitted and not via_callee:
                problems.append(f"{module}.{fn} audits {action} but does not emit it")
    assert problems == []


def test_one_fact_has_one_name():
    """A function writing one audit action and emitting one event uses one name for both,
    unless the pair is listed as two different facts."""
    problems = []
    for module, fn, logged, emitted, _ in FUNCTIONS:
        if len(logged) == 1 and len(emitted) == 1 and None not in logged | emitted:
            pair = (next(iter(logged)), next(iter(emitted)))
            if pair[0] != pair[1] and pair not in DIFFERENT_FACTS:
                problems.append(f"{module}.{fn}: audit {pair[0]} vs event {pair[1]}")
    assert problems == []


@pytest.mark.parametrize(("event_type", "handler"), [
    ("company.settings_updated", "nestogy.notifications.actions.reset_sender_verification"),
    ("user.joined", "nestogy.routing.actions.apply_invited_calendar"),
    ("sla.policy_changed", "nestogy.tickets.sla.on_policy_changed"),
    ("sla.client_policy_changed", "nestogy.tickets.sla.on_client_policy_changed"),
    ("invoice.issued", "nestogy.payments.auto_pay.on_invoice_issued"),
])
def test_higher_apps_react_through_events(event_type, handler):
    assert event_type in events.REGISTRY
    assert handler in {f"{h.__module__}.{h.__qualname__}" for h in events.reactions(event_type)}


# No hook list is filled by a higher app any more: every reaction is an event.
HOOK_LISTS_LEFT: set[str] = set()


def _is_module_list(node: ast.expr) -> bool:
    """``other_module.SOME_LIST``: an upper-case attribute of a name (a module alias)."""
    return (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.attr.isupper())


def test_no_list_is_mutated_at_import_time():
    """No module appends to a list when it loads, nor to another module's list at any time
    (an ``AppConfig.ready()`` filling a lower app's hook list), and no module declares a
    list of callables for others to fill (the event registry itself excepted)."""
    problems = []
    for module, tree in MODULES.items():
        if module == "nestogy.core.events" or module in HOOK_LISTS_LEFT:
            continue
        for node in tree.body:
            if (isinstance(node, ast.AnnAssign)
                    and "list[Callable" in ast.unparse(node.annotation)):
                problems.append(f"{module}: {ast.unparse(node.target)} is a hook list")
            at_import = not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef
                                       | ast.ClassDef)
            for inner in ast.walk(node):
                if not (isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute)
                        and inner.func.attr in ("append", "extend", "insert")):
                    continue
                if at_import or _is_module_list(inner.func.value):
                    problems.append(f"{module}: {ast.unparse(inner)}")
    assert problems == []


@pytest.mark.django_db
def test_stored_audit_entries_take_the_event_names(personas):
    """The data migration renames entries written under the older names, and only those."""
    from importlib import import_module

    from django.apps import apps
    from django_scopes import scopes_disabled

    from nestogy.audit.models import AuditEntry

    migration = import_module("nestogy.audit.migrations.0002_one_name_per_fact")
    company = personas.company_a
    old_names = [*migration.RENAMES, "client.created"]
    with scopes_disabled():
        AuditEntry.objects.bulk_create([
            AuditEntry(company=company, action=name, actor_label="system",
                       object_type="x", object_id=str(i), object_repr="x", data={})
            for i, name in enumerate(old_names)])
        migration.forwards(apps, None)
        renamed = dict(AuditEntry.objects.filter(object_type="x")
                       .values_list("object_id", "action"))
    assert [renamed[str(i)] for i in range(len(old_names))] == [
        "user.joined", "contact.portal_invited", "contact.password_reset",
        "notifications.sender_verification", "client.created"]
    assert set(migration.RENAMES.values()) <= set(events.REGISTRY)
