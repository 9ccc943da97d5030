"""What messaging tells the apps above it (they connect receivers; messaging imports none)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent once an incoming SMS is committed, with `message` (InboundMessage), `keyword` (its first
# word, case-folded) and `opt` (inbound.OPTED_OUT / OPTED_IN when this SMS changed the number's
# opt-out, else ""). Receivers must be quick: they run inside the provider's webhook request.
inbound_received = Signal()

# Sent once a message is done (no delivery left queued or sending), with `message_id`.
message_done = Signal()
