from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "smsportal.messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        # SMPP sessions hand receipts and incoming SMS to messaging without importing it.
        from smsportal.core.navigation import register_badge
        from smsportal.providers.backends.smscentre import set_deliver_sm_ingest

        from .delivery_reports.smpp import store_deliver_sm
        from .views.inbox import unread_count

        set_deliver_sm_ingest(store_deliver_sm)
        # The navigation shows the inbox's unread count without core importing messaging.
        register_badge("messaging:inbox", unread_count)
