"""Lists in a sentence are joined by the reader's comma: "a, b" in English, "a، b" in Arabic
(smsportal.core.words.listed, and the `listed` template filter, which escapes like `join`)."""

from __future__ import annotations

from django.template import Context, Template
from django.utils import translation

from smsportal.core.words import listed


def test_items_are_joined_by_the_readers_comma():
    assert listed(["a", "b", "c"]) == "a, b, c"
    assert listed([]) == ""
    with translation.override("ar"):
        assert listed(["أ", "ب"]) == "أ، ب"


def test_the_filter_escapes_each_item_and_keeps_the_comma():
    page = Template("{% load portal %}{{ names|listed }}")
    names = ["<b>One</b>", "Two & three"]
    assert page.render(Context({"names": names})) == "&lt;b&gt;One&lt;/b&gt;, Two &amp; three"
    with translation.override("ar"):
        assert page.render(Context({"names": names})).count("، ") == 1
    unescaped = Template(
        "{% load portal %}{% autoescape off %}{{ names|listed }}{% endautoescape %}"
    )
    assert unescaped.render(Context({"names": names})) == "<b>One</b>, Two & three"
