"""The audit page: Managers only, filters, keyset paging, the streamed export; the admin reads
entries and can neither add, change nor delete one, not even as a superuser."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from smsportal.contacts.models import ContactList
from smsportal.core import audit
from smsportal.core.models import AuditEntry
from smsportal.departments.models import Department
from tests.factories import ProviderAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("audit:index")


def entries_on(page) -> list[str]:
    """The object column of each row, in order."""
    return [row["entry"].object_repr for row in page.context["entries"]]


def test_only_managers_and_superusers_see_the_page(client, operator_client, manager):
    assert operator_client.get(URL).status_code == 403
    client.force_login(manager)
    assert client.get(URL).status_code == 200
    client.force_login(UserFactory(username="root", is_superuser=True))
    assert client.get(URL).status_code == 200


def test_the_page_shows_the_days_actions(manager_client, manager):
    account = ProviderAccountFactory(name="Main")
    audit.record("token_rotated", account, actor=manager)

    page = manager_client.get(URL).content.decode()

    assert "Rotated a callback token" in page and "Main" in page and "manager" in page


def test_counts_in_an_actions_details_have_thousands_separators(manager_client, manager):
    account = ProviderAccountFactory(name="Main")
    audit.record("message_sent", account, actor=manager, recipients=1204)
    audit.record("message_retried", account, actor=manager, new_message=12345, recipients=7)

    page = manager_client.get(URL).content.decode()

    assert "recipients:</span> <bdi>1,204</bdi>" in page
    assert "new message:</span> <bdi>12345</bdi>" in page  # an id, not a count


def test_filters_by_user_action_object_and_date(manager_client, manager, operator):
    account = ProviderAccountFactory(name="Main")
    audit.record("token_rotated", account, actor=manager)
    audit.record("exported", actor=operator, what="contacts")
    old = audit.record("exported", actor=operator, what="deliveries")
    AuditEntry.objects.filter(pk=old.pk).update(timestamp=timezone.now() - timedelta(days=40))

    def events(**filters):
        page = manager_client.get(URL, filters)
        return [(row["entry"].event, row["who"]) for row in page.context["entries"]]

    assert events(user="operator") == [("exported", "operator"), ("exported", "operator")]
    assert events(action="token_rotated") == [("token_rotated", "manager")]
    assert events(object_type=account_type(), object="Main") == [
        ("token_rotated", "manager"),
        ("created", "system"),  # the factory made it outside any request
    ]
    assert events(object=str(account.pk), action="token_rotated") == [("token_rotated", "manager")]
    today = timezone.localdate()
    assert ("exported", "operator") in events(since=str(today), action="exported")
    assert len(events(since=str(today), action="exported")) == 1
    assert len(events(until=str(today - timedelta(days=30)), action="exported")) == 1


def account_type() -> int:
    from django.contrib.contenttypes.models import ContentType

    from smsportal.providers.models import ProviderAccount

    return ContentType.objects.get_for_model(ProviderAccount).pk


def test_a_bad_date_range_says_so(manager_client):
    page = manager_client.get(URL, {"since": "2026-12-01", "until": "2026-11-01"})

    assert "is after" in page.content.decode()


def test_pages_follow_each_other_by_keyset_without_gaps_or_repeats(manager_client, manager):
    same_moment = timezone.now()
    entries = [audit.record("exported", actor=manager, what=f"export {n}") for n in range(120)]
    # Many entries in the same instant: the id breaks the tie.
    AuditEntry.objects.filter(pk__in=[e.pk for e in entries]).update(timestamp=same_moment)

    seen: list[int] = []
    url = URL + "?action=exported"
    while url:
        page = manager_client.get(url)
        seen += [row["entry"].pk for row in page.context["entries"]]
        older = page.context["older_url"]
        url = URL + older if older else None

    assert seen == sorted((e.pk for e in entries), reverse=True)
    assert len(seen) == 120


def test_the_export_streams_every_matching_entry_oldest_first(manager_client, manager):
    for n in range(3):
        audit.record("exported", actor=manager, what=f"export {n}")

    response = manager_client.get(reverse("audit:export"), {"action": "exported"})

    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["time", "user", "address", "action"]
    assert rows[1][8].startswith('{"what": "export 0"')
    assert len(rows) == 4  # not the export's own entry: the file is what existed when asked
    assert AuditEntry.objects.filter(event="exported", additional_data__what="audit trail").exists()


def test_an_operator_cannot_export(operator_client):
    assert operator_client.get(reverse("audit:export")).status_code == 403


# --- the admin -----------------------------------------------------------------------------------


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    return client


def test_the_admin_lists_and_shows_entries(superuser_client, manager):
    entry = audit.record("exported", actor=manager, what="contacts")

    assert superuser_client.get("/admin/core/auditentry/").status_code == 200
    page = superuser_client.get(f"/admin/core/auditentry/{entry.pk}/change/")
    assert page.status_code == 200
    assert b"Save" not in page.content  # read only


def test_the_admin_cannot_delete_change_or_add_an_entry(superuser_client, manager):
    entry = audit.record("exported", actor=manager, what="contacts")

    delete = superuser_client.post(f"/admin/core/auditentry/{entry.pk}/delete/", {"post": "yes"})
    bulk = superuser_client.post(
        "/admin/core/auditentry/",
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    change = superuser_client.post(
        f"/admin/core/auditentry/{entry.pk}/change/", {"object_repr": "forged"}
    )
    add = superuser_client.get("/admin/core/auditentry/add/")

    assert delete.status_code == 403
    assert change.status_code == 403
    assert add.status_code == 403
    assert bulk.status_code in (200, 302)  # no such action: nothing happens
    assert AuditEntry.objects.filter(pk=entry.pk, object_repr="").exists()


def test_a_changed_password_shows_as_changed_and_nothing_more(manager_client, manager):
    from auditlog.context import set_actor

    account = ProviderAccountFactory(name="Main")
    with set_actor(manager):
        account.password = "a-new-provider-password"
        account.max_parts = 3
        account.save()

    page = manager_client.get(URL, {"action": "changed"}).content.decode()

    assert '<strong>password</strong>: <del dir="auto">hidden #' in page
    assert '<strong>max parts</strong>: <del dir="auto">10</del> → <bdi>3</bdi>' in page
    assert "a-new-provider-password" not in page and "ciphertext" not in page


def test_a_creation_lists_its_values_and_names_what_it_points_at(manager_client, manager):
    """A created row shows the values it was made with (no "— →", no id, no empty field), and
    a foreign key by the name of its row, also in the export; a row since deleted by its id."""
    sales = Department.objects.create(name="Sales")
    sales.members.add(manager)  # a list's entries are its department's (test_departments.py)
    gone = Department.objects.create(name="Gone")
    ContactList.objects.create(name="Staff", department=sales)
    ContactList.objects.create(name="Old", department=gone)
    gone_id = gone.pk
    ContactList.objects.filter(name="Old").update(department=None)
    gone.delete()

    page = manager_client.get(
        URL, {"object_type": ContentType.objects.get_for_model(ContactList).pk}
    )
    staff = next(row for row in page.context["entries"] if row["entry"].object_repr == "Staff")
    old = next(row for row in page.context["entries"] if row["entry"].object_repr == "Old")

    staff_changes = {field: (before, after) for field, before, after in staff["changes"]}
    assert staff_changes["department"] == ("", "Sales")
    assert staff_changes["name"] == ("", "Staff")
    assert "ID" not in staff_changes and "description" not in staff_changes
    assert dict((f, a) for f, _b, a in old["changes"])["department"] == f"#{gone_id}"
    html = page.content.decode()
    assert "<del" not in html.split("Staff", 1)[1].split("</tr>", 1)[0]

    export = manager_client.get(reverse("audit:export"))
    body = b"".join(export.streaming_content).decode("utf-8-sig")
    assert "department: Sales" in body and "name: Staff" in body


def test_a_change_of_foreign_key_names_both_sides(manager_client, manager):
    sales, support = (Department.objects.create(name=n) for n in ("Sales", "Support"))
    support.members.add(manager)  # the list's department now: its entries are theirs
    staff = ContactList.objects.create(name="Staff", department=sales)
    staff.department = support
    staff.save()

    page = manager_client.get(URL)
    changed = next(
        row
        for row in page.context["entries"]
        if row["entry"].action == row["entry"].Action.UPDATE and row["entry"].object_repr == "Staff"
    )
    assert ("department", "Sales", "Support") in [
        (str(f).lower(), b, a) for f, b, a in changed["changes"]
    ]
