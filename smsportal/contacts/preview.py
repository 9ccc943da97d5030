"""What staff see of an uploaded file before it is imported: how it was read (the encoding found,
which they may change), which column became what, and its first rows as they will be read."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import islice

from django.utils.translation import gettext as _

from .importer import Columns
from .models import ImportJob
from .reading import UnreadableFile, encoding_label, open_table, sniff_file_encoding
from .reasons import column_role

PREVIEW_ROWS = 10


@dataclass
class Preview:
    encoding: str = ""  # the one the rows below were read with ("" for XLSX)
    detected: str = ""  # the one the file seems to be in
    describe: str = ""
    header: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # header -> what it becomes
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    error: str = ""  # why the file cannot be imported as read
    spreadsheet: bool = False  # XLSX: no encoding to choose

    @property
    def detected_label(self) -> str:
        return encoding_label(self.detected)

    @property
    def encoding_label(self) -> str:
        return encoding_label(self.encoding)


def import_preview(job: ImportJob, encoding: str = "") -> Preview:
    """The first rows of `job`'s file, read in `encoding` ("" = as detected)."""
    preview = Preview()
    try:
        with job.file.open("rb") as stream:
            preview.detected = sniff_file_encoding(stream)
            preview.spreadsheet = not preview.detected
        with job.file.open("rb") as stream:
            table = open_table(stream, job.file.size, encoding=encoding)
            preview.encoding, preview.describe = table.encoding, table.describe
            preview.header = table.header
            preview.rows = [
                (line, cells + [""] * (len(table.header) - len(cells)))
                for line, cells in islice(table.rows, PREVIEW_ROWS)
            ]
            roles = Columns.from_header(table.header).describe(table.header)
            preview.columns = {header: column_role(role) for header, role in roles.items()}
    except UnreadableFile as exc:
        preview.error = str(exc)
    except FileNotFoundError:
        preview.error = _("The uploaded file is gone (uploads are deleted after a day unused).")
    return preview
