from django.apps import AppConfig


class ForwardingConfig(AppConfig):
    name = "smsportal.forwarding"
    verbose_name = "Forwarding to other systems"

    def ready(self) -> None:
        # Once the models are loaded: this app listens to messaging's signals, so messaging
        # never imports it.
        from smsportal.messaging.signals import inbound_received, message_done

        from .events import on_inbound, on_message_done

        inbound_received.connect(on_inbound, dispatch_uid="forwarding.on_inbound")
        message_done.connect(on_message_done, dispatch_uid="forwarding.on_message_done")
