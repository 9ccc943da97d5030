"""Compose offers every kind of message the chosen account's provider supports (text, flash,
binary, 2D barcode, voice, bulk without delivery reports), checks each and previews it, and the
sandbox receives each as that kind."""

from __future__ import annotations

import pytest
from django.urls import reverse

from smsportal.messaging import message_types
from smsportal.messaging.models import Delivery, Message
from smsportal.providers.registry import backend_class
from smsportal.sms.status import DeliveryStatus
from tests.support.compose import confirm_and_send

pytestmark = pytest.mark.django_db

URL = reverse("messaging:compose")
UDH_BINARY = "06050415810000" + "48656C6C6F"  # port-addressing UDH, then "Hello"


def form(account, **fields):
    return {
        "account": account.pk,
        "sender": "",
        "recipients": "+96550000001",
        "text": "Hello",
        "token": f"tok-{account.pk}-{fields.get('message_type', 'text')}",
        **fields,
    }


@pytest.mark.parametrize(
    ("kind", "offered"),
    [
        ("isms", ["text", "flash", "binary", "barcode", "bulk_no_report"]),
        ("intellisoftware", ["text", "voice"]),
        ("smscentre", ["text", "flash", "binary"]),
        ("kwtsms", ["text"]),
        ("kalasms", ["text"]),
    ],
)
def test_each_provider_offers_the_kinds_it_supports(kind, offered):
    assert message_types.available(backend_class(kind).capabilities) == offered


@pytest.mark.parametrize(
    ("text", "udh", "problem"),
    [
        ("", True, "empty"),
        ("48 6G", False, "'G' cannot be part of it"),
        ("486", False, "one is missing"),
        ("00" * 141, False, "this one has 141"),
        ("0A0102", True, "says it is 10 octets long"),
        ("00AA", True, "says it is 0 octets long"),
    ],
)
def test_a_bad_binary_payload_is_refused_with_the_reason(text, udh, problem):
    with pytest.raises(ValueError, match=problem):
        message_types.parse_binary(text, udh)


def test_a_binary_payload_is_split_into_its_header_and_data():
    binary = message_types.parse_binary("06 05 04 15 81 00 00\n48 65", True)

    assert binary.udh == bytes.fromhex("06050415810000")
    assert binary.data == b"He"
    assert message_types.parse_binary("4865", False).udh == b""


def test_compose_refuses_a_kind_the_account_cannot_send(operator_client, sandbox_account):
    account = sandbox_account("kwtsms")

    response = operator_client.post(URL, form(account, message_type="voice", action="send"))

    html = response.content.decode()
    assert "cannot send voice messages" in html
    assert 'id="confirm"' not in html


def test_compose_explains_a_bad_binary_payload(operator_client, sandbox_account):
    account = sandbox_account("isms")

    response = operator_client.post(
        URL, form(account, message_type="binary", text="XYZ", action="send")
    )

    html = response.content.decode()
    assert "cannot be part of it" in html
    assert 'id="confirm"' not in html


def test_a_barcode_needs_its_format(operator_client, sandbox_account):
    account = sandbox_account("isms")

    response = operator_client.post(URL, form(account, message_type="barcode", action="send"))

    assert "Choose the barcode format" in response.content.decode()


