"""A local HTTP server standing in for another system's webhook endpoint (127.0.0.1, a free
port): it records each request and answers as the test says (status, delay, body size, and how
slowly the body comes)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str = ""
    status: int = 200
    delay: float = 0.0
    answer: bytes = b"ok"
    trickle: float = 0.0  # seconds between the answer's bytes (0: all at once)
    requests: list[Received] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    receiver: Receiver

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        self.receiver.requests.append(Received(dict(self.headers.items()), body))
        if self.receiver.delay:
            time.sleep(self.receiver.delay)
        try:
            self.send_response(self.receiver.status)
            self.send_header("Content-Length", str(len(self.receiver.answer)))
            self.end_headers()
            if not self.receiver.trickle:
                self.wfile.write(self.receiver.answer)
            for byte in self.receiver.answer if self.receiver.trickle else b"":
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(self.receiver.trickle)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the portal stopped reading, as it should for a huge answer

    def log_message(self, *args) -> None:
        pass


def start_receiver() -> tuple[Receiver, ThreadingHTTPServer]:
    receiver = Receiver()
    handler = type("Handler", (_Handler,), {"receiver": receiver})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    return receiver, server
