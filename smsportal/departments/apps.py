from django.apps import AppConfig


class DepartmentsConfig(AppConfig):
    name = "smsportal.departments"
    verbose_name = "Departments"

    def ready(self) -> None:
        # The app adds its demo step to core's list (core never imports the app); it runs
        # before the contacts' step (INSTALLED_APPS order), which gives rows a department.
        from smsportal.core.demo import DEMO_STEPS

        from .demo import create_demo_departments

        if create_demo_departments not in DEMO_STEPS:
            DEMO_STEPS.append(create_demo_departments)
