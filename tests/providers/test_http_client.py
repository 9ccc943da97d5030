"""The providers' pooled HTTP client puts on the wire what a requests.Session puts there: the
same request line, body and headers, the same redirects; where the environment gives a host a
proxy, requests carries it as before."""

from __future__ import annotations

import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from smsportal.providers.backends import http
from smsportal.providers.backends.http_client import PooledClient

COMPARED_HEADERS = (
    "user-agent",
    "accept",
    "accept-encoding",
    "connection",
    "content-type",
    "content-length",
)


class Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        seen = {
            "method": self.command,
            "path": self.path,
            "body": body,
            "headers": {k.lower(): v for k, v in self.headers.items()},
        }
        self.server.seen.append(seen)
        status, headers, answer = self.server.answer(seen)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = _handle

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    httpd.seen = []
    httpd.answer = lambda seen: (200, {"Content-Type": "text/plain"}, b"1701:42")
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def requests_session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = http.USER_AGENT
    return session


def wire_of(seen: dict) -> tuple:
    headers = tuple((name, seen["headers"].get(name)) for name in COMPARED_HEADERS)
    return seen["method"], seen["path"], seen["body"], headers


FORM = {
    "username": "demo-isms",
    "password": "p&ss w=rd+%",
    "message": "Salam — سلام 100%",
    "mobile": "60123456789",
    "sender": "",
    "type": "1",
    "seqno": "42",
}


def test_a_post_is_the_same_on_the_wire_as_requests_sends_it(server):
    url = f"{server.url}/websmsapi/ISendSMS.aspx"
    answer = PooledClient(4, http.USER_AGENT).post(url, data=FORM, timeout=(5, 5))
    requests_session().post(url, data=FORM, timeout=(5, 5))

    ours, theirs = server.seen
    assert wire_of(ours) == wire_of(theirs)
    assert ours["body"].startswith(b"username=demo-isms&password=p%26ss+w%3Drd%2B%25&")
    assert (answer.status_code, answer.text) == (200, "1701:42")


def test_a_get_adds_its_query_as_requests_does(server):
    params = {"username": "u", "password": "p w&", "mobile": "96550000001", "empty": None}
    for url in (f"{server.url}/API/send/", f"{server.url}/API/send/?lang=en"):
        PooledClient(4, http.USER_AGENT).get(url, params=params, timeout=(5, 5))
        requests_session().get(url, params=params, timeout=(5, 5))

    assert [wire_of(seen) for seen in server.seen[0::2]] == [
        wire_of(seen) for seen in server.seen[1::2]
    ]
    assert (
        server.seen[2]["path"] == "/API/send/?lang=en&username=u&password=p+w%26&mobile=96550000001"
    )


def test_redirects_are_followed_as_requests_follows_them(server):
    def answer(seen):
        if seen["path"].startswith("/moved-for-good"):
            return 302, {"Location": "/new"}, b""
        if seen["path"].startswith("/same-method"):
            return 307, {"Location": f"{server.url}/new-post"}, b""
        return 200, {"Content-Type": "text/plain"}, b"OK"

    server.answer = answer
    for client in (PooledClient(4, http.USER_AGENT), requests_session()):
        for path in ("/moved-for-good", "/same-method"):
            assert client.post(f"{server.url}{path}", data={"a": "1"}, timeout=(5, 5)).text == "OK"

    ours, theirs = server.seen[:4], server.seen[4:]
    assert [wire_of(seen) for seen in ours] == [wire_of(seen) for seen in theirs]
    _moved, followed, _kept, posted = ours
    # A POST answered 302 goes on as a GET without its body (requests' rule)...
    assert (followed["method"], followed["path"], followed["body"]) == ("GET", "/new", b"")
    assert "content-type" not in followed["headers"]
    # ...and a 307 repeats the POST with its body.
    assert (posted["method"], posted["path"], posted["body"]) == ("POST", "/new-post", b"a=1")


def test_endless_redirects_are_a_request_error(server):
    server.answer = lambda seen: (302, {"Location": "/again"}, b"")

    with pytest.raises(requests.TooManyRedirects):
        PooledClient(4, http.USER_AGENT).get(f"{server.url}/again", timeout=(5, 5))


def test_a_compressed_answer_is_read_as_text(server):
    server.answer = lambda seen: (
        200,
        {"Content-Type": "text/plain; charset=utf-8", "Content-Encoding": "gzip"},
        gzip.compress("1701:٤٢".encode()),
    )

    answer = PooledClient(4, http.USER_AGENT).get(f"{server.url}/x", timeout=(5, 5))

    assert (answer.encoding, answer.text) == ("utf-8", "1701:٤٢")


def test_a_host_behind_a_proxy_is_reached_through_it_as_before(server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", server.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    answer = PooledClient(4, http.USER_AGENT).get(
        "http://provider.invalid/api", params={"a": "1"}, timeout=(5, 5)
    )

    (seen,) = server.seen  # the proxy got the request, with the provider's whole URL
    assert seen["path"] == "http://provider.invalid/api?a=1"
    assert seen["headers"]["user-agent"] == http.USER_AGENT
    assert answer.text == "1701:42"


def test_transport_failures_are_raised_as_requests_raises_them(server):
    closed = f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()

    with pytest.raises(requests.ConnectionError) as refused:
        PooledClient(4, http.USER_AGENT).get(closed, timeout=(5, 5))

    assert not http._maybe_sent(refused.value)  # refused: certainly not sent
