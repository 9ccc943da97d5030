from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "smsportal.contacts"
    verbose_name = "Contacts and lists"

    def ready(self) -> None:
        # Imported once the models are loaded (the demo step uses them): the app adds its step
        # to core's list, so core never imports the app.
        from smsportal.core.demo import DEMO_STEPS

        from .demo import create_demo_contacts

        if create_demo_contacts not in DEMO_STEPS:
            DEMO_STEPS.append(create_demo_contacts)
