import json

from django.core.management.base import BaseCommand, CommandError

from nestogy.core.errors import NestogyError
from nestogy.ops.provisioning import provision_company


class Command(BaseCommand):
    help = "Create a company (tenant) with an owner and print the owner's first API token."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="Company name")
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--owner-name", default="")
        parser.add_argument("--timezone", default="UTC", help="IANA name, default UTC")
        parser.add_argument("--currency", default="USD", help="ISO 4217 code, default USD")
        parser.add_argument("--json", action="store_true", help="Print JSON for scripts")

    def handle(self, *args, **options):
        try:
            result = provision_company(
                name=options["name"], owner_email=options["owner_email"],
                owner_name=options["owner_name"], timezone=options["timezone"],
                currency=options["currency"])
        except NestogyError as exc:
            field = getattr(exc, "field", None)
            raise CommandError(f"{field}: {exc.message}" if field else exc.message) from None
        payload = {
            "company_id": result.company.public_id,
            "owner_id": result.owner.user.public_id,
            "api_token": result.api_token,
        }
        if options["json"]:
            self.stdout.write(json.dumps(payload))
            return
        self.stdout.write(self.style.SUCCESS(f"Created {result.company.name} "
                                             f"({payload['company_id']})"))
        self.stdout.write(f"  owner:     {result.owner.user.email} ({payload['owner_id']})")
        self.stdout.write(f"  API token: {payload['api_token']}")
        self.stdout.write("  The token is shown once; store it now.")
