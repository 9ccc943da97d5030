from __future__ import annotations

import html
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from smsportal.messaging.models import Message
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.messaging.views.messages import ROWS_PACE, Shown, _cancel_question
from smsportal.sms.status import DeliveryStatus
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def message(account, script, django_capture_on_commit_callbacks):
    def fail_first(call, recipients):
        from smsportal.providers.backends.base import SendResult, SubmitResult, SubmitStatus

        return SendResult(
            [
                SubmitResult(
                    r,
                    SubmitStatus.FAILED if i == 0 else SubmitStatus.SUBMITTED,
                    error_code="1705" if i == 0 else "",
                    error_text="Invalid mobile number" if i == 0 else "",
                )
                for i, r in enumerate(recipients)
            ]
        )

    script.behaviour = fail_first
    with django_capture_on_commit_callbacks(execute=True):
        message = create_message(
            account=account,
            body="Hello there",
            recipients=ResolvedRecipients(phones=["+96550000001", "+96550000002"]),
        )
    script.behaviour = None
    return message


def test_the_list_shows_each_message_with_its_counts(operator_client, message):
    page = operator_client.get(reverse("messaging:message_list")).content.decode()

    assert "Hello there" in page
    assert "1 failed" in page and "1 submitted" in page


def test_the_detail_shows_the_error_of_each_recipient(operator_client, message):
    page = operator_client.get(message.get_absolute_url()).content.decode()

    assert "Invalid mobile number" in page
    assert "+96550000001" in page


def _live(client, message, query=""):
    response = client.get(
        message.get_absolute_url() + query, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="message-live"
    )
    assert response.status_code == 200
    return response.content.decode()


def test_the_live_part_alone_answers_htmx_polling(operator_client, message):
    body = _live(operator_client, message)

    assert body.lstrip().startswith('<div id="message-live"')
    assert "<html" not in body


@pytest.fixture
def waiting(account, settings):
    """A message confirmed but not yet picked up by a worker (its database status: draft)."""
    immediate = settings.TASKS
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    message = create_message(
        account=account,
        body="Waiting",
        recipients=ResolvedRecipients(phones=[f"+9655000{i:04d}" for i in range(3)]),
    )
    settings.TASKS = immediate
    return message


def test_a_confirmed_message_reads_queued_never_draft(operator_client, waiting):
    assert waiting.status == Message.Status.DRAFT
    page = operator_client.get(waiting.get_absolute_url()).content.decode()
    listing = operator_client.get(reverse("messaging:message_list")).content.decode()

    assert 'id="message-status">queued<' in page
    assert "draft" not in page
    assert "draft" not in listing.split("<main", 1)[1].split('name="status"')[0]
    assert ">queued</span>" in listing


def test_the_live_part_carries_rows_filter_counts_banner_and_cancel(operator_client, waiting):
    from smsportal.messaging import tasks

    before = _live(operator_client, waiting)
    assert 'data-filter-count="queued">3<' in before
    assert before.count('<span class="badge text-bg-secondary">queued</span>') == 3
    assert 'id="cancel-message"' in before
    assert "Queued: sending to 3 recipients starts in a moment." in before
    assert 'hx-trigger="every 1s"' in before

    tasks.dispatch_message.call(waiting.pk)
    after = _live(operator_client, waiting)

    assert 'data-filter-count="submitted">3<' in after
    assert 'data-filter-count="queued"' not in after
    assert after.count('<span class="badge text-bg-info">submitted</span>') == 3
    assert 'id="cancel-message"' not in after
    assert "Done: 3 submitted." in after
    assert "hx-trigger" not in after.split(">", 1)[0]  # nothing more to follow: polling stops


def test_the_live_part_keeps_the_chosen_filter_while_reports_are_awaited(
    operator_client, message, script
):
    script.reports_poll = True  # one recipient is submitted: its report is still to come
    body = _live(operator_client, message, "?status=failed")

    poller = body.split(">", 1)[0]
    assert f'hx-get="{message.get_absolute_url()}?status=failed&amp;shown=' in poller
    assert 'hx-trigger="every 3s"' in poller
    assert "+96550000001" in body and "+96550000002" not in body
    assert "Waiting for delivery reports on 1 recipient." in body


