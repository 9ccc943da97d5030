"""Keeps a transceiver bound to SMS Centre for each active account, and hands what arrives on it
(`deliver_sm`: delivery receipts and incoming SMS) to the backend's ingest, the same one the
submitting sessions use (`SMSCentreBackend.serve`).

A dropped connection or a refused bind is retried with exponential back-off; a receipt that
cannot be stored right now is answered with a temporary error, so the SMSC sends it again rather
than it being lost. On stop, each session unbinds and waits for the SMSC's unbind_resp.
"""

from __future__ import annotations

import logging
import select
import threading
import time

import smpplib.exceptions
import smpplib.smpp
from django.db import close_old_connections

from smsportal.providers.backends.base import ProviderError
from smsportal.providers.backends.smscentre import GARBAGE, TIMEOUT, SMSCentreBackend
from smsportal.providers.models import ProviderAccount

log = logging.getLogger("smsportal.smpp_listener")

MIN_BACKOFF = 1.0
MAX_BACKOFF = 60.0
ENQUIRE_EVERY = 30.0  # seconds of silence before we ask the SMSC whether the link is alive
STOP_CHECK = 0.25  # seconds between looks at the stop flag while the link is quiet


class ReceiptListener:
    """One account's transceiver. `run()` loops until `stop` is set, then unbinds."""

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

    def close(self) -> None:
        """Stop: the session notices within `STOP_CHECK` seconds and unbinds."""
        self.stop.set()

    def run(self) -> None:
        backoff = self.min_backoff
        while not self.stop.is_set():
            try:
                self._session()
                backoff = self.min_backoff
            except (ProviderError, smpplib.exceptions.ConnectionError, OSError, *GARBAGE) as exc:
                if self.stop.is_set():
                    break
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
        """Serve one bound session until stopped (then the backend unbinds it) or broken."""
        with self.backend.session("transceiver") as client:
            self.binds += 1
            self.last_error = ""
            log.info("%s: transceiver bound", self.account)
            # Short waits for the next PDU, so a stop is noticed at once and answered with an
            # unbind (a PDU, once begun, is read whole under the usual timeout); a link check
            # after `enquire_every` seconds of silence keeps the link alive and notices a dead
            # one.
            quiet_since, asked = time.monotonic(), False
            while not self.stop.is_set():
                readable, _, _ = select.select([client._socket], [], [], STOP_CHECK)
                if not readable:
                    if time.monotonic() - quiet_since < self.enquire_every:
                        continue
                    if asked:  # a whole period without even an enquire_link_resp
                        raise smpplib.exceptions.ConnectionError("no answer to the link check")
                    client.send_pdu(smpplib.smpp.make_pdu("enquire_link", client=client))
                    quiet_since, asked = time.monotonic(), True
                    continue
                pdu = client.read_pdu()
                quiet_since, asked = time.monotonic(), False
                if pdu.command == "deliver_sm":
                    self.received += 1
                self.backend.serve(client, pdu)


class Supervisor:
    """A listener thread per active SMS Centre account, following accounts being added,
    deactivated or removed."""

    def __init__(self, stop: threading.Event, **listener_options) -> None:
        self.stop = stop
        self.listener_options = listener_options
        self.running: dict[int, tuple[ReceiptListener, threading.Event, threading.Thread]] = {}
        # Listeners of accounts deactivated or removed: closed, and possibly still unbinding.
        # Kept until their thread ends, so a stop waits for their unbind too.
        self.retiring: list[threading.Thread] = []

    def accounts(self) -> list[ProviderAccount]:
        return list(ProviderAccount.objects.filter(kind="smscentre", is_active=True))

    def sync(self) -> None:
        wanted = {account.pk: account for account in self.accounts()}
        self.retiring = [thread for thread in self.retiring if thread.is_alive()]
        for pk in set(self.running) - set(wanted):
            listener, _own_stop, thread = self.running.pop(pk)
            listener.close()
            self.retiring.append(thread)
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
        self.shutdown()

    def shutdown(self) -> None:
        """Close every listener, those being retired included, and wait for their unbinds: a
        session left to unbind on a daemon thread would be cut off when the process exits."""
        for listener, _own_stop, _thread in self.running.values():
            listener.close()
        threads = [thread for _listener, _own_stop, thread in self.running.values()]
        for thread in [*self.retiring, *threads]:
            thread.join(timeout=STOP_CHECK + TIMEOUT)  # the unbind waits at most TIMEOUT
        self.retiring = [thread for thread in self.retiring if thread.is_alive()]
