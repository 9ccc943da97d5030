"""Recurring sends: each occurrence sends once through the send path to the lists as they are
then; missed occurrences are sent once late or skipped; pause, resume, edit and delete; the
form refuses what cannot be meant."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from smsportal.contacts.models import OptOut
from smsportal.messaging.models import Message
from smsportal.recurring.models import Occurrence, RecurringSend
from smsportal.recurring.sending import run_due
from tests.factories import (
    ContactFactory,
    ContactListFactory,
    ProviderAccountFactory,
    SenderIDFactory,
)

pytestmark = pytest.mark.django_db


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def staff_list():
    contacts = ContactListFactory(name="Staff")
    contacts.add([ContactFactory(phone=f"+9655000000{i}").pk for i in range(3)])
    return contacts


def make_schedule(account, lists, now, **fields) -> RecurringSend:
    values = {
        "name": "Weekly reminder",
        "account": account,
        "text": "Team meeting at 10",
        "frequency": "weekly",
        "weekdays": [0],  # Monday
        "time_of_day": time(9, 0),
        "timezone": "UTC",
        "starts_on": date(2026, 11, 30),
        **fields,
    }
    schedule = RecurringSend(**values)
    schedule.plan(now)
    schedule.save()
    schedule.lists.set(lists)
    return schedule


def test_a_due_occurrence_sends_one_message_to_the_lists_members_as_they_are_then(
    account, script, staff_list, django_capture_on_commit_callbacks
):
    schedule = make_schedule(account, [staff_list], utc(2026, 12, 1))
    assert schedule.next_at == utc(2026, 12, 7, 9)
    staff_list.add([ContactFactory(phone="+96550000009").pk])  # joins before the send
    OptOut.objects.create(phone="+96550000000")

    assert run_due(utc(2026, 12, 7, 8, 59)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert run_due(utc(2026, 12, 7, 9, 0, 30)) == 1

    (occurrence,) = schedule.occurrences.all()
    assert occurrence.status == Occurrence.Status.SENT and not occurrence.late
    message = occurrence.message
    assert message.body == "Team meeting at 10"
    assert message.recipient_count == 3
    assert sorted(script.sent_to()) == ["+96550000001", "+96550000002", "+96550000009"]
    schedule.refresh_from_db()
    assert schedule.next_at == utc(2026, 12, 14, 9)
    assert schedule.occurrences_done == 1


def test_running_twice_sends_once(account, script, staff_list):
    schedule = make_schedule(account, [staff_list], utc(2026, 12, 1))
    stale = RecurringSend.objects.get(pk=schedule.pk)  # a second worker read the row before

    assert run_due(utc(2026, 12, 7, 9, 1)) == 1
    assert run_due(utc(2026, 12, 7, 9, 2)) == 0
    assert stale.next_at == utc(2026, 12, 7, 9)
    assert stale.fire(utc(2026, 12, 7, 9, 3)) is None

    assert Message.objects.count() == 1
    assert Occurrence.objects.count() == 1


def test_the_database_refuses_a_second_record_of_one_occurrence(account, staff_list):
    schedule = make_schedule(account, [staff_list], utc(2026, 12, 1))
    Occurrence.objects.create(schedule=schedule, due_at=utc(2026, 12, 7, 9))

    with pytest.raises(IntegrityError):
        Occurrence.objects.create(schedule=schedule, due_at=utc(2026, 12, 7, 9))


def test_missed_occurrences_are_sent_once_late(account, script, staff_list):
    schedule = make_schedule(account, [staff_list], utc(2026, 12, 1))

    run_due(utc(2026, 12, 22, 12))  # the worker was down for three Mondays

    (occurrence,) = schedule.occurrences.all()
    assert occurrence.due_at == utc(2026, 12, 21, 9)
    assert occurrence.late and occurrence.missed_before == 2
    assert Message.objects.count() == 1
    schedule.refresh_from_db()
    assert schedule.next_at == utc(2026, 12, 28, 9)
    assert schedule.occurrences_done == 3


def test_missed_occurrences_are_skipped_when_the_schedule_says_so(account, script, staff_list):
    schedule = make_schedule(account, [staff_list], utc(2026, 12, 1), on_missed="skip")

    run_due(utc(2026, 12, 7, 12))

    (occurrence,) = schedule.occurrences.all()
    assert occurrence.status == Occurrence.Status.SKIPPED
    assert not Message.objects.exists()
    run_due(utc(2026, 12, 14, 9, 1))  # on time: sent
    assert Message.objects.count() == 1


def test_a_count_ends_the_schedule(account, script, staff_list):
    schedule = make_schedule(account, [staff_list], utc(2026, 12, 1), max_occurrences=2)

    assert len(schedule.upcoming(5)) == 2
    run_due(utc(2026, 12, 7, 9, 1))
    run_due(utc(2026, 12, 14, 9, 1))
    run_due(utc(2026, 12, 21, 9, 1))

    schedule.refresh_from_db()
    assert schedule.ended and schedule.state == "ended"
    assert Message.objects.count() == 2
    assert schedule.upcoming(5) == []


def test_a_refused_send_is_recorded_with_the_reason_and_the_schedule_goes_on(account, staff_list):
    empty = ContactListFactory(name="Empty")
    schedule = make_schedule(account, [empty], utc(2026, 12, 1))

    run_due(utc(2026, 12, 7, 9, 1))

    (occurrence,) = schedule.occurrences.all()
    assert occurrence.status == Occurrence.Status.FAILED
    assert "no one to send to" in occurrence.reason
    schedule.refresh_from_db()
    assert schedule.next_at == utc(2026, 12, 14, 9)


def test_a_paused_schedule_sends_nothing_and_resuming_does_not_send_what_was_missed(
    account, script, staff_list, operator_client
):
    schedule = make_schedule(account, [staff_list], timezone.now() - timedelta(days=8))
    operator_client.post(f"/recurring/{schedule.pk}/pause/")
    schedule.refresh_from_db()
    assert schedule.paused

    assert run_due(timezone.now() + timedelta(days=8)) == 0
    operator_client.post(f"/recurring/{schedule.pk}/pause/", {"resume": "1"})
    schedule.refresh_from_db()
    assert not schedule.paused and schedule.next_at > timezone.now()
    assert run_due() == 0


def form_data(account, staff_list, **changes):
    data = {
        "name": "Weekly",
        "account": account.pk,
        "sender": "",
        "lists": [staff_list.pk],
        "text": "Hello",
        "frequency": "weekly",
        "weekdays": ["0", "3"],
        "time_of_day": "09:00",
        "timezone": "Asia/Kuwait",
        "starts_on": timezone.localdate().isoformat(),
        "ends_on": "",
        "max_occurrences": "",
        "on_missed": "late",
    }
    data.update(changes)
    return data


def test_an_operator_creates_a_weekly_send_and_sees_its_next_five(
    account, staff_list, operator_client
):
    response = operator_client.post("/recurring/add/", form_data(account, staff_list))

    assert response.status_code == 302
    schedule = RecurringSend.objects.get()
    assert schedule.weekdays == [0, 3]
    page = operator_client.get(response["Location"])
    assert len(page.context["upcoming"]) == 5
    assert "Every Monday and Thursday at 09:00 (Asia/Kuwait)" in page.content.decode()


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"frequency": "interval", "interval_minutes": "1"}, "would send every minute with no end"),
        ({"frequency": "interval", "interval_minutes": "30"}, "every 30 minutes with no end"),
        ({"weekdays": []}, "Choose at least one day"),
        ({"frequency": "monthly", "day_of_month": "32"}, "from 1 to 31"),
        ({"text": "Hello {first_name"}, "is never closed"),
        ({"text": "Hello {town}"}, "No contact field is called {town}"),
        ({"ends_on": "2020-01-01"}, "before the start date"),
        ({"timezone": "Mars/Olympus"}, "Select a valid choice"),
        ({"sender": "NOPE"}, "NOPE is not a sender ID of"),
    ],
)
def test_the_form_refuses_with_the_reason(account, staff_list, operator_client, changes, error):
    response = operator_client.post("/recurring/add/", form_data(account, staff_list, **changes))

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not RecurringSend.objects.exists()


def sender_options(html: str) -> list[tuple[str, bool]]:
    """The sender select's options: (value, selected)."""
    select = re.search(r'<select[^>]*name="sender".*?</select>', html, re.S)
    assert select, "the sender is chosen from a select"
    return [
        (value, bool(selected))
        for value, selected in re.findall(
            r'<option value="([^"]*)"( selected)?', select.group(), re.S
        )
    ]


