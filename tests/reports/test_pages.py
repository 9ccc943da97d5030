from __future__ import annotations

import csv
import io
import json

import pytest
from django.urls import reverse

from smsportal.messaging.delivery_reports import apply_status_update
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.providers.backends.base import StatusUpdate
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(account, script, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = create_message(
            account=account,
            body="=HYPERLINK(1)",
            recipients=ResolvedRecipients(
                phones=["+96550000001", "+96550000002", "+96550000003"],
                skipped=[("12", "too short")],
            ),
        )
    first, second, _ = message.deliveries.exclude(status="skipped").order_by("id")
    apply_status_update(account, StatusUpdate(first.provider_message_id, "delivered"))
    apply_status_update(
        account, StatusUpdate(second.provider_message_id, "undelivered", provider_status="13")
    )
    return message


def test_the_dashboard_shows_each_accounts_figures(operator_client, sent, account):
    response = operator_client.get(reverse("dashboard"))

    rows = response.context["rows"]
    (row,) = rows
    today = dict(row["periods"])["Today"]
    assert (today.sent, today.delivered, today.failed, today.unknown) == (3, 1, 1, 0)
    assert today.delivery_rate == 50.0
    assert "Recent messages" in response.content.decode()


def test_the_report_page_holds_the_chart_data_and_the_same_numbers_as_tables(operator_client, sent):
    response = operator_client.get(reverse("reports:index"))

    page = response.content.decode()
    data = response.context["chart"]
    statuses = {s["label"]: sum(s["data"]) for s in data["statuses"]}
    assert statuses == {"delivered": 1, "submitted": 1, "undelivered": 1, "skipped": 1}
    assert data["reasons"] == ["undelivered: 13"]
    assert 'id="chart-data"' in page
    json.loads(page.split('id="chart-data" type="application/json">')[1].split("</script>")[0])


def test_a_reversed_range_says_what_is_wrong(operator_client):
    response = operator_client.get(
        reverse("reports:index"), {"since": "2026-05-02", "until": "2026-05-01"}
    )

    assert "The start date is after the end date." in response.content.decode()


def test_the_export_streams_deliveries_with_formulas_defused(operator_client, sent):
    response = operator_client.get(reverse("reports:export"))

    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:5] == ["delivery", "message", "account", "phone", "status"]
    assert len(rows) == 1 + 4
    assert {r[4] for r in rows[1:]} == {"delivered", "undelivered", "submitted", "skipped"}


def test_the_export_filters_by_status(operator_client, sent):
    response = operator_client.get(reverse("reports:export"), {"status": "delivered"})

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [r[4] for r in rows[1:]] == ["delivered"]


def test_a_bad_export_filter_is_a_400_with_the_reason(operator_client):
    response = operator_client.get(reverse("reports:export"), {"status": "lost"})

    assert response.status_code == 400
    assert b"Select a valid choice" in response.content


def test_an_outsider_sees_no_reports(client, outsider):
    client.force_login(outsider)

    assert client.get(reverse("reports:index")).status_code == 403
    assert client.get(reverse("reports:export")).status_code == 403


def test_formula_cells_are_escaped():
    from smsportal.core.csv_export import safe_cell

    assert [safe_cell(v) for v in ["=1+1", "+965", "-3", "@SUM", "plain", None, 5]] == [
        "'=1+1",
        "'+965",
        "'-3",
        "'@SUM",
        "plain",
        "",
        "5",
    ]


def test_the_date_boxes_show_the_range_in_use(operator_client):
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    page = operator_client.get(reverse("reports:index")).content.decode()
    chosen = operator_client.get(reverse("reports:index") + "?until=2026-03-10").content.decode()

    assert f'name="since" value="{(today - timedelta(days=29)).isoformat()}"' in page
    assert f'name="until" value="{today.isoformat()}"' in page
    assert 'name="since" value="2026-02-09"' in chosen


def test_charts_with_nothing_to_draw_say_so_in_their_place(operator_client):
    page = operator_client.get(reverse("reports:index") + "?since=2026-01-01&until=2026-01-31")
    body = page.content.decode()

    assert "<canvas" not in body
    assert "Nothing sent from 1 Jan 2026 to 31 Jan 2026." in body
    for chart in ("days", "rates", "cost", "reasons"):
        assert f'data-empty-chart="{chart}"' in body


def test_charts_with_data_are_drawn(operator_client, sent):
    body = operator_client.get(reverse("reports:index")).content.decode()

    assert 'id="chart-days"' in body and 'id="chart-reasons"' in body
    assert 'data-empty-chart="days"' not in body
