"""The message page's one-line summary of a send reads in the reader's language, commas too."""

from __future__ import annotations

from django.utils import translation

from smsportal.messaging.progress import Progress


def test_the_progress_summary_uses_the_readers_comma():
    progress = Progress({"delivered": 28, "failed": 2})

    assert progress.summary == "28 delivered, 2 failed"
    with translation.override("ar"):
        assert "، " in progress.summary and ", " not in progress.summary
