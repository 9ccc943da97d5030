"""Delivering one event to its endpoint: signed, bounded in time and size, logged, retried.

The request: POST, `Content-Type: application/json`, the event's fixed body, and
  X-Portal-Event: <type>             X-Portal-Event-Id: <id, the same on every retry>
  X-Portal-Timestamp: <unix seconds> X-Portal-Signature: v1=<hex>[,v1=<hex> during a rotation]
where each signature is HMAC-SHA256(secret, "<timestamp>.<body>") in lower-case hex. Any 2xx
answer delivers the event. Anything else — another status, a timeout, a refused connection — is
logged and tried again later (doubling gaps), for FORWARDING_RETRY_FOR_SECONDS; then the event
is given up and the endpoint disabled, with the reason on its page.

Events are delivered per endpoint (`deliver_due`, the task `deliver_pending`): a batch of its
due events at a time, over one kept-alive connection per process and host, their attempts
recorded together. When the endpoint itself is in trouble (no answer, a refused connection, a
5xx or a 429) the batch stops at that event and the rest wait for its retry: an endpoint that is
down costs one attempt per retry, not a timeout per event, and the other endpoints' tasks never
wait for it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from datetime import timedelta

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy

from smsportal.providers.endpoints import validate_base_url

from .events import forget_endpoints
from .models import Attempt, Endpoint, Event

log = logging.getLogger(__name__)

ATTEMPTS_KEPT = 200  # per endpoint: the log's bound
EXCERPT_CHARS = 500
CLAIM_SECONDS = 120  # a claimed event is not claimed again for this long (a worker died?)
USER_AGENT = "SMS-Portal-Webhooks/1"
BATCH = 100  # events of one endpoint claimed and recorded together
DRAIN_SECONDS = 30  # a task delivers this long, then queues its follow-up for what is left

_local = threading.local()


def session() -> requests.Session:
    """This thread's HTTP session: connections to an endpoint are kept alive between events
    (a new TCP connection per event cost more than the request itself)."""
    if getattr(_local, "session", None) is None:
        _local.session = requests.Session()
    return _local.session


def sign(secret: str, timestamp: str, body: str) -> str:
    message = f"{timestamp}.{body}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(endpoint: Endpoint, timestamp: str, body: str) -> str:
    return ",".join(f"v1={sign(s, timestamp, body)}" for s in endpoint.signing_secrets)


def check_url(url: str) -> None:
    """Raise ValidationError unless `url` is a public http(s) address (or an allowed host)."""
    validate_base_url(
        url,
        "forwarding",
        allowed_hosts={h.strip().lower().strip("[]") for h in settings.FORWARDING_PRIVATE_HOSTS},
        setting="FORWARDING_PRIVATE_HOSTS",
        callee=gettext_lazy("other systems"),
    )


def claim(event_id: int) -> Event | None:
    """Take a due, pending event for this worker (one conditional update; None if another
    worker has it or it is not due)."""
    now = timezone.now()
    taken = Event.objects.filter(
        pk=event_id, status=Event.Status.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
    if not taken:
        return None
    return Event.objects.select_related("endpoint").get(pk=event_id)


def deliver(event_id: int) -> str:
    """Try to deliver one event once; what happened, in words."""
    event = claim(event_id)
    if event is None:
        return "not due or taken"
    endpoint = event.endpoint
    if not endpoint.is_active:
        Event.objects.filter(pk=event.pk).update(status=Event.Status.FAILED)
        return "endpoint disabled"
    attempt = post(endpoint, event)
    record(endpoint, event, attempt)
    return "delivered" if attempt.ok else f"failed: {attempt.error or attempt.status_code}"


def url_refusal(endpoint: Endpoint) -> str:
    """Why the endpoint's address may not be called now, or ''."""
    try:
        check_url(endpoint.url)
    except ValidationError as exc:
        return " ".join(exc.messages)[:300]
    return ""


