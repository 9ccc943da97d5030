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
