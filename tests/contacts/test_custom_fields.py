"""Custom contact fields: Managers add, rename and remove them; staff fill them in on the
contact's page; the import maps columns to them, the export writes them, and the contact list
filters by them."""

from __future__ import annotations

import csv
import io

import pytest

from smsportal.contacts.importer import Options, import_contacts
from smsportal.contacts.models import Contact, ContactField
from smsportal.contacts.reading import open_table
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_a_manager_adds_a_field_with_a_key_made_from_its_label(manager_client):
    response = manager_client.post("/contacts/fields/", {"label": "Loyalty tier", "key": ""})

    assert response.status_code == 302
    field = ContactField.objects.get()
    assert (field.key, field.label, field.placeholder) == (
        "loyalty_tier",
        "Loyalty tier",
        "{loyalty_tier}",
    )


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"label": "City", "key": "1city"}, "start with a letter"),
        ({"label": "City", "key": "ci ty"}, "cannot be a key"),
        ({"label": "Phone", "key": ""}, "is a standard field"),
        ({"label": "Town", "key": "first_name"}, "is a standard field"),
        ({"label": "مدينة", "key": ""}, "the label has none"),
    ],
)
def test_a_bad_field_is_refused_with_the_reason(manager_client, data, error):
    response = manager_client.post("/contacts/fields/", data)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not ContactField.objects.exists()


def test_a_duplicate_key_is_refused(manager_client):
    ContactField.objects.create(key="city", label="City")

    response = manager_client.post("/contacts/fields/", {"label": "Town", "key": "city"})

    assert "A field with the key “city” exists" in response.content.decode()


def test_renaming_changes_the_label_and_keeps_the_key(manager_client):
    field = ContactField.objects.create(key="city", label="City")

    manager_client.post(f"/contacts/fields/{field.pk}/", {"label": "Town", "key": "town"})

    field.refresh_from_db()
    assert (field.key, field.label) == ("city", "Town")


def test_removing_a_field_removes_its_values_and_keeps_other_attributes(manager_client):
    field = ContactField.objects.create(key="city", label="City")
    with_city = ContactFactory(attributes={"city": "Kuwait", "company": "Acme"})
    without = ContactFactory(attributes={"company": "Beta"})

    response = manager_client.post(f"/contacts/fields/{field.pk}/delete/", follow=True)

    assert "with its value on 1 contact." in response.content.decode()
    assert not ContactField.objects.exists()
    with_city.refresh_from_db()
    without.refresh_from_db()
    assert with_city.attributes == {"company": "Acme"}
    assert without.attributes == {"company": "Beta"}


def test_operators_see_fields_but_cannot_change_them(operator_client):
    field = ContactField.objects.create(key="city", label="City")

    page = operator_client.get("/contacts/fields/")
    assert page.status_code == 200
    assert "{city}" in page.content.decode()
    assert "Add a field" not in page.content.decode()
    assert operator_client.post("/contacts/fields/", {"label": "Town"}).status_code == 403
    assert operator_client.post(f"/contacts/fields/{field.pk}/", {"label": "X"}).status_code == 403
    assert operator_client.post(f"/contacts/fields/{field.pk}/delete/").status_code == 403
    assert ContactField.objects.get().label == "City"


def test_a_contacts_fields_are_edited_on_its_page(operator_client):
    ContactField.objects.create(key="city", label="City")
    contact = ContactFactory(name="Ali", attributes={"company": "Acme"})

    page = operator_client.get(f"/contacts/{contact.pk}/").content.decode()
    assert 'name="field_city"' in page
    operator_client.post(
        f"/contacts/{contact.pk}/",
        {"phone": contact.phone, "name": "Ali", "email": "", "field_city": " Kuwait "},
    )
    contact.refresh_from_db()
    assert contact.attributes == {"company": "Acme", "city": "Kuwait"}

    operator_client.post(
        f"/contacts/{contact.pk}/",
        {"phone": contact.phone, "name": "Ali", "email": "", "field_city": ""},
    )
    contact.refresh_from_db()
    assert contact.attributes == {"company": "Acme"}


def _import(data: str):
    table = open_table(io.BytesIO(data.encode()), len(data.encode()))
    return import_contacts(table, Options(region="KW"))


def test_the_import_fills_fields_from_columns_headed_by_their_label_or_key():
    ContactField.objects.create(key="loyalty_tier", label="Loyalty tier")
    ContactField.objects.create(key="city", label="City")

    _import("phone,name,LOYALTY TIER,city,company\n+96597119440,Ali,Gold,Kuwait,Acme\n")

    assert Contact.objects.get().attributes == {
        "loyalty_tier": "Gold",
        "city": "Kuwait",
        "company": "Acme",
    }


def test_the_import_preview_says_which_column_fills_which_field():
    from smsportal.contacts.importer import Columns

    ContactField.objects.create(key="city", label="Town")
    header = ["mobile", "Town", "notes"]

    described = Columns.from_header(header).describe(header)

    assert described == {"mobile": "phone", "Town": "the field {city}", "notes": "attribute"}


def test_the_export_writes_each_field_in_its_column_and_imports_back(manager_client):
    ContactField.objects.create(key="city", label="City")
    ContactFactory(phone="+96597119440", name="Ali", attributes={"city": "Kuwait", "x": "1"})

    response = manager_client.get("/contacts/export.csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))

    assert rows[0] == ["phone", "name", "email", "City", "attributes"]
    assert rows[1] == ["'+96597119440", "Ali", "", "Kuwait", '{"x": "1"}']
    Contact.objects.all().delete()
    _import(text)
    assert Contact.objects.get().attributes == {"city": "Kuwait", "x": "1"}


@pytest.mark.parametrize("query", ["", "ali"])
def test_the_contact_list_filters_by_a_fields_value_ignoring_case(operator_client, query):
    ContactField.objects.create(key="city", label="City")
    ContactFactory(name="Ali One", attributes={"city": "Kuwait"})
    ContactFactory(name="Ali Two", attributes={"city": "Dubai"})
    ContactFactory(name="Ali Three")

    page = operator_client.get("/contacts/", {"q": query, "field": "city", "value": "kuwait"})

    assert [c.name for c in page.context["page"].items] == ["Ali One"]
    assert "field=city" in page.context["filters"]
