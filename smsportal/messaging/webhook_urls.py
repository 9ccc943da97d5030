"""Endpoints providers call (no login, no CSRF; each secured by the account's token)."""

from django.urls import path  # noqa: F401

app_name = "hooks"
urlpatterns: list = []
