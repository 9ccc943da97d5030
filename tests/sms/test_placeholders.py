"""Placeholders: parsing, rendering, fallbacks, literal braces, errors with their position, and
(hypothesis) never raising on any text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from smsportal.sms.placeholders import Placeholder, contact_values, parse, render

VALUES = {"name": "Sara Al-Hassan", "first_name": "Sara", "phone": "+96597119440", "city": "Kuwait"}


def test_a_text_without_braces_is_one_literal_piece():
    template = parse("Hello there")

    assert template.pieces == ("Hello there",)
    assert not template.is_personal
    assert render(template, {}).text == "Hello there"


def test_placeholders_are_replaced_by_the_recipients_values():
    rendered = render("Hello {first_name}, {name} of {city} ({phone})", VALUES)

    assert rendered.text == "Hello Sara, Sara Al-Hassan of Kuwait (+96597119440)"
    assert rendered.complete


def test_names_are_matched_ignoring_case_and_surrounding_spaces():
    assert render("Hi { First_Name }", VALUES).text == "Hi Sara"
    assert parse("{CITY}").names == ("city",)


def test_a_fallback_stands_in_for_a_missing_or_empty_value():
    assert render("Dear {first_name|Customer}", {}).text == "Dear Customer"
    assert render("Dear {first_name|Customer}", {"first_name": ""}).text == "Dear Customer"
    assert render("Dear {first_name|Customer}", VALUES).text == "Dear Sara"
    assert render("In {city|}!", {}).text == "In !"


def test_a_missing_value_without_fallback_is_reported_and_left_empty():
    rendered = render("Hi {first_name}, see you in {city} {city}", {"first_name": "Ali"})

    assert rendered.text == "Hi Ali, see you in  "
    assert rendered.missing == ("city",)
    assert not rendered.complete


def test_double_braces_are_literal_braces():
    assert render("{{first_name}} costs {{5}}", VALUES).text == "{first_name} costs {5}"
    assert render("a } b }} c", {}).text == "a } b } c"
    assert not parse("{{x}}").placeholders


def test_an_unclosed_brace_is_an_error_with_its_position():
    template = parse("Hello {first_name, welcome")

    assert len(template.errors) == 1
    assert template.errors[0].position == 6
    assert "character 7" in str(template.errors[0])
    assert "never closed" in str(template.errors[0])
    assert render(template, VALUES).text == "Hello {first_name, welcome"


def test_a_brace_opened_again_before_closing_is_unclosed():
    template = parse("{first {name}")

    assert [e.position for e in template.errors] == [0]
    assert template.names == ("name",)


def test_empty_and_malformed_names_are_errors():
    assert "no field name" in str(parse("a {} b").errors[0])
    assert "no field name" in str(parse("{|x}").errors[0])
    error = parse("x {first name}").errors[0]
    assert error.position == 2
    assert "“{first name}”" in str(error)
    assert parse("{1st}").errors


def test_required_and_unknown_names():
    template = parse("{first_name|Customer} {city} {zip} {first_name}")

    assert template.names == ("first_name", "city", "zip")
    assert template.required() == ("city", "zip", "first_name")
    assert template.unknown({"first_name", "city"}) == ("zip",)


def test_placeholders_keep_their_source_and_offset():
    assert parse("ab{x|y}").placeholders == (Placeholder("x", "y", 2, "{x|y}"),)


def test_contact_values_derive_first_and_last_name_and_include_attributes():
    values = contact_values(
        phone="+965", name="  Sara  Al Hassan ", attributes={"City": "Kuwait", "n": 3}
    )

    assert values["first_name"] == "Sara"
    assert values["last_name"] == "Al Hassan"
    assert values["city"] == "Kuwait"
    assert values["n"] == "3"
    assert contact_values(name="")["first_name"] == ""


any_text = st.text(alphabet=st.characters(codec=None), max_size=300)
brace_text = st.text(alphabet=st.sampled_from(list("{}|ab _1é😀\n")), max_size=200)


@settings(max_examples=400)
@given(any_text, st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=4))
def test_any_text_parses_and_renders_without_raising(text, values):
    template = parse(text)
    render(template, values)
    for error in template.errors:
        assert 0 <= error.position < len(text)


@settings(max_examples=400)
@given(brace_text)
def test_brace_heavy_text_never_raises_and_errors_point_at_a_brace(text):
    template = parse(text)
    rendered = render(template, {"a": "A", "ab": "AB"})
    assert isinstance(rendered.text, str)
    for error in template.errors:
        assert text[error.position] == "{"


@settings(max_examples=200)
@given(st.text(alphabet=st.characters(codec=None, exclude_characters="{}"), max_size=200))
def test_text_without_braces_renders_to_itself(text):
    assert render(text, {}).text == text


@settings(max_examples=200)
@given(st.text(alphabet=st.characters(codec=None), max_size=100))
def test_doubling_every_brace_writes_the_text_literally(text):
    escaped = text.replace("{", "{{").replace("}", "}}")
    template = parse(escaped)
    assert not template.errors
    assert render(template, {}).text == text
