"""Message templates: Managers write them, Operators use them; bad placeholders are refused;
the picker and the list show each template's parts."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from smsportal.contacts.models import ContactField
from smsportal.departments.models import Department
from smsportal.message_templates.models import MessageTemplate

pytestmark = pytest.mark.django_db


def test_a_manager_saves_a_template_with_placeholders(manager_client, manager):
    ContactField.objects.create(key="city", label="City")

    response = manager_client.post(
        "/templates/add/",
        {"name": "Welcome", "account": "", "text": "Hi {first_name|Customer}, welcome to {city}!"},
    )

    assert response.status_code == 302
    template = MessageTemplate.objects.get()
    assert template.created_by == manager
    assert str(template.shape) == "1 part or more, Standard (before names are filled in)"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("Hi {first_name", "The “{” at character 4 is never closed"),
        ("Hi {town}", "No contact field is called {town}"),
        ("Hi {first name}", "is not a placeholder"),
        ("   ", "The text is empty"),
    ],
)
def test_a_bad_template_is_refused_with_the_reason(manager_client, text, error):
    response = manager_client.post("/templates/add/", {"name": "X", "account": "", "text": text})

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not MessageTemplate.objects.exists()


def test_operators_see_and_use_templates_but_cannot_change_them(operator_client, account):
    template = MessageTemplate.objects.create(name="Promo", text="Sale today", account=account)

    page = operator_client.get("/templates/")
    html = page.content.decode()
    assert "Sale today" in html and "1 part, Standard" in html
    assert "New template" not in html
    use = page.context["rows"][0]["use"]
    assert parse_qs(urlsplit(use).query) == {
        "text": ["Sale today"],
        "template": [str(template.pk)],
        "account": [str(account.pk)],
    }
    compose = operator_client.get(use).content.decode()
    assert "Sale today" in compose
    assert operator_client.post("/templates/add/", {"name": "X", "text": "y"}).status_code == 403
    assert operator_client.get(f"/templates/{template.pk}/").status_code == 403
    assert operator_client.post(f"/templates/{template.pk}/delete/").status_code == 403


def test_use_opens_compose_with_the_preview_of_the_templates_text(operator_client, account):
    MessageTemplate.objects.create(name="Arabic", text="مرحبا " * 20, account=account)
    use = operator_client.get("/templates/").context["rows"][0]["use"]

    response = operator_client.get(use)

    # Counted at once, as the live preview counts the first keystroke: not "Type a message".
    html = response.content.decode()
    assert "Type a message to see how it will be sent." not in html
    assert re.search(r'id="preview-encoding"[^>]*>Unicode<', html)
    assert re.search(r'id="preview-characters">120<', html)
    assert re.search(r'id="preview-segments">2<', html)
    assert response.context["preview"]["account"] == account


def test_compose_opened_without_a_text_waits_for_one(operator_client, account):
    html = operator_client.get("/messages/compose/?to=%2B96550000001").content.decode()

    assert "Type a message to see how it will be sent." in html
    assert 'id="preview-encoding"' not in html


def test_compose_offers_the_templates_with_their_parts(operator_client, account):
    MessageTemplate.objects.create(name="Long", text="x" * 200)
    MessageTemplate.objects.create(name="Arabic", text="مرحبا")

    html = operator_client.get("/messages/compose/").content.decode()

    assert 'id="template-picker"' in html
    assert "Long · 2 parts, Standard" in html
    assert "Arabic · 1 part, Unicode" in html
    assert "js/templates.js" in html


def test_a_manager_edits_and_deletes_a_template(manager_client):
    template = MessageTemplate.objects.create(name="Old", text="Hello")

    manager_client.post(f"/templates/{template.pk}/", {"name": "New", "account": "", "text": "Hi"})
    template.refresh_from_db()
    assert (template.name, template.text) == ("New", "Hi")
    manager_client.post(f"/templates/{template.pk}/delete/")
    assert not MessageTemplate.objects.exists()


def test_use_shows_the_template_chosen_for_its_department(operator_client, operator, account):
    """Compose opened by "Use" said "Start from a template: —": the picker now shows the
    template in use, for the template's department (whose templates the picker offers)."""
    sales = Department.objects.create(name="Sales")
    sales.members.add(operator)
    template = MessageTemplate.objects.create(name="Promo", text="Sale today", department=sales)
    MessageTemplate.objects.create(name="Other", text="Not this one")
    rows = operator_client.get("/templates/").context["rows"]
    (use,) = [row["use"] for row in rows if row["template"] == template]

    response = operator_client.get(use)

    assert response.context["form"].chosen_department == sales
    page = response.content.decode()
    picker = re.search(r'<select[^>]*id="template-picker".*?</select>', page, re.S)[0]
    chosen = re.findall(r'<option value="(\d+)"[^>]*\bselected\b', picker)
    assert chosen == [str(template.pk)]
