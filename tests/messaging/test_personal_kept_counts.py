"""The preview of one list reads its kept counts (ListMeasureCount) instead of its members: on
random members, opt-outs, contacts whose measures are forgotten and texts of every kind, it gives
exactly what grouping the members in SQL gives, and what rendering each recipient's text gives."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsportal.contacts.models import Contact, ContactField, ContactList, OptOut
from smsportal.messaging import personal
from smsportal.messaging.personal import compose_estimate, estimate_contacts
from smsportal.sms.encoding import STANDARD, UCS2, analyse
from smsportal.sms.placeholders import contact_values, parse

pytestmark = pytest.mark.django_db

values = st.text(alphabet=st.sampled_from(list("ab é€[😀ж\n")), max_size=90)
TEXTS = [
    "Hi {first_name|Customer} from {city}",
    "Hello {first_name|Customer}, see you in {city|Kuwait}",
    "{name}{city|x}" + "z" * 150,
    "€ {city} {last_name}",
    "مرحبا {first_name|عميل}",
    "{{literal}} {phone} {city|}",
    "No placeholder at all",
]


def figures(estimate) -> tuple:
    return (
        estimate.recipients,
        sorted(estimate.parts.items()),
        estimate.ucs2,
        estimate.total_parts,
        sorted((p.name, p.recipients, p.unknown) for p in estimate.problems),
        sorted(c.who for c in estimate.causes),
        estimate.rendered,
    )


def rendered(text: str, contacts) -> tuple[Counter, int]:
    template = parse(text)
    parts, ucs2 = Counter(), 0
    for c in contacts:
        own = contact_values(phone=c.phone, name=c.name, email=c.email, attributes=c.attributes)
        result = template.render(own)
        if result.missing:
            continue
        analysis = analyse(result.text)
        parts[analysis.segments] += 1
        ucs2 += analysis.encoding == UCS2
    return parts, ucs2


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    people=st.lists(
        st.tuples(values, values, st.booleans(), st.booleans(), st.booleans()),
        min_size=0,
        max_size=12,
    ),
    text=st.sampled_from(TEXTS),
)
def test_the_kept_counts_give_the_same_preview_as_counting_every_member(people, text):
    Contact.objects.all().delete()
    ContactList.objects.all().delete()
    OptOut.objects.all().delete()
    ContactField.objects.get_or_create(key="city", defaults={"label": "City"})
    listed = ContactList.objects.create(name="Everyone")
    members = []
    for i, (name, town, member, opted, forgotten) in enumerate(people):
        attributes = {"city": town} if town else {}
        contact = Contact.objects.create(phone=f"+9655000{i:04d}", name=name, attributes=attributes)
        if member:
            members.append(contact.pk)
        if opted:
            OptOut.objects.create(phone=contact.phone)
        if forgotten:
            Contact.objects.filter(pk=contact.pk).update(name=name)  # measures now NULL
    listed.add(members)

    fast = compose_estimate(text, [listed.pk], [], STANDARD)
    reachable = Contact.objects.filter(memberships__contact_list=listed).exclude(
        phone__in=OptOut.objects.values("phone")
    )
    scanned = estimate_contacts(text, reachable, STANDARD)

    assert figures(fast) == figures(scanned)
    parts, ucs2 = rendered(text, reachable)
    assert Counter(dict(fast.parts)) == parts
    assert fast.ucs2 == ucs2


def test_the_preview_of_one_list_reads_no_member_to_count(monkeypatch):
    ContactField.objects.create(key="city", label="City")
    listed = ContactList.objects.create(name="Everyone")
    listed.add(
        Contact.objects.create(phone=f"+965500000{i:02d}", name="Ali", attributes={"city": "K"}).pk
        for i in range(20)
    )

    def scan(*args):
        raise AssertionError("the members were scanned")

    monkeypatch.setattr(personal, "_grouped_measures", scan)
    estimate = compose_estimate("Hi {first_name} in {city}", [listed.pk], [], STANDARD)
    assert (estimate.recipients, estimate.distribution) == (20, [(1, 20)])
