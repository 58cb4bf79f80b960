"""``nestogy rotate_secrets``: re-encrypt every stored secret with the current key.

Covers the secret company settings and every encrypted column (webhook signing secrets,
users' channel addresses, URL delivery targets). Plaintext secrets left from before
encryption are sealed. Values already under the current key are skipped, and each company
or row is written on its own, so the command is idempotent and safe to re-run after a crash.
Values no configured key opens are reported (and left as they are); the command then exits
with status 1.
"""

import json
import time

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from nestogy.core import secrets
from nestogy.tenancy.actions import reseal_company_settings
from nestogy.tenancy.models import Company

OUTCOMES = ("sealed", "rotated", "current", "undecryptable", "skipped")


def encrypted_columns():
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, secrets.EncryptedTextField):
                yield model, field


class Command(BaseCommand):
    help = ("Re-encrypt every stored secret with the current key (the first of "
            "NESTOGY_SECRETS_KEY or of the key file) and seal plaintext ones; idempotent.")

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true",
                            help="Write nothing: report what would change and any value "
                                 "that cannot be decrypted (exit status 1)")
        parser.add_argument("--generate-key", action="store_true",
                            help="Print a new random key and exit (put it first in "
                                 "NESTOGY_SECRETS_KEY or the key file, then run this "
                                 "command)")
        parser.add_argument("--json", action="store_true", help="Print JSON for scripts")

    def handle(self, *args, **options):
        if options["generate_key"]:
            self.stdout.write(secrets.generate_key())
            return
        as_json, dry_run = options["json"], options["check"]
        try:
            current = secrets.current_key_id()
        except secrets.SecretsKeyError as exc:
            raise CommandError(str(exc)) from None
        started = time.monotonic()
        parts = []

        def report(name: str, counts: dict[str, int]) -> None:
            parts.append({"what": name, **{k: counts.get(k, 0) for k in ("rows", *OUTCOMES)}})
            if not as_json:
                done = ", ".join(f"{counts.get(k, 0)} {k}" for k in OUTCOMES if counts.get(k))
                self.stderr.write(f"  {name}: {counts.get('rows', 0)} value(s)"
                                  + (f": {done}" if done else ""))

        if not as_json:
            verb = "checking" if dry_run else "re-encrypting"
            self.stderr.write(f"{verb} stored secrets under key {current} "
                              f"({secrets.key_source()})")
        totals: dict[str, int] = dict.fromkeys(("rows", *OUTCOMES), 0)
        company_ids = list(Company.objects.order_by("id").values_list("id", flat=True))
        for n, company_id in enumerate(company_ids, start=1):
            for key, value in reseal_company_settings(company_id, dry_run=dry_run).items():
                totals[key] = totals.get(key, 0) + value
            if not as_json and n % 500 == 0:
                self.stderr.write(f"  companies: {n}/{len(company_ids)}")
        report("tenancy.Company.settings", totals)
        for model, field in encrypted_columns():
            counts = secrets.reseal_column(connection, model._meta.db_table, field.column,
                                           pk=model._meta.pk.column, only_urls=field.only_urls,
                                           dry_run=dry_run)
            report(f"{model._meta.label}.{field.name}", counts)
        summary = {k: sum(p[k] for p in parts) for k in ("rows", *OUTCOMES)}
        result = {"key_id": current, "check": dry_run, "parts": parts, **summary,
                  "seconds": round(time.monotonic() - started, 2)}
        if as_json:
            self.stdout.write(json.dumps(result))
        else:
            changed = summary["sealed"] + summary["rotated"]
            verb = "would re-encrypt" if dry_run else "re-encrypted"
            self.stdout.write(self.style.SUCCESS(
                f"{verb} {changed} value(s) under key {current}; "
                f"{summary['current']} already current"))
        if summary["undecryptable"]:
            raise CommandError(
                f"{summary['undecryptable']} stored value(s) cannot be decrypted with the "
                f"configured keys ({', '.join(secrets.configured_key_ids())}); add the key "
                "they were encrypted with after the current one and run this again")
