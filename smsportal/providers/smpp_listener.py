"""Keeps a transceiver bound to SMS Centre for each active account, and turns what arrives on it
(`deliver_sm`: delivery receipts and incoming SMS) into status updates and inbox messages.

A dropped connection or a refused bind is retried with exponential back-off; a receipt that
cannot be stored right now is answered with a temporary error, so the SMSC sends it again rather
than it being lost.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading

import smpplib.consts as c
import smpplib.exceptions
from django.db import DatabaseError, close_old_connections

from smsportal.messaging.models import DeliveryEvent
from smsportal.providers.backends.base import ProtocolError, ProviderError
from smsportal.providers.backends.smscentre import GARBAGE, RECEIPT, SMSCentreBackend
from smsportal.providers.models import ProviderAccount

log = logging.getLogger("smsportal.smpp_listener")

MIN_BACKOFF = 1.0
MAX_BACKOFF = 60.0
ENQUIRE_EVERY = 30.0  # seconds of silence before we ask the SMSC whether the link is alive


class ReceiptListener:
    """One account's transceiver. `run()` loops until `stop` is set."""

    def __init__(
        self,
        account: ProviderAccount,
        stop: threading.Event,
        *,
        min_backoff: float = MIN_BACKOFF,
        max_backoff: float = MAX_BACKOFF,
        enquire_every: float = ENQUIRE_EVERY,
    ) -> None:
        self.account = account
        self.backend: SMSCentreBackend = account.backend
        self.stop = stop
        self.min_backoff, self.max_backoff = min_backoff, max_backoff
        self.enquire_every = enquire_every
        self.binds = 0  # successful binds, for status pages and tests
        self.received = 0  # deliver_sm PDUs handled
        self.last_error = ""
        self._client = None

    def close(self) -> None:
        """Wake a session blocked reading, so that stopping takes no longer than a moment."""
        client = self._client
        if client is not None and client._socket is not None:
            with contextlib.suppress(OSError):
                client._socket.shutdown(socket.SHUT_RDWR)

    def run(self) -> None:
        backoff = self.min_backoff
        while not self.stop.is_set():
            try:
                self._session()
                backoff = self.min_backoff
            except (ProviderError, smpplib.exceptions.ConnectionError, OSError, *GARBAGE) as exc:
                if self.stop.is_set():
                    break  # closed on purpose
                self.last_error = str(exc) or type(exc).__name__
                log.warning(
                    "%s: SMPP session ended (%s); binding again in %.0f s",
                    self.account,
                    self.last_error,
                    backoff,
                )
                self.stop.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff)
            finally:
                close_old_connections()

    def _session(self) -> None:
        with self.backend.session("transceiver") as client:
            self._client = client
            self.binds += 1
            self.last_error = ""
            log.info("%s: transceiver bound", self.account)
            client.set_message_received_handler(self.on_deliver_sm)
            # A read that times out sends an enquire_link (smpplib), which keeps the link alive
            # and notices a dead one.
            client._socket.settimeout(self.enquire_every)
            while not self.stop.is_set():
                client.read_once()

    def on_deliver_sm(self, pdu, **kwargs) -> int:
        """Store what arrived; the answer tells the SMSC whether to send it again."""
        self.received += 1
        try:
            if int(pdu.esm_class or 0) & RECEIPT:
                from smsportal.messaging.services import apply_status_update

                update = self.backend.parse_delivery_receipt(pdu)
                apply_status_update(self.account, update, DeliveryEvent.Source.SMPP)
            else:
                from smsportal.messaging.inbound import receive

                receive(self.account, self.backend.parse_inbound_pdu(pdu))
        except ProtocolError as exc:
            log.warning("%s: %s", self.account, exc)
            return c.SMPP_ESME_RX_P_APPN  # unreadable: asking again would not help
        except DatabaseError:
            log.exception("%s: could not store a deliver_sm; the SMSC will retry", self.account)
            close_old_connections()
            return c.SMPP_ESME_RX_T_APPN
        return c.SMPP_ESME_ROK


class Supervisor:
    """A listener thread per active SMS Centre account, following accounts being added,
    deactivated or removed."""

    def __init__(self, stop: threading.Event, **listener_options) -> None:
        self.stop = stop
        self.listener_options = listener_options
        self.running: dict[int, tuple[ReceiptListener, threading.Event, threading.Thread]] = {}

    def accounts(self) -> list[ProviderAccount]:
        return list(ProviderAccount.objects.filter(kind="smscentre", is_active=True))

    def sync(self) -> None:
        wanted = {account.pk: account for account in self.accounts()}
        for pk in set(self.running) - set(wanted):
            listener, own_stop, _thread = self.running.pop(pk)
            own_stop.set()
            listener.close()
        for pk, account in wanted.items():
            if pk not in self.running or not self.running[pk][2].is_alive():
                own_stop = threading.Event()
                listener = ReceiptListener(account, own_stop, **self.listener_options)
                thread = threading.Thread(
                    target=listener.run, name=f"smpp-{account.pk}", daemon=True
                )
                thread.start()
                self.running[pk] = (listener, own_stop, thread)
        close_old_connections()

    def run(self, every: float = 30.0) -> None:
        while not self.stop.is_set():
            self.sync()
            self.stop.wait(every)
        for listener, own_stop, _thread in self.running.values():
            own_stop.set()
            listener.close()
        for _listener, _own_stop, thread in self.running.values():
            thread.join(timeout=self.listener_options.get("enquire_every", ENQUIRE_EVERY) + 5)
