from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "smsportal.credits"
    verbose_name = "Credits"
