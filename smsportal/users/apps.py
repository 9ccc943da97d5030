from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "smsportal.users"
    verbose_name = "Staff log-in"
