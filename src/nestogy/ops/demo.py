"""Demo data: two MSPs with clients, sites, contacts and staff, realistic enough to explore.

``seed_demo`` is deterministic (seeded random) and refuses to run twice: the demo companies
are recognised by their slugs. Each step reports progress through ``report``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django_scopes import scope

from nestogy.accounts.actions import add_member
from nestogy.accounts.models import Membership, User
from nestogy.billing.demo import seed_billing
from nestogy.clients.actions import (
    create_client,
    create_contact,
    create_site,
    set_contact_password,
)
from nestogy.ops.demo_desk import seed_service_desk
from nestogy.ops.demo_dispatch import seed_dispatch
from nestogy.ops.demo_queue import seed_saved_views
from nestogy.ops.provisioning import provision_company
from nestogy.payments.demo import seed_payments
from nestogy.tenancy.models import Company
from nestogy.tickets.demo_canned import seed_canned_responses
from nestogy.timesheets.demo import seed_time

DEMO_PASSWORD = "nestogy-demo"  # noqa: S105 (demo data only; printed on purpose)
PORTAL_PASSWORD = "portal-demo-2024"  # noqa: S105

CLIENT_NAMES = [
    "Acme Dental Group", "Blue Ridge Accounting", "Cedar Law Partners", "Delta Freight Co",
    "Evergreen Realty", "Fairview Veterinary Clinic", "Granite Construction", "Harborview Hotel",
    "Ironwood Manufacturing", "Juniper Marketing", "Keystone Insurance", "Lakeside Schools",
    "Maple Street Bakery", "Northstar Logistics", "Oakmont Medical", "Pinecrest Architects",
    "Quarry Stone Supply", "Riverside Church", "Summit Financial Advisors", "Tidewater Marine",
    "Union Square Dental", "Valley Farm Credit", "Westfield Auto Group", "Yellowstone Outfitters",
    "Zephyr Energy", "Atlas Engineering", "Bayside Pharmacy", "Coastal Property Management",
]
FIRST = ["Alex", "Jordan", "Sam", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery",
         "Quinn", "Drew", "Harper", "Rowan", "Emerson", "Kai", "Sage", "Reese", "Parker"]
LAST = ["Nguyen", "Smith", "Garcia", "Patel", "Kim", "Johnson", "Müller", "Rossi", "Okafor",
        "Silva", "Cohen", "Brown", "Lopez", "Schmidt", "Khan", "Wilson", "Dubois", "Tanaka"]
CITIES = [("Boston", "US", "America/New_York"), ("Chicago", "US", "America/Chicago"),
          ("Denver", "US", "America/Denver"), ("Seattle", "US", "America/Los_Angeles"),
          ("Austin", "US", "America/Chicago"), ("Portland", "US", "America/Los_Angeles")]
TECHNICIANS = [
    ("Priya Raman", {"networking": 5, "security": 4, "windows": 3}),
    ("Marcus Bell", {"windows": 5, "microsoft365": 4, "printers": 3}),
    ("Lena Hoffmann", {"linux": 5, "networking": 3, "backup": 4}),
    ("Diego Alvarez", {"microsoft365": 5, "windows": 3, "email": 4}),
    ("Hana Sato", {"security": 5, "networking": 4, "firewall": 5}),
    ("Tom O'Brien", {"printers": 4, "hardware": 5, "windows": 2}),
    ("Aisha Bello", {"backup": 5, "linux": 3, "virtualization": 4}),
    ("Chris Novak", {"hardware": 3, "windows": 4, "email": 3, "microsoft365": 2}),
]

# The demo content after staff and clients, in order (payments settle the invoices billing
# wrote): service desk (premium 24x7 policy, tickets with SLA history through the import
# path), billing (contracts, usage, six months of invoices), payments. Each gets
# (company, context dict, rng, report).
STEPS: tuple[Callable[..., None], ...] = (seed_service_desk, seed_billing, seed_payments,
                                          seed_dispatch, seed_canned_responses)
STEPS += (seed_saved_views,)  # the queue's saved views (ops/demo_queue.py)


@dataclass
class DemoResult:
    created: bool
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (who, email, password)
    counts: dict[str, int] = field(default_factory=dict)
    api_tokens: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


DEMO_COMPANIES = [
    {"name": "Northwind Managed IT", "slug": "northwind-managed-it",
     "timezone": "America/New_York", "currency": "USD", "domain": "northwind.example",
     "clients": 25, "technicians": 8},
    {"name": "Harbor Tech Services", "slug": "harbor-tech-services",
     "timezone": "Europe/London", "currency": "GBP", "domain": "harbortech.example",
     "clients": 6, "technicians": 3},
]


def demo_exists() -> bool:
    return Company.objects.filter(slug__in=[c["slug"] for c in DEMO_COMPANIES]).exists()


DEMO_OPERATOR = "operator@nestogy.example"


def ensure_demo_operator() -> None:
    """The demo's platform operator: a superuser without a company, for ``/admin/`` (the
    operators' console). Idempotent, so a demo seeded before it existed gains it."""
    if not User.objects.filter(email__iexact=DEMO_OPERATOR).exists():
        User.objects.create_superuser(email=DEMO_OPERATOR, password=DEMO_PASSWORD,
                                      name="Platform Operator")


