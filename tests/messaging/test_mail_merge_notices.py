"""What the mail-merge page says about its text and file, said once and truly: who goes in Unicode
and why (the text itself, offered standard characters as on Compose, or each recipient's own
values, with those characters named), the reason no row can be sent to said once, the sender
help under the sender select as on Compose, and quoted values that keep their quotes in either
direction."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse

from smsportal.messaging.mail_merge import merge_estimate
from smsportal.sms.encoding import STANDARD
from tests.messaging.test_mail_merge import merge_form, read, upload

pytestmark = pytest.mark.django_db

# The file the tester walked with (an Arabic name, a name with curly quotes, plain Bob, and a
# row that is no number).
WALKED = (
    "phone,name,amount\n"
    "+96597119440,أحمد,12.5\n"
    "+96597119441,Sara “S”,7\n"
    "96597119442,Bob,\n"
    "notanumber,X,1\n"
)
CURLY = "Hi {name|friend}, you owe {amount|0} KWD “now”."
STRAIGHT = 'Hi {name|friend}, you owe {amount|0} KWD "now".'


def element(html: str, element_id: str) -> str:
    """The element with this id, up to the end of its first enclosing tag's close (enough for
    the notices: a div whose inner divs are balanced)."""
    start = html.index(f'id="{element_id}"')
    start = html.rindex("<", 0, start)
    tag = re.match(r"<(\w+)", html[start:]).group(1)
    depth, position = 0, start
    for match in re.finditer(rf"<(/?){tag}\b", html[start:]):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            position = start + match.end()
            break
    return html[start : html.index(">", position) + 1]


def words(html: str) -> str:
    """The text a person reads (tags dropped, spaces collapsed)."""
    return " ".join(unescape(re.sub(r"<[^>]+>", "", html)).split())


def chips(html: str) -> list[str]:
    """The characters named as chips (Compose's costly_chips), in order."""
    return re.findall(r'<bdi class="border rounded[^"]*"[^>]*>([^<]*)</bdi>', html)


def live(client, url: str, account, **fields) -> str:
    form = merge_form(account, **{"phone_column": "0", **fields})
    return client.post(url, form, HTTP_HX_REQUEST="true").content.decode()


def test_unicode_because_of_the_text_itself_says_so_and_offers_standard_characters(
    operator_client, account
):
    url = upload(operator_client, WALKED, "merge.csv")["Location"]
    html = live(operator_client, url, account, text=CURLY)

    notice = words(element(html, "preview-unicode"))
    assert "3 recipients get the message in Unicode" in notice
    assert "the text itself" in notice
    assert "their own details" not in notice
    assert "+965" not in notice  # nobody is named: everyone gets the text
    # The characters named as Compose names them, and the button that replaces them.
    chars = element(html, "preview-non-gsm")
    assert chips(chars) == ["“", "”"]
    assert "Use standard characters" in chars
    assert f'hx-post="{url}"' in chars and 'hx-include="#merge-form"' in chars


def test_the_standard_characters_button_replaces_the_look_alikes_in_the_merge_text(
    operator_client, account
):
    url = upload(operator_client, WALKED, "merge.csv")["Location"]
    response = operator_client.post(
        url, merge_form(account, phone_column="0", text=CURLY, action="gsm"), HTTP_HX_REQUEST="true"
    )

    assert STRAIGHT in unescape(response.content.decode())
    assert 'id="id_text"' in response.content.decode()
    # The preview follows, and a confirmation shown is withdrawn (static/js/compose.js).
    assert response["HX-Trigger-After-Settle"] == "compose-changed"


def test_unicode_because_of_recipients_own_values_names_them_and_their_characters(
    operator_client, account
):
    url = upload(operator_client, WALKED, "merge.csv")["Location"]
    html = live(operator_client, url, account, text=STRAIGHT)

    notice = element(html, "preview-unicode")
    shown = words(notice)
    assert "2 recipients get the message in Unicode" in shown
    assert "in their own details" in shown
    assert "+96597119440: {name} is “أحمد”" in shown
    assert "+96597119441: {name} is “Sara “S””" in shown
    items = notice.split("<li>")[1:]
    assert [chips(item) for item in items] == [["Arabic letters"], ["“", "”"]]
    assert "+96597119442" not in shown  # Bob's details are plain
    assert 'id="preview-non-gsm"' not in html  # the text itself is standard


def test_a_fallback_outside_the_standard_alphabet_is_the_reason_given():
    text = "Hi {name|صديق}"
    merge = read("phone,name\n+96550000001,Sara\n+96550000002,\n", text)
    estimate = merge_estimate(text, merge, STANDARD)

    assert estimate.ucs2 == 1
    assert [(c.who, c.field, c.value, c.fallback) for c in estimate.causes] == [
        ("+96550000002", "name", "صديق", True)
    ]


def test_the_fallback_reason_is_said_in_words(operator_client, account):
    url = upload(operator_client, "phone,name\n+96550000001,Sara\n+96550000002,\n")["Location"]
    notice = element(live(operator_client, url, account, text="Hi {name|صديق}"), "preview-unicode")
    assert "+96550000002: {name} is empty; its fallback is “صديق”" in words(notice)
    assert chips(notice) == ["Arabic letters"]


def test_a_quoted_value_keeps_its_quotes_outside_its_own_direction(operator_client, account):
    """The value isolated inside the quotes: an Arabic one does not carry them to its side."""
    url = upload(operator_client, WALKED, "merge.csv")["Location"]
    notice = element(live(operator_client, url, account, text=STRAIGHT), "preview-unicode")
    assert "“<bdi>أحمد</bdi>”" in notice
    assert '<bdi dir="auto">“' not in notice


def test_the_reason_no_row_can_be_sent_to_is_said_once(operator_client, account):
    url = upload(operator_client, WALKED, "merge.csv")["Location"]
    # The names as the phone column: no row holds a number.
    refused = operator_client.post(
        url, merge_form(account, phone_column="1", text=CURLY, action="send")
    ).content.decode()

    assert words(refused).count("No row of the file can be sent to.") == 1
    assert "No row of the file can be sent to." in words(element(refused, "merge-errors"))

    # A change: the live preview speaks for the form, and the refusal above it goes.
    changed = live(operator_client, url, account, phone_column="1", text=CURLY + " Bye")
    assert '<div class="alert alert-danger" id="merge-errors" hx-swap-oob="true" hidden></div>' in (
        changed
    )
    assert words(changed).count("No row of the file can be sent to.") == 1


def test_the_page_has_the_sender_help_that_switching_account_swaps(operator_client, account):
    """The sender options' answer swaps #sender-help out of band: the page must hold it."""
    from tests.factories import ProviderAccountFactory

    url = upload(operator_client, WALKED, "merge.csv")["Location"]
    page = operator_client.get(url).content.decode()
    assert page.count('id="sender-help"') == 1

    # An account with no sender IDs: the help says the provider's default is used, as on Compose.
    bare = ProviderAccountFactory(kind="isms", name="Bare")
    options = operator_client.get(reverse("senders:options"), {"account": bare.pk})
    assert 'id="sender-help" hx-swap-oob="true"' in options.content.decode()
    shown = operator_client.post(url, merge_form(bare, phone_column="0", text=STRAIGHT))
    assert "Bare has no active sender IDs" in words(element(shown.content.decode(), "sender-help"))


def test_in_arabic_every_number_reads_left_to_right_and_the_file_line_in_order(
    operator_client, operator, account
):
    """A number has no letter to tell its direction: left alone it takes the Arabic page's, and
    "+96597119440" shows as "96597119440+". The file's name and its description are isolated
    apart, the description naming the format and the encoding with Arabic words between them
    (otherwise "CSV، UTF-8" joins into one left-to-right run, its comma inside)."""
    from smsportal.core.models import Preference

    Preference.objects.update_or_create(user=operator, defaults={"language": "ar"})
    url = upload(operator_client, WALKED + "+96597119440,Again,3\n", "merge.csv")["Location"]
    page = operator_client.get(url).content.decode()
    html = live(operator_client, url, account, text=STRAIGHT)

    numbers = re.findall(r"(.{16})(\+965\d+)", html)
    assert {number for _before, number in numbers} >= {"+96597119440", "+96597119441"}
    assert [before for before, _number in numbers if not before.endswith('dir="ltr">')] == []
    assert 'dir="ltr">+96597119440</bdi></td>' in element(html, "merge-refused")  # the repeat
    assert 'dir="auto">notanumber</bdi>' in element(html, "merge-refused")
    assert (
        '<bdi class="text-break">merge.csv</bdi> · <bdi>ملف CSV، بترميز UTF-8، مفصولًا بفواصل</bdi>'
        in element(page, "merge-file")
    )


def test_in_arabic_names_and_values_are_quoted_with_arabic_quotes(
    operator_client, operator, account
):
    """The rest of the Arabic portal quotes «like this»: the page's example column, a value named
    for Unicode and a file with no phone column did not, in English curly quotes."""
    from smsportal.core.models import Preference

    Preference.objects.update_or_create(user=operator, defaults={"language": "ar"})
    upload_page = operator_client.get(reverse("messaging:mail_merge_upload")).content.decode()
    assert "<bdi>«Order No»</bdi>" in upload_page

    url = upload(operator_client, WALKED, "merge.csv")["Location"]
    notice = element(live(operator_client, url, account, text=STRAIGHT), "preview-unicode")
    assert "«<bdi>أحمد</bdi>»" in notice and "“<bdi>" not in notice

    no_phone = upload(operator_client, "من,الطلب\nSara,A-1\n", "orders.csv")["Location"]
    refusal = words(operator_client.get(no_phone).content.decode())
    assert "«phone»" in refusal
    assert "«\u2068من\u2069»، «\u2068الطلب\u2069»." in refusal
    assert "“" not in refusal


def test_recipients_in_unicode_beyond_those_named_are_counted(operator_client, account):
    rows = "".join(f"+9655000{n:04},أحمد\n" for n in range(1, 9))  # 8 Arabic names
    url = upload(operator_client, "phone,name\n" + rows)["Location"]

    notice = element(live(operator_client, url, account, text="Hi {name}"), "preview-unicode")

    assert len(notice.split("<li>")) - 1 == 5  # the first five are named
    assert "and 3 more recipients" in words(notice)
