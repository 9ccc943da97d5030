"""Mail merge from a file (issue 18): the file read by the contacts import's reader, its columns
as placeholders, rows refused with their line and reason (no phone column, a bad number, a
repeat, opted out), each recipient's own text previewed and sent through the send service,
nothing added to contacts, opted-out numbers never sent to."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from html import unescape

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from smsportal.contacts.models import Contact, OptOut
from smsportal.messaging.mail_merge import column_keys, merge_estimate, read_merge
from smsportal.messaging.models import Delivery, Message
from smsportal.messaging.views.mail_merge import UPLOAD_DIR, purge_uploads
from smsportal.sms.encoding import STANDARD
from tests.support.compose import confirmation_in
from tests.support.html_forms import form_problems

pytestmark = pytest.mark.django_db

UPLOAD = reverse("messaging:mail_merge_upload")
ORDERS = (
    "Mobile,Name,Order No.,Total\n"
    "+96550000001,Sara Ali,A-17,12.500\n"
    "+96550000002,محمد,A-18,3\n"
    "not a number,Omar,A-19,4\n"
    ",Nobody,A-20,5\n"
    "+96550000001,Sara again,A-21,6\n"
    "+96550000003,,A-22,\n"
)


def read(content: str, text: str, **kwargs):
    data = content.encode()
    return read_merge(io.BytesIO(data), len(data), text=text, region="KW", **kwargs)


def test_columns_become_placeholders_by_their_headers():
    assert column_keys(["Mobile", "Order No.", "", "Total", "total", "2nd"]) == [
        "mobile",
        "order_no",
        "column_3",
        "total",
        "total_5",
        "column_6",
    ]


def test_rows_are_refused_with_their_line_and_reason():
    merge = read(ORDERS, "Order {order_no}")

    assert merge.rows == 6
    assert list(merge.values) == ["+96550000001", "+96550000002", "+96550000003"]
    assert [(r.line, r.reason) for r in merge.refused] == [
        (4, "invalid number: " + merge.invalid[0][1]),
        (5, "no phone number"),
        (6, "the same number as line 2"),
    ]
    assert merge.values["+96550000001"] == {"order_no": "A-17", "phone": "+96550000001"}


def test_a_file_without_a_phone_column_is_refused_saying_so():
    from smsportal.contacts.reading import UnreadableFile

    with pytest.raises(UnreadableFile, match=r"The file has no phone column") as refused:
        read("Who,Order\nSara,A-1\n", "Order {order}")
    # Each header isolated inside its quotes: an Arabic one keeps them on its own sides.
    assert str(refused.value).endswith("“\u2068Who\u2069”, “\u2068Order\u2069”.")


def test_staff_may_choose_the_phone_column():
    merge = read("Who,Contact at\nSara,+96550000001\n", "Hi {who}", phone_column=1)
    assert merge.values == {"+96550000001": {"who": "Sara", "phone": "+96550000001"}}


def test_phone_is_the_recipients_number_as_sent_whichever_column_holds_it():
    """{phone} is always the number the message goes to, in international format; the phone
    column's own placeholder keeps its value as written, and another column headed "Phone"
    (a landline, say) is `{phone_N}` by its position, as a repeated header is."""
    merge = read("Mobile,Phone\n50000001,22000000\n", "{phone} {mobile} {phone_2}")
    assert merge.values == {
        "+96550000001": {"phone": "+96550000001", "mobile": "50000001", "phone_2": "22000000"}
    }
    assert column_keys(["Mobile", "Phone"], phone_column=0) == ["mobile", "phone_2"]

    # The phone column headed "Phone": {phone} is its number, as sent.
    merge = read("Name,Phone\nSara,50000001\n", "{phone}")
    assert merge.values == {"+96550000001": {"phone": "+96550000001"}}
    assert column_keys(["Name", "Phone"], phone_column=1) == ["name", "phone"]


def test_opted_out_numbers_are_refused_in_the_preview():
    OptOut.objects.create(phone="+96550000002")
    merge = read(ORDERS, "Order {order_no}")
    assert (3, "opted out: never sent to") in [(r.line, r.reason) for r in merge.refused]
    assert merge.recipients == 2


def test_the_preview_counts_each_rows_text_and_who_goes_unicode():
    merge = read(ORDERS, "Dear {first_name|Customer}, order {order_no} is ready")
    estimate = merge_estimate(
        "Dear {first_name|Customer}, order {order_no} is ready", merge, STANDARD
    )

    assert estimate.recipients == 3 and estimate.ucs2 == 1
    assert [(c.who, c.field, c.value) for c in estimate.causes] == [
        ("+96550000002", "first_name", "محمد")
    ]
    assert ("+96550000003", "Dear Customer, order A-22 is ready") in estimate.rendered
    assert not estimate.problems


def test_an_unknown_column_or_an_empty_value_without_fallback_stops_the_send():
    merge = read(ORDERS, "{town} {total}")
    estimate = merge_estimate("{town} {total}", merge, STANDARD)
    assert "No column of the file is called {town}" in estimate.problem

    estimate = merge_estimate("Total {total}", read(ORDERS, "Total {total}"), STANDARD)
    assert estimate.problem == (
        "{total} is empty on 1 row and has no fallback (line 7): give one, as {total|…}, or "
        "fill it in."
    )


# --- the pages ----------------------------------------------------------------------------------


def upload(client, content: str | bytes, name: str = "orders.csv"):
    data = content.encode() if isinstance(content, str) else content
    return client.post(UPLOAD, {"file": SimpleUploadedFile(name, data)})


def merge_form(account, **fields):
    return {
        "account": account.pk,
        "sender": "",
        "phone_column": "0",
        "text": "Dear {first_name|Customer}, order {order_no} is ready",
        "token": "tok-merge",
        "action": "preview",
        **fields,
    }


def test_upload_then_preview_then_send_through_the_send_service(
    operator_client, account, script, django_capture_on_commit_callbacks
):
    OptOut.objects.create(phone="+96550000003")
    response = upload(operator_client, ORDERS)
    url = response["Location"]
    assert url.startswith("/messages/compose/file/")

    page = operator_client.get(url).content.decode()
    assert form_problems(page) == []  # no form inside a form, no field twice
    assert "{order_no}" in page and "Order No." in page
    assert '<option value="0" selected>Mobile</option>' in page  # the phone column, guessed

    html = operator_client.post(url, merge_form(account), HTTP_HX_REQUEST="true").content.decode()
    assert "2 recipients to send to" in html
    assert "4 rows will not be sent to" in html
    assert "opted out: never sent to" in html
    assert "1 recipient gets the message in Unicode" in html
    assert "Dear Sara, order A-17 is ready" in html

    shown = operator_client.post(url, merge_form(account, action="send"))
    html = shown.content.decode()
    assert 'id="confirm"' in html
    assert "2 recipients, each with their own text, 2 SMS in all" in html

    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(
            url, merge_form(account, action="confirm", confirmation=confirmation_in(shown))
        )
    message = Message.objects.get()
    assert response["Location"] == message.get_absolute_url()
    assert message.personal
    assert message.department.name == "General"  # the sender's own department
    assert sorted(script.texts) == [
        "Dear Sara, order A-17 is ready",
        "Dear محمد, order A-18 is ready",
    ]
    skipped = dict(message.deliveries.filter(status="skipped").values_list("phone", "error_text"))
    assert skipped["+96550000003"] == "opted out"
    assert skipped["not a number"].startswith("invalid number")
    assert not Contact.objects.exists()  # nothing from the file became a contact
    assert not default_storage.listdir(UPLOAD_DIR)[1]  # the file is deleted once sent

    # A second submit of the same form finds the message, and sends nothing more.
    again = operator_client.post(url, merge_form(account, action="confirm"))
    assert again["Location"] == message.get_absolute_url()
    assert Delivery.objects.count() == 4


@pytest.mark.parametrize(
    "change",
    [
        {"text": "Dear {first_name|Customer}, order {order_no} is ready today, come early"},
        {"text": "Dear {first_name|Customer}, order {order_no} is READY"},  # same length
        {"confirmation": ""},  # a send posted without the confirmation
        {"confirmation": "0" * 64},
    ],
)
def test_a_merge_changed_after_its_confirmation_is_shown_again_not_sent(
    operator_client, account, script, change
):
    url = upload(operator_client, ORDERS)["Location"]
    shown = operator_client.post(url, merge_form(account, action="send"))
    confirmed = {"action": "confirm", "confirmation": confirmation_in(shown)}

    again = operator_client.post(url, merge_form(account, **{**confirmed, **change}))
    html = again.content.decode()

    assert not Message.objects.exists() and not script.calls
    assert 'id="confirm"' in html and 'id="confirm-note"' in html
    # The new confirmation sends, once confirmed as shown.
    operator_client.post(
        url, merge_form(account, **{**change, **confirmed, "confirmation": confirmation_in(again)})
    )
    assert Message.objects.count() == 1


def test_the_send_is_refused_while_a_value_is_missing(operator_client, account, script):
    url = upload(operator_client, ORDERS)["Location"]
    html = operator_client.post(
        url, merge_form(account, text="Total {total}", action="confirm")
    ).content.decode()
    assert "{total} is empty on 1 row and has no fallback (line 7)" in html
    assert not Message.objects.exists()


def test_an_unclosed_brace_is_refused_with_its_position(operator_client, account, script):
    url = upload(operator_client, ORDERS)["Location"]
    html = operator_client.post(
        url, merge_form(account, text="Order {order_no", action="confirm")
    ).content.decode()
    assert "The “{” at character 7 is never closed" in html
    assert not Message.objects.exists()


def test_an_unknown_column_is_refused_at_the_send(operator_client, account, script):
    url = upload(operator_client, ORDERS)["Location"]
    html = operator_client.post(
        url, merge_form(account, text="Order {town}", action="confirm")
    ).content.decode()
    assert "No column of the file is called {town}" in html
    assert not Message.objects.exists()


def test_a_file_without_a_phone_column_is_refused_until_one_is_chosen(
    operator_client, account, script
):
    url = upload(operator_client, "Who,Order\nSara,A-1\n")["Location"]
    page = operator_client.get(url).content.decode()
    assert "The file has no phone column: choose the column that holds the numbers" in page
    html = operator_client.post(
        url, merge_form(account, phone_column="", action="confirm")
    ).content.decode()
    assert "Choose the column that holds the phone numbers." in html
    assert not Message.objects.exists()


def columns_shown(html: str) -> str:
    """The text of the list of placeholders under the message (#merge-columns: no div inside)."""
    start = html.index('id="merge-columns"')
    inner = html[html.index(">", start) + 1 : html.index("</div>", start)]
    return " ".join(unescape(re.sub(r"<[^>]+>", "", inner)).split())


def test_a_phone_column_headed_phone_is_listed_once_as_the_recipients_number(
    operator_client, account
):
    url = upload(operator_client, "Customer,Phone,Order No.\nSara,50000001,A-17\n")["Location"]
    shown = columns_shown(operator_client.get(url).content.decode())
    assert shown.count("{phone} (") == 1  # listed once, …
    assert "{phone} (Phone: the recipient's number)" in shown
    # … and what it gives is said in words.
    assert "{phone} is the number each message goes to, in international format" in shown

    form = merge_form(account, phone_column="1", text="Order {order_no} for {phone}")
    html = operator_client.post(url, form, HTTP_HX_REQUEST="true").content.decode()
    assert "Order A-17 for +96550000001" in html
    assert columns_shown(html).count("{phone} (") == 1  # the list, swapped with the preview


def test_choosing_another_phone_column_renames_a_column_headed_phone(operator_client, account):
    """A file with a landline headed "Phone" and the mobiles under "Mobile": {phone} stays the
    number the message goes to, and the list, swapped with the preview, says so."""
    url = upload(operator_client, "Phone,Mobile\n22000000,50000001\n")["Location"]
    form = merge_form(account, phone_column="1", text="Call {phone_1} from {phone}")
    html = operator_client.post(url, form, HTTP_HX_REQUEST="true").content.decode()
    assert "Call 22000000 from +96550000001" in html
    shown = columns_shown(html)
    assert "{phone_1} (Phone)" in shown and "{mobile} (Mobile)" in shown
    assert shown.count("{phone} (") == 1
    assert "{phone} (the recipient's number)" in shown


def test_an_xlsx_file_is_read_by_the_same_reader(operator_client, account, script):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Phone", "City"])
    book.active.append([96550000001, "Kuwait"])
    data = io.BytesIO()
    book.save(data)
    url = upload(operator_client, data.getvalue(), "people.xlsx")["Location"]
    html = operator_client.post(
        url, merge_form(account, text="See you in {city}"), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "See you in Kuwait" in html


def test_an_unreadable_file_is_refused_at_the_upload(operator_client):
    html = upload(operator_client, b"PK\x03\x04 not really a zip", "bad.xlsx").content.decode()
    assert "This XLSX file cannot be opened" in html
    assert not default_storage.exists(UPLOAD_DIR) or not default_storage.listdir(UPLOAD_DIR)[1]


def test_an_upload_belongs_to_the_session_that_made_it(operator_client, manager, account):
    from django.test import Client

    url = upload(operator_client, ORDERS)["Location"]
    other = Client()
    other.force_login(manager)
    assert other.get(url).status_code == 404
    assert operator_client.get(url).status_code == 200


def test_uploads_never_sent_are_deleted_after_a_day(operator_client):
    upload(operator_client, ORDERS)
    assert purge_uploads(timezone.now()) == 0
    assert purge_uploads(timezone.now() + timedelta(days=2)) == 1


def test_the_send_service_renders_from_the_files_values_and_refuses_an_unknown_column(
    account, script
):
    from smsportal.messaging import sending

    OptOut.objects.create(phone="+96550000002")
    merge = read(ORDERS, "Order {order_no}")
    draft = sending.prepare(
        account=account, body="Order {order_no}", recipients=merge.resolved(), personal=True
    )
    assert dict(draft.texts) == {
        "+96550000001": ("Order A-17", 1),
        "+96550000003": ("Order A-22", 1),
    }
    assert ("+96550000002", "opted out") in draft.skipped  # never sent to, whatever the file

    with pytest.raises(sending.SendRefused, match=r"No column of the file is called \{town\}"):
        sending.prepare(
            account=account, body="Order {town}", recipients=merge.resolved(), personal=True
        )


def test_the_preview_reads_the_file_once_per_phone_column(operator_client, account, monkeypatch):
    from smsportal.messaging import mail_merge

    reads = []
    real = mail_merge.open_table
    monkeypatch.setattr(mail_merge, "open_table", lambda *a, **k: reads.append(1) or real(*a, **k))
    url = upload(operator_client, ORDERS)["Location"]
    first = operator_client.post(url, merge_form(account), HTTP_HX_REQUEST="true")
    assert "Dear Sara, order A-17 is ready" in first.content.decode()
    assert "3 recipients to send to" in first.content.decode()
    assert len(reads) == 1

    OptOut.objects.create(phone="+96550000002")  # looked up anew at each keystroke
    other = merge_form(account, text="Total {total|none} for {name|you}")
    html = operator_client.post(url, other, HTTP_HX_REQUEST="true").content.decode()
    assert "Total 12.500 for Sara Ali" in html
    assert "2 recipients to send to" in html
    assert len(reads) == 1  # the text changed, not the file: not read again

    operator_client.post(url, merge_form(account, phone_column="1"), HTTP_HX_REQUEST="true")
    assert len(reads) == 2  # another phone column: read once more


def test_the_sender_select_offers_the_accounts_senders_and_keeps_the_one_chosen(
    operator_client, account, script
):
    """As on the compose page: the account shown's sender IDs from the start (the provider's
    default first and chosen when none is marked), and the confirmation keeps the choice."""
    from tests.factories import SenderIDFactory

    SenderIDFactory(account=account, value="WalkCo")
    url = upload(operator_client, ORDERS)["Location"]

    def select(html: str) -> str:
        start = html.index('id="id_sender"')
        return html[start : html.index("</select>", start)]

    page = select(operator_client.get(url).content.decode())
    assert page.index('<option value="" selected>The provider\'s default sender</option>') < (
        page.index('<option value="WalkCo">WalkCo</option>')
    )

    confirm = operator_client.post(url, merge_form(account, sender="WalkCo", action="send"))
    assert '<option value="WalkCo" selected>' in select(confirm.content.decode())
