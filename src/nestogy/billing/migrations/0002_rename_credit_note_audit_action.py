"""Audit rows of issued credit notes take the name of the event the action emits
(``invoice.credit_note_issued`` -> ``credit_note.issued``)."""

from django.db import migrations

RENAMES = {"invoice.credit_note_issued": "credit_note.issued"}


def forward(apps, schema_editor):
    entries = apps.get_model("audit", "AuditEntry").objects
    for old, new in RENAMES.items():
        entries.filter(action=old).update(action=new)


def backward(apps, schema_editor):
    entries = apps.get_model("audit", "AuditEntry").objects
    for old, new in RENAMES.items():
        entries.filter(action=new).update(action=old)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
        ("billing", "0001_initial"),
    ]

    operations = [migrations.RunPython(forward, backward)]
