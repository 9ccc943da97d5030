from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "smsportal.messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        # SMPP sessions hand receipts and incoming SMS to messaging without importing it.
        from smsportal.core.navigation import register_badge
        from smsportal.providers.backends.smscentre import set_deliver_sm_ingest
        from smsportal.senders.uses import register_uses

        from .delivery_reports.smpp import store_deliver_sm
        from .sender_uses import scheduled_messages_using
        from .views.inbox import unread_count

        set_deliver_sm_ingest(store_deliver_sm)
        # The navigation shows the inbox's unread count without core importing messaging.
        register_badge("messaging:inbox", unread_count)
        # Retiring a sender ID first shows the scheduled messages it would hold.
        register_uses(10, scheduled_messages_using)
