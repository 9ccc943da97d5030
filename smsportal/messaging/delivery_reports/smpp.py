"""Where what arrives over SMPP goes (installed into the SMS Centre backend by the app config):
a receipt becomes a status update, an incoming SMS an inbox message — whether it came on
`smpp_listen`'s transceiver or on the session that submitted."""

from __future__ import annotations

from smsportal.providers.backends.base import InboundSMS, StatusUpdate

from ..inbound import receive
from ..models import DeliveryEvent
from .apply import apply_status_update


def store_deliver_sm(account, item: StatusUpdate | InboundSMS) -> None:
    if isinstance(item, StatusUpdate):
        apply_status_update(account, item, DeliveryEvent.Source.SMPP)
    else:
        receive(account, item)