def test_cancel_is_not_offered_once_every_recipient_is_processed(operator_client, waiting):
    # A worker has claimed every delivery: they are on their way and cannot be withdrawn.
    Message.objects.filter(pk=waiting.pk).update(status=Message.Status.SENDING)
    waiting.deliveries.update(status=DeliveryStatus.SENDING)

    page = operator_client.get(waiting.get_absolute_url()).content.decode()

    assert 'id="cancel-message"' not in page
    assert "Sending: 0 of 3 recipients processed, 3 still to go." in page


def test_cancel_with_nothing_left_to_cancel_changes_nothing(operator_client, waiting):
    Message.objects.filter(pk=waiting.pk).update(status=Message.Status.SENDING)
    waiting.deliveries.update(status=DeliveryStatus.SENDING)

    response = operator_client.post(
        reverse("messaging:message_cancel", args=[waiting.pk]), follow=True
    )

    waiting.refresh_from_db()
    assert waiting.status == Message.Status.SENDING
    assert "nothing left to cancel" in response.content.decode()


def test_the_live_part_costs_the_same_queries_for_3_or_60_recipients(
    operator_client, account, settings, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    small, large = (
        create_message(
            account=account,
            body="Size",
            recipients=ResolvedRecipients(phones=[f"+9655100{i:04d}" for i in range(n)]),
        )
        for n in (3, 60)
    )
    operator_client.get(small.get_absolute_url())  # session and permissions cached alike

    counted = []
    for message in (small, large):
        with CaptureQueriesContext(connection) as queries:
            _live(operator_client, message)
        counted.append(len(queries))

    assert counted[0] == counted[1]


def test_the_recipients_filter_by_status(operator_client, message):
    page = operator_client.get(message.get_absolute_url() + "?status=failed").content.decode()

    assert "+96550000001" in page
    assert "+96550000002" not in page


def test_an_outsider_cannot_see_messages(client, outsider, message):
    client.force_login(outsider)

    assert client.get(reverse("messaging:message_list")).status_code == 403
    assert client.get(message.get_absolute_url()).status_code == 403
    assert client.post(reverse("messaging:message_cancel", args=[message.pk])).status_code == 403


def test_retry_from_the_page_creates_a_new_message(operator_client, message, script):
    response = operator_client.post(
        reverse("messaging:message_retry", args=[message.pk]), {"status": ["failed"]}
    )

    retry = Message.objects.get(retry_of=message)
    assert response.status_code == 302
    assert response["Location"] == retry.get_absolute_url()
    assert retry.deliveries.get().phone == "+96550000001"


def test_cancel_from_the_page(operator_client, account, script):
    message = create_message(
        account=account, body="Hi", recipients=ResolvedRecipients(phones=["+96550000003"])
    )

    response = operator_client.post(
        reverse("messaging:message_cancel", args=[message.pk]), follow=True
    )

    assert message.deliveries.get().status == DeliveryStatus.CANCELLED
    page = response.content.decode()
    assert "1 recipient not yet sent was withdrawn." in page
    assert 'id="cancel-message"' not in page


def test_one_recipient_reads_in_the_singular_and_costs_without_trailing_zeros(
    operator_client, account, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    message = create_message(
        account=account, body="One", recipients=ResolvedRecipients(phones=["+96550000077"])
    )
    Message.objects.filter(pk=message.pk).update(estimated_cost="1234.5000")

    page = operator_client.get(message.get_absolute_url()).content.decode()

    assert "Queued: sending to 1 recipient starts in a moment." in page
    assert "0 of 1 recipient processed" in page
    assert "1 recipients" not in page
    assert "1,234.5 credits" in page


def test_the_detail_names_the_alphabet_as_compose_does_and_counts_credits_in_words(
    operator_client, message
):
    Message.objects.filter(pk=message.pk).update(estimated_cost=1)
    body = operator_client.get(message.get_absolute_url()).content.decode()
    assert "Standard, 1 part per recipient" in body
    assert "GSM-7" not in body
    assert "1 credit</dd>" in body


def test_a_refused_page_says_why_inside_the_portal(operator_client):
    response = operator_client.get(reverse("credits:transfer_create"))
    assert response.status_code == 403
    body = response.content.decode()
    assert "Not allowed" in body
    assert 'href="/"' in body or "Back to the dashboard" in body


def test_the_live_part_reads_the_message_its_counts_and_one_page_of_rows(operator_client, message):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _live(operator_client, message)  # session and permissions cached alike
    with CaptureQueriesContext(connection) as queries:
        body = _live(operator_client, message)

    read = [q["sql"].split(" FROM ", 1)[1].split()[0] for q in queries if " FROM " in q["sql"]]
    # The API's note ("via API") comes joined to the message, not as a query of its own.
    assert not [table for table in read if table == '"api_apimessage"']
    # The reader's departments are asked inside the message's query, not read first as a list.
    assert '"departments_department"' not in read
    assert read.count('"messaging_message"') == 1
    assert read.count('"messaging_messagestatuscount"') == 1
    assert read.count('"messaging_delivery"') == 1
    assert "via-api" not in body


def test_the_page_and_its_polls_find_a_message_of_the_readers_departments_or_of_none(
    client, operator, waiting
):
    from smsportal.departments.models import Department
    from tests.factories import UserFactory

    general, other = operator.departments.get(), Department.objects.create(name="Other")
    client.force_login(operator)

    def answers(pk=waiting.pk):
        url = reverse("messaging:message_detail", args=[pk])
        live = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="message-live")
        return client.get(url).status_code, live.status_code

    def belongs_to(department):
        Message.objects.filter(pk=waiting.pk).update(department=department)

    belongs_to(general)
    assert answers() == (200, 200)
    belongs_to(None)  # the whole organisation's
    assert answers() == (200, 200)
    belongs_to(other)
    assert answers() == (404, 404)
    other.members.add(operator)  # asked afresh on every request, never a kept answer
    assert answers() == (200, 200)
    operator.departments.clear()
    assert answers() == (404, 404)
    assert answers(waiting.pk + 1000) == (404, 404)
    client.force_login(UserFactory(is_superuser=True))  # in no department, sees every message
    assert answers() == (200, 200)


# The live part while a send runs: the recipients table and the message's facts come again only
# when something changed, at most every ROWS_PACE seconds, and always in the last answer.


def _poll_url(body: str) -> str:
    poller = body.split(">", 1)[0]
    return html.unescape(poller.split('hx-get="', 1)[1].split('"', 1)[0])


def _poll(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="message-live")
    assert response.status_code == 200
    read = [q["sql"].split(" FROM ", 1)[1].split()[0] for q in queries if " FROM " in q["sql"]]
    return response.content.decode(), read


def _shown(url: str) -> Shown:
    return Shown.parse(parse_qs(urlsplit(url).query)["shown"][0])


def _with_shown(url: str, shown: Shown) -> str:
    return url.split("shown=", 1)[0] + f"shown={shown}"


KEPT_ROWS = '<div id="delivery-rows" hx-preserve="true"></div>'
KEPT_FACTS = 'id="message-facts" hx-preserve="true"></div>'


def test_a_poll_with_nothing_new_keeps_the_table_and_reads_no_row(operator_client, waiting):
    url = _poll_url(_live(operator_client, waiting))
    assert _shown(url) is not None

    drawn, drawn_reads = _poll(operator_client, url.split("?", 1)[0])  # no shown: all drawn
    kept, kept_reads = _poll(operator_client, url)

    assert (
        drawn.count("<tr data-phone=") == 3 and KEPT_ROWS not in drawn and KEPT_FACTS not in drawn
    )
    assert KEPT_ROWS in kept and KEPT_FACTS in kept
    assert "+9655000" not in kept and "Waiting</p>" not in kept
    # What changes every second still comes: counts, filter counts, banner, actions.
    assert 'data-count="queued">3<' in kept and 'data-filter-count="queued">3<' in kept
    assert "Queued: sending to 3 recipients starts in a moment." in kept
    assert 'id="cancel-message"' in kept and 'hx-trigger="every 1s"' in kept
    assert _poll_url(kept) == url  # the page still shows the table drawn then
    assert '"messaging_delivery"' in drawn_reads
    assert '"messaging_delivery"' not in kept_reads
    assert len(kept_reads) == len(drawn_reads) - 1


def test_a_poll_draws_the_table_again_when_counts_moved_and_it_is_old_enough(
    operator_client, waiting
):
    url = _poll_url(_live(operator_client, waiting))
    waiting.deliveries.filter(phone="+96550000001").update(status=DeliveryStatus.SENDING)
    old = _shown(url)

    young, _reads = _poll(operator_client, _with_shown(url, Shown(old.key, int(time.time()))))
    aged = Shown(old.key, int(time.time()) - ROWS_PACE)
    drawn, reads = _poll(operator_client, _with_shown(url, aged))

    # Moved, but drawn less than ROWS_PACE ago: the counts come, the table waits.
    assert KEPT_ROWS in young and 'data-count="sending">1<' in young
    assert _shown(_poll_url(young)).key == old.key
    # Old enough: drawn again, and the next poll compares with what it shows now.
    assert KEPT_ROWS not in drawn and '"messaging_delivery"' in reads
    assert drawn.count('<span class="badge text-bg-primary">sending</span>') == 1
    assert _shown(_poll_url(drawn)).key != old.key
    assert _shown(_poll_url(drawn)).at >= aged.at + ROWS_PACE


def test_the_last_answer_of_a_send_always_draws_the_final_table(operator_client, waiting):
    from smsportal.messaging import tasks

    url = _poll_url(_live(operator_client, waiting))
    tasks.dispatch_message.call(waiting.pk)
    just_drawn = _with_shown(url, Shown(_shown(url).key, int(time.time())))

    body, _reads = _poll(operator_client, just_drawn)

    assert "Done: 3 submitted." in body
    assert KEPT_ROWS not in body and KEPT_FACTS not in body
    assert body.count('<span class="badge text-bg-info">submitted</span>') == 3
    assert "hx-trigger" not in body.split(">", 1)[0]  # nothing more to follow


@pytest.mark.parametrize(
    "shown", ["", "zzz", "0123456789ab", "0123456789ab.", "0123456789AB.1", "0123.1"]
)
def test_a_poll_without_a_valid_shown_draws_everything(operator_client, waiting, shown):
    body, _reads = _poll(operator_client, f"{waiting.get_absolute_url()}?shown={shown}")

    assert KEPT_ROWS not in body and body.count("<tr data-phone=") == 3


def test_the_page_itself_always_draws_everything(operator_client, waiting):
    url = _poll_url(_live(operator_client, waiting))

    page = operator_client.get(url).content.decode()

    assert "<html" in page and KEPT_ROWS not in page and page.count("<tr data-phone=") == 3


def test_the_recipients_rows_escape_every_value_and_say_what_the_template_said():
    from types import SimpleNamespace

    from smsportal.messaging.templatetags.message_rows import delivery_rows

    def row(**kwargs):
        base = dict(
            phone="+96550000001", text="", status="failed", status_word="failed",
            status_colour="danger", confirmed=True, failed_over_to=None, retried_in_id=None,
            provider_message_id="", error_code="", error_text="", segments=2,
            updated="2026-12-01 18:00:00",
        )  # fmt: skip
        return SimpleNamespace(**{**base, **kwargs})

    page = SimpleNamespace(
        items=[
            row(text="Hi <b>Ali</b>", error_code="1705", error_text='Bad <number> & "x"'),
            row(status="skipped", error_code="OPT", error_text="opted out", confirmed=False),
            row(provider_message_id="<id>", failed_over_to=SimpleNamespace(name="Back<up>")),
            row(retried_in_id=7),
        ]
    )

    personal = str(delivery_rows(page, SimpleNamespace(personal=True))).split("\n")
    plain = str(delivery_rows(page, SimpleNamespace(personal=False)))

    assert 'data-label="Text sent">Hi &lt;b&gt;Ali&lt;/b&gt;</td>' in personal[0]
    assert (
        '<code>1705</code> <bdi dir="auto">Bad &lt;number&gt; &amp; &quot;x&quot;</bdi>'
        in (personal[0])
    )
    assert "<code>OPT</code>" not in personal[1] and 'dir="auto">opted out</bdi>' in personal[1]
    assert "not confirmed by the provider" in personal[1]
    assert "not confirmed" not in personal[0]
    assert (
        '<td class="small text-break delivery-text" dir="auto" data-label="Text sent">—</td>'
        in personal[2]
    )
    assert "<code>&lt;id&gt;</code>" in personal[2]
    assert "through <bdi>Back&lt;up&gt;</bdi>, the route's next account" in personal[2]
    assert "retried in" not in personal[0]
    assert 'retried in <a href="/messages/7/">#7</a>' in personal[3]
    assert "delivery-text" not in plain and plain.count("<tr ") == 4
    assert (
        '<td class="num" data-label="Parts">2</td>'
        '<td class="text-nowrap" data-label="Updated"><small>2026-12-01 18:00:00'
    ) in plain
    # An empty cell is empty (a card leaves it out): no id, no error.
    assert '<td data-label="Provider&#x27;s message ID"></td>' in personal[0]
    assert '<td data-label="Error"></td>' in personal[2]


@pytest.mark.parametrize(
    "language, status, processed",
    [
        ("en", "sending", "1,200 of 1,500 recipients processed (80%)"),
        ("ar", "قيد الإرسال", "عولج 1,200 من 1,500 مستلم (80%)"),
    ],
)
def test_the_progress_card_says_what_its_template_said(language, status, processed):
    from django.template import Context
    from django.utils import translation

    from smsportal.messaging.progress import Progress, phase_of
    from smsportal.messaging.templatetags.message_progress import progress_card

    counts = Progress({"queued": 200, "sending": 100, "delivered": 1_150, "failed": 50})
    message = Message(status=Message.Status.SENDING)
    with translation.override(language):
        phase = phase_of(message, counts, reports_expected=False)
        card = str(progress_card(Context(), counts, phase))

    assert card.startswith(
        '<div id="progress" data-status="sending">\n'
        '  <div class="d-flex flex-wrap justify-content-between gap-2 small mb-1">\n'
        f"    <span>{'Status:' if language == 'en' else 'الحالة:'} "
        f'<strong id="message-status">{status}</strong></span>\n'
        f'    <span id="processed">{processed}</span>\n'
        "  </div>\n"
        '  <div class="progress-stacked" '
    )
    assert '<strong data-count="delivered">1,150</strong>' in card and card.endswith("</div>\n")


def test_cancel_asks_before_withdrawing_the_queued_recipients(operator_client, waiting):
    body = _live(operator_client, waiting)

    assert 'data-confirm="Withdraw the 3 recipients not yet sent?">' in body
    assert _cancel_question(1_204) == "Withdraw the 1,204 recipients not yet sent?"
    assert _cancel_question(1) == "Withdraw the 1 recipient not yet sent?"


def test_the_banner_of_a_scheduled_message_reads_in_the_readers_time_zone(
    operator_client, operator, account, settings
):
    import zoneinfo
    from datetime import datetime

    from smsportal.core.models import Preference

    Preference.objects.update_or_create(user=operator, defaults={"time_zone": "Asia/Kuwait"})
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    when = datetime(2030, 12, 2, 10, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Kuwait"))  # 07:00 UTC
    message = create_message(
        account=account,
        body="Later",
        recipients=ResolvedRecipients(phones=["+96550000001"]),
        scheduled_for=when,
    )

    page = operator_client.get(message.get_absolute_url()).content.decode()

    assert "Scheduled for 2030-12-02 10:00, to 1 recipient." in page
    assert "07:00" not in page
