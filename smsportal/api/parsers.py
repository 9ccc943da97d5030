"""Request bodies: JSON only (multipart for imports), never larger than API_MAX_BODY_BYTES.

The size is checked against Content-Length before anything is read, and again while reading (a
chunked body has no length to check), so a huge body is refused with 413 without being held in
memory."""

from __future__ import annotations

import json

from django.conf import settings
from rest_framework import parsers, status

from .problems import Problem


def too_large(limit: int) -> Problem:
    return Problem(
        status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        "body_too_large",
        "Request body too large",
        f"The body may hold at most {limit:,} bytes.",
    )


class LimitedJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise too_large(limit)
        encoding = (parser_context or {}).get("encoding", "utf-8")
        try:
            return json.loads(raw.decode(encoding), parse_constant=_no_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            from rest_framework.exceptions import ParseError

            raise ParseError(f"The body is not valid JSON: {exc}") from exc


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")
