"""Every way a delivery report comes in, in one place, and the one way it is applied.

Entrances (each parses with the account's backend into a normalised `StatusUpdate`):
- `webhooks`: providers that push reports to us (ISMS), with incoming SMS beside them;
- `polling`: providers we ask (KalaSMS), and the give-up of reports that never come;
- `smpp_listener` + `smpp`: SMS Centre's receipts (`deliver_sm`) on the transceiver that
  `manage.py smpp_listen` keeps bound, or on the session that submitted.

All of them call `apply.apply_status_update`, which moves the delivery by the rule table
(`smsportal.sms.status_rules`), writes its history and keeps the daily counters in step; on
PostgreSQL in one statement (`apply_sql`), elsewhere in one transaction.
"""

from .apply import apply_status_update, apply_unmatched_reports

__all__ = ["apply_status_update", "apply_unmatched_reports"]
