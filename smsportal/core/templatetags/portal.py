"""Template helpers shared by every page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django import forms, template
from django.conf import settings
from django.forms.boundfield import BoundField, BoundWidget
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from smsportal.core import text, words

register = template.Library()


@register.simple_tag
def bootstrap_widget(field: BoundField) -> str:
    """Render a form field's widget with Bootstrap's classes, for any form (ours or Django's)."""
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        css = "form-check-input"
    elif isinstance(widget, forms.Select | forms.SelectMultiple):
        css = "form-select"
    else:
        css = "form-control"
    if field.errors:
        css += " is-invalid"
    existing = widget.attrs.get("class", "")
    return field.as_widget(attrs={"class": f"{existing} {css}".strip()})


@register.simple_tag
def bootstrap_choices(field: BoundField) -> list:
    """The options of a radio or checkbox list (RadioSelect, CheckboxSelectMultiple), each an
    input with Bootstrap's `form-check-input`, for `_field.html` to lay out one by one: given
    "form-control" like a text box, the weekdays of a recurring send were drawn as empty bars."""
    css = "form-check-input" + (" is-invalid" if field.errors else "")
    id_ = field.field.widget.attrs.get("id") or field.auto_id
    attrs = field.build_widget_attrs({"id": id_} if id_ else {})
    attrs["class"] = f"{attrs.get('class', '')} {css}".strip()
    return [
        BoundWidget(field.field.widget, option, field.form.renderer)
        for option in field.field.widget.subwidgets(field.html_name, field.value(), attrs=attrs)
    ]


@register.filter
def counted(count, nouns: str) -> str:
    """`{{ n|counted:"recipient" }}` → "1 recipient", "1,204 recipients";
    `{{ n|counted:"delivery,deliveries" }}` for an irregular plural."""
    one, _, many = nouns.partition(",")
    return text.counted(int(count or 0), one, many or None)


@register.filter
def ago(moment) -> str:
    """'just now' under a minute, then '3 minutes ago', '2 hours ago', '1 day, 4 hours ago'."""
    if not moment:
        return ""
    age = timezone.now() - moment
    if age < timedelta(minutes=1):
        return _("just now")
    span = text.time_since(moment, depth=1 if age < timedelta(days=1) else 2)
    return _("%(span)s ago") % {"span": span}


@register.simple_tag
def languages() -> list[tuple[str, str]]:
    """The portal's languages, each named in itself ("English", "العربية") whatever the page's
    language: a reader finds their own language by its own name."""
    return list(settings.LANGUAGES)


@register.filter
def word(value) -> str:
    """`{{ delivery.status|word }}`: a stored word in the reader's language."""
    return words.word(value)


@register.filter
def direction(value) -> str:
    """`<bdi dir="{{ who|direction }}">`: "ltr" for a value with no letter, such as a phone
    number, which has no direction of its own and would take the page's (in Arabic,
    "96597119440+"); "auto" for one with letters, such as a name, read in its letters' own."""
    return "auto" if any(character.isalpha() for character in str(value)) else "ltr"


@register.filter(needs_autoescape=True)
def listed(items, autoescape=True) -> str:
    """`{{ names|listed }}`: the items joined by the reader's comma ("a, b"; in Arabic "a، b"),
    where `join:", "` wrote an English comma into every language. Escaped like `join`."""
    escape = conditional_escape if autoescape else str
    return mark_safe(words.listed(escape(item) for item in items))  # noqa: S308 (escaped)


@register.filter
def quoted(value) -> str:
    """`{{ value|quoted }}`: the value in the reader's quotation marks (“…”, in Arabic «…»),
    isolated inside them: a value in the other direction does not carry them to its side."""
    return mark_safe(words.quoted(format_html("<bdi>{}</bdi>", value)))  # noqa: S308 (escaped)


@register.filter
def credits(value) -> str:
    """A credit amount with separators and only the decimals it has: 1,200 · 1.2 · 0.0125."""
    if value is None or value == "":
        return ""
    return text.credit_figure(value)


@register.filter
def plural_count(value) -> int:
    """The whole number that picks an amount's plural form (`{% blocktranslate count
    counter=cost|plural_count %}`): the amount itself when whole, else 100, which every language
    reads as "many" (gettext wants an integer: 2.5 credits take the plural, as in English)."""
    if value is None or value == "":
        return 0
    amount = Decimal(value)
    return int(amount) if amount == amount.to_integral_value() else 100
