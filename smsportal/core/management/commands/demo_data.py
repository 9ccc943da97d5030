"""Create the demo data once: an administrator, whose random password is printed once, and the
demo records each app contributes (provider accounts on the local sandbox, contacts, ...)."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from smsportal.core.demo import DEMO_STEPS


class Command(BaseCommand):
    help = "Create demo data once (idempotent): an admin user and demo records."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    @transaction.atomic
    def handle(self, *args, username: str, **options):
        User = get_user_model()
        if not User.objects.filter(username=username).exists():
            password = secrets.token_urlsafe(12)
            User.objects.create_superuser(username=username, email="", password=password)
            line = f"Log in as {username!r} with password {password!r} (shown only this once)."
            self.stdout.write(self.style.SUCCESS("=" * len(line)))
            self.stdout.write(self.style.SUCCESS(line))
            self.stdout.write(self.style.SUCCESS("=" * len(line)))
        for step in DEMO_STEPS:
            for message in step() or []:
                self.stdout.write(message)