def test_the_sender_is_chosen_among_the_accounts_sender_ids_as_on_compose(account, operator_client):
    SenderIDFactory(account=account, value="CLINIC")
    SenderIDFactory(account=account, value="ALERTS", is_default=True)
    SenderIDFactory(account=ProviderAccountFactory(kind="kwtsms"), value="OTHERS")

    html = operator_client.get("/recurring/add/").content.decode()

    # The account's default first and chosen; another account's sender IDs not offered.
    assert sender_options(html) == [("ALERTS", True), ("CLINIC", False)]
    assert 'hx-get="/senders/options/"' in html  # follows the account chosen


def test_an_account_with_no_default_id_keeps_the_providers_default_sender(account, operator_client):
    SenderIDFactory(account=account, value="CLINIC")

    html = operator_client.get("/recurring/add/").content.decode()

    assert sender_options(html) == [("", True), ("CLINIC", False)]
    assert ">The provider's default sender<" in html


def test_editing_shows_the_schedules_own_sender_chosen(account, staff_list, operator_client):
    SenderIDFactory(account=account, value="ALERTS", is_default=True)
    SenderIDFactory(account=account, value="CLINIC")
    schedule = make_schedule(account, [staff_list], timezone.now(), sender="CLINIC")

    html = operator_client.get(f"/recurring/{schedule.pk}/edit/").content.decode()

    assert sender_options(html) == [("ALERTS", False), ("CLINIC", True)]


