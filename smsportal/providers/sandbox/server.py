"""The sandbox's servers: one HTTP server for the four HTTP providers and the control API, an SMTP
receiver for KwtSMS mail, an SMPP server for SMS Centre, and the pusher that calls the portal's
ISMS webhooks. `Sandbox` starts and stops them together (tests, benchmarks, `manage.py sandbox`).
"""

from __future__ import annotations

import heapq
import json
import logging
import socket
import threading
import time
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import requests

from . import providers
from .world import Account, World

log = logging.getLogger("smsportal.sandbox")

GARBAGE = "<html><head><title>500</title></head><body>Runtime Error</body></html>"


class Pusher:
    """Calls the portal's webhooks (ISMS reports and incoming SMS) after a delay, in order, from
    one thread with one pooled session."""

    def __init__(self, delay: float = 1.0) -> None:
        self.delay = delay
        self._queue: list[tuple[float, int, str, dict]] = []
        self._counter = 0
        self._cv = threading.Condition()
        self._stopped = False
        self._session = requests.Session()
        self.sent: list[tuple[str, dict, int]] = []  # (url, params, HTTP status or 0)
        self._thread = threading.Thread(target=self._run, name="sandbox-pusher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def push(self, account: Account, kind: str, params: dict, delay: float | None = None) -> None:
        url = f"{account.callback_url.rstrip('/')}/{kind}"
        with self._cv:
            self._counter += 1
            due = time.monotonic() + (self.delay if delay is None else delay)
            heapq.heappush(self._queue, (due, self._counter, url, params))
            self._cv.notify()

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._stopped and (
                    not self._queue or self._queue[0][0] > time.monotonic()
                ):
                    timeout = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._cv.wait(timeout)
                if self._stopped:
                    return
                _due, _n, url, params = heapq.heappop(self._queue)
            try:
                status = self._session.get(url, params=params, timeout=10).status_code
            except requests.RequestException as exc:
                log.warning("push to %s failed: %s", url.split("?")[0], type(exc).__name__)
                status = 0
            self.sent.append((url, params, status))

    def stop(self) -> None:
        with self._cv:
            self._stopped = True
            self._cv.notify()

    def pending(self) -> int:
        with self._cv:
            return len(self._queue)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the portal's pooled sessions reuse connections
    # Headers and body leave in two writes; with Nagle's algorithm the second waits for the
    # client's delayed ACK (40 ms) on every kept-alive request.
    disable_nagle_algorithm = True
    server: SandboxHTTPServer

    def log_message(self, format: str, *args) -> None:
        pass  # one line per request is logged in `_answer`, without the query (passwords)

    def do_GET(self) -> None:
        self._handle(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._handle(self.rfile.read(length) if length else b"")

    def do_PUT(self) -> None:
        self.do_POST()

    def _handle(self, body: bytes) -> None:
        url = urlsplit(self.path)
        params = _params(url.query, body)
        path = url.path
        if path.startswith("/_sandbox/"):
            return self._control(path, body)
        account = self._account_for(path, params)
        faults = account.faults if account else None
        if faults:
            if faults.delay:
                time.sleep(faults.delay)
            if faults.timeout:
                time.sleep(60)
                return
            if faults.reset:
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            if faults.http_500:
                return self._answer(500, GARBAGE, "text/html")
            if faults.garbage:
                return self._answer(200, GARBAGE, "text/html")
        world, push = self.server.world, self.server.pusher.push
        if path == "/core/smsdo.aspx":
            answer = providers.kalasms(params, world, push)
        elif path.startswith("/API/"):
            command = path.strip("/").split("/")[-1].lower()
            if command == "send" and params.get("lang") == "2":
                params = _params(url.query, body, encoding="cp1256")
            answer = providers.kwtsms(command, params, world, push)
        elif path.startswith("/websmsapi/"):
            answer = providers.isms(path.rsplit("/", 1)[-1], params, world, push)
        elif path == "/smsgateway/sendmsg.aspx":
            answer = providers.intellisoftware(params, world, push)
        else:
            return self._answer(404, "Not found", "text/plain")
        self._answer(200, answer, "text/plain")

    def _account_for(self, path: str, params: dict[str, str]) -> Account | None:
        world = self.server.world
        if path == "/core/smsdo.aspx":
            return world.account("kalasms", params.get("user", ""))
        if path.startswith("/API/"):
            return world.account("kwtsms", params.get("username", ""))
        if path.startswith("/websmsapi/"):
            return world.account("isms", params.get("username", ""))
        if path == "/smsgateway/sendmsg.aspx":
            return world.account("intellisoftware", params.get("username", ""))
        return None

    def _answer(self, status: int, text: str, content_type: str) -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        log.debug("%s %s -> %s", self.command, urlsplit(self.path).path, status)

    # --- control API ----------------------------------------------------------------------

    def _control(self, path: str, body: bytes) -> None:
        world = self.server.world
        parts = path.strip("/").split("/")[1:]
        query = parse_qs(urlsplit(self.path).query)
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return self._json(400, {"error": "body is not JSON"})
        if parts == ["accounts"] and self.command == "GET":
            with world.lock:
                return self._json(200, [a.public() for a in world.accounts.values()])
        if len(parts) == 3 and parts[0] == "accounts" and self.command in ("PUT", "POST"):
            password = data.pop("password", None)
            existing = world.account(parts[1], parts[2])
            if password is None and existing is None:
                return self._json(400, {"error": "a new account needs a password"})
            try:
                account = world.put_account(
                    parts[1], parts[2], password or existing.password, **data
                )
            except (TypeError, ValueError) as exc:
                return self._json(400, {"error": str(exc)})
            return self._json(200, account.public())
        if parts == ["received"]:
            recipient = query.get("recipient", [""])[0]
            provider = query.get("provider", [""])[0]
            with world.lock:
                rows = [
                    r.public()
                    for r in world.received
                    if (not recipient or r.recipient == recipient)
                    and (not provider or r.provider == provider)
                ]
            return self._json(200, rows)
        if parts == ["counts"]:
            with world.lock:
                counts = {f"{p}:{r}": n for (p, r), n in world.counts.items()}
            return self._json(200, {"counts": counts, "duplicates": world.duplicates()})
        if parts == ["reset"] and self.command == "POST":
            world.reset()
            if getattr(self.server, "smpp", None):
                self.server.smpp.reset()
            return self._json(200, {"reset": True})
        if parts == ["incoming"] and self.command == "POST":
            return self._incoming(data)
        return self._json(404, {"error": "no such control endpoint"})

    def _incoming(self, data: dict) -> None:
        if data.get("provider") == "smscentre":
            return self._incoming_smpp(data)
        account = self.server.world.account("isms", data.get("username", "demo-isms"))
        if account is None or not account.callback_url:
            return self._json(400, {"error": "unknown ISMS account or no callback URL"})
        text = data.get("text", "")
        unicode = any(ord(c) > 127 for c in text)
        params = {
            "ShortCode": data.get("short_code", "63633"),
            "Sender": data.get("sender", "60123456789"),
            "ContentType": "2" if unicode else "1",
            "Msg": text.encode("utf-16-be").hex().upper() if unicode else text,
        }
        self.server.pusher.push(account, "incoming", params, delay=0)
        return self._json(200, {"queued": params})

    def _incoming_smpp(self, data: dict) -> None:
        smpp = getattr(self.server, "smpp", None)
        if smpp is None:
            return self._json(400, {"error": "the SMPP server is not running"})
        delivered = smpp.incoming(
            data.get("username", "demo-smscentre"),
            data.get("sender", "96550000000"),
            data.get("text", ""),
            data.get("short_code", "SANDBOX"),
        )
        return self._json(200 if delivered else 409, {"delivered": delivered})

    def _json(self, status: int, payload) -> None:
        self._answer(status, json.dumps(payload), "application/json")


def _params(query: str, body: bytes, encoding: str = "utf-8") -> dict[str, str]:
    merged: dict[str, str] = {}
    for source in (query, body.decode("latin-1") if body else ""):
        for key, values in parse_qs(source, keep_blank_values=True, encoding=encoding).items():
            merged[key] = values[-1]
    return merged


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, world: World, pusher: Pusher) -> None:
        super().__init__(address, Handler)
        self.world = world
        self.pusher = pusher
        self.smpp = None  # the SMPP server, when the sandbox runs one


class MailHandler:
    """aiosmtpd handler: KwtSMS's email-to-SMS. Bad mail is dropped without an answer, as the
    real service does, and kept in `world.rejected_mail` for tests."""

    def __init__(self, world: World) -> None:
        self.world = world

    async def handle_DATA(self, server, session, envelope) -> str:
        message = message_from_bytes(envelope.content)
        payload = message.get_payload(decode=True) or b""
        charset = message.get_content_charset() or "utf-8"
        fields = {}
        for line in payload.decode(charset, errors="replace").splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields[key.strip().lower()] = value.strip()
        self._deliver(fields)
        return "250 Message accepted"

    def _deliver(self, fields: dict[str, str]) -> None:
        world = self.world
        account = world.authenticate(
            "kwtsms", fields.get("username", ""), fields.get("password", "")
        )
        numbers = providers._numbers(fields.get("mobile", ""))
        text = fields.get("text", "").replace("+", " ")
        if account is None or not numbers or not text:
            world.rejected_mail.append("bad parameters")
            return
        if not world.charge(account, len(numbers) * providers._segments(text)):
            world.rejected_mail.append("no balance")
            return
        message_id = world.new_id()
        for number in numbers:
            world.record(
                "kwtsms",
                account.username,
                number,
                text,
                fields.get("sender", "").replace("+", " "),
                message_id,
            )


class Sandbox:
    """All sandbox servers, started and stopped together. Port 0 picks a free port."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        http_port: int = 8001,
        smtp_port: int | None = 2525,
        smpp_port: int | None = None,
        push_delay: float = 1.0,
    ) -> None:
        self.host = host
        self.world = World()
        self.pusher = Pusher(push_delay)
        self._http_port, self._smtp_port, self._smpp_port = http_port, smtp_port, smpp_port
        self.http: SandboxHTTPServer | None = None
        self.smtp = None
        self.smpp = None
        self._threads: list[threading.Thread] = []

    @property
    def http_port(self) -> int:
        return self.http.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    def start(self) -> Sandbox:
        self.pusher.start()
        self.http = SandboxHTTPServer((self.host, self._http_port), self.world, self.pusher)
        thread = threading.Thread(target=self.http.serve_forever, name="sandbox-http", daemon=True)
        thread.start()
        self._threads.append(thread)
        if self._smtp_port is not None:
            from aiosmtpd.controller import Controller

            self.smtp = Controller(
                MailHandler(self.world), hostname=self.host, port=self._smtp_port
            )
            self.smtp.start()
        if self._smpp_port is not None:
            from .smpp import SMPPSandbox

            self.smpp = SMPPSandbox(self.host, self._smpp_port, self.world)
            self.smpp.start()
            self.http.smpp = self.smpp  # the control API hands incoming SMS to it
        return self

    def stop(self) -> None:
        self.pusher.stop()
        if self.http:
            self.http.shutdown()
            self.http.server_close()
        if self.smtp:
            self.smtp.stop()
        if self.smpp:
            self.smpp.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
