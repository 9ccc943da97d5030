"""WSGI entry point (gunicorn smsportal.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smsportal.settings")

application = get_wsgi_application()