def test_a_sender_no_longer_usable_stays_shown_and_saving_says_why(
    account, staff_list, operator_client
):
    SenderIDFactory(account=account, value="ALERTS", is_default=True)
    schedule = make_schedule(account, [staff_list], timezone.now(), sender="RETIRED")

    html = operator_client.get(f"/recurring/{schedule.pk}/edit/").content.decode()
    assert sender_options(html) == [("ALERTS", False), ("RETIRED", True)]
    saved = operator_client.post(
        f"/recurring/{schedule.pk}/edit/", form_data(account, staff_list, sender="RETIRED")
    )
    assert "RETIRED is not a sender ID of" in saved.content.decode()


def test_a_retired_sender_is_marked_and_warned_about_as_the_page_opens(
    account, staff_list, operator_client
):
    SenderIDFactory(account=account, value="ALERTS", is_default=True)
    SenderIDFactory(account=account, value="SMS-PORTAL", status="retired")
    schedule = make_schedule(account, [staff_list], timezone.now(), sender="SMS-PORTAL")

    html = operator_client.get(f"/recurring/{schedule.pk}/edit/").content.decode()

    assert sender_options(html) == [("ALERTS", False), ("SMS-PORTAL", True)]
    assert "SMS-PORTAL (retired — choose another)</option>" in html
    warning = re.search(r'id="sender-warning">(.*?)</div>', html, re.S)
    assert warning, "the warning is shown before Save is pressed"
    assert "SMS-PORTAL has been retired and can no longer be sent from" in warning.group(1)


def test_a_usable_sender_has_no_warning(account, staff_list, operator_client):
    SenderIDFactory(account=account, value="ALERTS", is_default=True)
    schedule = make_schedule(account, [staff_list], timezone.now(), sender="ALERTS")

    html = operator_client.get(f"/recurring/{schedule.pk}/edit/").content.decode()

    assert 'id="sender-warning"' not in html and "choose another" not in html


