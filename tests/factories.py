"""factory_boy factories for the models every app's tests need."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from smsportal.providers.models import ProviderAccount

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(PASSWORD)


class ProviderAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProviderAccount

    name = factory.Sequence(lambda n: f"Account {n}")
    kind = "kwtsms"
    username = factory.Sequence(lambda n: f"login{n}")
    password = "s3cret-provider-pass"
    price_per_segment = Decimal("0.0100")


# --- senders and credits ------------------------------------------------------------------------

from smsportal.credits.models import BalanceSnapshot, CreditTransfer  # noqa: E402
from smsportal.senders.models import SenderID  # noqa: E402


class SenderIDFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SenderID

    account = factory.SubFactory(ProviderAccountFactory)
    value = factory.Sequence(lambda n: f"Sender{n}")
    kind = "alphanumeric"
    source = "staff"


class BalanceSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BalanceSnapshot

    account = factory.SubFactory(ProviderAccountFactory)
    amount = Decimal("100")
    source = "refresh"


class CreditTransferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditTransfer

    account = factory.SubFactory(ProviderAccountFactory, kind="isms")
    customer = factory.Sequence(lambda n: f"customer{n}")
    amount = Decimal("10")
    created_by = factory.SubFactory(UserFactory)


# --- contacts -----------------------------------------------------------------------------------

from smsportal.contacts.models import Contact, ContactList, OptOut  # noqa: E402


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    phone = factory.Sequence(lambda n: f"+9659{7000000 + n:07d}")
    name = factory.Sequence(lambda n: f"Contact {n}")


class ContactListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactList

    name = factory.Sequence(lambda n: f"List {n}")


class OptOutFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OptOut

    phone = factory.Sequence(lambda n: f"+9656{6000000 + n:07d}")
