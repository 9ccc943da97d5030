"""A provider going down in the middle of a routed send: its first requests are answered
(submitted there), the next ones reach it but the answer is lost (honestly `unknown`, never moved:
they did arrive), then nothing listens any more (connection refused: certainly not sent). Only
those last deliveries fail over, to the route's next account; every delivery ends `submitted` or
`unknown`, and no number receives the message twice."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from smsportal.messaging import routed
from smsportal.messaging.models import Delivery, Message
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.providers.backends import http
from smsportal.routing.models import Route, RouteAccount
from smsportal.sms.status import DeliveryStatus
from tests.conftest import general_department

pytestmark = pytest.mark.django_db

PHONES = [f"+965971{i:05d}" for i in range(1200)]  # 6 KwtSMS requests of 200
ANSWERED, LOST = 2, 2  # requests answered, then requests whose answer is lost


class Failing:
    """An HTTP front for the sandbox that answers `ANSWERED` requests, forwards `LOST` more
    and drops their answers, then stops listening."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.lock = threading.Lock()
        self.seen = 0
        front = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.do_POST()

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                with front.lock:
                    front.seen += 1
                    number = front.seen
                answer = requests.request(
                    self.command,
                    front.target + self.path.split("/API/", 1)[1],
                    data=body or None,
                    headers={"Content-Type": self.headers.get("Content-Type", "")},
                    timeout=10,
                )
                if number > ANSWERED:
                    if number == ANSWERED + LOST:
                        # Stop listening before this answer is lost: requests go one at a time,
                        # so the next one certainly finds nothing listening (stopping from a
                        # thread of its own let one more connection in, now and then).
                        front.stop()
                    self.close_connection = True  # the request arrived; its answer is lost
                    return
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("Content-Type", "text/plain"))
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/API/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()  # from now on: connection refused


def test_going_down_mid_send_fails_over_only_what_was_not_sent(
    sandbox, sandbox_account, settings, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(http, "READ_TIMEOUT", 2)
    monkeypatch.setattr("smsportal.messaging.dispatch.RETRY_BACKOFF", 0.01)
    settings.SEND_CONCURRENCY = 1  # requests in order, so the phases are sharp
    settings.ROUTING_BREAKER_FAILURES = 1000
    kwt = sandbox_account("kwtsms", name="KwtSMS")
    front = Failing(kwt.base_url)
    kwt.base_url = front.url
    kwt.save()
    spare = sandbox_account("kalasms", name="KalaSMS spare")
    route = Route.objects.create(name="Kuwait", destinations="KW", position=1)
    RouteAccount.objects.create(route=route, account=kwt, position=0)
    RouteAccount.objects.create(route=route, account=spare, position=1)

    try:
        with django_capture_on_commit_callbacks(execute=True):
            draft = routed.prepare_routed(
                body="Mid-send drill",
                recipients=ResolvedRecipients(phones=PHONES),
                department=general_department(),
            )
            [message] = routed.send_routed(draft)
    finally:
        if front.seen < ANSWERED + LOST:
            front.stop()

    rows = list(Delivery.objects.filter(message=message).values_list("status", "account_id"))
    by_state: dict = {}
    for state in rows:
        by_state[state] = by_state.get(state, 0) + 1
    assert by_state == {
        (DeliveryStatus.SUBMITTED, kwt.pk): ANSWERED * 200,
        (DeliveryStatus.UNKNOWN, kwt.pk): LOST * 200,  # arrived: never moved, never re-sent
        (DeliveryStatus.SUBMITTED, spare.pk): len(PHONES) - (ANSWERED + LOST) * 200,
    }
    moved = Delivery.objects.filter(message=message, account=spare)
    assert {d.attempts for d in moved} == {2}
    assert sandbox.world.duplicates() == {}
    received = {(r.provider, r.recipient.lstrip("+")) for r in sandbox.world.received}
    assert len(received) == len(PHONES)
    message.refresh_from_db()
    assert message.status == Message.Status.DONE
