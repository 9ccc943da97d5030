"""Streaming CSV responses that spreadsheets cannot be tricked by.

A cell starting with = + - @ (or a tab / carriage return) is run as a formula by Excel and
LibreOffice; such cells get a leading apostrophe (OWASP's "CSV injection" advice).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_rows(header: list[str], rows: Iterable[Iterable]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a BOM, so spreadsheets read UTF-8 (Arabic names, emoji) correctly
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([safe_cell(value) for value in row])


def streaming_csv(filename: str, header: list[str], rows: Iterable[Iterable]):
    response = StreamingHttpResponse(csv_rows(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
