from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "smsportal.reports"
    verbose_name = "Reports"
