from django.apps import AppConfig


class MessageTemplatesConfig(AppConfig):
    name = "smsportal.message_templates"
    verbose_name = "Message templates"
