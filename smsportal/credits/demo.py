"""Demo data: the sandbox's ISMS customers, known to the demo ISMS account's transfer form."""

from __future__ import annotations

from smsportal.providers.models import ProviderAccount

from .models import TransferCustomer

DEMO_CUSTOMERS = [
    ("demo-customer-1", "Demo branch office"),
    ("demo-customer-2", "Demo reseller"),
]


def create_demo_customers() -> list[str]:
    account = ProviderAccount.objects.filter(kind="isms", username="demo-isms").first()
    if account is None:
        return []
    created = [
        username
        for username, label in DEMO_CUSTOMERS
        if TransferCustomer.objects.get_or_create(
            account=account, username=username, defaults={"label": label}
        )[1]
    ]
    if not created:
        return []
    return [f"Demo transfer customers of {account.name}: {', '.join(created)}."]
