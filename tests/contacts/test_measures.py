"""Each contact's measures (what its values add to a text, sms/measures.py) stay in step with
its values: on save, on import (new and updated contacts), on a field's removal; a bulk update
that does not recompute them forgets them, so the preview renders those contacts instead."""

from __future__ import annotations

import io

import pytest

from smsportal.contacts.importer import Options, import_contacts
from smsportal.contacts.models import Contact, ContactField
from smsportal.contacts.reading import open_table
from smsportal.sms.measures import contact_measures, unpack

pytestmark = pytest.mark.django_db


def expected(contact: Contact) -> dict:
    return contact_measures(
        phone=contact.phone, name=contact.name, email=contact.email, attributes=contact.attributes
    )


def test_save_measures_every_value():
    contact = Contact.objects.create(phone="+96550000001", name="Sara", attributes={"city": "K"})
    contact.refresh_from_db()
    assert contact.measures == expected(contact)

    contact.name = "محمد Ali"
    contact.save(update_fields=["name"])
    contact.refresh_from_db()
    assert unpack(contact.measures["first_name"]) == (4, 0, True, False)


def test_the_import_measures_new_and_updated_contacts():
    def run(text: str):
        data = text.encode()
        import_contacts(open_table(io.BytesIO(data), len(data)), Options(region="KW"))

    run("phone,name,city\n+96550000001,Sara,Kuwait\n")
    sara = Contact.objects.get()
    assert sara.measures == expected(sara) and "city" in sara.measures

    run("phone,name,city\n+96550000001,Sara Ali,سالمية\n")
    sara.refresh_from_db()
    assert sara.measures == expected(sara)
    assert unpack(sara.measures["city"])[2]  # outside the standard alphabet now


def test_a_bulk_update_forgets_the_measures_and_removing_a_field_removes_its_measure():
    field = ContactField.objects.create(key="city", label="City")
    contact = Contact.objects.create(phone="+96550000001", name="Sara", attributes={"city": "K"})

    field.delete_values()
    contact.refresh_from_db()
    assert "city" not in contact.attributes and "city" not in contact.measures
    assert contact.measures == expected(contact)

    Contact.objects.filter(pk=contact.pk).update(name="Ali")
    contact.refresh_from_db()
    assert contact.measures is None
