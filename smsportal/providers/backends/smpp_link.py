"""One long-lived SMPP bind per worker process and account, with a window of outstanding submits.

A bind per batch costs a connect, a bind and an unbind every 100 recipients, and waiting for each
`submit_sm_resp` before the next `submit_sm` (stop-and-wait) leaves the link idle for a round trip
per part. A `Link` instead stays bound for the life of the worker process (bound again when it
breaks) and keeps up to `window` submits on the wire at once, as Kannel does with
`max-pending-submits`.

A reader thread reads every PDU: each `submit_sm_resp` (or `generic_nack`) resolves the future
of the submit with its sequence number; receipts and incoming SMS go to the portal's ingest
through the backend's `serve`, as on any other session; link checks are answered, and sent after
a quiet spell. When the link breaks (closed, silent beyond the timeout, garbage), every submit
still waiting learns it at once: its recipient is `unknown`. A submit that was never written is
certainly not sent.

Links live in a per-process registry keyed by the account and its connection settings; a process
that forked gets its own (the parent's socket is never shared). Nothing is shared between
processes.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import queue
import select
import threading
import time
from concurrent.futures import Future
from contextlib import suppress

import smpplib.consts as c
import smpplib.exceptions
import smpplib.smpp
from django.db import connection

from .base import TransientError

log = logging.getLogger(__name__)

QUIET = 30.0  # seconds of silence before the reader asks the SMSC whether the link is alive
TICK = 0.25  # seconds between the reader's looks at the clock while the link is quiet


class NotWritten(Exception):
    """A submit_sm that never went on the wire (the link was already broken): not sent."""

    def __init__(self, error: TransientError) -> None:
        super().__init__(str(error))
        self.error = error


class Link:
    """A bound transceiver shared by the sends of one worker process to one account."""

    def __init__(self, backend, client, *, window: int, timeout: float, garbage: tuple) -> None:
        self.backend = backend
        self.client = client
        self.timeout = timeout
        self.garbage = garbage
        self.pid = os.getpid()
        self.broken: TransientError | None = None
        self._room = threading.BoundedSemaphore(window)
        self._write = threading.Lock()  # one writer at a time; smpplib's sequence counter too
        self._lock = threading.Lock()
        self._pending: dict[int, tuple[Future, float]] = {}
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._reader = threading.Thread(
            target=self._read, name=f"smpp-link-{backend.account.pk}", daemon=True
        )
        self._reader.start()
        threading.Thread(
            target=self._ingest, name=f"smpp-ingest-{backend.account.pk}", daemon=True
        ).start()

    @property
    def usable(self) -> bool:
        return self.broken is None and self.pid == os.getpid()

    def submit(self, **fields) -> Future:
        """Put one submit_sm on the wire once the window has room. The future gets
        (command_status, message_id), or raises TransientError if the link broke before the
        answer. Raises NotWritten when it was not written at all."""
        deadline = time.monotonic() + self.timeout
        while not self._room.acquire(timeout=TICK):
            if self.broken is not None:
                raise NotWritten(self.broken)
            if time.monotonic() > deadline:  # the reader breaks a silent link; belt and braces
                raise NotWritten(self._break_with("timeout"))
        future: Future = Future()
        future.add_done_callback(lambda _: self._room.release())
        with self._write:
            if self.broken is not None:
                future.set_exception(self.broken)
                raise NotWritten(self.broken)
            pdu = smpplib.smpp.make_pdu("submit_sm", client=self.client, **fields)
            with self._lock:
                self._pending[pdu.sequence] = (future, time.monotonic())
            try:
                self.client.send_pdu(pdu)
            except (smpplib.exceptions.ConnectionError, OSError):
                # sendall failed, so the SMSC never had the whole PDU: it cannot have taken it.
                with self._lock:
                    self._pending.pop(pdu.sequence, None)
                error = self._break_with("closed")
                if not future.done():
                    future.set_exception(error)
                raise NotWritten(error) from None
        return future

    def close(self) -> None:
        """Unbind politely (answers outstanding first) and close; for process exit and tests."""
        if self.pid != os.getpid():
            return
        with self._write:
            if self.broken is None:
                self.broken = TransientError("The SMS Centre link was closed.", code="closed")
                with suppress(smpplib.exceptions.ConnectionError, OSError):
                    self.client.send_pdu(smpplib.smpp.make_pdu("unbind", client=self.client))
        self._reader.join(timeout=self.timeout)
        self._fail_pending(self.broken)
        self.client.disconnect()

    # --- the reader --------------------------------------------------------------------------

    def _read(self) -> None:
        client = self.client
        quiet_since, asked = time.monotonic(), False
        try:
            while True:
                readable, _, _ = select.select([client._socket], [], [], TICK)
                now = time.monotonic()
                if not readable:
                    if self._oldest_pending(now) > self.timeout:
                        self._break_with("timeout")
                        return
                    if now - quiet_since >= QUIET:
                        if asked:
                            self._break_with("closed")
                            return
                        with self._write:
                            client.send_pdu(smpplib.smpp.make_pdu("enquire_link", client=client))
                        quiet_since, asked = now, True
                    continue
                pdu = client.read_pdu()
                quiet_since, asked = now, False
                if pdu.command in ("submit_sm_resp", "generic_nack"):
                    self._answer(pdu)
                elif pdu.command == "unbind_resp":
                    return  # our own unbind (close): the link ends cleanly
                elif pdu.command == "deliver_sm":
                    self._inbox.put(pdu)  # stored by the ingest thread: answers keep flowing
                elif pdu.command != "enquire_link_resp":
                    with self._write:
                        self.backend.serve(client, pdu)
        except (smpplib.exceptions.ConnectionError, OSError, ValueError, TypeError):
            # ValueError, TypeError: select() on a socket that close() already closed.
            self._break_with("closed")
        except self.garbage as exc:
            self._break_with("garbage", type(exc).__name__)
        finally:
            self._fail_pending(self.broken or self._break_with("closed"))
            self._inbox.put(None)

    def _ingest(self) -> None:
        """Store each receipt or incoming SMS, then answer it. A slow or locked database delays
        only these answers (the SMSC waits, or sends again), never the answers to our submits."""
        try:
            while (pdu := self._inbox.get()) is not None:
                try:
                    status = self.backend.ingest(pdu)
                except Exception:  # the thread must live on; the SMSC sends it again
                    log.exception("%s: a deliver_sm could not be stored", self.backend.account)
                    status = c.SMPP_ESME_RX_T_APPN
                answer = smpplib.smpp.make_pdu("deliver_sm_resp", client=self.client, status=status)
                answer.sequence = pdu.sequence
                with self._write:
                    if self.broken is not None:
                        continue  # stored; the SMSC, unanswered, may send it again: harmless
                    with suppress(smpplib.exceptions.ConnectionError, OSError):
                        self.client.send_pdu(answer)
        finally:
            connection.close()

    def _answer(self, pdu) -> None:
        with self._lock:
            waiting = self._pending.pop(pdu.sequence, None)
        if waiting is None:
            return  # an answer to nothing we are waiting for (a late one after a timeout)
        status = int(pdu.status or 0)
        if pdu.command == "generic_nack":
            status = status or c.SMPP_ESME_RSYSERR
            message_id = ""
        else:
            message_id = pdu.message_id
            if isinstance(message_id, bytes):
                message_id = message_id.decode("latin-1")
        waiting[0].set_result((status, message_id or ""))

    def _oldest_pending(self, now: float) -> float:
        with self._lock:
            if not self._pending:
                return 0.0
            return now - min(at for _future, at in self._pending.values())

    def _break_with(self, code: str, detail: str = "") -> TransientError:
        """Mark the link broken (the first reason wins) and shut its socket."""
        sentences = {
            "closed": "SMS Centre closed the connection.",
            "timeout": f"SMS Centre did not answer the submit within {self.timeout:g} seconds.",
            "garbage": f"SMS Centre answered something that is no SMPP ({detail}).",
        }
        with self._lock:
            if self.broken is None:
                self.broken = TransientError(sentences[code], code=code)
            error = self.broken
        sock = self.client._socket
        if sock is not None:
            with suppress(OSError):
                sock.shutdown(2)
        return error

    def _fail_pending(self, error: TransientError) -> None:
        with self._lock:
            waiting, self._pending = list(self._pending.values()), {}
        for future, _at in waiting:
            if not future.done():
                future.set_exception(error)


# --- the per-process registry -------------------------------------------------------------------

_links: dict[tuple, Link] = {}
_links_lock = threading.Lock()


def key_of(backend, window: int) -> tuple:
    account = backend.account
    secret = hashlib.sha256(account.password.encode()).hexdigest()
    return (account.pk, backend.base_url, account.username, secret, backend.system_type, window)


def link_for(backend, open_link) -> Link:
    """This process's bound link for `backend`'s account, bound now (by `open_link()`) if there
    is none or the last one broke. A failed bind raises, and nothing was sent."""
    key = key_of(backend, backend.window)
    with _links_lock:
        link = _links.get(key)
        if link is not None and link.usable:
            return link
        if link is not None and link.pid == os.getpid():
            link.close()
        _links[key] = link = open_link()
        return link


def close_links() -> None:
    """Unbind every link of this process (at exit, and between tests)."""
    with _links_lock:
        links = list(_links.values())
        _links.clear()
    for link in links:
        link.close()


atexit.register(close_links)
