from django.apps import AppConfig


class DepartmentsConfig(AppConfig):
    name = "smsportal.departments"
    verbose_name = "Departments"
