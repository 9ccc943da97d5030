from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "smsportal.core"
    verbose_name = "Portal core"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
        from .catalogues import prune_languages
        from .log_redaction import redact_request_loggers
        from .profile import PROFILE_SECTIONS
        from .roles import sync_role_permissions

        # Permissions exist only after every app has migrated, so the roles get theirs here,
        # idempotently, each time migrate runs (once, at the last app's signal).
        post_migrate.connect(sync_role_permissions, dispatch_uid="sync_role_permissions")
        redact_request_loggers()
        # Every gettext of a string without translation walked six empty catalogues.
        prune_languages()
        # A person's language, time zone and digits come first on their profile page.
        from .views import preferences_section

        if preferences_section not in PROFILE_SECTIONS:
            PROFILE_SECTIONS.insert(0, preferences_section)
