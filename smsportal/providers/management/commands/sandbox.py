"""Run the provider sandbox: the four HTTP providers, KwtSMS's mail receiver and SMS Centre's SMPP
server, on this machine, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand

from smsportal.providers.sandbox.server import Sandbox


class Command(BaseCommand):
    help = "Serve local stand-ins for every provider (demo, tests, benchmarks)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--http-port", type=int, default=8001)
        parser.add_argument("--smtp-port", type=int, default=2525)
        parser.add_argument("--smpp-port", type=int, default=2775)
        parser.add_argument(
            "--portal-url",
            default="http://127.0.0.1:8000",
            help="where the portal runs: ISMS reports and incoming SMS are pushed there",
        )
        parser.add_argument("--push-delay", type=float, default=2.0)

    def handle(self, *args, host, http_port, smtp_port, smpp_port, portal_url, push_delay, **o):
        sandbox = Sandbox(host, http_port, smtp_port, smpp_port, push_delay).start()
        self._point_isms_at_the_portal(sandbox, portal_url)
        self.stdout.write(
            f"Sandbox: HTTP {sandbox.url}, SMTP {host}:{smtp_port}, SMPP {host}:{smpp_port}"
        )
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *a: stop.set())
        signal.signal(signal.SIGINT, lambda *a: stop.set())
        stop.wait()
        sandbox.stop()

    def _point_isms_at_the_portal(self, sandbox: Sandbox, portal_url: str) -> None:
        """The demo ISMS account calls the portal's webhooks with the account's token, as a
        real ISMS account would be set up to."""
        from smsportal.providers.models import ProviderAccount

        for account in ProviderAccount.objects.filter(kind="isms", is_active=True):
            known = sandbox.world.account("isms", account.username)
            if known is not None:
                known.callback_url = f"{portal_url.rstrip('/')}/hooks/isms/{account.webhook_token}"
