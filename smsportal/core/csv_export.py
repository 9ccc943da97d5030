"""Streaming CSV responses that spreadsheets cannot be tricked by, and that never break mid-file.

A cell starting with = + - @ (or a tab / carriage return) is run as a formula by Excel and
LibreOffice; such cells get a leading apostrophe (OWASP's "CSV injection" advice). A cell holding
a semicolon or a tab is always quoted: a spreadsheet set to split on those would otherwise start
a new cell inside it (`Ali;=HYPERLINK(…)`), and that cell could be a formula.

The first row is read before the response starts: a query that fails does so as an ordinary
error page, never as a 200 whose file stops halfway.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_QUOTED_WHEN_HOLDING = frozenset(',;\t"\r\n')


def safe_cell(value) -> str:
    """The cell as a spreadsheet may open it. A cell whose apostrophes are followed by a formula
    character gets one apostrophe more, so that an import (`unescape`) takes exactly one off:
    `'=x` leaves as `''=x` and comes back as `'=x`."""
    text = "" if value is None else str(value)
    return "'" + text if text.lstrip("'").startswith(FORMULA_STARTS) else text


def unescape(cell: str) -> str:
    """Undo `safe_cell`: one apostrophe off a cell whose apostrophes precede a formula
    character."""
    if cell.startswith("'") and cell.lstrip("'").startswith(FORMULA_STARTS):
        return cell[1:]
    return cell


def csv_line(cells: Iterable, delimiter: str = ",") -> str:
    """One CSV record (RFC 4180 quoting), every cell made safe."""
    out = []
    for value in cells:
        cell = safe_cell(value)
        if delimiter in cell or not _QUOTED_WHEN_HOLDING.isdisjoint(cell):
            cell = '"' + cell.replace('"', '""') + '"'
        out.append(cell)
    return delimiter.join(out) + "\r\n"


def csv_rows(
    header: list[str], rows: Iterable[Iterable], delimiter: str = ",", bom: bool = True
) -> Iterator[str]:
    if bom:
        yield "\ufeff"  # so spreadsheets read UTF-8 (Arabic names, emoji) correctly
    yield csv_line(header, delimiter)
    for row in rows:
        yield csv_line(row, delimiter)


def streaming_csv(
    filename: str,
    header: list[str],
    rows: Iterable[Iterable],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8-sig",
) -> StreamingHttpResponse:
    """A CSV download of `rows`, streamed. The first row is fetched here, before any byte is
    sent, so a failing query raises in the view. `encoding` as the reader expects it (a
    rejected-rows file goes back in its input's encoding); a character it cannot hold becomes ?."""
    rows = iter(rows)
    first = next(rows, None)
    if first is not None:
        rows = _chain(first, rows)
    encoder = codecs.getincrementalencoder(encoding)(errors="replace")
    text = csv_rows(header, rows, delimiter, bom=False)
    chunks = (encoder.encode(part) for part in text)
    charset = codecs.lookup(encoding).name.removesuffix("-sig")
    response = StreamingHttpResponse(chunks, content_type=f"text/csv; charset={charset}")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _chain(first, rest: Iterator) -> Iterator:
    yield first
    yield from rest
