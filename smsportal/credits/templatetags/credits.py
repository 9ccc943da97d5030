"""`{% balance_panel %}`: the balances card for the dashboard and the compose page.

{% load credits %}
{% balance_panel %}            every active account
{% balance_panel account %}    one account (the compose page's chosen one)
"""

from __future__ import annotations

from django import template

from smsportal.providers.models import ProviderAccount

from ..balances import account_balances

register = template.Library()


@register.inclusion_tag("credits/_balances.html", takes_context=True)
def balance_panel(context, account: ProviderAccount | None = None) -> dict:
    accounts = [account] if account else ProviderAccount.objects.filter(is_active=True)
    request = context.get("request")
    return {
        "balances": account_balances(accounts),
        "single": account is not None,
        "perms": context.get("perms"),
        "csrf_token": context.get("csrf_token"),
        # Where Refresh returns without JavaScript: the page it was pressed on.
        "next": request.get_full_path() if request else "",
    }
