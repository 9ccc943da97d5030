"""Every page of the Django admin, as a superuser, with a row of every model in the database:
the list, the add page (GET and an empty POST) and the change page answer without a 500."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from smsportal.contacts.models import ImportJob, ImportRejection, RemoteListPush
from smsportal.messaging.models import (
    Delivery,
    DeliveryEvent,
    InboundMessage,
    Message,
    UnmatchedReport,
)
from smsportal.sms.status import DeliveryStatus
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def one_of_everything(admin_user):
    account = factories.ProviderAccountFactory(kind="isms")
    contact_list = factories.ContactListFactory()
    contact = factories.ContactFactory()
    contact.lists.add(contact_list)
    factories.OptOutFactory()
    factories.SenderIDFactory(account=account)
    factories.BalanceSnapshotFactory(account=account)
    factories.CreditTransferFactory(account=account, created_by=admin_user)
    message = Message.objects.create(
        account=account, body="Hello", encoding="GSM-7", segments=1, created_by=admin_user
    )
    delivery = Delivery.objects.create(
        message=message, account=account, phone="+96597119440", provider_message_id="M1"
    )
    DeliveryEvent.objects.create(
        delivery=delivery,
        source=DeliveryEvent.Source.WEBHOOK,
        from_status=DeliveryStatus.QUEUED,
        to_status=DeliveryStatus.SUBMITTED,
    )
    UnmatchedReport.objects.create(
        account=account,
        provider_message_id="M2",
        status=DeliveryStatus.DELIVERED,
        source=DeliveryEvent.Source.WEBHOOK,
    )
    InboundMessage.objects.create(account=account, sender="+96597119440", text="Hi")
    job = ImportJob.objects.create(file="imports/x.csv", original_name="x.csv", region="KW")
    ImportRejection.objects.create(job=job, line=2, raw="x", reason="invalid")
    RemoteListPush.objects.create(contact_list=contact_list, account=account, remote_name="R")


def admin_pages():
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        yield f"{meta.app_label}.{meta.model_name}", model, model_admin


PAGES = sorted(admin_pages(), key=lambda page: page[0])


def test_every_model_of_ours_is_covered():
    names = {name for name, _, _ in PAGES}
    assert {"messaging.unmatchedreport", "contacts.remotelistpush", "messaging.delivery"} <= names


@pytest.mark.usefixtures("one_of_everything")
def test_every_admin_page_opens_for_a_superuser(admin_user):
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    errors = []

    def visit(method, url, **data):
        response = getattr(client, method)(url, data)
        if response.status_code >= 500:
            errors.append(f"{method.upper()} {url}: {response.status_code}")
        return response

    for name, model, _ in PAGES:
        meta = model._meta
        prefix = f"admin:{meta.app_label}_{meta.model_name}"
        assert visit("get", reverse(f"{prefix}_changelist")).status_code == 200, name
        add = reverse(f"{prefix}_add")
        answer = visit("get", add)
        if answer.status_code == 200:
            # An empty form comes back with its errors (or saves what may be saved): never a 500.
            visit("post", add)
        else:
            assert answer.status_code == 403, f"{name}: the add page answered {answer.status_code}"
        for obj in model.objects.all()[:1]:
            visit("get", reverse(f"{prefix}_change", args=[obj.pk]))
            visit("get", reverse(f"{prefix}_history", args=[obj.pk]))
            visit("get", reverse(f"{prefix}_delete", args=[obj.pk]))

    assert not errors, "\n".join(errors)


@pytest.mark.parametrize(
    "model", [UnmatchedReport, RemoteListPush, ImportJob], ids=lambda m: m.__name__
)
def test_records_the_portal_keeps_cannot_be_added_by_hand(admin_client, model):
    meta = model._meta
    response = admin_client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))

    assert response.status_code == 403
