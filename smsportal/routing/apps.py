from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "smsportal.routing"
    verbose_name = _("Routing")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Retiring a sender ID first shows where routing names it.
        from smsportal.senders.uses import register_uses

        from .sender_uses import routes_using, routing_default_using

        register_uses(30, routing_default_using)
        register_uses(40, routes_using)
