from django.apps import AppConfig


class KeywordsConfig(AppConfig):
    name = "smsportal.keywords"
    verbose_name = "Keywords and automatic replies"

    def ready(self) -> None:
        # Once the models are loaded: this app listens to messaging's signals, so messaging
        # never imports it.
        from smsportal.messaging.signals import inbound_received

        from .services import on_inbound

        inbound_received.connect(on_inbound, dispatch_uid="keywords.on_inbound")
