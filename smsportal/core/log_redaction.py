"""Keep secrets that travel in URLs out of log lines.

A provider's webhook URL carries the account's secret token in its path
(`/hooks/isms/<token>/dlr`), and Django logs request paths on its own: "Not Found: <path>",
"Bad Request: <path>", "Internal Server Error: <path>" (django.request), and runserver's request
line (django.server). The filter rewrites such a record in place before any handler formats it,
so every handler — the console, an error tracker, a test's capture — sees `[redacted]` instead.
"""

from __future__ import annotations

import logging
import re

# `/hooks/<provider>/` followed by the token, up to the next path separator, query, quote or the
# " HTTP/1.1" of a request line; anything in that place is treated as a token, valid or not.
TOKEN_PATH = re.compile(r"(/hooks/[^/\s\"?]+/)(?:(?! HTTP/)[^/?\"\n])+")
REDACTED = r"\1[redacted]"


def redact(text: str) -> str:
    return TOKEN_PATH.sub(REDACTED, text)


class RedactWebhookTokens(logging.Filter):
    """Attach to the handlers (everything they print) and to the loggers that log request paths
    (so handlers added elsewhere see the redacted record too). Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record with mismatched arguments: leave it for the handler to report
            return True
        if redact(message) != message:
            # Redact the format and each argument, so filters after this one still read the
            # arguments (runserver's request line is args[0]); collapse only if that missed.
            args = record.args
            if isinstance(args, tuple):
                args = tuple(redact(a) if isinstance(a, str) else a for a in args)
            record.msg = redact(str(record.msg))
            record.args = args
            try:
                still = record.getMessage() != redact(record.getMessage())
            except Exception:
                still = True
            if still:
                record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


# Django logs request paths on these: "Not Found: /hooks/isms/<token>/dlr" and the like
# (django.request), runserver's request line (django.server).
REQUEST_LOGGERS = ["django.request", "django.server"]


def redact_request_loggers() -> None:
    """Put the filter on the loggers themselves (at start-up), so a handler that is not ours
    sees the redacted record too. Added here rather than in LOGGING: naming a logger there would
    replace the handlers Django gives it (runserver's request lines would vanish)."""
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactWebhookTokens) for f in logger.filters):
            logger.addFilter(RedactWebhookTokens())
