import pytest
from django_scopes import scopes_disabled

from nestogy.billing.models import Invoice
from nestogy.contracts.models import Contract
from nestogy.ops.demo import seed_demo


@pytest.mark.django_db
def test_demo_has_contracts_and_issued_paid_overdue_invoices():
    lines = []
    seed_demo(report=lines.append)
    with scopes_disabled():
        assert Contract.objects.count() == 31
        statuses = set(Invoice.objects.values_list("status", flat=True))
        numbers = list(Invoice.objects.filter(company__slug="northwind-managed-it")
                       .values_list("number", flat=True))
    assert {"paid", "overdue"} <= statuses
    assert len(numbers) == len(set(numbers)) and all(numbers)
    assert any("invoices" in line and "overdue" in line for line in lines)
