#!/usr/bin/env python
"""Django's command-line utility for SMS Portal."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smsportal.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A wrong environment variable is the operator's to fix: one clear line, no traceback.
        sys.exit(f"Configuration error: {exc}")


if __name__ == "__main__":
    main()
