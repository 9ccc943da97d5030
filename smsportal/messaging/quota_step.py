"""The quota step of the send path (smsportal.quotas), kept apart from sending.py and dispatch.py:

- `check` in `prepare`: refuses early (the confirm page, the API's 4xx) saying what is left;
- `take` in `send` (and in the send to a list kept at the provider), inside the transaction that
  creates the message: the race-free reservation (a conditional UPDATE per counter), so two
  concurrent sends cannot both take the last parts;
- `room_left` for the compose preview: what is left of each quota the send must fit;
- `give_back` in dispatch (and for a list kept at the provider that refused the send), for
  parts that never leave: deliveries cancelled, skipped, or failed before or at the provider's
  door (not charged). Parts whose fate is unknown, and parts submitted (even if never
  delivered), stay counted: they may have been charged.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Sum
from django.utils.translation import gettext as _

from smsportal.quotas import services as quotas
from smsportal.quotas import usage

from .models import Delivery


def check(department, account, parts: int, cost: Decimal) -> None:
    from .sending import SendRefused

    try:
        quotas.check(department, account, parts=parts, credit=cost)
    except quotas.QuotaExceeded as exc:
        raise SendRefused(str(exc), code=exc.code, values=exc.values) from exc


def room_left(department, account) -> list[dict]:
    """What is left of each limit of the quotas a send by `department` through `account` must
    fit, as the compose preview says it before anyone presses Send: {"text": "Left in the quota
    of Alpha on KwtSMS: 2 of 5 parts today", "level": "success" | "warning" | "danger"}. Nothing
    when the department has no quota there (it is unlimited) or is not known yet."""
    if department is None or account is None:
        return []
    rooms = []
    for quota, bars in usage.bars(quotas.applicable(department, account)):
        for bar in bars:
            number = "{:,.2f}" if bar.is_credit else "{:,}"
            text = _(
                "Left in the quota of %(department)s on %(scope)s: %(left)s of %(limit)s %(what)s"
            ) % {
                "department": quota.department.name,
                "scope": quota.scope,
                "left": number.format(bar.left),
                "limit": number.format(bar.limit),
                "what": bar.label,
            }
            rooms.append({"text": text, "level": bar.level})
    return rooms


def take(message, department, parts: int, cost: Decimal) -> None:
    """Reserve the message's parts and cost; SendRefused (and the caller's transaction undone)
    when a quota has no room left."""
    from .sending import SendRefused

    try:
        quotas.reserve(department, message.account, parts=parts, credit=cost, message_id=message.pk)
    except quotas.QuotaExceeded as exc:
        raise SendRefused(str(exc), code=exc.code, values=exc.values) from exc


def recount(message, parts: int, cost: Decimal) -> None:
    """A scheduled message's new text needs `parts`: its reservation follows (SendRefused, and
    the change undone, when the quota has no room for the difference)."""
    from .sending import SendRefused

    try:
        quotas.resize(message.pk, parts=parts, credit=cost)
    except quotas.QuotaExceeded as exc:
        raise SendRefused(str(exc), code=exc.code, values=exc.values) from exc


def give_back(message_id: int, parts: int, account_id: int) -> None:
    """Give back `parts` of the message's reservation on `account_id` (the account they were to
    go through: a delivery that failed over holds quota on each account it was moved to), with
    their share of its credit."""
    if parts > 0:
        quotas.release(message_id, parts=parts, account_id=account_id)


def give_back_marked(message_id: int, token: str) -> None:
    """Give back the parts of the deliveries dispatch just stamped with `token`, per account
    they were at; one query when the message counts against no quota."""
    if not quotas.holds(message_id):
        return
    per_account = (
        Delivery.objects.filter(claim=token)
        .values_list("account_id")
        .annotate(n=Sum("segments"))
        .order_by()
    )
    for account_id, parts in per_account:
        give_back(message_id, parts or 0, account_id)
