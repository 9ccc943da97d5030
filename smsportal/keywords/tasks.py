"""The keyword work queued at ingest (a provider's webhook is answered before it runs)."""

from __future__ import annotations

from django_tasks import task


@task()
def handle_keyword(inbound_id: int, opt: str) -> str:
    from .services import handle

    record = handle(inbound_id, opt)
    return record.outcome if record else ""
