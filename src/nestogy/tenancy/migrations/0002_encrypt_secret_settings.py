# Encrypts the secret company settings that were stored in plaintext before secrets existed
# (the keys declared secret at that time). Reading tolerates both forms, and
# `nestogy rotate_secrets` seals any plaintext secret a later declaration adds.

from django.db import migrations

import nestogy.core.secrets

SECRET_KEYS = ("payments.stripe_api_key", "payments.stripe_webhook_secret",
               "notifications.sms_url", "notifications.slack_urls")


def seal_settings(apps, schema_editor):
    Company = apps.get_model("tenancy", "Company")
    for company in Company.objects.using(schema_editor.connection.alias).iterator():
        stored = dict(company.settings or {})
        changed = False
        for key in SECRET_KEYS:
            value = stored.get(key)
            if value is None or nestogy.core.secrets.is_sealed(value):
                continue
            if nestogy.core.secrets.is_empty(value):
                stored.pop(key)
            else:
                stored[key] = nestogy.core.secrets.seal_json(value)
            changed = True
        if changed:
            company.settings = stored
            company.save(update_fields=["settings"])


def unseal_settings(apps, schema_editor):
    Company = apps.get_model("tenancy", "Company")
    for company in Company.objects.using(schema_editor.connection.alias).iterator():
        stored = dict(company.settings or {})
        sealed = [k for k, v in stored.items() if nestogy.core.secrets.is_sealed(v)]
        for key in sealed:
            stored[key] = nestogy.core.secrets.unseal_json(stored[key])
        if sealed:
            company.settings = stored
            company.save(update_fields=["settings"])


class Migration(migrations.Migration):

    dependencies = [
        ("tenancy", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seal_settings, unseal_settings, elidable=False),
    ]
