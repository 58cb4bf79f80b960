import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django_scopes import scope

from nestogy.billing import recurring
from nestogy.core.errors import ValidationError
from nestogy.core.money import money_str
from nestogy.tenancy.models import Company
from nestogy.tenancy.queries import company_today


class Command(BaseCommand):
    help = ("Bill every due period of every active contract (catching up missed days); "
            "--preview computes the same invoices and writes nothing.")

    def add_arguments(self, parser):
        parser.add_argument("--date", help="Run as of YYYY-MM-DD (default: each company's "
                                           "local today)")
        parser.add_argument("--preview", action="store_true", help="Write nothing")
        parser.add_argument("--company", help="Only this company (slug or public id)")
        parser.add_argument("--json", action="store_true", help="Print JSON for scripts")

    def handle(self, *args, **options):
        as_of = None
        if options["date"]:
            try:
                as_of = date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError("--date must be YYYY-MM-DD") from None
        companies = Company.objects.filter(is_active=True).order_by("id")
        if options["company"]:
            companies = companies.filter(slug=options["company"]) | companies.filter(
                public_id=options["company"])
        report, total = [], 0
        for company in companies:
            day = as_of or company_today(company)
            with scope(company=company.pk):
                def progress(done, count, name=company.name):
                    if not options["json"] and count >= 1000 and done % 1000 < 250:
                        self.stderr.write(f"  {name}: {done}/{count} contracts")

                try:
                    result = recurring.run_recurring(company, day, preview=options["preview"],
                                                     progress=progress)
                except ValidationError as exc:
                    raise CommandError(f"--date: {exc.message}") from None
            total += len(result.invoices)
            report.append({
                "company": company.slug, "as_of": day.isoformat(),
                "invoices": [{"number": p.invoice.number if p.invoice else None,
                              "contract_id": p.contract.public_id,
                              "period_start": p.period_start.isoformat(),
                              "period_end": p.period_end.isoformat(),
                              "total": money_str(p.total, p.contract.currency)}
                             for p in result.invoices],
                "skipped": result.skipped})
        if options["json"]:
            self.stdout.write(json.dumps({"preview": options["preview"], "companies": report,
                                          "invoices": total}))
            return
        verb = "would create" if options["preview"] else "created"
        for entry in report:
            for inv in entry["invoices"]:
                self.stdout.write(f"  {entry['company']}: {inv['number'] or '(draft)'} "
                                  f"{inv['contract_id']} {inv['period_start']}.."
                                  f"{inv['period_end']} {inv['total']}")
        self.stdout.write(self.style.SUCCESS(f"{verb} {total} invoice(s) in "
                                             f"{len(report)} company(ies)"))
