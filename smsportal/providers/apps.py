from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "smsportal.providers"
    verbose_name = "Provider accounts"

    def ready(self) -> None:
        # Imported once the models are loaded (the demo step uses them): the app adds its step
        # to core's list, so core never imports the app.
        from smsportal.core.demo import DEMO_STEPS

        from . import checks  # noqa: F401  (registers the system checks)
        from .demo import create_demo_accounts

        if create_demo_accounts not in DEMO_STEPS:
            DEMO_STEPS.append(create_demo_accounts)
