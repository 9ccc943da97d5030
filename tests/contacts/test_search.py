"""Search finds what staff type: any run of a number's digits, national or international, and
any word of a name; the index behind it follows every write; the admin finds deliveries by a
number as it is pasted. Runs on SQLite (FTS5) and PostgreSQL (pg_trgm) alike."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model

from smsportal.contacts.importer import Options, import_contacts
from smsportal.contacts.models import Contact
from smsportal.contacts.reading import open_table
from smsportal.contacts.search import ContactSearch, Terms
from smsportal.messaging.models import Delivery, DeliveryStatus, Message
from tests.factories import ContactFactory, ContactListFactory

pytestmark = pytest.mark.django_db


def found(query: str, list_id: int | None = None) -> set[str]:
    rows = ContactSearch(query, list_id).window(before=None, after=None, limit=100)
    exported = set(ContactSearch(query, list_id).queryset().values_list("name", flat=True))
    names = {c.name for c in rows}
    assert names == exported, "the export holds what the page shows"
    return names


@pytest.fixture
def people():
    ContactFactory(name="Ali Hassan", phone="+96597115555")
    ContactFactory(name="Sara Al-Sabah", phone="+96566123456")
    ContactFactory(name="Khalid Omar", phone="+447700900123")


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("9711 5555", {"Ali Hassan"}),  # the national form, as printed
        ("5555", {"Ali Hassan"}),  # the last digits alone
        ("71155", {"Ali Hassan"}),  # any run in the middle
        ("+965 9711", {"Ali Hassan"}),  # the international form
        ("00965 6612", {"Sara Al-Sabah"}),
        ("965", {"Ali Hassan", "Sara Al-Sabah"}),
        ("07700 900123", {"Khalid Omar"}),  # a UK national form, trunk 0 included
        ("+44 7700", {"Khalid Omar"}),
        ("+965 7700", set()),  # the international form is anchored at the country code
    ],
)
def test_a_number_is_found_by_any_run_of_its_digits(people, typed, expected):
    assert found(typed) == expected


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("hassan", {"Ali Hassan"}),  # not the first word
        ("HASS", {"Ali Hassan"}),  # the start of a word, any case
        ("sabah", {"Sara Al-Sabah"}),  # after a hyphen
        ("al", {"Ali Hassan", "Sara Al-Sabah"}),
        ("omar khalid", {"Khalid Omar"}),  # every word, in any order
        ("ali omar", set()),
        ("mar", set()),  # inside a word is not the start of one
        ("assan", set()),
    ],
)
def test_a_name_is_found_by_the_start_of_any_of_its_words(people, typed, expected):
    assert found(typed) == expected


def test_arabic_names_are_found_by_any_word():
    ContactFactory(name="محمد عبد الله", phone="+96597110001")
    assert found("الله") == {"محمد عبد الله"}
    assert found("عبد") == {"محمد عبد الله"}


@pytest.mark.parametrize(
    "typed",
    [
        "احمد",  # no hamza: found under أحمد
        "إحمد",  # the other hamza seat
        "أَحْمَد",  # with vowel marks
        "احـمـد",  # stretched by tatweel
        "AHMAD",  # the Latin spelling beside it, any case
    ],
)
def test_arabic_names_are_found_whatever_the_hamza_marks_or_tatweel(typed):
    ContactFactory(name="أحمد السالم Ahmad", phone="+96597110002")
    ContactFactory(name="محمد عبد الله", phone="+96597110001")
    assert found(typed) == {"أحمد السالم Ahmad"}


def test_stored_marks_and_spellings_are_folded_too():
    ContactFactory(name="فاطِمة الـعلي", phone="+96597110003")  # a kasra, teh marbuta, tatweel
    assert found("فاطمه") == {"فاطِمة الـعلي"}
    assert found("العلي") == {"فاطِمة الـعلي"}


def test_an_arabic_indic_number_finds_the_contact():
    ContactFactory(name="Ali", phone="+96597115555")
    assert found("٩٧١١ ٥٥٥٥") == {"Ali"}
    assert found("+٩٦٥ ٩٧١١") == {"Ali"}


def test_the_importer_folds_arabic_names_as_save_does():
    data = "name,phone\nأحمد الكويتي,+965 9900 1133\n".encode()
    import_contacts(open_table(io.BytesIO(data), len(data)), Options(region="KW"))
    assert found("احمد") == {"أحمد الكويتي"}


def test_the_index_follows_edits_deletes_and_the_importers_bulk_insert():
    contact = ContactFactory(name="Ali Hassan", phone="+96597115555")
    contact.name = "Fatima Noor"
    contact.save()
    assert found("hassan") == set() and found("noor") == {"Fatima Noor"}
    Contact.objects.filter(pk=contact.pk).update(phone="+96597116666")
    assert found("5555") == set() and found("6666") == {"Fatima Noor"}
    contact.delete()
    assert found("noor") == set()
    data = b"name,phone\nDana Kareem,+965 9900 1122\n"
    import_contacts(open_table(io.BytesIO(data), len(data)), Options(region="KW"))
    assert found("kareem") == {"Dana Kareem"} and found("9001122") == {"Dana Kareem"}


def test_search_on_a_list_pages_newest_first_without_gaps():
    staff = ContactListFactory()
    matching = [ContactFactory(name=f"Noor {i}") for i in range(7)]
    ContactFactory(name="Noor elsewhere")
    ContactFactory(name="Omar")
    staff.add([c.pk for c in matching])
    search = ContactSearch("noor", staff.pk)
    first = search.window(before=None, after=None, limit=3)
    assert first == matching[::-1][:3]
    second = search.window(before=first[-1].pk, after=None, limit=3)
    assert second == matching[::-1][3:6]
    back = search.window(before=None, after=second[0].pk, limit=3)
    assert back == first[::-1]


def test_the_contacts_page_pages_through_a_search(operator_client):
    contacts = [ContactFactory(name=f"Hamad {i}") for i in range(55)]
    ContactFactory(name="Someone else")
    page = operator_client.get("/contacts/", {"q": "hamad"}).context["page"]
    assert [c.pk for c in page.items] == [c.pk for c in contacts[::-1][:50]]
    older = operator_client.get("/contacts/", {"q": "hamad", "before": page.older})
    assert [c.pk for c in older.context["page"].items] == [c.pk for c in contacts[4::-1]]


def test_terms_never_put_like_wildcards_in_a_pattern():
    assert Terms.parse("100%_ali") == Terms(words=("100", "ali"))
    assert Terms.parse("") == Terms() and not Terms.parse("  -- ")


def test_the_admin_finds_deliveries_by_a_number_in_national_or_international_form(client, account):
    user = get_user_model().objects.create_superuser("root", password="x")
    client.force_login(user)
    message = Message.objects.create(account=account, body="x", encoding="GSM-7", segments=1)
    for phone in ("+96597119440", "+96597119441"):
        Delivery.objects.create(
            message=message, account=account, phone=phone, status=DeliveryStatus.SUBMITTED
        )
    for typed in ("9711 9440", "+965 9711 9440", "0096597119440", "+96597119440"):
        response = client.get("/admin/messaging/delivery/", {"q": typed})
        shown = [d.phone for d in response.context["cl"].result_list]
        assert shown == ["+96597119440"], typed


def test_the_migration_refolds_keys_stored_before_folding():
    import importlib

    from django.apps import apps

    contact = ContactFactory(name="أحمد", phone="+96597110004")
    Contact.objects.filter(pk=contact.pk).update(name_key="أحمد")  # as stored before
    assert found("احمد") == set()
    importlib.import_module("smsportal.contacts.migrations.0006_fold_name_keys").refold(apps, None)
    assert found("احمد") == {"أحمد"}
