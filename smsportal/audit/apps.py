from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "smsportal.audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (log-in, log-out, failures)
        from .registration import register_models

        register_models()