def demo_logins() -> list[tuple[str, str, str]]:
    logins = [("Platform operator (/admin/ only)", DEMO_OPERATOR, DEMO_PASSWORD)]
    for spec in DEMO_COMPANIES:
        logins.append((f"{spec['name']} owner", f"owner@{spec['domain']}", DEMO_PASSWORD))
        if spec["technicians"] >= 8:
            logins.append((f"{spec['name']} manager", f"manager@{spec['domain']}", DEMO_PASSWORD))
            logins.append((f"{spec['name']} billing clerk", f"billing@{spec['domain']}",
                           DEMO_PASSWORD))
        if spec["technicians"]:
            local = _local_part(TECHNICIANS[0][0])
            logins.append((f"{spec['name']} technician", f"{local}@{spec['domain']}",
                           DEMO_PASSWORD))
    return logins


def _local_part(name: str) -> str:
    """A demo technician's e-mail local part: the first name, lower case."""
    return name.split()[0].lower().replace("'", "")


def seed_demo(*, size: str = "small", report: Callable[[str], None] = print) -> DemoResult:
    started = time.monotonic()
    if demo_exists():
        ensure_demo_operator()
        return DemoResult(created=False, logins=demo_logins())
    rng = random.Random(20251124)
    multiplier = 1 if size == "small" else 8
    result = DemoResult(created=True)
    counts = {"companies": 0, "staff": 0, "clients": 0, "sites": 0, "contacts": 0}
    for spec in DEMO_COMPANIES:
        with transaction.atomic():
            provisioned = provision_company(
                name=spec["name"], owner_email=f"owner@{spec['domain']}",
                owner_name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                timezone=spec["timezone"], currency=spec["currency"],
                owner_password=DEMO_PASSWORD)
            company = provisioned.company
            result.api_tokens[company.slug] = provisioned.api_token
            counts["companies"] += 1
            counts["staff"] += 1
            with scope(company=company.pk):
                staff = _seed_staff(company, spec, counts)
                clients = _seed_clients(company, spec, rng, multiplier, counts, report)
                context = {"owner": provisioned.owner, "staff": staff, "clients": clients,
                           "counts": counts}
                for step in STEPS:
                    step(company, context, rng, report)
                seed_time(company, context, rng, report)
        report(f"  {company.name}: {len(clients)} clients, {len(staff)} staff")
    ensure_demo_operator()
    result.logins = demo_logins()
    result.counts = counts
    result.seconds = time.monotonic() - started
    return result


def _seed_staff(company: Company, spec: dict, counts: dict) -> list[Membership]:
    staff: list[Membership] = []
    domain = spec["domain"]
    if spec["technicians"] >= 8:
        staff.append(add_member(company, email=f"manager@{domain}", name="Morgan Reyes",
                                role="manager", password=DEMO_PASSWORD))
        staff.append(add_member(company, email=f"billing@{domain}", name="Jamie Chen",
                                role="billing", password=DEMO_PASSWORD))
    for name, skills in TECHNICIANS[: spec["technicians"]]:
        local = _local_part(name)
        staff.append(add_member(company, email=f"{local}@{domain}", name=name,
                                role="technician", skills=skills,
                                max_open_tickets=12, password=DEMO_PASSWORD))
    counts["staff"] += len(staff)
    return staff


def _seed_clients(company, spec, rng, multiplier, counts, report) -> list:
    clients = []
    total = spec["clients"] * multiplier
    names = list(CLIENT_NAMES)
    rng.shuffle(names)
    for i in range(total):
        base = names[i % len(names)]
        name = base if i < len(names) else f"{base} {i // len(names) + 1}"
        slug = "".join(ch for ch in base.lower() if ch.isalnum())[:16]
        client = create_client(company, {"name": name, "email": f"ap@{slug}.example",
                                         "phone": f"+1-555-{rng.randint(100, 999)}-"
                                                  f"{rng.randint(1000, 9999)}"})
        city, country, tz = rng.choice(CITIES)
        create_site(client, {"name": "Head office", "city": city, "country": country,
                             "timezone": tz, "address": f"{rng.randint(1, 999)} Main St"})
        counts["sites"] += 1
        if rng.random() < 0.4:
            city2, country2, tz2 = rng.choice(CITIES)
            create_site(client, {"name": "Branch", "city": city2, "country": country2,
                                 "timezone": tz2})
            counts["sites"] += 1
        for j in range(rng.randint(2, 4)):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            email = f"{first.lower()}.{last.lower().replace('ü', 'u')}{j}@{slug}.example"
            portal = j == 0
            contact = create_contact(client, {
                "name": f"{first} {last}", "email": email, "title": rng.choice(
                    ["Office Manager", "CFO", "Owner", "Operations Lead", "Receptionist"]),
                "portal_access": portal, "portal_admin": portal,
            }, send_invitation=False)
            if portal:
                # The documented demo password, through the action the portal's links use.
                set_contact_password(contact, PORTAL_PASSWORD)
            counts["contacts"] += 1
        clients.append(client)
        counts["clients"] += 1
        if (i + 1) % 10 == 0 or i + 1 == total:
            report(f"  {company.name}: clients {i + 1}/{total}")
    return clients