def test_a_sender_retired_since_the_schedule_was_saved_is_refused_at_the_next_run(
    account, script, staff_list
):
    SenderIDFactory(account=account, value="SMS-PORTAL", status="retired")
    schedule = make_schedule(account, [staff_list], utc(2026, 12, 1), sender="SMS-PORTAL")

    run_due(utc(2026, 12, 7, 9, 1))

    (occurrence,) = schedule.occurrences.all()
    assert occurrence.status == Occurrence.Status.FAILED and occurrence.message is None
    assert "SMS-PORTAL has been retired" in occurrence.reason
    assert not Message.objects.exists()
    schedule.refresh_from_db()
    assert schedule.next_at == utc(2026, 12, 14, 9)  # it goes on: choosing another sender mends it


@pytest.mark.parametrize(("status", "marked"), [("retired", True), ("active", False)])
def test_the_schedules_page_and_list_mark_a_sender_no_longer_usable(
    account, staff_list, operator_client, status, marked
):
    SenderIDFactory(account=account, value="SMS-PORTAL", status=status)
    schedule = make_schedule(account, [staff_list], timezone.now(), sender="SMS-PORTAL")

    page = operator_client.get(f"/recurring/{schedule.pk}/").content.decode()
    listing = operator_client.get("/recurring/").content.decode()

    assert ("SMS-PORTAL</bdi> <span" in page) is marked
    assert ('id="sender-warning"' in page) is marked
    assert ("sender-problem" in listing) is marked
    if marked:
        assert "(retired — choose another)" in page
        warning = re.search(r'id="sender-warning">(.*?)</div>', page, re.S).group(1)
        assert "SMS-PORTAL has been retired" in warning
        assert "The next sends will be refused until another sender is chosen." in warning
        assert f'href="/recurring/{schedule.pk}/edit/"' in warning
        assert "SMS-PORTAL</bdi> (retired — choose another)" in listing
    else:
        assert "choose another" not in page + listing


def test_the_list_checks_every_schedules_sender_in_one_query(
    account, staff_list, operator_client, django_assert_max_num_queries
):
    def make(n):
        other = ProviderAccountFactory()
        SenderIDFactory(account=other, value=f"RETIRED{n}", status="retired")
        make_schedule(other, [staff_list], timezone.now(), sender=f"RETIRED{n}", name=f"S{n}")

    make(0)
    with CaptureQueriesContext(connection) as one:
        operator_client.get("/recurring/")
    for n in range(1, 6):
        make(n)
    with django_assert_max_num_queries(len(one)):
        listing = operator_client.get("/recurring/").content.decode()
    assert listing.count("sender-problem") == 6


def test_the_time_zones_offered_are_real_places_and_only_those_are_accepted(
    account, staff_list, operator_client
):
    html = operator_client.get("/recurring/add/").content.decode()
    select = re.search(r'<select[^>]*name="timezone".*?</select>', html, re.S).group()
    offered = re.findall(r'<option value="([^"]*)"', select)

    assert {"Asia/Kuwait", "Europe/London", "America/Argentina/Buenos_Aires", "UTC"} <= set(offered)
    for not_a_place in ("Factory", "localtime", "posixrules", "EST5EDT", "Etc/GMT-3", "US/Eastern"):
        assert not_a_place not in offered
        response = operator_client.post(
            "/recurring/add/", form_data(account, staff_list, timezone=not_a_place)
        )
        assert "Select a valid choice" in response.content.decode()
    assert not RecurringSend.objects.exists()


def test_another_accounts_sender_id_is_refused(account, staff_list, operator_client):
    SenderIDFactory(account=ProviderAccountFactory(kind="kwtsms"), value="OTHERS")

    response = operator_client.post(
        "/recurring/add/", form_data(account, staff_list, sender="OTHERS")
    )

    assert "OTHERS is not a sender ID of" in response.content.decode()
    assert sender_options(response.content.decode())[-1] == ("OTHERS", True)
    assert not RecurringSend.objects.exists()


def test_every_minute_with_an_end_is_allowed(account, staff_list, operator_client):
    data = form_data(account, staff_list, frequency="interval", interval_minutes="1")
    data["max_occurrences"] = "5"

    assert operator_client.post("/recurring/add/", data).status_code == 302