def post(endpoint: Endpoint, event: Event, secrets: list[str] | None = None) -> Attempt:
    """One signed request. `secrets`: the endpoint's signing secrets when the caller decrypted
    them already (a batch does it once)."""
    attempt = Attempt(endpoint=endpoint, event=event)
    # Checked again at each send (a batch: once for all its events, a few seconds): a name may
    # resolve elsewhere by now.
    if secrets is None and (refusal := url_refusal(endpoint)):
        attempt.error = refusal
        return attempt
    timestamp = str(int(time.time()))
    signature = ",".join(
        f"v1={sign(s, timestamp, event.body)}" for s in secrets or endpoint.signing_secrets
    )
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Portal-Event": event.kind,
        "X-Portal-Event-Id": event.event_id,
        "X-Portal-Timestamp": timestamp,
        "X-Portal-Signature": signature,
    }
    timeout = settings.FORWARDING_TIMEOUT_SECONDS
    started = time.monotonic()
    try:
        with session().post(
            endpoint.url,
            data=event.body.encode(),
            headers=headers,
            timeout=(timeout, timeout),
            stream=True,  # the answer is read only up to a bound, whatever it claims
            allow_redirects=False,  # a redirect could lead anywhere, private addresses too
        ) as response:
            attempt.status_code = response.status_code
            attempt.ok = 200 <= response.status_code < 300
            attempt.response_excerpt = _excerpt(response, started + timeout)
            if not attempt.ok:
                attempt.error = f"HTTP {response.status_code}"
    except requests.Timeout:
        attempt.error = f"no answer within {timeout:g} seconds"
    except requests.ConnectionError as exc:
        attempt.error = f"cannot connect: {_reason(exc)}"[:300]
    except requests.RequestException as exc:
        attempt.error = f"request failed: {exc.__class__.__name__}"
    attempt.latency_ms = int((time.monotonic() - started) * 1000)
    return attempt


def _excerpt(response: requests.Response, deadline: float) -> str:
    """At most FORWARDING_RESPONSE_MAX_BYTES of the answer, read before `deadline`; the first
    EXCERPT_CHARS characters kept. A 10 MB answer costs 64 KB and is cut."""
    limit = settings.FORWARDING_RESPONSE_MAX_BYTES
    read = bytearray()
    # read1: what one read of the socket brings, so an answer that trickles in a byte at a
    # time is left at the deadline; a whole chunk's read would wait for all 8 KB of it.
    while len(read) < limit and time.monotonic() < deadline:
        chunk = response.raw.read1(min(8192, limit - len(read)), decode_content=True)
        if not chunk:
            break
        read.extend(chunk)
    text = bytes(read[:limit]).decode("utf-8", "replace")
    return text[:EXCERPT_CHARS]


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "timed out"):
        if marker in text:
            return marker.lower()
    return exc.__class__.__name__


def next_gap(attempts: int) -> timedelta:
    first = settings.FORWARDING_RETRY_FIRST_SECONDS
    return timedelta(
        seconds=min(first * 2 ** max(0, attempts - 1), settings.FORWARDING_RETRY_MAX_GAP_SECONDS)
    )


def record(endpoint: Endpoint, event: Event, attempt: Attempt) -> None:
    now = timezone.now()
    with transaction.atomic():
        attempt.save()
        attempts = event.attempts + 1
        if attempt.ok:
            Event.objects.filter(pk=event.pk).update(
                status=Event.Status.DELIVERED, attempts=attempts, delivered_at=now
            )
            Endpoint.objects.filter(pk=endpoint.pk).update(last_success_at=now)
        elif now - event.created_at >= timedelta(seconds=settings.FORWARDING_RETRY_FOR_SECONDS):
            Event.objects.filter(pk=event.pk).update(status=Event.Status.FAILED, attempts=attempts)
            disable(endpoint, event, attempt, attempts)
        else:
            Event.objects.filter(pk=event.pk).update(
                attempts=attempts, next_attempt_at=now + next_gap(attempts)
            )
        _prune(endpoint)


def disable(endpoint: Endpoint, event: Event, attempt: Attempt, attempts: int) -> None:
    hours = settings.FORWARDING_RETRY_FOR_SECONDS / 3600
    span = f"{hours:g} hour{'s' if hours != 1 else ''}"
    reason = (
        f"Disabled: event {event.event_id} failed {attempts} time{'s' if attempts != 1 else ''} "
        f"over {span} (last: {attempt.error or attempt.status_code}). Events for it are no "
        "longer queued; enable it again once it answers."
    )
    Endpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
        is_active=False, disabled_reason=reason, disabled_at=timezone.now()
    )
    forget_endpoints()  # ingest stops making events for it
    # Its other waiting events are given up too: nothing is tried against a disabled endpoint.
    Event.objects.filter(endpoint=endpoint, status=Event.Status.PENDING).update(
        status=Event.Status.FAILED
    )
    log.warning("Forwarding endpoint %s disabled: %s", endpoint.pk, reason)


def _prune(endpoint: Endpoint) -> None:
    """Keep the latest ATTEMPTS_KEPT attempts of the endpoint (the log's bound)."""
    cutoff = (
        Attempt.objects.filter(endpoint=endpoint)
        .order_by("-id")
        .values_list("id", flat=True)[ATTEMPTS_KEPT : ATTEMPTS_KEPT + 1]
    )
    if cutoff:
        Attempt.objects.filter(endpoint=endpoint, id__lte=cutoff[0]).delete()


