"""Endpoints providers call: delivery reports and incoming SMS (ISMS pushes both to us).

One base view, as django-anymail does it: no login, no session, no CSRF; every validator runs
(the account's secret token in the URL, compared in constant time, the previous token accepted
during a rotation; the account's IP allow-list), a failed check answers 400 and stores nothing;
then the backend parses the parameters into normalised objects handed to one service. Nothing
in here calls a provider, so the answer is fast.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from abc import ABC, abstractmethod

from django.contrib.auth.decorators import login_not_required
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.crypto import constant_time_compare
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from smsportal.core.client_ip import client_ip
from smsportal.providers.backends.base import ProtocolError
from smsportal.providers.models import ProviderAccount

from ..inbound import receive
from ..models import DeliveryEvent
from .apply import apply_status_update

log = logging.getLogger(__name__)


class WebhookRefused(Exception):
    """A validator failed; the message is logged, never shown to the caller in detail."""


def ip_allowed(ip: str, allowlist: list[str]) -> bool:
    if not allowlist:
        return True
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(entry, strict=False) for entry in allowlist)


# A provider calls in bursts (thousands of reports a minute), always with the same token: what a
# token resolves to is kept for a few seconds instead of being asked of the database on every
# call. Saving or deleting an account empties this process's cache at once; other processes
# follow within ACCOUNT_CACHE_SECONDS.
ACCOUNT_CACHE_SECONDS = 5.0
ACCOUNT_CACHE_SIZE = 1_000  # unknown tokens are cached too; this bounds what guessing can fill
_accounts: dict[tuple[str, str], tuple[float, ProviderAccount | None]] = {}


def account_by_token(kind: str, token: str) -> ProviderAccount | None:
    now = time.monotonic()
    cached = _accounts.get((kind, token))
    if cached and cached[0] > now:
        return cached[1]
    account = (
        ProviderAccount.objects.filter(kind=kind, is_active=True)
        .filter(Q(webhook_token=token) | Q(previous_webhook_token=token))
        .first()
    )
    if len(_accounts) >= ACCOUNT_CACHE_SIZE:
        _accounts.clear()
    _accounts[(kind, token)] = (now + ACCOUNT_CACHE_SECONDS, account)
    return account


@receiver([post_save, post_delete], sender=ProviderAccount)
def _forget_accounts(**kwargs) -> None:
    _accounts.clear()


@method_decorator([csrf_exempt, login_not_required], name="dispatch")
class ProviderWebhook(ABC, View):
    """Subclasses name the provider `kind` and `handle` the parsed request."""

    kind: str
    http_method_names = ["get", "post"]
    # Parameter names and values together, in characters; a larger request answers 400.
    max_request_chars: int

    def account_for(self, request: HttpRequest, token: str) -> ProviderAccount:
        if not token:
            raise WebhookRefused("no token")
        account = account_by_token(self.kind, token)
        secrets = [account.webhook_token, account.previous_webhook_token] if account else []
        if not any(secret and constant_time_compare(secret, token) for secret in secrets):
            raise WebhookRefused("unknown token")
        ip = client_ip(request)
        if not ip_allowed(ip, account.allowed_ips):
            raise WebhookRefused(f"address {ip} is not on the allow-list of {account}")
        return account

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        return self.dispatch_checked(request, token, request.GET)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        return self.dispatch_checked(request, token, request.POST)

    def dispatch_checked(self, request: HttpRequest, token: str, params) -> HttpResponse:
        try:
            account = self.account_for(request, token)
        except WebhookRefused as exc:
            log.warning("%s webhook refused: %s", self.kind, exc)
            return HttpResponseBadRequest("refused\n", content_type="text/plain")
        flat = {key: params.get(key, "") for key in params}
        size = sum(len(key) + len(value) for key, value in flat.items())
        if size > self.max_request_chars:
            # Stored payloads stay bounded; no provider sends anything near this.
            log.warning("%s webhook for %s: %d characters refused", self.kind, account, size)
            return HttpResponseBadRequest(
                f"The request is too large: {size:,} characters, at most "
                f"{self.max_request_chars:,}.\n",
                content_type="text/plain",
            )
        try:
            if any("\x00" in key + value for key, value in flat.items()):
                # No provider sends one, and no database text column can hold one.
                raise ProtocolError("A parameter holds a NUL character.", code="nul")
            self.handle(account, flat)
        except ProtocolError as exc:
            log.warning("%s webhook for %s: malformed request: %s", self.kind, account, exc)
            return HttpResponseBadRequest(f"{exc}\n", content_type="text/plain")
        return HttpResponse("OK\n", content_type="text/plain")

    @abstractmethod
    def handle(self, account: ProviderAccount, params: dict[str, str]) -> None:
        """Parse `params` with the account's backend and hand the result to its service."""


class DeliveryReportWebhook(ProviderWebhook):
    # A real report is a few short fields (about 200 characters). The cap bounds what a report
    # for an unknown id stores: it is kept (UnmatchedReport), so it must not be arbitrarily big.
    max_request_chars = 4_000

    def handle(self, account: ProviderAccount, params: dict[str, str]) -> None:
        update = account.backend.parse_delivery_report(params)
        apply_status_update(account, update, DeliveryEvent.Source.WEBHOOK)
        account.note_callback("last_report_at")


class InboundWebhook(ProviderWebhook):
    # Room for the longest text we store (INBOUND_TEXT_MAX_CHARS, four hex digits each when the
    # provider sends UCS-2 as hex) and more: a longer text is stored cut, never refused.
    max_request_chars = 100_000

    def handle(self, account: ProviderAccount, params: dict[str, str]) -> None:
        receive(account, account.backend.parse_inbound(params))
        account.note_callback("last_inbound_at")


class ISMSDeliveryReport(DeliveryReportWebhook):
    kind = "isms"


class ISMSInbound(InboundWebhook):
    kind = "isms"
