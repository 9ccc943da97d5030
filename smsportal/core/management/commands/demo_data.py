"""Create the demo data once: an administrator, whose random password is printed once, and the
demo records each app contributes (provider accounts on the local sandbox, contacts, ...)."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from smsportal.core.demo import DEMO_STEPS


def create_demo_data(username: str = "admin") -> tuple[list[str], str | None]:
    """Create what is missing; returns the lines to report and the new administrator's
    password (None when the administrator already existed: the password is never shown twice)."""
    with transaction.atomic():
        User = get_user_model()
        password = None
        if not User.objects.filter(username=username).exists():
            password = secrets.token_urlsafe(12)
            User.objects.create_superuser(username=username, email="", password=password)
        lines = [line for step in DEMO_STEPS for line in step() or []]
    return lines, password


def password_banner(username: str, password: str | None) -> list[str]:
    if password is None:
        return [
            f"Log in as {username!r} with the password shown on the first run "
            f"(forgotten? .venv/bin/python manage.py changepassword {username} sets a new one)."
        ]
    line = f"Log in as {username!r} with password {password!r} (shown only this once)."
    return ["=" * len(line), line, "=" * len(line)]


class Command(BaseCommand):
    help = "Create demo data once (idempotent): an admin user and demo records."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username: str, **options):
        lines, password = create_demo_data(username)
        for line in lines:
            self.stdout.write(line)
        if password is not None:
            for line in password_banner(username, password):
                self.stdout.write(self.style.SUCCESS(line))
