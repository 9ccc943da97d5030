from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "smsportal.providers"
    verbose_name = "Provider accounts"
