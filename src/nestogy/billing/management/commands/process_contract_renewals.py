import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django_scopes import scope

from nestogy.contracts.renewals import process_renewals
from nestogy.tenancy.models import Company
from nestogy.tenancy.queries import company_today


class Command(BaseCommand):
    help = "Send renewal notices, renew auto-renewing contracts (with uplift), end the rest."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="As of YYYY-MM-DD (default: local today)")
        parser.add_argument("--dry-run", action="store_true", help="Report, change nothing")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        as_of = None
        if options["date"]:
            try:
                as_of = date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError("--date must be YYYY-MM-DD") from None
        out = []
        for company in Company.objects.filter(is_active=True).order_by("id"):
            day = as_of or company_today(company)
            with scope(company=company.pk):
                result = process_renewals(company, day, dry_run=options["dry_run"])
            out.append({"company": company.slug, "as_of": day.isoformat(),
                        "notices": result.notices,
                        "renewed": [{"contract_id": c, "previous_end_date": a.isoformat(),
                                     "new_end_date": b.isoformat()}
                                    for c, a, b in result.renewed],
                        "ended": result.ended})
        if options["json"]:
            self.stdout.write(json.dumps({"dry_run": options["dry_run"], "companies": out}))
            return
        for entry in out:
            self.stdout.write(f"{entry['company']}: {len(entry['notices'])} notice(s), "
                              f"{len(entry['renewed'])} renewal(s), {len(entry['ended'])} "
                              "ended")
        self.stdout.write(self.style.SUCCESS("dry run: nothing changed" if options["dry_run"]
                                             else "done"))
