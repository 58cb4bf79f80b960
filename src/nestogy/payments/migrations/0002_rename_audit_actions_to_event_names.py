"""Audit rows of recorded payments and of invoices sent to collections take the name of the
event their action emits (``payment.recorded`` -> ``payment.succeeded``,
``invoice.sent_to_collections`` -> ``payment.retries_exhausted``)."""

from django.db import migrations

RENAMES = {"payment.recorded": "payment.succeeded",
           "invoice.sent_to_collections": "payment.retries_exhausted"}


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
        ("payments", "0001_initial"),
    ]

    operations = [migrations.RunPython(forward, backward)]
