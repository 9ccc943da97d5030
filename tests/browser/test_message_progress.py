from __future__ import annotations

import pytest
from playwright.sync_api import expect

from smsportal.messaging import tasks
from smsportal.messaging.sending import ResolvedRecipients
from tests.factories import PASSWORD
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_progress_bar_follows_a_send_without_reloading(
    page, live_server, login, operator, account, script, settings
):
    immediate = settings.TASKS
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    message = create_message(  # no worker yet: every delivery waits in the queue
        account=account,
        body="Live progress",
        recipients=ResolvedRecipients(phones=[f"+9655000{i:04d}" for i in range(30)]),
    )
    settings.TASKS = immediate
    login(operator, PASSWORD)
    page.goto(f"{live_server.url}{message.get_absolute_url()}")
    expect(page.locator("[data-count=queued]")).to_have_text("30")
    expect(page.locator("#message-status")).to_have_text("queued")  # never "draft"
    expect(page.locator("#cancel-message")).to_be_visible()
    expect(page.locator("[data-filter-count=queued]")).to_have_text("30")
    # Polls with nothing new keep the recipients table and the message's facts the page shows.
    with page.expect_response(lambda r: "shown=" in r.url):
        pass
    with page.expect_response(lambda r: "shown=" in r.url):
        pass
    expect(page.locator("#deliveries tbody .badge", has_text="queued")).to_have_count(30)
    expect(page.locator("#message-body")).to_have_text("Live progress")

    tasks.dispatch_message.call(message.pk)  # the worker runs while the page is open

    expect(page.locator("#message-status")).to_have_text("done", timeout=10_000)
    expect(page.locator("[data-count=submitted]")).to_have_text("30")
    expect(page.locator("[data-count=queued]")).to_have_text("0")
    # The rest of the page follows the same send: rows, filter counts, banner, actions.
    expect(page.locator("[data-filter-count=submitted]")).to_have_text("30")
    expect(page.locator("[data-filter-count=queued]")).to_have_count(0)
    expect(page.locator("#deliveries tbody .badge", has_text="queued")).to_have_count(0)
    expect(page.locator("#deliveries tbody .badge", has_text="submitted")).to_have_count(30)
    expect(page.locator("#message-banner")).to_have_text("Done: 30 submitted.")
    expect(page.locator("#cancel-message")).to_have_count(0)


def test_a_filter_chosen_while_the_page_polls_keeps_its_rows(
    page, live_server, login, operator, account, script, settings
):
    from smsportal.messaging.models import Message
    from smsportal.sms.status import DeliveryStatus

    immediate = settings.TASKS
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    message = create_message(
        account=account,
        body="Filter while live",
        recipients=ResolvedRecipients(phones=[f"+9655100{i:04d}" for i in range(12)]),
    )
    settings.TASKS = immediate
    Message.objects.filter(pk=message.pk).update(status=Message.Status.SENDING)
    failed = list(message.deliveries.order_by("id").values_list("id", flat=True)[:2])
    message.deliveries.filter(id__in=failed).update(status=DeliveryStatus.FAILED)
    login(operator, PASSWORD)
    page.goto(f"{live_server.url}{message.get_absolute_url()}")
    expect(page.locator("#deliveries tbody tr")).to_have_count(12)

    page.locator("#deliveries .nav-link", has_text="failed").click()

    expect(page.locator("#deliveries .nav-link.active")).to_contain_text("failed")
    expect(page.locator("#deliveries tbody tr")).to_have_count(2)
    # The polls that follow ask for the filter chosen and keep its rows.
    with page.expect_response(lambda r: "status=failed" in r.url and "shown=" in r.url):
        pass
    with page.expect_response(lambda r: "status=failed" in r.url and "shown=" in r.url):
        pass
    expect(page.locator("#deliveries tbody tr")).to_have_count(2)
    expect(page.locator("#deliveries .nav-link.active")).to_contain_text("failed")
