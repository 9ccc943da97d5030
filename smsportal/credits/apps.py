from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "smsportal.credits"
    verbose_name = "Credits"

    def ready(self) -> None:
        from smsportal.core.demo import DEMO_STEPS

        from .demo import create_demo_customers

        if create_demo_customers not in DEMO_STEPS:
            DEMO_STEPS.append(create_demo_customers)
