"""Names are quoted in the reader's quotation marks: “Order No” in English, «Order No» in Arabic,
as the Arabic catalogue quotes everywhere (smsportal.core.words.quoted, and the `quoted` template
filter, which escapes the value and isolates it inside the marks)."""

from __future__ import annotations

from django.template import Context, Template
from django.utils import translation

from smsportal.core.words import quoted


def test_a_name_is_quoted_in_the_readers_marks():
    assert quoted("Order No") == "“Order No”"
    with translation.override("ar"):
        assert quoted("Order No") == "«Order No»"


def test_the_filter_escapes_and_isolates_the_value_inside_the_marks():
    page = Template("{% load portal %}{{ value|quoted }}")
    context = Context({"value": "<b>أحمد</b>"})
    assert page.render(context) == "“<bdi>&lt;b&gt;أحمد&lt;/b&gt;</bdi>”"
    with translation.override("ar"):
        assert page.render(context) == "«<bdi>&lt;b&gt;أحمد&lt;/b&gt;</bdi>»"
