"""Per-recipient counting of personalised texts: the SQL count agrees with rendering every text,
unknown and missing fields are reported with how many recipients they affect, and the
recipients whose text goes in Unicode are named."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsportal.contacts.models import Contact, ContactField
from smsportal.messaging.personal import estimate_contacts, values_for
from smsportal.sms.encoding import STANDARD, UCS2, analyse
from smsportal.sms.placeholders import contact_values, parse

pytestmark = pytest.mark.django_db


@pytest.fixture
def city():
    return ContactField.objects.create(key="city", label="City")


def rendered_counts(text: str) -> tuple[Counter, int]:
    template = parse(text)
    parts, ucs2 = Counter(), 0
    for c in Contact.objects.all():
        values = contact_values(phone=c.phone, name=c.name, email=c.email, attributes=c.attributes)
        analysis = analyse(template.render(values).text)
        parts[analysis.segments] += 1
        ucs2 += analysis.encoding == UCS2
    return parts, ucs2


def test_one_arabic_name_makes_only_that_recipients_text_unicode(city):
    Contact.objects.create(phone="+96550000001", name="Sara Ali", attributes={"city": "Kuwait"})
    Contact.objects.create(phone="+96550000002", name="محمد", attributes={"city": "Kuwait"})
    Contact.objects.create(phone="+96550000003", name="", attributes={"city": "Salmiya"})

    estimate = estimate_contacts(
        "Hello {first_name|Customer}, see you in {city}", Contact.objects.all(), STANDARD
    )

    assert not estimate.problems
    assert estimate.recipients == 3
    assert estimate.ucs2 == 1
    assert [(c.who, c.field) for c in estimate.causes] == [("محمد", "first_name")]
    assert estimate.distribution == [(1, 3)]
    assert estimate.rendered[0] == ("Sara Ali", "Hello Sara, see you in Kuwait")


def test_unknown_and_missing_fields_are_problems_with_how_many_they_affect(city):
    Contact.objects.create(phone="+96550000001", name="Sara", attributes={"city": "Kuwait"})
    Contact.objects.create(phone="+96550000002", name="Ali")

    unknown = estimate_contacts("Hi {town}", Contact.objects.all(), STANDARD)
    missing = estimate_contacts("Hi {first_name}, in {city}", Contact.objects.all(), STANDARD)
    fallback = estimate_contacts("Hi {first_name}, in {city|town}", Contact.objects.all(), STANDARD)

    assert str(unknown.problems[0]).startswith("{town} is no contact field")
    assert "2 recipients" in str(unknown.problems[0])
    assert [(p.name, p.recipients) for p in missing.problems] == [("city", 1)]
    assert "{city} is empty for 1 recipient and has no fallback" in missing.problem
    assert not fallback.problems


def test_long_texts_count_parts_per_recipient(city):
    Contact.objects.create(phone="+96550000001", name="A", attributes={"city": "x" * 10})
    Contact.objects.create(phone="+96550000002", name="B", attributes={"city": "x" * 100})
    Contact.objects.create(phone="+96550000003", name="C", attributes={"city": "€" * 10})

    text = "y" * 140 + "{city}"
    estimate = estimate_contacts(text, Contact.objects.all(), STANDARD)

    assert estimate.distribution == sorted(rendered_counts(text)[0].items())
    assert estimate.total_parts == 1 + 2 + 1  # 140 + 10 € (two septets each) still fit 160


names = st.text(alphabet=st.sampled_from(list("ab é€[😀ж\n")), max_size=90)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.tuples(names, names), min_size=1, max_size=6),
    st.sampled_from(
        [
            "Hi {first_name|Customer} from {city}",
            "{name}{city|x}" + "z" * 150,
            "€ {city} {last_name}",
            "مرحبا {first_name|عميل}",
            "{{literal}} {phone} {city|}",
        ]
    ),
)
def test_the_sql_count_agrees_with_rendering_every_text(city, people, text):
    Contact.objects.all().delete()
    for i, (name, town) in enumerate(people):
        Contact.objects.create(phone=f"+9655000{i:04d}", name=name, attributes={"city": town})

    estimate = estimate_contacts(text, Contact.objects.all(), STANDARD)
    parts, ucs2 = rendered_counts(text)

    if estimate.problems:
        return
    assert Counter(dict(estimate.parts)) == parts
    assert estimate.ucs2 == ucs2


def test_values_for_finds_contacts_by_id_or_number_and_numbers_alone(city):
    sara = Contact.objects.create(phone="+96550000001", name="Sara", attributes={"city": "K"})
    Contact.objects.create(phone="+96550000002", name="Ali")

    values = values_for(["+96550000001", "+96550000002", "+96550000003"], {sara.phone: sara.pk})

    assert values["+96550000001"]["city"] == "K"
    assert values["+96550000002"]["first_name"] == "Ali"
    assert values["+96550000003"] == contact_values(phone="+96550000003")


# --- the send ------------------------------------------------------------------------------------

from smsportal.messaging.models import Delivery, Message  # noqa: E402
from smsportal.messaging.sending import ResolvedRecipients, SendRefused  # noqa: E402
from tests.support.sending import create_message  # noqa: E402


def send(account, body, phones, **options):
    return create_message(
        account=account,
        body=body,
        recipients=ResolvedRecipients(phones=phones),
        personal=True,
        **options,
    )


def test_each_delivery_keeps_its_own_text_and_parts_and_the_cost_is_exact(
    account, script, city, django_capture_on_commit_callbacks
):
    account.price_per_segment = 2
    account.save()
    Contact.objects.create(phone="+96550000001", name="Sara Ali", attributes={"city": "Kuwait"})
    Contact.objects.create(phone="+96550000002", name="محمد", attributes={"city": "x" * 80})

    with django_capture_on_commit_callbacks(execute=True):
        message = send(
            account, "Hi {first_name|Customer} from {city}", ["+96550000001", "+96550000002"]
        )

    texts = dict(message.deliveries.values_list("phone", "text"))
    assert texts == {
        "+96550000001": "Hi Sara from Kuwait",
        "+96550000002": "Hi محمد from " + "x" * 80,
    }
    parts = dict(message.deliveries.values_list("phone", "segments"))
    assert parts == {"+96550000001": 1, "+96550000002": 2}
    assert message.personal and message.segments == 2
    assert message.estimated_cost == 6
    assert sorted(zip(script.texts, script.calls, strict=True)) == [
        ("Hi Sara from Kuwait", ["+96550000001"]),
        ("Hi محمد from " + "x" * 80, ["+96550000002"]),
    ]


def test_identical_texts_go_in_one_request_where_the_provider_takes_many(
    account, script, django_capture_on_commit_callbacks
):
    phones = [f"+965500000{i:02d}" for i in range(30)]
    for i, phone in enumerate(phones):
        Contact.objects.create(phone=phone, name=["Ali", "Sara", "Omar"][i % 3])

    with django_capture_on_commit_callbacks(execute=True):
        send(account, "Hello {first_name}", phones)

    assert sorted(script.texts) == ["Hello Ali", "Hello Omar", "Hello Sara"]
    assert sorted(len(call) for call in script.calls) == [10, 10, 10]


def test_a_missing_field_without_fallback_refuses_the_send_saying_for_how_many(account, city):
    Contact.objects.create(phone="+96550000001", name="Sara", attributes={"city": "Kuwait"})

    with pytest.raises(SendRefused, match=r"\{city\} is empty for 2 recipients"):
        send(account, "Hi {first_name} in {city}", ["+96550000001", "+96550000002", "+96550000003"])
    with pytest.raises(SendRefused, match=r"\{town\} is no contact field"):
        send(account, "Hi {town}", ["+96550000001"])
    with pytest.raises(SendRefused, match="never closed"):
        send(account, "Hi {first_name", ["+96550000001"])
    assert not Message.objects.exists() and not Delivery.objects.exists()


def test_a_recipient_whose_text_would_be_too_long_refuses_the_send(account):
    account.max_parts = 1
    account.save()
    Contact.objects.create(phone="+96550000001", name="x" * 200)

    with pytest.raises(
        SendRefused, match="1 recipient's text needs more parts than the 1 the account allows"
    ):
        send(account, "Hi {name}", ["+96550000001"])


def test_contacts_whose_measures_are_unknown_are_rendered_and_counted_alike(city):
    Contact.objects.create(phone="+96550000001", name="Sara", attributes={"city": "Kuwait"})
    Contact.objects.create(phone="+96550000002", name="محمد", attributes={"city": "K"})
    Contact.objects.create(phone="+96550000003", name="😀 Omar", attributes={"city": "x" * 150})
    Contact.objects.create(phone="+96550000004", name="", attributes={"city": "Jahra"})
    text = "Hi {first_name|Customer} from {city}"
    measured = estimate_contacts(text, Contact.objects.all(), STANDARD)
    Contact.objects.filter(phone__in=["+96550000002", "+96550000004"]).update(measures=None)
    mixed = estimate_contacts(text, Contact.objects.all(), STANDARD)

    parts, ucs2 = rendered_counts(text)
    assert not measured.problems and not mixed.problems
    assert measured.parts == mixed.parts == parts
    assert measured.ucs2 == mixed.ucs2 == ucs2 == 2
    assert {c.who for c in measured.causes} == {c.who for c in mixed.causes} == {"محمد", "😀 Omar"}
    assert len(measured.causes) == len(mixed.causes) == 2
