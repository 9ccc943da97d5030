"""What messaging tells the apps above it (they connect receivers; messaging imports none)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent inside the transaction that stores an incoming SMS, with `message` (InboundMessage),
# `keyword` (its first word, case-folded) and `opt` (inbound.OPTED_OUT / OPTED_IN when this SMS
# changed the number's opt-out, else ""). What a receiver writes is stored with the SMS or not
# at all; a task it queues must be queued on commit (the worker must find the SMS). Receivers
# must be quick: they run inside the provider's webhook request.
inbound_received = Signal()

# Sent once a message is done (no delivery left queued or sending), with `message_id`.
message_done = Signal()
