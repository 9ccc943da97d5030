"""One of everything, so that every page a role can reach has something on it: the five demo
accounts on the test sandbox, sender IDs, balances, contacts, a list, an opt-out, a message sent
through the sandbox, a scheduled message, an incoming SMS, a pending credit transfer and a
finished import with a rejected row."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from unittest import mock

from django.core.files.base import ContentFile
from django.utils import timezone

from smsportal.contacts.models import ContactField, ImportJob, ImportRejection
from smsportal.forwarding.models import Endpoint
from smsportal.keywords.models import KeywordRule
from smsportal.messaging.inbound import receive
from smsportal.messaging.models import Message
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.providers.backends.base import InboundSMS
from smsportal.providers.demo import DEMO_ACCOUNTS
from smsportal.providers.models import ProviderAccount
from smsportal.routing.models import DestinationPrice, Route, RouteAccount
from tests.factories import (
    BalanceSnapshotFactory,
    ContactFactory,
    ContactListFactory,
    CreditTransferFactory,
    OptOutFactory,
    SenderIDFactory,
)
from tests.support.sending import create_message


def demo_accounts(sandbox_account) -> dict[str, ProviderAccount]:
    """The README's five demo accounts ("KwtSMS (sandbox)", ...), on the test's sandbox."""
    accounts = {}
    for name, kind, _url, options in DEMO_ACCOUNTS:
        accounts[kind] = sandbox_account(
            kind, name=name, options=options, price_per_segment=Decimal("0.01")
        )
    return accounts


def populate(sandbox_account, user) -> dict[str, ProviderAccount]:
    accounts = demo_accounts(sandbox_account)
    kwt, isms = accounts["kwtsms"], accounts["isms"]
    SenderIDFactory(account=kwt, value="SMS-PORTAL")
    for account in accounts.values():
        BalanceSnapshotFactory(account=account, amount=Decimal("12345.5"))
    ContactField.objects.create(key="city", label="City")
    team = ContactListFactory(name="Support team")
    team.add(
        [
            ContactFactory(
                phone=f"+9659711944{i}", name=f"Staff {i}", attributes={"city": "Kuwait"}
            ).pk
            for i in range(3)
        ]
    )
    OptOutFactory(phone="+96566000001")
    create_message(
        account=isms,
        body="Hello from SMS Portal",
        recipients=ResolvedRecipients(phones=["+96597119440", "+96597119441"]),
        created_by=user,
    )
    # A scheduled one, which can still be changed. Tests run tasks at once, and that backend
    # cannot hold a task until tomorrow: nothing is enqueued for it.
    with mock.patch.object(Message, "send"):
        create_message(
            account=kwt,
            body="Tomorrow's reminder",
            recipients=ResolvedRecipients(phones=["+96597119442"]),
            scheduled_for=timezone.now() + timedelta(days=1),
            created_by=user,
        )
    receive(isms, InboundSMS(sender="+96597119440", recipient="", text="Thanks, got it", raw={}))
    KeywordRule.objects.create(account=isms, keyword="JOIN", reply="Welcome", add_to_list=team)
    DestinationPrice.objects.create(account=isms, prefix="96597", price_per_part=Decimal("0.02"))
    route = Route.objects.create(name="Kuwait", destinations="KW", position=1)
    RouteAccount.objects.create(route=route, account=isms, position=0)
    endpoint = Endpoint(name="CRM", url="https://crm.example.com/sms", on_incoming=True)
    endpoint.set_new_secret()
    endpoint.save()
    CreditTransferFactory(account=isms, customer="reseller7", created_by=user)
    job = ImportJob.objects.create(
        file=ContentFile(b"phone,name\n+96597119449,Imported\n12,Nobody\n", name="contacts.csv"),
        original_name="contacts.csv",
        contact_list=team,
        region="KW",
        status=ImportJob.Status.DONE,
        rows=2,
        created=1,
        rejected=1,
        created_by=user,
    )
    ImportRejection.objects.create(
        job=job, line=3, raw="12,Nobody", reason="invalid phone number “12”: too short"
    )
    _recurring_send(kwt, team, user)
    from smsportal.message_templates.models import MessageTemplate

    MessageTemplate.objects.create(name="Welcome", text="Hello {first_name|Customer} in {city}!")
    _quota(kwt, user)
    return accounts


def _quota(account, user) -> None:
    """A department of `user`'s with a quota on `account`, part used (its bars and forms)."""
    from smsportal.departments.models import Department
    from smsportal.quotas import services
    from smsportal.quotas.models import Quota

    sales, _created = Department.objects.get_or_create(name="Quota sales")
    sales.members.add(user)
    Quota.objects.create(department=sales, account=account, parts_per_day=1_000)
    services.reserve(sales, account, parts=120, credit=Decimal("1.20"), message_id=0)


def _recurring_send(account, contact_list, user) -> None:
    """A weekly recurring send that has sent once (its history has a row)."""
    from datetime import time

    from smsportal.recurring.models import Occurrence, RecurringSend
    from tests.conftest import general_department

    schedule = RecurringSend(
        name="Monday reminder",
        account=account,
        text="The office opens at 9 this week.",
        frequency="weekly",
        weekdays=[0],
        time_of_day=time(9, 0),
        timezone="Asia/Kuwait",
        starts_on=timezone.localdate() - timedelta(days=14),
        created_by=user,
        department=general_department(),
    )
    schedule.plan()
    schedule.save()
    schedule.lists.set([contact_list])
    Occurrence.objects.create(
        schedule=schedule,
        due_at=schedule.next_at - timedelta(days=7),
        message=Message.objects.order_by("pk").first(),
    )
