"""Peak memory of reading an XLSX import: a 100,000-row spreadsheet, and a zip bomb.

    .venv/bin/python bench/xlsx_memory.py [--rows 100000] [--bomb-mb 1024]

Each file is read by a fresh process that sets Django up, notes its memory, then opens the file
as the import does (`open_table`, openpyxl read-only behind `xlsx_limits`) and reads every row;
it reports how much its peak resident memory grew beyond the start (the limit: 100 MB) and the
time taken. The bomb is a real XLSX whose sheet unpacks to `--bomb-mb` MB of XML. Prints JSON.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.settings_env import django_env  # noqa: E402

READER = """
import json, resource, sys, time
import django
django.setup()
from smsportal.contacts.reading import UnreadableFile, open_table
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
rows, refused = 0, ""
try:
    with open(sys.argv[1], "rb") as f:
        table = open_table(f, 0)
        for _ in table.rows:
            rows += 1
except UnreadableFile as exc:
    refused = str(exc)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"rows": rows, "seconds": round(time.perf_counter() - started, 2),
                  "start_mb": round(before / 1024), "peak_mb": round(peak / 1024),
                  "growth_mb": round((peak - before) / 1024), "refused": refused}))
"""


def write_contacts(path: Path, rows: int) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["name", "phone", "email", "team"])
    for i in range(rows):
        sheet.append([f"Contact {i}", f"+9659{7000000 + i:07d}", f"c{i}@example.com", "Blue"])
    book.save(path)


def write_bomb(path: Path, megabytes: int) -> None:
    """A workbook whose one sheet is `megabytes` of rows of one repeated cell."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["phone"])
    plain = io.BytesIO()
    book.save(plain)
    row = b'<row><c t="inlineStr"><is><t>+96597119440</t></is></c></row>'
    block = row * (2**20 // len(row))
    with (
        zipfile.ZipFile(plain) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out,
    ):
        for part in source.infolist():
            data = source.read(part)
            if part.filename != "xl/worksheets/sheet1.xml":
                out.writestr(part, data)
                continue
            head, _, tail = data.partition(b"<sheetData>")
            tail = tail.partition(b"</sheetData>")[2]
            with out.open(part.filename, "w", force_zip64=True) as sheet:
                sheet.write(head + b"<sheetData>")
                for _ in range(megabytes):
                    sheet.write(block)
                sheet.write(b"</sheetData>" + tail)


def measure(path: Path, env: dict) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", READER, str(path)], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    return {"file_mb": round(path.stat().st_size / 2**20, 2), **json.loads(done.stdout)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--bomb-mb", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = django_env(f"sqlite:///{tmp / 'bench.sqlite3'}")
        contacts, bomb = tmp / "contacts.xlsx", tmp / "bomb.xlsx"
        started = time.perf_counter()
        write_contacts(contacts, args.rows)
        write_bomb(bomb, args.bomb_mb)
        result = {
            "made_in_seconds": round(time.perf_counter() - started, 1),
            f"xlsx_{args.rows}_rows": measure(contacts, env),
            f"bomb_{args.bomb_mb}_mb_of_xml": measure(bomb, env),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
