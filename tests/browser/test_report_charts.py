"""The report charts show every label of their horizontal axis whole, in English and in Arabic
(where time runs from right to left), on a laptop and on a phone: Chart.js given a reversed
axis left no room for the label at its left end, and the newest day's date was cut off there;
the corner of a slanted date at either end reached a pixel or two past the canvas."""

from __future__ import annotations

import pytest

from smsportal.core.models import Preference
from smsportal.messaging.delivery_reports.apply import apply_status_update
from smsportal.messaging.models import Delivery
from smsportal.providers.backends.base import StatusUpdate
from tests.factories import PASSWORD
from tests.support.portal_data import populate

pytestmark = pytest.mark.django_db(transaction=True)

CHARTS = ("chart-days", "chart-cost", "chart-rates", "chart-reasons")

# Where each label of a chart's x axis is inked on the canvas, in CSS pixels, from what Chart.js
# draws (getLabelItems: the anchor, rotation, alignment and baseline of each label) and the
# font's measure of the text: the corners of the ink's box, turned as the label is.
LABEL_BOXES = """id => {
  const chart = Chart.getChart(id);
  const ctx = chart.ctx;
  return chart.scales.x.getLabelItems().map(item => {
    const o = item.options;
    ctx.save();
    ctx.font = item.font.string;
    ctx.textAlign = o.textAlign;
    ctx.textBaseline = o.textBaseline;
    const ink = ctx.measureText(String(item.label));
    ctx.restore();
    const [x0, y0] = o.translation;
    const cos = Math.cos(o.rotation), sin = Math.sin(o.rotation);
    const xs = [], ys = [];
    for (const x of [-ink.actualBoundingBoxLeft, ink.actualBoundingBoxRight]) {
      for (const y of [item.textOffset - ink.actualBoundingBoxAscent,
                       item.textOffset + ink.actualBoundingBoxDescent]) {
        xs.push(x0 + x * cos - y * sin);
        ys.push(y0 + x * sin + y * cos);
      }
    }
    return {label: String(item.label), left: Math.min(...xs), right: Math.max(...xs),
            top: Math.min(...ys), bottom: Math.max(...ys)};
  });
}"""


CANVAS_SIZE = "id => [Chart.getChart(id).width, Chart.getChart(id).height]"


def _failures_and_deliveries(accounts) -> None:
    """One delivered, one undelivered: the rate and failure-reason charts have bars."""
    isms = accounts["isms"]
    first, second = Delivery.objects.filter(message__account=isms).order_by("id")[:2]
    apply_status_update(isms, StatusUpdate(first.provider_message_id, "delivered"))
    apply_status_update(
        isms, StatusUpdate(second.provider_message_id, "undelivered", provider_status="13")
    )


@pytest.mark.parametrize("language", ["en", "ar"])
def test_every_axis_label_lies_inside_its_chart(
    page, live_server, manager, sandbox_account, language
):
    _failures_and_deliveries(populate(sandbox_account, manager))
    Preference.objects.create(user=manager, language=language)
    page.goto(f"{live_server.url}/auth/login/")
    page.locator("#id_username").fill(manager.username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/")

    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/reports/")
        page.wait_for_function(
            "ids => window.Chart && ids.every(id => Chart.getChart(id))", arg=list(CHARTS)
        )
        for chart in CHARTS:
            size = page.evaluate(CANVAS_SIZE, chart)
            boxes = page.evaluate(LABEL_BOXES, chart)
            assert boxes, (width, chart)
            outside = [
                box
                for box in boxes
                if box["left"] < 0
                or box["right"] > size[0]
                or box["top"] < 0
                or box["bottom"] > size[1]
            ]
            assert outside == [], (width, chart, size)
