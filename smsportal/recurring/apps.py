from django.apps import AppConfig


class RecurringConfig(AppConfig):
    name = "smsportal.recurring"
    verbose_name = "Recurring sends"
