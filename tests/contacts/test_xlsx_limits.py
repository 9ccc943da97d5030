"""A spreadsheet is refused, with the reason, before it can fill the worker's memory: parts
that unpack too big or grow too much (a zip bomb), too many rows, rows of too many cells."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook

from smsportal.contacts import xlsx_limits
from smsportal.contacts.reading import UnreadableFile, open_table

ROW = b'<row><c t="inlineStr"><is><t>+96597119440</t></is></c></row>'


def xlsx_with_sheet(sheet_data: bytes) -> bytes:
    """A real workbook (openpyxl's) whose first sheet's rows are `sheet_data`."""
    book = Workbook()
    book.active.append(["phone"])
    plain = io.BytesIO()
    book.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for part in source.infolist():
            data = source.read(part)
            if part.filename == "xl/worksheets/sheet1.xml":
                head, _, tail = data.partition(b"<sheetData>")
                tail = tail.partition(b"</sheetData>")[2]
                data = head + b"<sheetData>" + sheet_data + b"</sheetData>" + tail
            z.writestr(part, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def read(data: bytes):
    table = open_table(io.BytesIO(data), len(data))
    return table.header, list(table.rows)


def test_a_sheet_within_the_limits_is_read():
    rows = b"".join(
        b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>%s</t></is></c></row>' % (i, i, text)
        for i, text in enumerate([b"phone", b"+96597119440", b"+96597119441"], start=1)
    )
    header, rows = read(xlsx_with_sheet(rows))
    assert header == ["phone"]
    assert rows == [(2, ["+96597119440"]), (3, ["+96597119441"])]


def test_a_zip_bomb_is_refused_unread():
    bomb = xlsx_with_sheet(ROW * 100_000)  # 6 MB of XML in a few kilobytes
    assert len(bomb) < 100_000
    with pytest.raises(UnreadableFile, match=r"grows from 0\.0 MB to 6 MB when unpacked"):
        read(bomb)


def test_a_part_that_unpacks_past_the_limit_is_refused(monkeypatch):
    monkeypatch.setattr(xlsx_limits, "MAX_SHEET_BYTES", 2**20)
    monkeypatch.setattr(xlsx_limits, "MAX_GROWTH", 10_000)
    with pytest.raises(UnreadableFile, match=r"“xl/worksheets/sheet1.xml” is 6 MB"):
        read(xlsx_with_sheet(ROW * 100_000))


def test_a_row_of_too_many_cells_is_refused():
    cells = b'<c t="inlineStr"><is><t>1</t></is></c>' * 5_000
    with pytest.raises(UnreadableFile, match="rows of more than 200 cells"):
        read(xlsx_with_sheet(b"<row>" + cells + b"</row>"))


def test_too_many_rows_are_refused(monkeypatch):
    monkeypatch.setattr(xlsx_limits, "MAX_ROWS", 100)
    with pytest.raises(UnreadableFile, match="more than 100 rows"):
        read(xlsx_with_sheet(ROW * 101))
    read(xlsx_with_sheet(ROW * 100))


def test_a_single_huge_value_is_refused_even_when_it_packs_badly(monkeypatch):
    monkeypatch.setattr(xlsx_limits, "MAX_GROWTH", 10_000)
    cell = b'<row><c t="inlineStr"><is><t>' + b"x" * (3 * 2**20) + b"</t></is></c></row>"
    with pytest.raises(UnreadableFile, match="a single value of over a megabyte"):
        read(xlsx_with_sheet(cell))
