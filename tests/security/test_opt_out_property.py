"""A property: whatever the order of STOP, START and staff's opt-outs among sends (immediate,
scheduled, retried, to a list kept at the provider), no delivery is submitted to a number that
was opted out when it was dispatched — and START lifts only what a keyword made."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsportal.contacts.models import Contact, ContactList, OptOut
from smsportal.contacts.remote import RemoteListStale, remote_name, run_push
from smsportal.messaging import sending
from smsportal.messaging.inbound import receive
from smsportal.messaging.models import Message
from smsportal.messaging.sending import ResolvedRecipients, send_to_remote_list
from smsportal.messaging.tasks import dispatch_message
from smsportal.providers.backends.base import InboundSMS, SendResult, SubmitResult, SubmitStatus
from smsportal.sms.status import DeliveryStatus
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db

PHONES = ["+96550000001", "+96560000002", "+96590000003"]
# How a handset's number may reach us in an incoming SMS: E.164, international digits, national.
WRITTEN = [lambda p: p, lambda p: p.lstrip("+"), lambda p: p[4:]]

number = st.integers(0, len(PHONES) - 1)
subset = st.sets(number, min_size=1).map(sorted)
operation = st.one_of(
    st.tuples(st.just("stop"), number, st.integers(0, len(WRITTEN) - 1)),
    st.tuples(st.just("start"), number, st.integers(0, len(WRITTEN) - 1)),
    st.tuples(st.just("staff_opt_out"), number),
    st.tuples(st.just("staff_lift"), number),
    st.tuples(st.just("fail_next"), number),
    st.tuples(st.just("leave_list"), number),
    st.tuples(st.just("join_list"), number),
    st.tuples(st.just("send"), subset),
    st.tuples(st.just("schedule"), subset),
    st.tuples(
        st.just("run_due"),
    ),
    st.tuples(
        st.just("retry"),
    ),
    st.tuples(
        st.just("copy_list"),
    ),
    st.tuples(
        st.just("send_to_list"),
    ),
)


class World:
    """The opt-out list as the rules say it must be, and the checks at each submit."""

    def __init__(self, account, script) -> None:
        self.account = account
        self.script = script
        self.opted_out: dict[str, str] = {}  # phone -> reason
        self.failing: set[str] = set()
        self.scheduled: list[tuple[int, str]] = []
        self.submitted = 0
        self.breaches: list[str] = []
        script.behaviour = self.provider

    def provider(self, call, recipients):
        """The fake provider: every submit is checked against the opt-outs of this moment."""
        # Runs in the batch's pool thread, where an assertion would be caught as a provider
        # crash: the breach is noted and asserted after the operation.
        self.breaches += [r.phone for r in recipients if r.phone in self.opted_out]
        self.submitted += len(recipients)
        results = []
        for r in recipients:
            if r.phone in self.failing:
                self.failing.discard(r.phone)
                results.append(SubmitResult(r, SubmitStatus.FAILED, error_code="E"))
            else:
                results.append(SubmitResult(r, SubmitStatus.SUBMITTED, provider_message_id="P"))
        return SendResult(results)

    def incoming(self, phone, written, text):
        receive(
            self.account, InboundSMS(sender=WRITTEN[written](phone), recipient="63633", text=text)
        )

    def run(self, op) -> None:
        kind, *args = op
        getattr(self, kind)(*args)
        assert self.breaches == [], f"sent to {self.breaches} while opted out, after {op}"
        assert dict(OptOut.objects.values_list("phone", "reason")) == self.opted_out

    def stop(self, i, written):
        self.incoming(PHONES[i], written, "STOP")
        self.opted_out.setdefault(PHONES[i], OptOut.Reason.KEYWORD)

    def start(self, i, written):
        self.incoming(PHONES[i], written, "START")
        if self.opted_out.get(PHONES[i]) == OptOut.Reason.KEYWORD:
            del self.opted_out[PHONES[i]]

    def staff_opt_out(self, i):
        OptOut.objects.get_or_create(phone=PHONES[i], defaults={"note": "asked by phone"})
        self.opted_out.setdefault(PHONES[i], OptOut.Reason.MANUAL)

    def staff_lift(self, i):
        OptOut.objects.filter(phone=PHONES[i]).delete()
        self.opted_out.pop(PHONES[i], None)

    def fail_next(self, i):
        self.failing.add(PHONES[i])

    def leave_list(self, i):
        # Taken off the list: a copy made before still holds the number.
        everyone = ContactList.objects.get()
        everyone.remove(Contact.objects.filter(phone=PHONES[i]).values_list("pk", flat=True))

    def join_list(self, i):
        ContactList.objects.get().add(
            Contact.objects.filter(phone=PHONES[i]).values_list("pk", flat=True)
        )

    def _create(self, indexes, when=None) -> Message | None:
        # Through the send service, whose opt-out check skips the numbers opted out now (or
        # refuses when none is left); the check at dispatch, for those who opt out after, is
        # under test.
        phones = [PHONES[i] for i in indexes]
        try:
            return create_message(
                account=self.account,
                body="Hi",
                recipients=ResolvedRecipients(phones=phones),
                scheduled_for=when,
            )
        except sending.SendRefused:
            return None  # every one has opted out: refused, nothing created or sent

    def send(self, indexes):
        if message := self._create(indexes):
            dispatch_message.call(message.pk)

    def schedule(self, indexes):
        when = timezone.now() + timedelta(hours=1)
        if message := self._create(indexes, when):
            self.scheduled.append((message.pk, when.isoformat()))

    def run_due(self):
        for pk, when in self.scheduled:
            dispatch_message.call(pk, when)
        self.scheduled.clear()

    def retry(self):
        failed = Message.objects.filter(deliveries__status=DeliveryStatus.FAILED).first()
        if failed is None:
            return
        try:
            again = sending.retry(failed, [DeliveryStatus.FAILED])
        except sending.SendRefused:
            return  # every one opted out since: refused, nothing sent
        dispatch_message.call(again.pk)

    def copy_list(self):
        run_push(ContactList.objects.get().push_to(self.account))

    def send_to_list(self):
        name = remote_name(ContactList.objects.get())
        if name not in (self.script.remote or {}):
            return
        sent_before = len(self.script.calls)
        with contextlib.suppress(RemoteListStale):
            send_to_remote_list(self.account, name, "Hi all")
        # The provider sends to the numbers its copy holds, which the portal does not list.
        for held in self.script.calls[sent_before:]:
            self.breaches += [phone for phone in held if phone in self.opted_out]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(operation, min_size=1, max_size=12))
def test_no_delivery_goes_to_a_number_opted_out_at_its_dispatch(account, script, operations):
    script.bulk_size = 2
    script.remote = {}
    script.calls.clear()
    with transaction.atomic():
        everyone = ContactList.objects.create(name="Everyone")
        everyone.add(Contact.objects.create(phone=phone).pk for phone in PHONES)
        world = World(account, script)
        for op in operations:
            world.run(op)
        transaction.set_rollback(True)  # a clean database for the next example
