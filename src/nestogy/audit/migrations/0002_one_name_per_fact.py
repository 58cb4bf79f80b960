"""Audit actions take the name of the event the same action emits (one vocabulary): stored
entries written under the older names are renamed."""

from django.db import migrations
from django_scopes import scopes_disabled

RENAMES = {
    "user.invitation_accepted": "user.joined",
    "contact.invited": "contact.portal_invited",
    "contact.password_reset_requested": "contact.password_reset",
    "sender.verification_requested": "notifications.sender_verification",
}


def forwards(apps, schema_editor):
    AuditEntry = apps.get_model("audit", "AuditEntry")
    with scopes_disabled():
        for old, new in RENAMES.items():
            AuditEntry.objects.filter(action=old).update(action=new)


def backwards(apps, schema_editor):
    AuditEntry = apps.get_model("audit", "AuditEntry")
    with scopes_disabled():
        for old, new in RENAMES.items():
            AuditEntry.objects.filter(action=new).update(action=old)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
