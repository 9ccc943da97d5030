"""Demo provider accounts pointing at the local sandbox (`manage.py sandbox`), created once."""

from __future__ import annotations

from decimal import Decimal

SANDBOX = "http://127.0.0.1:8001"
DEMO_ACCOUNTS = [
    ("KwtSMS (sandbox)", "kwtsms", f"{SANDBOX}/API/", {"transport": "http", "arabic_lang": "3"}),
    ("ISMS (sandbox)", "isms", f"{SANDBOX}/websmsapi/", {}),
    ("IntelliSoftware (sandbox)", "intellisoftware", f"{SANDBOX}/smsgateway/sendmsg.aspx", {}),
    ("KalaSMS (sandbox)", "kalasms", f"{SANDBOX}/core/smsdo.aspx", {}),
    ("SMS Centre (sandbox)", "smscentre", "smpp://127.0.0.1:2775", {}),
]


def create_demo_accounts() -> list[str]:
    from smsportal.providers.models import ProviderAccount
    from smsportal.providers.sandbox.world import demo_password

    lines = []
    for name, kind, url, options in DEMO_ACCOUNTS:
        if ProviderAccount.objects.filter(kind=kind, username=f"demo-{kind}").exists():
            continue
        account = ProviderAccount(
            name=name,
            kind=kind,
            base_url=url,
            username=f"demo-{kind}",
            options=options,
            price_per_segment=Decimal("1"),  # the sandbox charges one credit per part
            low_balance_threshold=Decimal("100"),
        )
        account.password = demo_password(kind)
        account.save()
        lines.append(f"Demo account {name} at {url}")
    return lines
