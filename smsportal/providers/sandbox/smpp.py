"""SMS Centre as the sandbox plays it: an SMPP 3.4 server (SMSC) on plain sockets.

PDUs are read and written with smpplib's PDU classes (`smpplib.smpp.parse_pdu` / `make_pdu`),
the same kept library the client uses, so nothing here parses bytes by hand. (The `smpp34`
package's server runs on its own async runtime and accepts every bind without a password check,
which would hide the wrong-password fault this sandbox must play.)

It accepts binds of the world's `smscentre` accounts (checking system_id, password and
system_type: "ISO" or empty, as the document allows), answers submit_sm with a message id per part,
reassembles concatenated parts (8-bit reference UDH), records complete messages per recipient,
enforces the provider's two flood rules, and sends a delivery receipt (deliver_sm) for every part to
one of the account's bound transceivers or receivers after a short delay. Every PDU in both
directions is noted in `wire` (command, status, sequence, session), so tests read what went on the
wire. Receipts are timed by one scheduler thread, not a thread each, so the sandbox is not the
ceiling of a benchmark.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import socket
import struct
import threading
import time
from collections import defaultdict, deque
from contextlib import suppress
from dataclasses import dataclass

from smpplib import consts
from smpplib import smpp as pdus
from smpplib.client import SimpleSequenceGenerator

from .world import World

log = logging.getLogger("smsportal.sandbox.smpp")

FLOOD_IDENTICAL_WINDOW = 60.0  # an identical request repeated within a minute is refused
FLOOD_PER_SUBSCRIBER = 50  # more than 50 messages to one subscriber...
FLOOD_SUBSCRIBER_WINDOW = 30.0  # ...sent less than 30 seconds apart are blocked
SYSTEM_TYPES = {"", "ISO"}  # the document names "ISO" (Latin-1 instead of GSM); nothing else


@dataclass(frozen=True)
class WirePDU:
    """One PDU as it crossed the wire: `direction` is "in" (from the client) or "out"."""

    session: int
    direction: str
    command: str
    status: int
    sequence: int


def decode_text(data: bytes, coding: int) -> str:
    if coding == 8:
        return data.decode("utf-16-be", errors="replace")
    if coding == 4:
        return data.decode("latin-1")
    return data.decode("gsm03.38", errors="replace")


class Session:
    _numbers = itertools.count(1)

    def __init__(self, server: SMPPSandbox, sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        self.number = next(self._numbers)
        self.hung_up = False
        self.account = None
        self.mode = ""
        self.lock = threading.Lock()
        self.sequence = SimpleSequenceGenerator()

    def send(self, command: str, **fields) -> None:
        sequence = fields.pop("sequence", None)
        with self.lock:
            pdu = pdus.make_pdu(command, client=self.sequence, **fields)
            if sequence is not None:
                # An answer carries its request's number. (smpplib's constructor ignores a
                # `sequence` keyword and would use the server's own counter, which a receipt
                # sent meanwhile from another thread moves.)
                pdu.sequence = sequence
            # Noted before it leaves: the client cannot act on it before the log has it.
            self.server.note(self, "out", pdu)
            self.sock.sendall(pdu.generate())

    def read(self):
        header = self._exact(4)
        (length,) = struct.unpack(">L", header)
        pdu = pdus.parse_pdu(
            header + self._exact(length - 4), client=self.sequence, allow_unknown_opt_params=True
        )
        self.server.note(self, "in", pdu)
        return pdu

    def _exact(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def run(self) -> None:
        """Read PDUs as they arrive (so the wire log shows what the client really had
        outstanding) and hand them, in order, to one worker thread that answers them."""
        inbox: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._work, args=(inbox,), daemon=True).start()
        try:
            while True:
                inbox.put(self.read())
        except (ConnectionError, OSError, struct.error):
            pass  # the client went away or sent bytes that are no PDU: the session ends
        finally:
            inbox.put(None)
            self.server.forget(self)

    def _work(self, inbox: queue.SimpleQueue) -> None:
        try:
            while (pdu := inbox.get()) is not None:
                handler = getattr(self, f"on_{pdu.command}", None)
                if handler is None:
                    self.send(
                        "generic_nack", sequence=pdu.sequence, status=consts.SMPP_ESME_RINVCMDID
                    )
                elif handler(pdu) is False:
                    with suppress(OSError):
                        self.sock.shutdown(socket.SHUT_RDWR)
                    return
        except OSError:
            pass
        finally:
            with suppress(OSError):
                self.sock.close()

    # --- commands ---------------------------------------------------------------------------

    def _bind(self, pdu, mode: str) -> None:
        world = self.server.world
        system_id = _text(pdu.system_id)
        account = world.authenticate("smscentre", system_id, _text(pdu.password))
        response = f"{mode}_resp"
        if account is None:
            status = consts.SMPP_ESME_RINVPASWD
        elif _text(pdu.system_type).upper() not in SYSTEM_TYPES:
            status = consts.SMPP_ESME_RINVSYSTYP  # SMPP 3.4 0x53 "Invalid system_type field"
        else:
            status = 0
        if status:
            self.send(response, sequence=pdu.sequence, status=status, system_id="SANDBOX")
            return
        self.account, self.mode = account, mode
        self.send(response, sequence=pdu.sequence, system_id="SANDBOX")
        self.server.bound(self)  # held receipts only after the bind's answer

    def on_bind_transmitter(self, pdu) -> None:
        self._bind(pdu, "bind_transmitter")

    def on_bind_transceiver(self, pdu) -> None:
        self._bind(pdu, "bind_transceiver")

    def on_bind_receiver(self, pdu) -> None:
        self._bind(pdu, "bind_receiver")

    def on_enquire_link(self, pdu) -> None:
        self.send("enquire_link_resp", sequence=pdu.sequence)

    # Answers to what the sandbox sent: nothing to do (a real SMSC would retry unanswered
    # receipts; the sandbox sends each once).
    def on_enquire_link_resp(self, pdu) -> None:
        pass

    def on_deliver_sm_resp(self, pdu) -> None:
        pass

    def on_unbind(self, pdu) -> bool:
        self.send("unbind_resp", sequence=pdu.sequence)
        return False

    def on_submit_sm(self, pdu) -> bool | None:
        account = self.account
        if account is None or self.mode == "bind_receiver":
            self.send("submit_sm_resp", sequence=pdu.sequence, status=consts.SMPP_ESME_RINVBNDSTS)
            return None
        if self.hung_up:
            return None  # we closed our side: whatever still comes is read and dropped
        if self.server.hang_up_now():
            # Our side only (FIN after the answers already sent), so the client reads every
            # answer it was given, then the end; what it sent after is never answered.
            self.hung_up = True
            self.sock.shutdown(socket.SHUT_WR)
            return None
        faults = account.faults
        if faults.delay:
            time.sleep(faults.delay)
        if faults.reset:
            return False  # the worker shuts the connection
        if faults.timeout:  # swallow the PDU: the client waits for an answer that never comes
            return None
        if faults.garbage:  # bytes that are no PDU, then hang up
            with self.lock:
                self.sock.sendall(b"\x00\x00\x00\x10garbage!garbage!")
            return None
        if faults.http_500:  # the nearest SMPP has to a server error
            self.send("submit_sm_resp", sequence=pdu.sequence, status=consts.SMPP_ESME_RSYSERR)
            return None
        destination = _text(pdu.destination_addr)
        if not destination.isdigit() or faults.is_invalid(destination):
            self.send("submit_sm_resp", sequence=pdu.sequence, status=consts.SMPP_ESME_RINVDSTADR)
            return None
        status = self.server.flood_status(account.username, destination, pdu)
        if status:
            self.send("submit_sm_resp", sequence=pdu.sequence, status=status)
            return None
        if not self.server.world.charge(account, 1):  # one credit per part
            self.send("submit_sm_resp", sequence=pdu.sequence, status=consts.SMPP_ESME_RSUBMITFAIL)
            return None
        message_id = self.server.world.new_id()
        # Recorded before the answer, as an SMSC stores a message before acknowledging it.
        self.server.received_part(self, pdu, destination, message_id)
        self.send("submit_sm_resp", sequence=pdu.sequence, message_id=message_id)
        return None


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value or ""


class SMPPSandbox:
    """The SMPP server. `start()` returns once it listens; port 0 picks a free port (`.port`)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 2775,
        world: World | None = None,
        receipt_delay: float = 0.5,
    ) -> None:
        self.world = world or World()
        self.receipt_delay = self._initial_receipt_delay = receipt_delay
        self.final_state = "DELIVRD"
        self._listener = socket.create_server((host, port), reuse_port=False)
        self.port = self._listener.getsockname()[1]
        self._sessions: set[Session] = set()
        self._lock = threading.Lock()
        self._parts: dict[tuple, dict[int, tuple[bytes, str]]] = {}
        self._recent: dict[str, deque[tuple[float, bytes]]] = defaultdict(deque)
        self._stopped = threading.Event()
        self._waiting: dict[str, list[tuple[str, bytes]]] = defaultdict(
            list
        )  # receipts nobody could take
        self._due: list[tuple] = []  # (monotonic time, order, username, destination, id)
        self._due_changed = threading.Condition()
        self._order = itertools.count()
        self.wire: deque[WirePDU] = deque(maxlen=100_000)  # the newest PDUs only (demo)
        # Tests of a link lost half-way: answer this many submit_sm, then close the connection
        # on the next one (None: never).
        self.hang_up_after: int | None = None
        self.keep_wire = True  # benchmarks turn the log off

    def note(self, session: Session, direction: str, pdu) -> None:
        if self.keep_wire:
            self.wire.append(
                WirePDU(
                    session.number,
                    direction,
                    pdu.command,
                    int(pdu.status or 0),
                    int(pdu.sequence or 0),
                )
            )

    def commands(self, direction: str = "in") -> list[str]:
        """The commands that crossed the wire in one direction, in order (tests)."""
        return [p.command for p in self.wire if p.direction == direction]

    def reset(self) -> None:
        """Forget flood history, half-received messages and waiting receipts (tests)."""
        with self._lock:
            self._recent.clear()
            self._parts.clear()
            self._waiting.clear()
        with self._due_changed:
            self._due.clear()
        self.wire.clear()
        self.hang_up_after = None
        self.final_state = "DELIVRD"
        self.receipt_delay = self._initial_receipt_delay  # a test that changed it leaves it

    def start(self) -> SMPPSandbox:
        threading.Thread(target=self._accept, name="sandbox-smpp", daemon=True).start()
        threading.Thread(
            target=self._send_due_receipts, name="sandbox-smpp-receipts", daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        with self._due_changed:
            self._due_changed.notify()
        self._listener.close()
        with self._lock:
            for session in list(self._sessions):
                with suppress(OSError):
                    session.sock.shutdown(socket.SHUT_RDWR)

    def drop_connections(self) -> None:
        """Close every session (tests of re-binding)."""
        with self._lock:
            sessions = list(self._sessions)
        for session in sessions:
            with suppress(OSError):
                session.sock.shutdown(socket.SHUT_RDWR)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            sock.settimeout(None)
            session = Session(self, sock)
            with self._lock:
                self._sessions.add(session)
            threading.Thread(target=session.run, daemon=True).start()

    def bound(self, session: Session) -> None:
        """A receiver bound: hand it the receipts that waited for one (as an SMSC queues them)."""
        if session.mode in ("bind_transceiver", "bind_receiver"):
            with self._lock:
                waiting = self._waiting.pop(session.account.username, [])
            for index, receipt in enumerate(waiting):
                try:
                    self._send_receipt(session, receipt)
                except OSError:
                    with self._lock:
                        self._waiting[session.account.username].extend(waiting[index:])
                    return

    def hang_up_now(self) -> bool:
        with self._lock:
            if self.hang_up_after is None:
                return False
            if self.hang_up_after > 0:
                self.hang_up_after -= 1
                return False
            self.hang_up_after = None
            return True

    def forget(self, session: Session) -> None:
        with self._lock:
            self._sessions.discard(session)

    def flood_status(self, username: str, destination: str, pdu) -> int:
        """The provider's two flood rules, as the real SMS Centre applies them."""
        now = time.monotonic()
        body = bytes(pdu.short_message or b"")
        with self._lock:
            recent = self._recent[f"{username}:{destination}"]
            while recent and now - recent[0][0] > FLOOD_IDENTICAL_WINDOW:
                recent.popleft()
            if any(text == body and now - at < FLOOD_IDENTICAL_WINDOW for at, text in recent):
                return consts.SMPP_ESME_RTHROTTLED
            close = [at for at, _ in recent if now - at < FLOOD_SUBSCRIBER_WINDOW]
            if len(close) >= FLOOD_PER_SUBSCRIBER:
                return consts.SMPP_ESME_RTHROTTLED
            recent.append((now, body))
        return 0

    def received_part(self, session: Session, pdu, destination: str, message_id: str) -> None:
        account = session.account
        if int(pdu.registered_delivery or 0) & 0x01:
            # Like SMSCs in the field, a receipt for each part, under that part's own id.
            self._schedule_receipt(session.number, account.username, destination, message_id)
        data = bytes(pdu.short_message or b"")
        coding = int(pdu.data_coding or 0) & 0x0F
        if int(pdu.esm_class or 0) & 0x40 and len(data) > 6 and data[:3] == b"\x05\x00\x03":
            reference, total, number = data[3], data[4], data[5]
            key = (account.username, destination, reference)
            with self._lock:
                parts = self._parts.setdefault(key, {})
                parts[number] = (data[6:], message_id)
                if len(parts) < total:
                    return
                del self._parts[key]
            text = "".join(decode_text(parts[i][0], coding) for i in sorted(parts))
            message_id = parts[min(parts)][1]
        else:
            text = decode_text(data, coding)
        kind, details = "text", ""
        if coding == 4:
            # data_coding 4 carries ISO-8859-1 text or binary data (the document): show the
            # octets too.
            kind = "binary" if int(pdu.esm_class or 0) & 0x40 else "8-bit"
            details = f"data_coding 4, octets {data.hex(' ').upper()}"
        self.world.record(
            "smscentre",
            account.username,
            destination,
            text,
            _text(pdu.source_addr),
            message_id,
            kind=kind,
            details=details,
        )

    def _schedule_receipt(
        self, submitter: int, username: str, destination: str, message_id: str
    ) -> None:
        due = time.monotonic() + self.receipt_delay
        with self._due_changed:
            heapq.heappush(
                self._due, (due, next(self._order), submitter, username, destination, message_id)
            )
            self._due_changed.notify()

    def _send_due_receipts(self) -> None:
        """The one thread that sends receipts when they fall due."""
        while not self._stopped.is_set():
            with self._due_changed:
                while not self._due or self._due[0][0] > time.monotonic():
                    if self._stopped.is_set():
                        return
                    wait = self._due[0][0] - time.monotonic() if self._due else None
                    self._due_changed.wait(wait)
                _at, _order, *receipt = heapq.heappop(self._due)
            self._receipt(*receipt)

    def _receipt(self, submitter: int, username: str, destination: str, message_id: str) -> None:
        with self._lock:
            targets = [
                s
                for s in self._sessions
                if s.account
                and s.account.username == username
                and s.mode in ("bind_transceiver", "bind_receiver")
            ]
        # As many SMSCs do, the receipt goes back on the transceiver that submitted, while it is
        # bound; else on any receiver of the account; else it waits for one to bind.
        targets.sort(key=lambda s: (s.number != submitter, s.number))
        now = time.strftime("%y%m%d%H%M")
        state = self.final_state
        text = (
            f"id:{message_id} sub:001 dlvrd:{'001' if state == 'DELIVRD' else '000'} "
            f"submit date:{now} done date:{now} stat:{state} err:000 text:"
        )
        receipt = (destination, text.encode("ascii"))
        for session in targets:
            try:
                self._send_receipt(session, receipt)
                return
            except OSError:
                continue
        with self._lock:
            self._waiting[username].append(receipt)

    def incoming(self, username: str, sender: str, text: str, short_code: str = "SANDBOX") -> bool:
        """An SMS from a subscriber to the account, as deliver_sm; False if nobody is bound."""
        with self._lock:
            targets = [
                s
                for s in self._sessions
                if s.account
                and s.account.username == username
                and s.mode in ("bind_transceiver", "bind_receiver")
            ]
        try:
            data, coding = text.encode("gsm03.38"), 0
        except UnicodeEncodeError:
            data, coding = text.encode("utf-16-be"), 8
        for session in targets:
            try:
                session.send(
                    "deliver_sm",
                    source_addr=sender,
                    destination_addr=short_code,
                    esm_class=0,
                    data_coding=coding,
                    short_message=data,
                )
                return True
            except OSError:
                continue
        return False

    @staticmethod
    def _send_receipt(session: Session, receipt: tuple[str, bytes]) -> None:
        destination, text = receipt
        session.send(
            "deliver_sm",
            source_addr=destination,
            destination_addr="SANDBOX",
            esm_class=0x04,
            short_message=text,
        )
