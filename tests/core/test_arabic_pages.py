"""The pages marked for translation, rendered in Arabic, hold no English beyond brand names and
what people typed; and the same pages in English are unchanged in language and direction.

The scope is every page the superuser reaches from the dashboard (a page added later is checked
the day it is linked), less NOT_CHECKED; MARKED are the pages the crawl must reach. Compose's
live preview and confirmation, which no link reaches, are posted to by their own test."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.urls import Resolver404, resolve

from smsportal.contacts.models import Contact, ContactField, ContactList, ImportJob
from smsportal.core.models import Preference
from smsportal.credits.models import CreditTransfer
from smsportal.departments.models import Department
from smsportal.forwarding.models import Endpoint
from smsportal.keywords.models import KeywordRule
from smsportal.message_templates.models import MessageTemplate
from smsportal.providers.models import ProviderAccount
from smsportal.recurring.models import RecurringSend
from smsportal.senders.models import SenderID
from tests.factories import UserFactory
from tests.support.crawl import Frontier, page_links
from tests.support.portal_data import populate
from tests.support.untranslated import english_words

pytestmark = pytest.mark.django_db

ORIGIN = "http://testserver"
COMPOSE = "/messages/compose/"

# Every page is checked, except these (and the Django admin): the API's reference is for
# developers, in English, and says so (<html lang="en">).
NOT_CHECKED = {"api-docs", "api-redoc", "logout"}
# Pages the crawl must reach (a crawl that stops short would check nothing).
MARKED = {
    "dashboard", "users:profile", "password_change",
    "contacts:contact_list", "contacts:contact_create", "contacts:contact_edit",
    "contacts:list_list", "contacts:list_detail", "contacts:list_create", "contacts:list_edit",
    "contacts:optout_list", "contacts:field_list", "contacts:field_edit",
    "contacts:remote_lists", "contacts:import_create", "contacts:import_detail",
    "senders:list", "senders:create", "senders:edit",
    "credits:overview", "credits:transfer_list", "credits:transfer_create",
    "credits:transfer_detail",
    "reports:index",
    "providers:list", "providers:detail", "providers:create", "providers:edit",
    "routing:index", "routing:route_create", "routing:route_edit", "routing:prices",
    "quotas:list", "quotas:create", "quotas:edit",
    "departments:list", "departments:detail",
    "messaging:message_list", "messaging:message_detail", "messaging:compose",
    "messaging:mail_merge_upload",
    "messaging:message_edit", "messaging:inbox", "messaging:conversation",
    "message_templates:list", "message_templates:create", "message_templates:edit",
    "recurring:list", "recurring:create", "recurring:detail", "recurring:edit",
    "keywords:list", "keywords:rule_create", "keywords:rule_edit", "keywords:confirmations",
    "forwarding:list", "forwarding:create", "forwarding:detail", "forwarding:edit",
    "users:two_factor_setup", "audit:index",
}  # fmt: skip


def user_content() -> set[str]:
    """What people typed and the portal shows in a <select> or a sentence."""
    typed: set[str] = set()
    typed |= set(ProviderAccount.objects.values_list("name", flat=True))
    typed |= set(ProviderAccount.objects.values_list("username", flat=True))
    typed |= set(ContactList.objects.values_list("name", flat=True))
    typed |= set(Contact.objects.values_list("name", flat=True))
    typed |= set(SenderID.objects.values_list("value", flat=True))
    typed |= set(CreditTransfer.objects.values_list("customer", flat=True))
    typed |= set(get_user_model().objects.values_list("username", flat=True))
    typed |= set(ContactField.objects.values_list("label", flat=True))  # named by staff
    typed |= set(MessageTemplate.objects.values_list("name", flat=True))
    typed |= set(RecurringSend.objects.values_list("name", flat=True))
    typed |= set(RecurringSend.objects.values_list("timezone", flat=True))  # IANA identifiers
    typed |= set(Endpoint.objects.values_list("name", flat=True))
    typed |= set(KeywordRule.objects.values_list("keyword", flat=True))
    typed |= set(Department.objects.values_list("name", flat=True))
    typed |= set(ImportJob.objects.values_list("original_name", flat=True))  # file names
    return typed


def marked_pages(client) -> dict[str, str]:
    """Every page reachable from the dashboard (but NOT_CHECKED and the admin): {path: html}."""
    pages: dict[str, str] = {}
    frontier = Frontier(ORIGIN, "/", max_depth=4, limit=500)
    for url, depth, _referrer in frontier:
        path = url[len(ORIGIN) :]
        try:
            name = resolve(urlsplit(url).path).view_name
        except Resolver404:
            continue
        if name in NOT_CHECKED or name.startswith("admin:"):
            continue
        response = client.get(path)
        if response.streaming:
            # Read a streamed export to its end now: left unread, the garbage collector closes
            # its server-side cursor (PostgreSQL) in the middle of a later query on the same
            # connection, which then waits on itself for ever.
            b"".join(response.streaming_content)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        pages[path] = html
        for link in page_links(html, url):
            frontier.add(link, depth + 1, url)
    return pages


@pytest.fixture
def arabic_superuser(db):
    user = UserFactory(username="admin", is_superuser=True, is_staff=True)
    Preference.objects.create(user=user, language="ar")
    return user


def test_marked_pages_in_arabic_hold_no_english(client, arabic_superuser, sandbox_account):
    populate(sandbox_account, arabic_superuser)
    client.force_login(arabic_superuser)
    pages = marked_pages(client)
    reached = {resolve(urlsplit(path).path).view_name for path in pages}
    assert reached >= MARKED - {"password_change"}, MARKED - reached
    typed = user_content()
    english = {path: english_words(html, typed) for path, html in pages.items()}
    left = [f"{path}: {w}" for path, words in english.items() for w in words]
    assert not left, "English left on Arabic pages:\n" + "\n".join(left)
    for path, html in pages.items():
        assert '<html lang="ar" dir="rtl">' in html, path


def test_compose_with_automatic_in_arabic_holds_no_english(
    client, arabic_superuser, sandbox_account
):
    """The parts of Compose the crawl does not reach: the live preview of "Automatic" (the split
    by account, the recipient no route carries), the preview of one account, and the
    confirmation before sending, which names each account of the split."""
    populate(sandbox_account, arabic_superuser)
    client.force_login(arabic_superuser)
    isms = ProviderAccount.objects.get(kind="isms")
    form = {
        "account": "auto",
        "sender": "",
        "recipients": "+96597119440\n+96597119441\n+447911123456\n12",
        "text": "مرحبا، موعدكم غدًا",
        "token": "tok-arabic",
        "department": Department.objects.filter(members=arabic_superuser).first().pk,
    }
    preview = client.post(COMPOSE, {**form, "action": "preview"}, headers={"hx-request": "true"})
    confirmation = client.post(COMPOSE, {**form, "action": "send"})
    one_account = client.post(
        COMPOSE, {**form, "account": isms.pk, "action": "preview"}, headers={"hx-request": "true"}
    )
    senders = client.get("/senders/options/", {"account": ""})
    pages = {
        "preview": preview.content.decode(),
        "confirmation": confirmation.content.decode(),
        "one account": one_account.content.decode(),
        "senders": senders.content.decode(),
    }
    assert 'id="routing-split"' in pages["preview"] and 'id="routing-refused"' in pages["preview"]
    # The summary beside Send gives the split's cost (it once gave the words and no figure).
    assert "التكلفة التقديرية 0.04" in pages["preview"]
    assert 'id="confirm-routed"' in pages["confirmation"]
    assert 'id="preview-cost"' in pages["one account"]
    typed = user_content()
    left = [f"{name}: {w}" for name, html in pages.items() for w in english_words(html, typed)]
    assert not left, "English left on Compose in Arabic:\n" + "\n".join(left)


def test_the_log_in_page_in_arabic_holds_no_english(client):
    response = client.get("/auth/login/", headers={"accept-language": "ar"})
    assert english_words(response.content.decode()) == []


def test_the_check_finds_english_and_spares_brands_and_typed_text():
    html = (
        '<p>الرصيد <span title="Refresh now">x</span> Balance over time</p>'
        '<p>KwtSMS <bdi>Ali Hassan</bdi> <td dir="auto">Support team</td> <code>E123</code></p>'
        "<option>Staff list</option><script>var Chart = 1;</script>"
    )
    assert english_words(html, {"Staff list"}) == [
        "Refresh now  ⟵  'Refresh now'",
        "Balance over time  ⟵  'Balance over time'",
    ]


def test_english_pages_stay_english_left_to_right(client, operator, sandbox_account):
    populate(sandbox_account, operator)
    client.force_login(operator)
    page = client.get("/", headers={"accept-language": "en"}).content.decode()
    assert '<html lang="en-gb" dir="ltr">' in page
    assert "Deliveries per account" in page and "Recent messages" in page
