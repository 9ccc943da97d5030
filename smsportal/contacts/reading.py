"""Reading a contacts file, whatever shape it comes in: CSV in UTF-8 (with or without BOM),
UTF-16, Windows-1256 or any encoding charset-normalizer recognises, with any common delimiter, or
XLSX. The file is streamed, never loaded whole; a file that cannot be read at all raises
`UnreadableFile` with the reason. Staff see the encoding found and may choose another.

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

from charset_normalizer import from_bytes
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from smsportal.core.csv_export import unescape

from .xlsx_limits import SpreadsheetRefused, check_archive, check_sheet

SAMPLE_BYTES = 64 * 1024
# What staff may choose in the import preview, named as they know them.
ENCODINGS = {
    "utf-8": "UTF-8",
    "utf-8-sig": gettext_lazy("UTF-8 with BOM"),
    "utf-16": "UTF-16",
    "cp1256": gettext_lazy("Arabic (Windows-1256)"),
    "iso8859-6": gettext_lazy("Arabic (ISO-8859-6)"),
    "cp1252": gettext_lazy("Western European (Windows-1252)"),
    "latin-1": "Latin-1 (ISO-8859-1)",
}
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
    encoding: str = ""  # the codec the text was read with ("" for XLSX)
    delimiter: str = ","
    position: callable = lambda: 0  # bytes (or rows for XLSX) read so far
    size: int = 0  # bytes (or rows) in all
    long_lines: list[tuple[int, int]] = field(default_factory=list)  # (line, characters)
    # The text layer over the caller's file: held here because a TextIOWrapper that is garbage
    # collected closes the file under it.
    text: io.TextIOBase | None = None


def open_table(stream: BinaryIO, size: int, encoding: str = "") -> Table:
    """The file's header and rows; `encoding` as staff chose it, or "" to detect it."""
    sample = stream.read(SAMPLE_BYTES)
    stream.seek(0)
    if not sample.strip(b" \t\r\n\xef\xbb\xbf\xff\xfe\x00"):
        raise UnreadableFile(_("The file is empty."))
    if sample.startswith(XLSX_MAGIC):
        return open_xlsx(stream)
    encoding = _checked(encoding) if encoding else sniff_encoding(sample)
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
        raise UnreadableFile(_("The file has no rows."))
    table.describe = csv_format_label(encoding, delimiter)
    table.encoding, table.delimiter = encoding, delimiter
    table.rows = _records(reader)
    return table


def _records(reader) -> Iterator[tuple[int, list[str]]]:
    """Each record with the line it starts on: a quoted field may hold line breaks, and a
    rejected row is found in the file by its first line."""
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise UnreadableFile(
                _(
                    "Line %(line)s cannot be read as CSV (%(error)s): often a quote that is "
                    "never closed. The rows before it were read."
                )
                % {"line": f"{start:,}", "error": exc}
            ) from None
        yield start, row
        start = reader.line_num + 1


def encoding_label(encoding: str) -> str:
    return str(ENCODINGS.get(encoding, encoding))


def csv_format_label(encoding: str, delimiter: str) -> str:
    """How a CSV file reads, in the reader's language: "CSV, UTF-8, comma-separated"."""
    separated = {
        "\t": _("tab-separated"),
        ",": _("comma-separated"),
        ";": _("semicolon-separated"),
        "|": _("bar-separated"),
    }.get(delimiter, "")
    return _("CSV, %(encoding)s, %(separated)s") % {
        "encoding": encoding_label(encoding),
        "separated": separated,
    }


def is_text_encoding(encoding: str) -> bool:
    """A codec that turns bytes into text (not `rot13` or `zlib`, which codecs also knows)."""
    try:
        return codecs.lookup(encoding)._is_text_encoding
    except LookupError:
        return False


def _checked(encoding: str) -> str:
    if encoding in ENCODINGS:
        return encoding
    if not is_text_encoding(encoding):
        raise UnreadableFile(
            _("“%(encoding)s” is not an encoding this portal knows.") % {"encoding": encoding}
        )
    return codecs.lookup(encoding).name


def sniff_file_encoding(stream: BinaryIO) -> str:
    """The encoding `open_table` would find in this file ("" for XLSX)."""
    sample = stream.read(SAMPLE_BYTES)
    if sample.startswith(XLSX_MAGIC):
        return ""
    try:
        return sniff_encoding(sample)
    except UnreadableFile:
        return "utf-8"  # binary: open_table says so when it reads the file


def sniff_encoding(sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in sample:
        raise UnreadableFile(
            _("This is not a text file (it holds binary data). Save it as CSV (UTF-8) or XLSX.")
        )
    head = sample[: sample.rfind(b"\n") + 1] or sample  # never judge a character cut in half
    if _mostly_utf8(head):
        return "utf-8"
    if _arabic_windows(head):
        return "cp1256"
    best = from_bytes(head).best()
    # Nothing fits: read it as UTF-8 all the same, so that what does not decode is rejected
    # row by row with its line, never turned silently into the wrong letters.
    return codecs.lookup(best.encoding).name if best else "utf-8"


def _mostly_utf8(head: bytes) -> bool:
    """UTF-8, perhaps with a few stray bytes (a file edited by two programs): those rows are
    rejected, the rest read right. Any other encoding of non-ASCII text almost never forms
    valid UTF-8 sequences, so a handful of errors among many good sequences is UTF-8."""
    text = head.decode("utf-8", errors="replace")
    errors = text.count("\ufffd")
    if not errors:
        return True
    good = sum(1 for ch in text if ord(ch) > 0x7F and ch != "\ufffd")
    return good >= 10 * errors


def _arabic_windows(head: bytes) -> bool:
    """Windows-1256, as Arabic Excel saves CSV, when its high bytes read as Arabic letters.
    charset-normalizer needs more text than a short file has to tell it from other code pages
    (a two-word name comes out as Central European), and this portal's files are mostly it."""
    high = bytes(b for b in head if b >= 0x80)
    arabic = sum(1 for ch in high.decode("cp1256", errors="ignore") if "\u0600" <= ch <= "\u06ff")
    return bool(high) and arabic >= len(high) * 0.6


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


def open_xlsx(stream: BinaryIO) -> Table:
    """The first sheet, streamed (openpyxl's read-only mode), once `check_xlsx` has found the
    archive within its limits: a zip bomb is refused before it is unpacked."""
    from openpyxl import load_workbook

    try:
        check_archive(stream)
        workbook = load_workbook(stream, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        check_sheet(stream, sheet._worksheet_path)
    except SpreadsheetRefused as exc:
        raise UnreadableFile(str(exc)) from None
    except Exception:  # zip or XML damage: openpyxl raises many types
        raise UnreadableFile(
            _(
                "This XLSX file cannot be opened: it is damaged, or not really a spreadsheet. "
                "Save it again from Excel, or as CSV."
            )
        ) from None
    size = sheet.max_row or 0  # as the sheet declares it: for the progress bar only
    # Read every row there is: the declared size may be stale (a sheet edited by a program
    # that never updates it), and read-only openpyxl would stop there, silently.
    sheet.reset_dimensions()
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
        raise UnreadableFile(_("The spreadsheet has no rows."))

    def numbered():
        for values in rows:
            progress["row"] += 1
            yield progress["row"], [_xlsx_text(v) for v in values]

    return Table(
        header=header,
        rows=numbered(),
        describe=_("XLSX, sheet “%(sheet)s”") % {"sheet": sheet.title},
        position=lambda: progress["row"],
        size=size,
    )


def _xlsx_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone number typed as a number
    return str(value)
