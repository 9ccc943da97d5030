from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "smsportal.api"
    verbose_name = "HTTP API"

    def ready(self) -> None:
        # Once the models are loaded: the API adds its section to core's profile page, so core
        # never imports the API.
        from smsportal.core.profile import PROFILE_SECTIONS

        from . import schema  # noqa: F401  (registers the authentication scheme)
        from .profile import api_keys_section

        if api_keys_section not in PROFILE_SECTIONS:
            PROFILE_SECTIONS.append(api_keys_section)
