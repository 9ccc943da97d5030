from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "smsportal.messaging"
    verbose_name = "Messaging"
