"""Personalised messages end to end, as issue 18's "Done when" says: a Manager makes a custom
field, imports contacts with it, writes a template with {first_name|Customer} and {city}, sees
the per-recipient preview (one Arabic name makes that person's text Unicode, and the preview says
so), sends to the list, and the sandbox received each person's own text; an Operator makes a
weekly recurring send that fires (time moved in the test) and lists its next occurrences; bad
input is refused with the reason."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from smsportal.messaging.models import Message
from smsportal.recurring.models import RecurringSend
from smsportal.recurring.sending import run_due
from tests.factories import PASSWORD, BalanceSnapshotFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_manager_personalises_a_send_from_field_to_sandbox(
    page, live_server, login, manager, sandbox_account, sandbox, tmp_path
):
    kwt = sandbox_account("kwtsms", name="KwtSMS (sandbox)", price_per_segment=Decimal("0.01"))
    BalanceSnapshotFactory(account=kwt, amount=Decimal("100"))
    login(manager, PASSWORD)

    # A custom field.
    page.goto(f"{live_server.url}/contacts/fields/")
    page.get_by_label("Label").fill("City")
    page.get_by_role("button", name="Add field").click()
    expect(page.locator("#field-table")).to_contain_text("{city}")

    # Contacts imported with it.
    path = tmp_path / "customers.csv"
    path.write_text(
        "name,mobile,city\nSara Ali,+96597119440,Kuwait\nمحمد,+96597119441,Salmiya\n"
        ",+96597119442,Hawally\n",
        encoding="utf-8",
    )
    page.goto(f"{live_server.url}/contacts/imports/")
    page.get_by_label("File").set_input_files(str(path))
    page.get_by_label("…or a new list named").fill("Customers")
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.locator("body")).to_contain_text("the field {city}")
    page.get_by_role("button", name="Import as UTF-8").click()
    expect(page.locator("#import-status")).to_have_text("done")

    # A template.
    page.goto(f"{live_server.url}/templates/add/")
    page.get_by_label("Name").fill("Welcome")
    page.get_by_label("Text").fill("Hello {first_name|Customer}, see you in {city}")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#template-table")).to_contain_text("1 part or more")

    # Compose: pick the template and the list; the preview per recipient.
    page.goto(f"{live_server.url}/messages/compose/")
    page.get_by_label("Account").select_option(label="KwtSMS (sandbox)")
    page.locator("#template-picker").select_option(
        label="Welcome · 1 part or more, Standard (before names are filled in)"
    )
    expect(page.get_by_label("Message")).to_have_value(
        "Hello {first_name|Customer}, see you in {city}"
    )
    page.locator("#id_lists").select_option(label="Customers")
    expect(page.locator("#preview-distribution")).to_contain_text("3 recipients get 1 SMS")
    expect(page.locator("#preview-unicode")).to_contain_text(
        "1 recipient gets the message in Unicode"
    )
    expect(page.locator("#preview-unicode")).to_contain_text("محمد")
    expect(page.locator("#preview-rendered")).to_contain_text("Hello Sara, see you in Kuwait")
    expect(page.locator("#preview-rendered")).to_contain_text("Hello Customer, see you in Hawally")

    # An unknown field is refused until fixed.
    page.get_by_label("Message").fill("Hello {town}")
    expect(page.locator("#preview-placeholder-problems")).to_contain_text(
        "{town} is no contact field (it would be missing for 3 recipients)"
    )
    page.get_by_label("Message").fill("Hello {first_name|Customer}, see you in {city}")
    expect(page.locator("#preview-rendered")).to_be_visible()

    page.get_by_role("button", name="Send…").click()
    expect(page.locator("#confirm")).to_contain_text("each with their own text, 3 SMS in all")
    page.get_by_role("button", name="Confirm and send").click()
    expect(page.locator("#personal-note")).to_be_visible()
    expect(page.locator("#deliveries")).to_contain_text("Hello محمد, see you in Salmiya")

    received = sorted((r.recipient, r.text) for r in sandbox.world.received)
    assert received == [
        ("96597119440", "Hello Sara, see you in Kuwait"),
        ("96597119441", "Hello محمد, see you in Salmiya"),
        ("96597119442", "Hello Customer, see you in Hawally"),
    ]
    assert Message.objects.get().personal


def test_an_operator_makes_a_weekly_recurring_send_that_fires(
    page, live_server, login, operator, sandbox_account, sandbox
):
    from tests.factories import ContactFactory, ContactListFactory

    kwt = sandbox_account("kwtsms", name="KwtSMS (sandbox)", price_per_segment=Decimal("0.01"))
    BalanceSnapshotFactory(account=kwt, amount=Decimal("100"))
    team = ContactListFactory(name="Team")
    team.add([ContactFactory(phone="+96597119450", name="Ali").pk])
    login(operator, PASSWORD)

    page.goto(f"{live_server.url}/recurring/")
    page.get_by_role("link", name="New recurring send").click()
    page.wait_for_load_state()  # htmx listens from the load on: a change before it is lost
    page.get_by_label("Name").fill("Monday meeting")
    page.locator("#id_lists").select_option(label="Team")
    page.get_by_label("Text").fill("Hi {first_name}, team meeting at 10")
    page.get_by_label("Frequency").select_option(value="interval")
    page.get_by_label("Every how many minutes").fill("1")
    page.get_by_label("At", exact=True).fill("09:00")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#form-problem")).to_contain_text("would send every minute with no end")

    page.get_by_label("Frequency").select_option(value="weekly")
    expect(page.get_by_label("Every how many minutes")).to_be_hidden()
    page.get_by_label("Monday").check()
    page.get_by_label("Thursday").check()
    page.get_by_role("button", name="Save").click()

    expect(page.locator("#upcoming li")).to_have_count(5)
    expect(page.locator("#schedule-state")).to_contain_text("Every Monday and Thursday at 09:00")
    schedule = RecurringSend.objects.get()
    first = schedule.next_at

    run_due(first + timedelta(seconds=30))  # the clock moved to the first occurrence

    page.reload()
    expect(page.locator("#history")).to_contain_text("sent")
    expect(page.locator("#history")).to_contain_text("1 recipient")
    assert [r.text for r in sandbox.world.received] == ["Hi Ali, team meeting at 10"]
    schedule.refresh_from_db()
    assert schedule.next_at > first

    page.locator("#pause").click()
    expect(page.locator("#schedule-state")).to_contain_text("Paused")
    page.locator("#resume").click()
    expect(page.locator("#schedule-state")).to_contain_text("Active")


def test_an_operator_sends_a_mail_merge_from_a_file(
    page, live_server, login, operator, sandbox_account, sandbox, tmp_path
):
    """Upload a file, pick its phone column, write the text with its columns, see each row's
    own text (an Arabic name makes one Unicode) and the rows refused with line and reason,
    send; the sandbox got each row's own text, the opted-out number nothing, and no contact was
    made."""
    from smsportal.contacts.models import Contact, OptOut

    kwt = sandbox_account("kwtsms", name="KwtSMS (sandbox)", price_per_segment=Decimal("0.01"))
    BalanceSnapshotFactory(account=kwt, amount=Decimal("100"))
    OptOut.objects.create(phone="+96597119463")
    path = tmp_path / "orders.csv"
    path.write_text(
        "Customer,Contact number,Order No.\n"
        "Sara Ali,+96597119460,A-17\n"
        "محمد,+96597119461,A-18\n"
        "Omar,12,A-19\n"
        "Huda,+96597119463,A-20\n",
        encoding="utf-8",
    )
    login(operator, PASSWORD)

    page.goto(f"{live_server.url}/messages/compose/")
    page.locator("#send-from-file").click()
    page.get_by_label("File").set_input_files(str(path))
    page.get_by_role("button", name="Upload and continue").click()

    # No column is headed like a phone: the page says so until one is chosen.
    expect(page.locator("#merge-problem")).to_contain_text("The file has no phone column")
    expect(page.locator("#merge-columns")).to_contain_text("{order_no}")
    page.get_by_label("Phone column").select_option(label="Contact number")
    page.get_by_label("Account").select_option(label="KwtSMS (sandbox)")
    page.get_by_label("Message").fill("Dear {customer}, order {order_no} is ready")

    expect(page.locator("#merge-summary")).to_contain_text("2 recipients to send to")
    expect(page.locator("#merge-refused")).to_contain_text("opted out: never sent to")
    expect(page.locator("#merge-refused tbody tr").first).to_contain_text("4")  # line 4: "12"
    expect(page.locator("#merge-refused")).to_contain_text("invalid number")
    expect(page.locator("#preview-unicode")).to_contain_text(
        "1 recipient gets the message in Unicode"
    )
    expect(page.locator("#preview-unicode")).to_contain_text("محمد")
    expect(page.locator("#preview-rendered")).to_contain_text("Dear Sara Ali, order A-17 is ready")

    # An unknown column is refused with the reason.
    page.get_by_label("Message").fill("Dear {town}")
    expect(page.locator("#merge-problem")).to_contain_text("No column of the file is called {town}")
    page.get_by_label("Message").fill("Dear {customer}, order {order_no} is ready")
    expect(page.locator("#preview-rendered")).to_be_visible()

    page.get_by_role("button", name="Send…").click()
    expect(page.locator("#confirm")).to_contain_text("2 recipients, each with their own text")
    page.get_by_role("button", name="Confirm and send").click()
    expect(page.locator("#deliveries")).to_contain_text("Dear محمد, order A-18 is ready")

    received = sorted((r.recipient, r.text) for r in sandbox.world.received)
    assert received == [
        ("96597119460", "Dear Sara Ali, order A-17 is ready"),
        ("96597119461", "Dear محمد, order A-18 is ready"),
    ]
    assert not Contact.objects.exists()


def test_a_change_after_send_withdraws_the_mail_merge_confirmation(
    page, live_server, login, operator, account, script, tmp_path
):
    """As on Compose (static/js/compose.js): the box described the merge as it was."""
    path = tmp_path / "orders.csv"
    path.write_text("Customer,Phone\nSara,+96597119460\nOmar,+96597119461\n", encoding="utf-8")
    login(operator, PASSWORD)
    page.goto(f"{live_server.url}/messages/compose/file/")
    page.get_by_label("File").set_input_files(str(path))
    page.get_by_role("button", name="Upload and continue").click()
    page.get_by_label("Message").fill("Dear {customer}")
    page.get_by_role("button", name="Send…").click()
    confirm = page.locator("#confirm")
    expect(confirm).to_contain_text("2 recipients, each with their own text")
    expect(page.locator("#confirm-withdrawn")).to_be_hidden()

    page.get_by_label("Message").fill("Dear {customer}, your order is ready")

    expect(confirm).to_have_count(0)  # it described the text before the change
    expect(page.get_by_role("button", name="Confirm and send")).to_have_count(0)
    expect(page.locator("#confirm-withdrawn")).to_be_visible()
    page.get_by_role("button", name="Send…").click()
    expect(confirm).to_contain_text("2 recipients, each with their own text")

    page.get_by_label("Send at").fill("2031-01-02T09:00")  # any field, not only the text

    expect(confirm).to_have_count(0)
    expect(page.get_by_role("button", name="Send…")).to_be_visible()
