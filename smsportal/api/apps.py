from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "smsportal.api"
    verbose_name = "HTTP API"

    def ready(self) -> None:
        from smsportal.core.profile import PROFILE_SECTIONS

        from . import schema  # noqa: F401  (registers the authentication scheme)
        from .profile import api_keys_section

        if api_keys_section not in PROFILE_SECTIONS:
            PROFILE_SECTIONS.append(api_keys_section)
