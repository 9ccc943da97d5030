"""A message's recipients as cards on a phone: the status badge beside the number keeps its
width, in Arabic too, where "في الانتظار" (queued) is longer than the English word, and the
next cell's label does not run over it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from smsportal.core.models import Preference
from smsportal.messaging.sending import ResolvedRecipients
from tests.factories import PASSWORD
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db(transaction=True)

OVERLAP = """([a, b]) => {
  const r = a.getBoundingClientRect(), s = b.getBoundingClientRect();
  return Math.max(0, Math.min(r.right, s.right) - Math.max(r.left, s.left))
       * Math.max(0, Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top));
}"""


@pytest.mark.parametrize("language", ["ar", "en"])
def test_a_queued_badge_and_the_parts_beside_it_do_not_overlap_at_390(
    page, live_server, login, manager, account, script, settings, language
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    Preference.objects.update_or_create(user=manager, defaults={"language": language})
    message = create_message(
        account=account,
        body="Later",
        recipients=ResolvedRecipients(phones=["+96550000001"]),
        scheduled_for=timezone.now() + timedelta(days=1),
        created_by=manager,
    )
    login(manager, PASSWORD)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/messages/{message.pk}/")

    row = page.locator("#delivery-table tbody tr").first
    badge = row.locator(".badge").first
    parts = row.locator("td.num").first
    assert badge.evaluate("b => b.scrollWidth <= b.clientWidth + 1")  # the word is whole
    overlap = page.evaluate_handle("x => x", [badge.element_handle(), parts.element_handle()])
    assert page.evaluate(OVERLAP, overlap) == 0
