"""A price file: every bad line is named with its number and reason, and a file with any bad
line changes nothing; a good file replaces the table."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from smsportal.routing.models import DestinationPrice
from smsportal.routing.price_import import read_price_file
from tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db

GOOD = b"destination,price\nKW,0.01\n+96597,0.02\n\nSA,0.05\n"


def upload(client, account, data: bytes):
    return client.post(
        reverse("routing:import_prices", args=[account.pk]),
        {"file": SimpleUploadedFile("prices.csv", data, content_type="text/csv")},
        follow=True,
    )


def test_a_good_file_replaces_the_table(manager_client):
    account = ProviderAccountFactory()
    DestinationPrice.objects.create(account=account, prefix="1", price_per_part=Decimal("9"))

    response = upload(manager_client, account, GOOD)

    assert "3 prices imported" in response.content.decode()
    assert dict(
        DestinationPrice.objects.filter(account=account).values_list("prefix", "price_per_part")
    ) == {"965": Decimal("0.01"), "96597": Decimal("0.02"), "966": Decimal("0.05")}


def test_bad_lines_are_named_and_nothing_is_imported(manager_client):
    account = ProviderAccountFactory()
    DestinationPrice.objects.create(account=account, prefix="1", price_per_part=Decimal("9"))
    data = b"destination,price\nKW,0.01\nXX,1\n+96597,abc\nKW,0.03\nSA,-2\nQA\n+965,0.123456\n"

    response = upload(manager_client, account, data)

    page = response.content.decode()
    assert "Nothing was imported" in page
    for line, reason in [
        (3, "is not a country code"),
        (4, "is not a price"),
        (5, "is already priced on line 2"),
        (6, "A price cannot be negative"),
        (7, "Expected 2 columns"),
        (8, "at most 4 decimal places"),
    ]:
        assert f"Line {line}:" in page
        assert reason in page
    assert list(DestinationPrice.objects.values_list("prefix", flat=True)) == ["1"]


def test_a_file_that_is_not_text_or_is_empty_is_refused():
    assert read_price_file("KW;0,01".encode("utf-16")).errors[0][1].startswith("The file is not")
    assert read_price_file(b"destination,price\n").errors == [(0, "The file has no prices in it.")]


def test_an_operator_cannot_import(operator_client):
    account = ProviderAccountFactory()
    assert upload(operator_client, account, GOOD).status_code == 403
    assert not DestinationPrice.objects.exists()
