"""What a send form that posts to messaging carries from its page, wherever the page is (the
lists kept at a provider are a contacts page)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from smsportal.messaging import idempotency

register = template.Library()


@register.simple_tag
def one_time_token() -> str:
    """The form's hidden one-time token, fresh with each page: posted twice (a double click,
    the page sent again from the browser's history), it sends once (messaging/idempotency.py)."""
    return format_html('<input type="hidden" name="token" value="{}">', idempotency.new_token())
