"""Quota warnings: an e-mail to the department's Managers (and the quota's extra addresses) when
usage reaches the quota's warning threshold — once per crossing per period.

The same approach as low-balance alerts (credits/alerts.py): a flag per counter and metric
(`Usage.warned_parts`, `Usage.warned_credit`) is claimed with a conditional UPDATE, so two sends
crossing at once send one e-mail; usage given back below the threshold clears it, and the next
crossing warns again. A new day or month is a new counter, so it warns afresh.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils.translation import gettext as _
from django_tasks import task

from smsportal.core import audit
from smsportal.core.roles import MANAGER

from .models import Usage

logger = logging.getLogger(__name__)


def threshold(limit, percent: int) -> Decimal:
    return Decimal(limit) * percent / 100


def recipients(quota) -> list[str]:
    """The department's active Managers with an address, then the quota's extra addresses."""
    managers = (
        get_user_model()
        .objects.filter(departments=quota.department, is_active=True, groups__name=MANAGER)
        .exclude(email="")
        .order_by("pk")
        .values_list("email", flat=True)
    )
    return list(dict.fromkeys([*managers, *quota.extra_recipients]))


def warn_if_crossed(usage_ids: list[int]) -> int:
    """Claim and enqueue (after commit) a warning for each counter now at or past its threshold
    that has not warned in this crossing. Returns how many were claimed."""
    claimed = 0
    for usage in Usage.objects.filter(pk__in=usage_ids).select_related("quota__department"):
        quota = usage.quota
        for metric, limit in quota.limits(usage.period).items():
            if not limit or getattr(usage, metric) < threshold(limit, quota.warn_at_percent):
                continue  # a zero quota refuses every send; its refusal says so
            flag = f"warned_{metric}"
            if getattr(usage, flag) or not recipients(quota):
                continue  # told already; or nobody to tell (addresses added later hear next time)
            if Usage.objects.filter(pk=usage.pk, **{flag: False}).update(**{flag: True}):
                claimed += 1
                transaction.on_commit(
                    lambda pk=usage.pk, m=metric: send_quota_warning.enqueue(pk, m)
                )
    return claimed


def clear_if_below(usage_ids: list[int]) -> None:
    """Usage given back below the threshold: the next crossing warns again."""
    for usage in Usage.objects.filter(pk__in=usage_ids).select_related("quota"):
        for metric, limit in usage.quota.limits(usage.period).items():
            if getattr(usage, metric) < threshold(limit, usage.quota.warn_at_percent):
                Usage.objects.filter(pk=usage.pk, **{f"warned_{metric}": True}).update(
                    **{f"warned_{metric}": False}
                )


def describe(usage: Usage, metric: str) -> dict[str, str]:
    quota = usage.quota
    limit = quota.limits(usage.period)[metric]
    used = getattr(usage, metric)
    fmt = "{:,}" if metric == "parts" else "{:,.2f}"
    return {
        "department": quota.department.name,
        "scope": quota.scope,
        "used": fmt.format(used),
        "limit": fmt.format(limit),
        "unit": _("parts") if metric == "parts" else _("credits"),
        "share": f"{int(used * 100 / limit)}" if limit else "100",
        "warn": str(quota.warn_at_percent),
        "when": _("today") if usage.period == Usage.Period.DAY else _("this month"),
    }


@task()
def send_quota_warning(usage_id: int, metric: str) -> None:
    usage = Usage.objects.select_related("quota__department", "quota__account").get(pk=usage_id)
    to = recipients(usage.quota)
    if not to:
        Usage.objects.filter(pk=usage_id).update(**{f"warned_{metric}": False})
        return
    words = describe(usage, metric)
    subject = (
        _(
            "Quota warning: %(department)s has used %(share)s%% of its %(unit)s %(when)s on "
            "%(scope)s"
        )
        % words
    )
    body = (
        _(
            "%(department)s has used %(used)s of its %(limit)s %(unit)s %(when)s on %(scope)s "
            "(%(share)s%%), past the warning at %(warn)s%%.\n\n"
            "Sends that would go past the quota are refused. A Manager can raise the quota on "
            "the Quotas page.\n"
            "This is the only warning until usage has been back below the threshold.\n"
        )
        % words
    )
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)
    except OSError as error:
        # Not sent: let the next send that counts try again rather than stay silent.
        Usage.objects.filter(pk=usage_id).update(**{f"warned_{metric}": False})
        logger.warning("Quota warning for %s not sent: %s", usage.quota, error)
        return
    audit.record("quota_warning", usage.quota, metric=metric, used=words["used"], to=to)
    logger.info("Quota warning for %s sent to %d address(es)", usage.quota, len(to))
