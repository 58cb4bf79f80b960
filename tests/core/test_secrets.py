"""Secrets at rest: sealing, key configuration, rotation (MultiFernet), the rotate_secrets
command, the data migrations, and loud failures when a key is wrong or missing."""

from __future__ import annotations

import importlib
import json
import os
import stat
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django_scopes import scope, scopes_disabled

from nestogy.core import secrets
from nestogy.tenancy.models import Company

KEY_1 = secrets.generate_key()
KEY_2 = secrets.generate_key()
STRIPE_KEY = "sk_live_51RotationKeepsMeReadable"


@pytest.fixture
def keys(settings):
    """Use explicit keys (the first encrypts) instead of the key file."""
    def use(*keys):
        settings.NESTOGY_SECRETS_KEYS = list(keys)
    use(KEY_1)
    return use


def raw_column(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        value = cursor.fetchone()[0]
    return value if isinstance(value, str) else json.dumps(value)


def test_seal_and_unseal(keys):
    sealed = secrets.seal("hello secret")
    assert sealed.startswith(f"enc:v1:{secrets.key_id(KEY_1)}:")
    assert "hello" not in sealed
    assert secrets.seal("hello secret") != sealed  # random IV: equal values look different
    assert secrets.unseal(sealed) == "hello secret"
    assert secrets.unseal("plain from before") == "plain from before"
    assert secrets.unseal_json(secrets.seal_json(["a", "b"])) == ["a", "b"]
    assert secrets.status("sk_live_abcdefgh9xQz") == {"set": True, "last4": "9xQz"}
    assert secrets.status("short") == {"set": True, "last4": None}
    assert secrets.status("") == {"set": False, "last4": None}
    assert secrets.describe(secrets.status("sk_live_abcdefgh9xQz")) == "set, ends in …9xQz"


def test_rotation_with_two_keys_keeps_every_secret_readable(keys):
    keys(KEY_1)
    old = secrets.seal("rotate me please")
    keys(KEY_2, KEY_1)  # a new current key, the old one still configured
    assert secrets.unseal(old) == "rotate me please"
    assert secrets.needs_rotation(old)
    new = secrets.rotate(old)
    assert secrets.sealed_key_id(new) == secrets.key_id(KEY_2)
    assert not secrets.needs_rotation(new)
    keys(KEY_2)  # the old key retired: rotated values still open
    assert secrets.unseal(new) == "rotate me please"


def test_a_wrong_or_missing_key_fails_loudly_naming_the_key(keys):
    keys(KEY_1)
    sealed = secrets.seal("needs key one")
    keys(KEY_2)
    with pytest.raises(secrets.UndecryptableSecret) as info:
        secrets.unseal(sealed)
    message = str(info.value)
    assert secrets.key_id(KEY_1) in message and secrets.key_id(KEY_2) in message
    assert "restore" in message and "needs key one" not in message


def test_a_malformed_key_is_a_configuration_error(keys, settings):
    keys("not-a-fernet-key")
    with pytest.raises(secrets.SecretsKeyError, match="key 1 is not a Fernet key"):
        secrets.seal("x")
    from nestogy.core.apps import secrets_keys_check

    errors = secrets_keys_check(None)
    assert errors and errors[0].id == "nestogy.E001"


def test_key_file_is_generated_once_with_mode_0600(tmp_path, settings):
    settings.NESTOGY_SECRETS_KEYS = []
    settings.NESTOGY_SECRETS_KEY_FILE = None
    settings.DATA_DIR = tmp_path
    sealed = secrets.seal("kept in a file")
    path = tmp_path / "secrets_key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    key = path.read_text().strip()
    assert secrets.sealed_key_id(sealed) == secrets.key_id(key)
    assert secrets.load_or_create_key_file(path) == [key]  # not regenerated
    # Rotation with the file: a new key on the first line, the old one after it.
    new = secrets.generate_key()
    rotated = tmp_path / "rotated_key"
    rotated.write_text(f"{new}\n{key}\n")
    settings.NESTOGY_SECRETS_KEY_FILE = str(rotated)
    assert secrets.unseal(sealed) == "kept in a file"
    assert secrets.current_key_id() == secrets.key_id(new)


def test_an_explicit_key_file_that_is_missing_is_an_error(tmp_path, settings):
    settings.NESTOGY_SECRETS_KEYS = []
    settings.NESTOGY_SECRETS_KEY_FILE = str(tmp_path / "absent")
    with pytest.raises(secrets.SecretsKeyError, match="does not exist"):
        secrets.seal("x")
    assert not (tmp_path / "absent").exists()


def test_company_secret_read_with_a_lost_key_fails_loudly_not_silently(personas, keys):
    company = personas.company_a
    company.set_setting("payments.stripe_api_key", STRIPE_KEY)
    company.save()
    keys(KEY_2)  # the key that sealed it is gone
    company.refresh_from_db()
    with pytest.raises(secrets.UndecryptableSecret, match=secrets.key_id(KEY_1)):
        company.get_secret("payments.stripe_api_key")
    # Readers are told it is set but unreadable (no crash, no value).
    state = company.secret_state("payments.stripe_api_key")
    assert state["set"] is True and state["error"]
    response = personas.owner_a.api.get("/company")
    assert response.status_code == 200
    setting = {s["key"]: s for s in response.data["settings"]}["payments.stripe_api_key"]
    assert setting["value"]["error"] == "cannot be decrypted with the configured keys"


def test_stripe_with_an_undecryptable_key_refuses_clearly(personas, keys, monkeypatch):
    from nestogy.payments.gateways import PermanentGatewayError, get_gateway

    monkeypatch.setenv("NESTOGY_STRIPE_API_KEY", "sk_test_installation_fallback")
    company = personas.company_a
    company.set_setting("payments.stripe_api_key", STRIPE_KEY)
    company.save()
    keys(KEY_2)
    company.refresh_from_db()
    gateway = get_gateway("stripe", company=company)
    assert gateway.api_key == ""  # never the installation's key instead
    with pytest.raises(PermanentGatewayError, match="cannot be decrypted"):
        gateway.retrieve_charge("pi_1")


def _seed_everything(personas):
    """A secret in every kind of storage of company A, written under the current key."""
    from nestogy.notifications.models import ChannelAddress, WebhookEndpoint

    company = personas.company_a
    company.set_setting("payments.stripe_api_key", STRIPE_KEY)
    company.set_setting("notifications.slack_urls", ["slack://TokA/TokB/TokCsecret/#ops"])
    company.save()
    with scope(company=company.pk):
        hook = WebhookEndpoint.objects.create(company=company, name="Bridge",
                                              url="https://example.com/in",
                                              secret="whsec_rotation_test_secret")
        address = ChannelAddress.objects.create(company=company, user=personas.tech_a.user,
                                                channel="slack",
                                                address="slack://PersA/PersB/PersCsecret")
    return company, hook, address


def test_rotate_secrets_reencrypts_everything_and_is_idempotent(personas, keys):
    from nestogy.notifications.models import ChannelAddress, WebhookEndpoint

    keys(KEY_1)
    company, hook, address = _seed_everything(personas)
    keys(KEY_2, KEY_1)
    out = StringIO()
    call_command("rotate_secrets", "--json", stdout=out, stderr=StringIO())
    result = json.loads(out.getvalue())
    assert result["key_id"] == secrets.key_id(KEY_2)
    assert result["rotated"] >= 4 and result["undecryptable"] == 0
    keys(KEY_2)  # the old key can go now
    company.refresh_from_db()
    assert company.get_secret("payments.stripe_api_key") == STRIPE_KEY
    with scopes_disabled():
        assert WebhookEndpoint.objects.get(pk=hook.pk).secret == "whsec_rotation_test_secret"
        assert ChannelAddress.objects.get(pk=address.pk).address.endswith("PersCsecret")
    for table, column, pk in (("tenancy_company", "settings", company.pk),
                              ("notifications_webhookendpoint", "secret", hook.pk),
                              ("notifications_channeladdress", "address", address.pk)):
        assert f"enc:v1:{secrets.key_id(KEY_2)}:" in raw_column(table, column, pk)
    again = StringIO()
    call_command("rotate_secrets", "--json", stdout=again, stderr=StringIO())
    second = json.loads(again.getvalue())
    assert second["rotated"] == second["sealed"] == 0 and second["current"] >= 4


def test_rotate_secrets_seals_plaintext_left_from_before(personas, keys):
    company = personas.company_a
    legacy = {**(company.settings or {}), "payments.stripe_api_key": STRIPE_KEY,
              "notifications.sms_url": "twilio://SID:LegacyToken@+15550001111/{phone}"}
    Company.objects.filter(pk=company.pk).update(settings=legacy)
    company.refresh_from_db()
    # Reading tolerates the half-done state: plaintext reads as it is.
    assert company.get_secret("payments.stripe_api_key") == STRIPE_KEY
    out, err = StringIO(), StringIO()
    call_command("rotate_secrets", stdout=out, stderr=err)
    assert "re-encrypted" in out.getvalue() and "tenancy.Company.settings" in err.getvalue()
    raw = raw_column("tenancy_company", "settings", company.pk)
    assert STRIPE_KEY not in raw and "LegacyToken" not in raw
    company.refresh_from_db()
    assert company.get_secret("payments.stripe_api_key") == STRIPE_KEY


def test_rotate_secrets_reports_what_it_cannot_decrypt(personas, keys):
    keys(KEY_1)
    _seed_everything(personas)
    keys(KEY_2)
    out = StringIO()
    with pytest.raises(CommandError, match="cannot be decrypted"):
        call_command("rotate_secrets", "--json", stdout=out, stderr=StringIO())
    result = json.loads(out.getvalue())
    assert result["undecryptable"] >= 4
    keys(KEY_2, KEY_1)  # nothing was destroyed: with the old key back, everything opens
    personas.company_a.refresh_from_db()
    assert personas.company_a.get_secret("payments.stripe_api_key") == STRIPE_KEY


def test_rotate_secrets_check_writes_nothing_and_generate_key(personas, keys):
    keys(KEY_1)
    company, _, _ = _seed_everything(personas)
    before = raw_column("tenancy_company", "settings", company.pk)
    keys(KEY_2, KEY_1)
    out = StringIO()
    call_command("rotate_secrets", "--check", "--json", stdout=out, stderr=StringIO())
    assert json.loads(out.getvalue())["rotated"] >= 4
    assert raw_column("tenancy_company", "settings", company.pk) == before
    key_out = StringIO()
    call_command("rotate_secrets", "--generate-key", stdout=key_out)
    assert secrets.key_id(key_out.getvalue().strip())  # a valid Fernet key
    secrets._parse_keys([key_out.getvalue().strip()], "test")


def test_data_migrations_seal_existing_plaintext(personas, keys):
    """The migrations' functions, run on rows written in plaintext by the old code."""
    from django.apps import apps

    tenancy_migration = importlib.import_module(
        "nestogy.tenancy.migrations.0002_encrypt_secret_settings")
    notifications_migration = importlib.import_module(
        "nestogy.notifications.migrations.0002_secrets_encrypted_sender_verification")
    company, hook, _ = _seed_everything(personas)
    legacy = {**(company.settings or {}), "payments.stripe_webhook_secret": "whsec_plain_old",
              "notifications.slack_urls": ["slack://Plain/Old/SlackSecret"]}
    Company.objects.filter(pk=company.pk).update(settings=legacy)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE notifications_webhookendpoint SET secret = %s WHERE id = %s",
                       ["whsec_plain_webhook", hook.pk])

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    tenancy_migration.seal_settings(apps, editor)
    notifications_migration.seal_existing(apps, editor)
    raw = raw_column("tenancy_company", "settings", company.pk)
    assert "whsec_plain_old" not in raw and "SlackSecret" not in raw
    assert "whsec_plain_webhook" not in raw_column("notifications_webhookendpoint", "secret",
                                                   hook.pk)
    company.refresh_from_db()
    assert company.get_secret("payments.stripe_webhook_secret") == "whsec_plain_old"
    assert company.get_secret("notifications.slack_urls") == ["slack://Plain/Old/SlackSecret"]
    # Reversing restores plaintext for the old code.
    notifications_migration.unseal_existing(apps, editor)
    assert raw_column("notifications_webhookendpoint", "secret", hook.pk) == \
        "whsec_plain_webhook"