def test_editing_replans_from_now_and_delete_keeps_sent_messages(
    account, script, staff_list, operator_client
):
    operator_client.post("/recurring/add/", form_data(account, staff_list))
    schedule = RecurringSend.objects.get()
    run_due(schedule.next_at + timedelta(seconds=5))
    data = form_data(account, staff_list, frequency="daily", text="Changed")
    operator_client.post(f"/recurring/{schedule.pk}/edit/", data)
    schedule.refresh_from_db()
    assert schedule.text == "Changed" and schedule.weekdays == []

    operator_client.post(f"/recurring/{schedule.pk}/delete/")
    assert not RecurringSend.objects.exists()
    assert Message.objects.count() == 1


def test_an_outsider_cannot_see_or_change_recurring_sends(client, outsider, account, staff_list):
    schedule = make_schedule(account, [staff_list], utc(2026, 12, 1))
    client.force_login(outsider)

    assert client.get("/recurring/").status_code == 403
    assert client.post(f"/recurring/{schedule.pk}/delete/").status_code == 403
    assert RecurringSend.objects.exists()


def test_the_periodic_task_runs_due_schedules(account, script, staff_list, settings):
    from smsportal.recurring.tasks import run_recurring_sends

    assert ("smsportal.recurring.tasks.run_recurring_sends", 60) in settings.PERIODIC_TASKS
    make_schedule(account, [staff_list], timezone.now() - timedelta(days=8))
    RecurringSend.objects.update(next_at=timezone.now() - timedelta(seconds=30))

    run_recurring_sends.enqueue()

    assert Message.objects.count() == 1


def test_a_schedule_with_one_send_left_has_that_one_upcoming(account, staff_list):
    schedule = make_schedule(account, [staff_list], utc(2026, 12, 1), max_occurrences=1)
    assert schedule.upcoming(5) == [schedule.next_at]


def test_a_refused_send_does_not_use_up_the_count(account, script, staff_list):
    """ "3 sends in all" is three messages: a refused occurrence sends nothing, so the schedule
    goes on to its next time with the count it had."""
    sender = SenderIDFactory(account=account, value="ALERTS")
    schedule = make_schedule(
        account, [staff_list], utc(2026, 12, 1), sender="ALERTS", max_occurrences=3
    )

    run_due(utc(2026, 12, 7, 9, 1))
    sender.status = "retired"
    sender.save()
    run_due(utc(2026, 12, 14, 9, 1))

    schedule.refresh_from_db()
    assert schedule.occurrences.first().status == Occurrence.Status.FAILED
    assert schedule.occurrences_done == 1 and schedule.remaining() == 2
    assert schedule.upcoming(5) == [utc(2026, 12, 21, 9), utc(2026, 12, 28, 9)]

    sender.status = "active"  # or another sender chosen: the next sends go out
    sender.save()
    run_due(utc(2026, 12, 21, 9, 1))
    run_due(utc(2026, 12, 28, 9, 1))
    run_due(utc(2027, 1, 4, 9, 1))

    schedule.refresh_from_db()
    assert schedule.ended and schedule.occurrences_done == 3
    assert Message.objects.count() == 3
    assert schedule.occurrences.count() == 4


def test_missed_occurrences_settled_by_a_refused_one_still_count(account, staff_list):
    """Times missed while no worker ran are gone, as the schedule says (sent late or skipped):
    they count; the refused occurrence that settled them does not."""
    empty = ContactListFactory(name="Empty")
    schedule = make_schedule(account, [empty], utc(2026, 12, 1), max_occurrences=5)

    run_due(utc(2026, 12, 22, 12))  # three Mondays, the last refused

    schedule.refresh_from_db()
    (occurrence,) = schedule.occurrences.all()
    assert occurrence.status == Occurrence.Status.FAILED and occurrence.missed_before == 2
    assert schedule.occurrences_done == 2 and schedule.remaining() == 3


def refused_schedule(account, staff_list, **fields) -> RecurringSend:
    """A schedule whose sender ID was retired before its last run: that send was refused."""
    SenderIDFactory(account=account, value="SMS-PORTAL", status="retired")
    schedule = make_schedule(account, [staff_list], utc(2026, 12, 1), sender="SMS-PORTAL", **fields)
    run_due(utc(2026, 12, 7, 9, 1))
    schedule.refresh_from_db()
    return schedule


