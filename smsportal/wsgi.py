"""WSGI entry point (gunicorn smsportal.wsgi).

Providers' callbacks (`/hooks/…`) take a short request path without the staff pages' middleware
(smsportal/core/lean_requests.py); every other request Django's full handler."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smsportal.settings")

from smsportal.core.lean_requests import RoutedApplication

application = RoutedApplication(get_wsgi_application())