def test_the_preview_shows_a_binary_payload_decoded(operator_client, sandbox_account):
    account = sandbox_account("isms")

    response = operator_client.post(
        URL,
        form(account, message_type="binary", binary_udh="on", text=UDH_BINARY, action="preview"),
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert "1 SMS, 12 of 140 octets." in html
    assert "06 05 04 15 81 00 00" in html
    assert "48 65 6C 6C 6F" in html
    assert 'id="preview-segments">1<' in html


def test_the_preview_explains_the_barcode_placeholder(operator_client, sandbox_account):
    account = sandbox_account("isms")
    data = form(account, message_type="barcode", barcode_format="MMS", action="preview")

    with_it = operator_client.post(
        URL, {**data, "text": "Your code: %barcode%"}, headers={"HX-Request": "true"}
    )
    without = operator_client.post(URL, data, headers={"HX-Request": "true"})

    assert "barcode number replaces <code>%barcode%</code>" in with_it.content.decode()
    assert "will not appear in it" in without.content.decode()


def send(client, account, capture, **fields):
    with capture(execute=True):
        response = confirm_and_send(client, form(account, **fields))
    assert response.status_code == 302, response.content.decode()[-3000:]
    return Message.objects.filter(account=account).latest("id")


def test_isms_binary_with_and_without_udh_reaches_the_sandbox_as_binary(
    manager_client, sandbox, sandbox_account, django_capture_on_commit_callbacks
):
    account = sandbox_account("isms")

    send(
        manager_client,
        account,
        django_capture_on_commit_callbacks,
        message_type="binary",
        binary_udh="on",
        text=UDH_BINARY,
        token="b1",
    )
    send(
        manager_client,
        account,
        django_capture_on_commit_callbacks,
        message_type="binary",
        text="48 65 6C 6C 6F",
        token="b2",
    )

    with_udh, without = sandbox.world.received[-2:]
    assert (with_udh.kind, without.kind) == ("binary", "binary")
    assert with_udh.details == "binary, UDH 06 05 04 15 81 00 00, 5 data octets"
    assert without.details == "binary without UDH, 5 octets"
    assert Delivery.objects.filter(status=DeliveryStatus.SUBMITTED).count() == 2


def test_isms_barcode_goes_through_isendsms2d_with_its_msgtype(
    manager_client, sandbox, sandbox_account, django_capture_on_commit_callbacks
):
    account = sandbox_account("isms")

    send(
        manager_client,
        account,
        django_capture_on_commit_callbacks,
        message_type="barcode",
        barcode_format="Nokia",
        text="Ticket %barcode%",
    )

    received = sandbox.world.received[-1]
    assert received.kind == "barcode"
    assert received.details.startswith("2D barcode, MsgType Nokia, barcode number ")
    assert "%barcode%" not in received.text
    assert Message.objects.get().barcode_format == "Nokia"


def test_isms_bulk_without_reports_goes_in_one_request_and_stays_unconfirmed(
    manager_client, sandbox, sandbox_account, django_capture_on_commit_callbacks
):
    account = sandbox_account("isms")

    message = send(
        manager_client,
        account,
        django_capture_on_commit_callbacks,
        message_type="bulk_no_report",
        recipients="+96550000001\n+96550000002\n+96550000003",
    )

    assert not message.want_delivery_report
    assert len(sandbox.world.received) == 3
    assert len({r.message_id for r in sandbox.world.received}) == 3  # recorded per number
    rows = Delivery.objects.filter(message=message)
    assert {(r.status, r.confirmed, r.provider_message_id) for r in rows} == {
        (DeliveryStatus.SUBMITTED, False, "")
    }


def test_intellisoftware_voice_is_sent_as_type_6(
    manager_client, sandbox, sandbox_account, django_capture_on_commit_callbacks
):
    account = sandbox_account("intellisoftware")

    send(manager_client, account, django_capture_on_commit_callbacks, message_type="voice")

    assert sandbox.world.received[-1].kind == "voice"


@pytest.mark.parametrize("code", ["GATEWAY_ERROR", "INTERNAL_ERROR"])
def test_intellisoftware_gateway_faults_are_transient_and_not_sent(
    manager_client, sandbox, sandbox_account, django_capture_on_commit_callbacks, code
):
    account = sandbox_account("intellisoftware")
    sandbox.world.put_account(
        "intellisoftware",
        "demo-intellisoftware",
        "demo-intellisoftware-pass",
        faults={"send_error": code},
    )

    message = send(manager_client, account, django_capture_on_commit_callbacks)

    delivery = message.deliveries.get()
    assert delivery.status != DeliveryStatus.SUBMITTED
    assert code in delivery.error_code or "try again later" in delivery.error_text
    assert not sandbox.world.received


def test_smscentre_binary_goes_as_data_coding_4_with_its_udh(
    manager_client, sandbox, sandbox_account, django_capture_on_commit_callbacks
):
    account = sandbox_account("smscentre")

    send(
        manager_client,
        account,
        django_capture_on_commit_callbacks,
        message_type="binary",
        binary_udh="on",
        text=UDH_BINARY,
    )

    received = sandbox.world.received[-1]
    assert received.kind == "binary"
    assert received.details == "data_coding 4, octets 06 05 04 15 81 00 00 48 65 6C 6C 6F"


def test_the_older_flash_box_still_sends_flash(
    manager_client, sandbox, sandbox_account, django_capture_on_commit_callbacks
):
    account = sandbox_account("isms")

    message = send(manager_client, account, django_capture_on_commit_callbacks, flash="on")

    assert message.message_type == "flash"
    assert sandbox.world.received[-1].kind == "flash"
