from django.apps import AppConfig


class SendersConfig(AppConfig):
    name = "smsportal.senders"
    verbose_name = "Sender IDs"
