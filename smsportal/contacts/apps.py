from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "smsportal.contacts"
    verbose_name = "Contacts and lists"
