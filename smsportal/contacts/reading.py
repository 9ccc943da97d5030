"""Reading a contacts file, whatever shape it comes in: CSV in UTF-8 (with or without BOM),
UTF-16, Windows-1256 or Latin-1, with any common delimiter, or XLSX. The file is streamed, never
loaded whole; a file that cannot be read at all raises `UnreadableFile` with the reason.

The output is a header and (line number, cells) rows; what the cells mean is `importer.py`'s
business.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from smsportal.core.csv_export import FORMULA_STARTS

SAMPLE_BYTES = 64 * 1024
MAX_LINE = 64 * 1024  # characters; a longer line is rejected, never held in memory whole
DELIMITERS = ",;\t|"
XLSX_MAGIC = b"PK\x03\x04"


class UnreadableFile(Exception):
    """The file as a whole cannot be imported; the message says why, for staff."""


@dataclass
class Table:
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (line number in the file, cells)
    describe: str  # "CSV, UTF-8, ';'-separated" — shown in the summary
    position: callable = lambda: 0  # bytes (or rows for XLSX) read so far
    size: int = 0  # bytes (or rows) in all
    long_lines: list[tuple[int, int]] = field(default_factory=list)  # (line, characters)
    # The text layer over the caller's file: held here because a TextIOWrapper that is garbage
    # collected closes the file under it.
    text: io.TextIOBase | None = None


def open_table(stream: BinaryIO, size: int) -> Table:
    sample = stream.read(SAMPLE_BYTES)
    stream.seek(0)
    if not sample.strip(b" \t\r\n\xef\xbb\xbf\xff\xfe\x00"):
        raise UnreadableFile("The file is empty.")
    if sample.startswith(XLSX_MAGIC):
        return _xlsx(stream)
    encoding = sniff_encoding(sample)
    text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
    table = Table(header=[], rows=iter(()), describe="", position=stream.tell, size=size, text=text)
    lines = _limited_lines(text, table.long_lines)
    first = _first_lines(sample, encoding)
    delimiter = sniff_delimiter(first)
    reader = csv.reader(lines, delimiter=delimiter)
    for row in reader:
        if any(cell.strip() for cell in row):
            table.header = [unescape(cell).replace("\x00", "").strip() for cell in row]
            break
    else:
        raise UnreadableFile("The file has no rows.")
    shown = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "bar"}[delimiter]
    table.describe = f"CSV, {encoding}, {shown}-separated"
    table.rows = ((reader.line_num, row) for row in reader)
    return table


def sniff_encoding(sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in sample:
        raise UnreadableFile(
            "This is not a text file (it holds binary data). Save it as CSV (UTF-8) or XLSX."
        )
    head = sample[: sample.rfind(b"\n") + 1] or sample  # never judge a character cut in half
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    # Windows-1256 (Arabic Windows) and Latin-1 both decode any byte: prefer 1256 when the
    # high bytes read as Arabic letters, as they do in files saved by Arabic Excel.
    high = [b for b in head if b >= 0x80]
    arabic = sum(
        1 for ch in bytes(high).decode("cp1256", errors="ignore") if "\u0600" <= ch <= "\u06ff"
    )
    return "cp1256" if high and arabic >= len(high) * 0.6 else "latin-1"


def _first_lines(sample: bytes, encoding: str) -> str:
    text = sample.decode(encoding.replace("-sig", ""), errors="ignore").lstrip("\ufeff")
    return "\n".join(text.splitlines()[:20])


def sniff_delimiter(text: str) -> str:
    try:
        return csv.Sniffer().sniff(text, delimiters=DELIMITERS).delimiter
    except csv.Error:
        # One column, or too few lines to tell: the most frequent candidate in the first line.
        first = text.splitlines()[0] if text else ""
        counts = {d: first.count(d) for d in DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def _limited_lines(text: io.TextIOBase, long_lines: list) -> Iterator[str]:
    """The file's lines; a line over MAX_LINE characters is read through, recorded in
    `long_lines` and replaced by an empty one so that line numbers stay right."""
    line_number = 0
    while True:
        line = text.readline(MAX_LINE)
        if not line:
            return
        line_number += 1
        if len(line) >= MAX_LINE and not line.endswith(("\n", "\r")):
            length = len(line)
            while (more := text.readline(MAX_LINE)) and not more.endswith(("\n", "\r")):
                length += len(more)
            length += len(more)
            long_lines.append((line_number, length))
            yield "\n"
            continue
        yield line


def unescape(cell: str) -> str:
    """Undo the apostrophe our own export puts before a cell starting with = + - @."""
    if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS):
        return cell[1:]
    return cell


def _xlsx(stream: BinaryIO) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # zip or XML damage: openpyxl raises many types
        raise UnreadableFile(f"This XLSX file cannot be opened ({type(exc).__name__}).") from None
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    progress = {"row": 0}
    header: list[str] = []
    for values in rows:
        progress["row"] += 1
        cells = [_xlsx_text(v) for v in values]
        if any(c.strip() for c in cells):
            header = [c.strip() for c in cells]
            break
    if not header:
        raise UnreadableFile("The spreadsheet has no rows.")

    def numbered():
        for values in rows:
            progress["row"] += 1
            yield progress["row"], [_xlsx_text(v) for v in values]

    return Table(
        header=header,
        rows=numbered(),
        describe=f"XLSX, sheet “{sheet.title}”",
        position=lambda: progress["row"],
        size=sheet.max_row or 0,
    )


def _xlsx_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone number typed as a number
    return str(value)