def test_a_schedule_whose_last_send_was_refused_says_so_not_active(
    account, script, staff_list, operator_client
):
    schedule = refused_schedule(account, staff_list)
    assert schedule.state == "refused"

    page = operator_client.get(f"/recurring/{schedule.pk}/").content.decode()
    listing = operator_client.get("/recurring/").content.decode()

    banner = re.search(r'<div class="alert ([^"]*)" id="schedule-state">(.*?)</div>', page, re.S)
    assert "alert-warning" in banner.group(1) and "alert-success" not in banner.group(1)
    assert "Active:" not in banner.group(2)
    assert "Last send refused:" in banner.group(2)
    assert "<bdi>SMS-PORTAL</bdi> has been retired" in banner.group(2)
    assert "Mon 14 Dec 2026, 09:00" in banner.group(2)  # when it tries again
    state = re.search(r'data-label="State">(.*?)</td>', listing, re.S).group(1)
    assert "last send refused" in state and ">active<" not in state
    assert "<bdi>SMS-PORTAL</bdi> has been retired" in state


def test_a_send_that_goes_out_again_makes_the_schedule_active_again(
    account, script, staff_list, operator_client
):
    schedule = refused_schedule(account, staff_list)
    schedule.sender = ""  # another sender chosen
    schedule.save()
    run_due(utc(2026, 12, 14, 9, 1))

    schedule = RecurringSend.objects.get()
    assert schedule.state == "active"
    page = operator_client.get(f"/recurring/{schedule.pk}/").content.decode()
    assert "Active: Every Monday" in page and "Last send refused" not in page


def test_the_list_reads_every_schedules_last_send_in_one_query(
    account, staff_list, operator_client, django_assert_max_num_queries
):
    empty = ContactListFactory(name="Empty")

    def make(n):
        make_schedule(account, [empty], utc(2026, 12, 1), name=f"S{n}")

    make(0)
    run_due(utc(2026, 12, 7, 9, 1))
    with CaptureQueriesContext(connection) as one:
        operator_client.get("/recurring/")
    for n in range(1, 6):
        make(n)
    run_due(utc(2026, 12, 14, 9, 1))
    with django_assert_max_num_queries(len(one)):
        listing = operator_client.get("/recurring/").content.decode()
    assert listing.count("last send refused") == 6


def test_in_arabic_a_refusal_reads_whole_and_dates_take_the_arabic_comma(
    account, script, staff_list, operator, operator_client
):
    from smsportal.core.models import Preference

    Preference.objects.update_or_create(user=operator, defaults={"language": "ar"})
    schedule = refused_schedule(account, staff_list, max_occurrences=3)

    page = operator_client.get(f"/recurring/{schedule.pk}/").content.decode()
    listing = operator_client.get("/recurring/").content.decode()

    history = re.search(r'<table[^>]*id="history">.*?</table>', page, re.S).group()
    # The reason in Arabic, the sender ID in it isolated: an English name keeps its place.
    retired = "أُوقف <bdi>SMS-PORTAL</bdi> ولم يعد ممكنًا الإرسال منه: اختر اسمًا آخر."
    assert retired in history and retired in listing
    assert "has been retired" not in page + listing
    for html in (page, listing):
        assert "2026، 09:00" in html
        assert "2026, 09:00" not in html
    # The start and the count, with the reader's comma; the refused send not counted.
    assert "30 نوفمبر 2026، 3 مرات إرسال إجمالًا (0 تمّت)" in page


def test_the_list_gives_no_next_send_for_a_paused_schedule(account, staff_list, operator_client):
    schedule = make_schedule(account, [staff_list], timezone.now() + timedelta(days=1))
    listing = operator_client.get("/recurring/").content.decode()
    assert re.search(r'data-label="Next">[^<—]+\d', listing)

    operator_client.post(f"/recurring/{schedule.pk}/pause/")

    listing = operator_client.get("/recurring/").content.decode()
    assert re.search(r'data-label="Next">—</td>', listing)  # as its page: none while paused
