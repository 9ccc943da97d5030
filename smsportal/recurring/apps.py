from django.apps import AppConfig


class RecurringConfig(AppConfig):
    name = "smsportal.recurring"
    verbose_name = "Recurring sends"

    def ready(self) -> None:
        # Retiring a sender ID first shows the recurring sends whose runs it would refuse.
        from smsportal.senders.uses import register_uses

        from .sender_uses import recurring_sends_using

        register_uses(20, recurring_sends_using)
