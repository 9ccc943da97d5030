"""An XLSX file is a zip of XML: two megabytes can unpack to gigabytes (a "zip bomb"), and one row
can hold millions of cells. Before openpyxl reads a byte of it, the archive's own directory is
checked (how much each part unpacks to, and by how much it grew), then the first sheet is scanned
as it unpacks, a megabyte at a time, counting rows and cells; a file past any limit is refused
with the reason. openpyxl then reads the sheet in read-only (streaming) mode.

Python's zipfile stops a member at the size its directory declares (and fails its checksum), so
the declared sizes are the ones that count.
"""

from __future__ import annotations

import re
import zipfile
from typing import BinaryIO

MB = 2**20
MAX_SHEET_BYTES = 256 * MB  # a million rows of contacts is about 150 MB of sheet XML
MAX_SHARED_STRINGS_BYTES = 64 * MB  # openpyxl holds every shared string in memory
MAX_OTHER_PART_BYTES = 16 * MB  # styles, workbook, themes...
MAX_PARTS = 2_000
MAX_GROWTH = 200  # unpacked / packed; spreadsheets' XML packs 5-30 times, bombs a thousand
MAX_ROWS = 1_100_000  # Excel's own limit is 1,048,576
MAX_COLUMNS = 200  # cells per row a contacts file could need, with room to spare
SCAN_CHUNK = MB

_ROW = re.compile(rb"<(?:\w+:)?row[\s/>]")
_CELL = re.compile(rb"<(?:\w+:)?c[\s/>]")


class SpreadsheetRefused(Exception):
    """The spreadsheet is over a limit; the message says which, for staff."""


def check_archive(stream: BinaryIO) -> None:
    """Refuse (SpreadsheetRefused) an archive with too many parts, or parts too big or grown too
    much when unpacked. Reads only the zip's directory. Leaves `stream` at its start."""
    try:
        with zipfile.ZipFile(stream) as archive:
            parts = archive.infolist()
            if len(parts) > MAX_PARTS:
                raise SpreadsheetRefused(
                    f"This spreadsheet has {len(parts):,} parts; a contacts file has a few dozen."
                )
            for part in parts:
                _check_part(part)
    finally:
        stream.seek(0)


def check_sheet(stream: BinaryIO, sheet_path: str) -> None:
    """Refuse a sheet with too many rows, or a row with too many cells, scanning it as it
    unpacks. Leaves `stream` at its start."""
    try:
        with zipfile.ZipFile(stream) as archive, archive.open(sheet_path.lstrip("/")) as sheet:
            _scan_sheet(sheet)
    finally:
        stream.seek(0)


def _check_part(part: zipfile.ZipInfo) -> None:
    name = part.filename
    if name.startswith("xl/worksheets/"):
        limit = MAX_SHEET_BYTES
    elif name.endswith("sharedStrings.xml"):
        limit = MAX_SHARED_STRINGS_BYTES
    else:
        limit = MAX_OTHER_PART_BYTES
    if part.file_size > limit:
        raise SpreadsheetRefused(
            f"This spreadsheet unpacks to more than a contacts file can hold: its part "
            f"“{name}” is {part.file_size / MB:,.0f} MB (the limit is {limit // MB:,} MB). "
            "Save it as CSV, or split it."
        )
    if part.file_size > MB and part.file_size > MAX_GROWTH * max(part.compress_size, 1):
        raise SpreadsheetRefused(
            f"This spreadsheet's part “{name}” grows from {part.compress_size / MB:,.1f} MB to "
            f"{part.file_size / MB:,.0f} MB when unpacked, as no real spreadsheet does: it is "
            "refused unread."
        )


def _scan_sheet(sheet) -> None:
    """Count rows and cells as the sheet unpacks, a chunk at a time: a chunk may hold at most
    MAX_COLUMNS cells per row it starts (plus one row carried over), so no row can hide
    millions of cells; one text may not fill a whole chunk."""
    rows = 0
    carry = b""
    while chunk := sheet.read(SCAN_CHUNK):
        data = carry + chunk
        cut = data.rfind(b"<")  # never split a tag: the rest waits for the next chunk
        if cut <= 0 and len(data) >= SCAN_CHUNK:
            raise SpreadsheetRefused(
                "This spreadsheet holds a single value of over a megabyte: not a contacts file."
            )
        data, carry = (data[:cut], data[cut:]) if cut > 0 else (data, b"")
        started = len(_ROW.findall(data))
        rows += started
        if rows > MAX_ROWS:
            raise SpreadsheetRefused(
                f"This spreadsheet has more than {MAX_ROWS:,} rows. Split it, or save it as CSV "
                "and import it with manage.py import_contacts."
            )
        if len(_CELL.findall(data)) > (started + 1) * MAX_COLUMNS:
            raise SpreadsheetRefused(
                f"This spreadsheet has rows of more than {MAX_COLUMNS:,} cells: not a contacts "
                "file."
            )