def endpoint_in_trouble(attempt: Attempt) -> bool:
    """A failure that says the endpoint, not this event, is the problem: no answer at all, a
    5xx or a 429. A 4xx is this event's answer; the next events are still tried."""
    return attempt.status_code is None or attempt.status_code >= 500 or attempt.status_code == 429


def claim_batch(endpoint_id: int, size: int = BATCH) -> list[Event]:
    """Take up to `size` due, pending events of the endpoint for this worker, oldest due first
    (rows another worker is taking are skipped, not waited for)."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Event.objects.select_for_update(skip_locked=True)
            .filter(endpoint_id=endpoint_id, status=Event.Status.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .values_list("pk", flat=True)[:size]
        )
        if not ids:
            return []
        Event.objects.filter(pk__in=ids).update(
            next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS)
        )
    return list(Event.objects.filter(pk__in=ids).order_by("next_attempt_at", "id"))


def deliver_due(endpoint_id: int, budget_seconds: float = DRAIN_SECONDS) -> tuple[int, int, bool]:
    """Deliver the endpoint's due events, a batch at a time, for at most `budget_seconds`:
    (delivered, failed attempts, whether due events are left for a follow-up task)."""
    delivered = failed = 0
    deadline = time.monotonic() + budget_seconds
    while True:
        endpoint = Endpoint.objects.filter(pk=endpoint_id).first()
        if endpoint is None:
            return delivered, failed, False
        events = claim_batch(endpoint_id)
        if not events:
            return delivered, failed, False
        if not endpoint.is_active:
            Event.objects.filter(pk__in=[e.pk for e in events]).update(status=Event.Status.FAILED)
            continue
        refusal = url_refusal(endpoint)
        secrets = endpoint.signing_secrets
        tried: list[tuple[Event, Attempt]] = []
        in_trouble = False
        for event in events:
            if refusal:
                attempt = Attempt(endpoint=endpoint, event=event, error=refusal)
            else:
                attempt = post(endpoint, event, secrets)
            tried.append((event, attempt))
            if not attempt.ok and endpoint_in_trouble(attempt):
                in_trouble = True
                break
        record_batch(endpoint, tried, untried=events[len(tried) :])
        delivered += sum(1 for _, a in tried if a.ok)
        failed += sum(1 for _, a in tried if not a.ok)
        if in_trouble:
            # The endpoint is in trouble: what is left waits for its retry (forward_due).
            return delivered, failed, False
        if time.monotonic() >= deadline:
            return delivered, failed, True


def record_batch(
    endpoint: Endpoint, tried: list[tuple[Event, Attempt]], untried: list[Event]
) -> None:
    """Record a batch's attempts in one transaction: its attempts in one insert, its delivered
    events in one update, each failure's retry (or its giving up), and the untried events put
    back to wait as long as the failure's retry."""
    now = timezone.now()
    with transaction.atomic():
        Attempt.objects.bulk_create([attempt for _, attempt in tried])
        ok = [event.pk for event, attempt in tried if attempt.ok]
        if ok:
            Event.objects.filter(pk__in=ok).update(
                status=Event.Status.DELIVERED, attempts=F("attempts") + 1, delivered_at=now
            )
            Endpoint.objects.filter(pk=endpoint.pk).update(last_success_at=now)
        retry_at = now
        for event, attempt in tried:
            if attempt.ok:
                continue
            attempts = event.attempts + 1
            if now - event.created_at >= timedelta(seconds=settings.FORWARDING_RETRY_FOR_SECONDS):
                Event.objects.filter(pk=event.pk).update(
                    status=Event.Status.FAILED, attempts=attempts
                )
                disable(endpoint, event, attempt, attempts)
                return  # every other waiting event of the endpoint is given up with it
            retry_at = now + next_gap(attempts)
            Event.objects.filter(pk=event.pk).update(attempts=attempts, next_attempt_at=retry_at)
        if untried:
            Event.objects.filter(pk__in=[e.pk for e in untried]).update(next_attempt_at=retry_at)
        _prune(endpoint)


def due_endpoints() -> list[int]:
    """The endpoints with events due (waiting for a first try or a retry)."""
    return sorted(
        set(
            Event.objects.filter(status=Event.Status.PENDING, next_attempt_at__lte=timezone.now())
            .values_list("endpoint_id", flat=True)
            .distinct()
        )
    )


def due_events(limit: int = 1_000) -> list[int]:
    return list(
        Event.objects.filter(status=Event.Status.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
