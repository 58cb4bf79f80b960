"""``nestogy create_user``: add a staff member to a company from a script.

    nestogy create_user --company acme-it --email kim@acme.example --name "Kim" \\
        --role technician [--password-stdin] [--token] [--json]

prints ``{"user_id": ..., "token": ...}`` (the token only with ``--token``; it is shown once).
An e-mail that already has an account (it belongs to another company) is refused: a company
never takes over an existing account. With ``--invite`` an invitation is e-mailed instead and
``{"invitation_id": ...}`` printed; the account's owner accepts it signed in. Bad input exits
non-zero with a message naming the option. Calls the same actions as the API.
"""

from __future__ import annotations

import json
import sys

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q
from django_scopes import scope

from nestogy.accounts import actions
from nestogy.accounts.models import User
from nestogy.accounts.roles import Role
from nestogy.core.errors import NestogyError
from nestogy.core.validation import clean_email
from nestogy.tenancy.models import Company

OPTION_OF_FIELD = {"email": "--email", "name": "--name", "role": "--role",
                   "password": "--password-stdin", "max_open_tickets": "--role"}


class Command(BaseCommand):
    help = ("Add a staff member to a company and print the new user's id (and, with --token, "
            "an API token shown once). An e-mail that already has an account needs --invite.")
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("--company", required=True,
                            help="The company's public id (co_…) or slug")
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="")
        parser.add_argument("--role", required=True, help=", ".join(Role.values))
        parser.add_argument("--password-stdin", action="store_true",
                            help="Read the password from the first line of standard input "
                                 "(else the account has no usable password)")
        parser.add_argument("--token", action="store_true",
                            help="Also issue an API token for the new member (shown once)")
        parser.add_argument("--invite", action="store_true",
                            help="If the e-mail already has an account, e-mail it an "
                                 "invitation to join instead of refusing")
        parser.add_argument("--json", action="store_true", help="Print JSON for scripts")

    def handle(self, *args, **options):
        company = self._company(options["company"])
        try:
            email = clean_email(options["email"])
            role = actions.clean_role(options["role"])
        except NestogyError as exc:
            raise self._error(exc) from None
        with scope(company=company.pk):
            if User.objects.filter(email=email).exists() and not actions.is_member(company,
                                                                                     email):
                payload = self._invite(company, email, role, options)
            else:
                payload = self._add(company, email, role, options)
        if options["json"]:
            self.stdout.write(json.dumps(payload))
            return
        if "invitation_id" in payload:
            self.stdout.write(self.style.SUCCESS(
                f"{email} already has an account: invitation {payload['invitation_id']} "
                f"e-mailed; they join {company.name} when they accept it."))
            return
        self.stdout.write(self.style.SUCCESS(f"Added {email} to {company.name} as {role} "
                                             f"({payload['user_id']})"))
        if "token" in payload:
            self.stdout.write(f"  API token: {payload['token']}")
            self.stdout.write("  The token is shown once; store it now.")

    def _company(self, value: str) -> Company:
        value = (value or "").strip()
        company = (Company.objects.filter(Q(public_id=value) | Q(slug=value)).first()
                   if value else None)
        if company is None:
            raise CommandError(f"--company: no company with the public id or slug {value!r}")
        if not company.is_active:
            raise CommandError(f"--company: {company.slug} is deactivated")
        return company

    def _password(self, options) -> str | None:
        if not options["password_stdin"]:
            return None
        stream = options.get("stdin") or sys.stdin
        password = (stream.readline() or "").rstrip("\r\n")
        if not password:
            raise CommandError("--password-stdin: no password on standard input")
        try:
            validate_password(password)
        except DjangoValidationError as exc:
            raise CommandError(f"--password-stdin: {' '.join(exc.messages)}") from None
        return password

    def _add(self, company: Company, email: str, role: str, options) -> dict:
        password = self._password(options)
        try:
            with transaction.atomic():
                membership = actions.add_member(company, email=email, name=options["name"],
                                                role=role, password=password)
                payload = {"user_id": membership.user.public_id}
                if options["token"]:
                    _, raw = actions.issue_api_token(membership,
                                                     name="Created with nestogy create_user")
                    payload["token"] = raw
        except actions.AccountExists:
            raise CommandError(f"--email: {email} already has an account (another company's); "
                               "add --invite to e-mail it an invitation") from None
        except NestogyError as exc:
            raise self._error(exc) from None
        return payload

    def _invite(self, company: Company, email: str, role: str, options) -> dict:
        if not options["invite"]:
            raise CommandError(f"--email: {email} already has an account (another company's); "
                               "a company never takes it over. Add --invite to e-mail it an "
                               "invitation its owner accepts.")
        for flag, option in (("token", "--token"), ("password_stdin", "--password-stdin")):
            if options[flag]:
                raise CommandError(f"{option}: an invited account joins only when its owner "
                                   "accepts; it keeps its own password and makes its own "
                                   "tokens")
        try:
            invitation = actions.invite_member(company, email=email, role=role,
                                               actor_label="nestogy create_user")
        except NestogyError as exc:
            raise self._error(exc) from None
        return {"invitation_id": invitation.public_id}

    @staticmethod
    def _error(exc: NestogyError) -> CommandError:
        field = getattr(exc, "field", None)
        option = OPTION_OF_FIELD.get(field or "", "--email")
        return CommandError(f"{option}: {exc.message}")
