"""Demo departments (`make run`): two, so the portal shows what each sees of the other's."""

from __future__ import annotations

DEMO_DEPARTMENTS = ("Sales", "Support")


def create_demo_departments() -> list[str]:
    from django.contrib.auth import get_user_model

    from .models import Department

    if Department.objects.exists():
        return []
    users = list(get_user_model().objects.all())
    for name in DEMO_DEPARTMENTS:
        Department.objects.create(name=name).members.add(*users)
    return ["Demo departments “Sales” and “Support”, every user a member of both."]
