import json

from django.core.management.base import BaseCommand

from nestogy.ops.demo import seed_demo


class Command(BaseCommand):
    help = "Seed a realistic demo MSP (two companies, clients, staff). Safe to run twice."

    def add_arguments(self, parser):
        parser.add_argument("--size", choices=["small", "large"], default="small")
        parser.add_argument("--json", action="store_true", help="Print a JSON summary")

    def handle(self, *args, **options):
        quiet = options["json"]

        def report(line: str) -> None:
            if not quiet:
                self.stdout.write(line)

        if not quiet:
            self.stdout.write(f"Seeding demo data ({options['size']})…")
        result = seed_demo(size=options["size"], report=report)
        if options["json"]:
            self.stdout.write(json.dumps({
                "created": result.created, "counts": result.counts,
                "seconds": round(result.seconds, 2),
                "logins": [{"who": w, "email": e, "password": p} for w, e, p in result.logins],
                "api_tokens": result.api_tokens,
            }))
            return
        if not result.created:
            self.stdout.write("Demo data already present; nothing to do.")
        else:
            summary = ", ".join(f"{v} {k}" for k, v in result.counts.items())
            self.stdout.write(self.style.SUCCESS(f"Seeded {summary} in {result.seconds:.1f}s."))
            for slug, token in result.api_tokens.items():
                self.stdout.write(f"  API token ({slug} owner): {token}")
        self.stdout.write("Demo logins:")
        for who, email, password in result.logins:
            self.stdout.write(f"  {who:<36} {email:<28} {password}")
