"""Importing contacts: columns mapped by their header names, every row parsed and checked, and the
contacts written in bulk, a chunk at a time. One bad row never stops an import: it is rejected
with its line number and the reason. Importing the same file again changes nothing.

A valid number is never lost for a cosmetic reason: a name too long for the field is cut, an
email address that is not one is left out, and the row is imported with a warning (a `Rejection`
with `kept=True`) rather than rejected.

Used by `manage.py import_contacts` and by the browser's import (a background task); both see
progress through `on_progress` and rejected (and kept-with-a-warning) rows through `on_rejected`.
"""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, connection, transaction
from django.utils import timezone, translation

from smsportal.sms.phones import parse_phone

from .models import Contact, ContactField, ContactList, header_form
from .reading import Table, UnreadableFile, unescape

CHUNK = 5_000
PARALLEL_FROM_BYTES = 4 * 2**20  # files from this size are parsed in another process
IN_FLIGHT = 4  # batches handed to the parsing process ahead of the one being written


def parse_processes_for(size: int) -> int:
    """How many processes should parse a file of `size` bytes beside the one writing."""
    return 1 if size >= PARALLEL_FROM_BYTES and (os.cpu_count() or 1) > 1 else 0


INSERT_BATCH = 500  # rows per INSERT statement: 3,500 parameters, under every backend's limit
LOOKUP_BATCH = 2_500  # phones per statement looking for duplicates: 5,000 parameters
PHONE_HEADERS = {"phone", "mobile", "number", "msisdn", "phone number", "mobile number", "tel"}
NAME_HEADERS = {"name", "full name", "contact", "contact name"}
EMAIL_HEADERS = {"email", "e-mail", "email address"}
ATTRIBUTES_HEADER = "attributes"  # our own export: the extra columns as one JSON object
# The columns a rejected-rows file adds before each row: ignored when that file, corrected, is
# imported again.
REJECTED_LINE_HEADER, REJECTED_REASON_HEADER = "rejected line", "rejected because"
NAME_MAX = Contact._meta.get_field("name").max_length


@dataclass
class Options:
    region: str
    update_existing: bool = True  # False: contacts already known are left as they are
    dry_run: bool = False
    contact_list: ContactList | None = None
    # Whose contacts these are (a number is matched against this department's contacts only);
    # None: the whole organisation's.
    department_id: int | None = None
    # Processes parsing rows beside the one writing them; 0 parses in this process. Worth it
    # for big files only (starting processes costs more than a small file takes).
    parse_processes: int = 0


@dataclass
class Rejection:
    line: int
    raw: str  # the row as it was in the file, written with the file's delimiter
    reason: str
    kept: bool = False  # imported all the same, with what `reason` says was changed


@dataclass
class Summary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    warned: int = 0  # imported, with a change the report explains (a name cut, ...)
    added_to_list: int = 0
    described: str = ""
    columns: dict[str, str] = field(default_factory=dict)  # header -> what it became


@dataclass
class Columns:
    phone: int
    name: int | None
    email: int | None
    attributes_json: int | None
    extra: dict[int, str]  # index -> attribute name (a custom field's key where one matches)
    field_labels: dict[str, str] = field(default_factory=dict)  # key -> label, of fields matched

    @classmethod
    def from_header(cls, header: list[str], fields: dict[str, str] | None = None) -> Columns:
        """Which column is what. `fields` maps a custom field's header form (its key or label,
        see `header_form`) to its key; a column so headed fills that field, any other column
        is kept under its own header."""
        if fields is None:
            fields = ContactField.objects.header_map()
        lowered = [h.strip().lower().replace("_", " ") for h in header]
        phone = next((i for i, h in enumerate(lowered) if h in PHONE_HEADERS), None)
        if phone is None:
            shown = ", ".join(f"“{h}”" for h in header if h) or "nothing"
            raise UnreadableFile(
                "No phone column: name one “phone”, “mobile”, “number” or “msisdn”. "
                f"The first row holds {shown}."
            )
        name = next((i for i, h in enumerate(lowered) if h in NAME_HEADERS), None)
        email = next((i for i, h in enumerate(lowered) if h in EMAIL_HEADERS), None)
        attributes = next((i for i, h in enumerate(lowered) if h == ATTRIBUTES_HEADER), None)
        ignored = {REJECTED_LINE_HEADER, REJECTED_REASON_HEADER}
        known = {phone, name, email, attributes} | {
            i for i, h in enumerate(lowered) if h in ignored
        }
        extra = {
            i: fields.get(header_form(h), h.strip())
            for i, h in enumerate(header)
            if i not in known and h.strip()
        }
        return cls(phone, name, email, attributes, extra, {k: k for k in fields.values()})

    def describe(self, header: list[str]) -> dict[str, str]:
        described = {header[self.phone]: "phone"}
        if self.name is not None:
            described[header[self.name]] = "name"
        if self.email is not None:
            described[header[self.email]] = "email"
        if self.attributes_json is not None:
            described[header[self.attributes_json]] = "attributes (JSON)"
        described.update(
            {
                header[i]: f"the field {{{key}}}" if key in self.field_labels else "attribute"
                for i, key in self.extra.items()
            }
        )
        return described


@dataclass
class Row:
    line: int
    phone: str
    name: str
    email: str
    attributes: dict


def import_contacts(
    table: Table,
    options: Options,
    *,
    on_progress: Callable[[Summary], None] = lambda summary: None,
    on_rejected: Callable[[list[Rejection]], None] = lambda rejections: None,
) -> Summary:
    columns = Columns.from_header(table.header)
    summary = Summary(described=table.describe, columns=columns.describe(table.header))
    chunk: list[Row] = []
    rejected: list[Rejection] = []
    delimiter = table.delimiter

    def flush() -> None:
        if chunk:
            _write(chunk, options, summary)
            chunk.clear()
        for line, length in table.long_lines:
            rejected.append(Rejection(line, "", f"line of {length:,} characters: too long"))
        table.long_lines.clear()
        if rejected:
            rejected.sort(key=lambda r: r.line)
            warned = sum(1 for r in rejected if r.kept)
            summary.warned += warned
            summary.rejected += len(rejected) - warned
            on_rejected(list(rejected))
            rejected.clear()
        on_progress(summary)

    parse = partial(
        _parse_batch,
        columns=columns,
        width=len(table.header),
        region=options.region,
        delimiter=delimiter,
    )
    with (
        _parsed(parse, _batches(table), options.parse_processes) as batches,
        SeenPhones() as seen,
    ):
        for batch in batches:
            # Duplicates inside the file: the first line of each phone is kept in a temporary
            # table, not in memory, so a file of millions costs the same memory as a small one.
            earlier = seen.first_lines([row.phone for _, row, _, _ in batch if row is not None])
            firsts: list[tuple[str, int]] = []
            for line, row, reason, raw in batch:
                summary.rows += 1
                if row is not None and row.phone in earlier:
                    reason = f"duplicate of line {earlier[row.phone]}"
                    row, raw = None, raw if isinstance(raw, str) else _raw(raw, delimiter)
                if row is None:
                    rejected.append(Rejection(line, raw, reason))
                    continue
                earlier[row.phone] = line
                firsts.append((row.phone, line))
                chunk.append(row)
                if reason:
                    rejected.append(Rejection(line, raw, reason, kept=True))
            seen.add(firsts)
            flush()
    return summary


class SeenPhones:
    """The phones an import has met so far, with the line each first appeared on: a temporary
    table of this connection (dropped at the end), asked once per batch."""

    def __init__(self) -> None:
        self.table = connection.ops.quote_name(f"import_seen_{uuid.uuid4().hex}")

    def __enter__(self) -> SeenPhones:
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {self.table} (phone VARCHAR(32) PRIMARY KEY, line INTEGER)"
            )
        return self

    def __exit__(self, exc_type, *exc) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {self.table}")
        except DatabaseError:
            if exc_type is None:
                raise  # else the import's own error is the one to report (the table goes
                # with the connection anyway)

    def first_lines(self, phones: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        with connection.cursor() as cursor:
            for start in range(0, len(phones), LOOKUP_BATCH):
                part = phones[start : start + LOOKUP_BATCH]
                marks = ", ".join(["%s"] * len(part))
                cursor.execute(
                    f"SELECT phone, line FROM {self.table} WHERE phone IN ({marks})",  # noqa: S608
                    part,
                )
                found.update(cursor.fetchall())
        return found

    def add(self, firsts: list[tuple[str, int]]) -> None:
        with connection.cursor() as cursor:
            for start in range(0, len(firsts), LOOKUP_BATCH):
                part = firsts[start : start + LOOKUP_BATCH]
                marks = ", ".join(["(%s, %s)"] * len(part))
                cursor.execute(
                    f"INSERT INTO {self.table} (phone, line) VALUES {marks}",  # noqa: S608
                    [value for pair in part for value in pair],
                )


def _batches(table: Table) -> Iterator[list[tuple[int, list[str]]]]:
    batch = []
    for line, cells in table.rows:
        if any(cell.strip() for cell in cells):
            batch.append((line, cells))
            if len(batch) >= CHUNK:
                yield batch
                batch = []
    if batch:
        yield batch


def _parse_batch(batch, *, columns: Columns, width: int, region: str, delimiter: str):
    """Pure (no database): rows parsed and checked, so it can run in another process.

    Each row comes back as (line, Row or None, reason, raw): the reason says why a row was
    rejected, or what was changed in one kept; raw is the row as written in the file when
    there is a reason, else its cells (formatted only if it turns out to be a duplicate)."""
    parsed = []
    for line, cells in batch:
        row, reason = _row(line, cells, columns, width, region)
        parsed.append((line, row, reason, _raw(cells, delimiter) if reason else cells))
    return parsed


@contextmanager
def _parsed(parse, batches, processes: int):
    """Batches parsed here, or by `processes` other processes while this one writes: parsing
    phone numbers is most of an import's work, and a machine has more than one core."""
    if processes < 1:
        yield map(parse, batches)
        return
    # fork: the children inherit the loaded code and settings, and never touch the database.
    with multiprocessing.get_context("fork").Pool(processes) as pool:

        def in_order():
            # At most IN_FLIGHT batches read ahead (Pool.imap would read the whole file).
            pending = deque()
            for batch in batches:
                pending.append(pool.apply_async(parse, (batch,)))
                if len(pending) >= IN_FLIGHT:
                    yield pending.popleft().get()
            while pending:
                yield pending.popleft().get()

        yield in_order()


def _raw(cells: list[str], delimiter: str) -> str:
    """The row as the file had it (its delimiter, CSV quoting), to show and to download."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="").writerow(cells)
    return out.getvalue()[:10_000].replace("\x00", "\ufffd")  # a text column holds no NUL


def raw_cells(raw: str, delimiter: str) -> list[str]:
    """The cells of a row kept by `_raw`."""
    return next(csv.reader([raw], delimiter=delimiter), [])


def _row(
    line: int, cells: list[str], columns: Columns, width: int, region: str
) -> tuple[Row | None, str]:
    cells = [unescape(cell) for cell in cells]
    if len(cells) > width and any(c.strip() for c in cells[width:]):
        return None, f"{len(cells)} cells, but the header has {width}"
    joined = "".join(cells)
    if "\ufffd" in joined:
        return None, "characters that are not valid in the file's encoding"
    if "\x00" in joined:
        return None, "a NUL character (binary data)"

    def cell(index: int | None) -> str:
        return cells[index].strip() if index is not None and index < len(cells) else ""

    raw_phone = cell(columns.phone)
    if not raw_phone:
        return None, "no phone number"
    parsed = parse_phone(raw_phone, region)
    if not parsed.valid:
        # Stored in English whatever the language of the request that ran the import: the
        # import page translates it for each reader (contacts/reasons.py).
        with translation.override(None):
            return None, f"invalid phone number “{raw_phone[:40]}”: {parsed.error}"
    # From here on the number is good: what is wrong is mended and said, never a reason to
    # lose the contact.
    changes = []
    email = cell(columns.email)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            changes.append(f"email address “{email[:60]}” is not valid: left out")
            email = ""
    attributes = {}
    if columns.attributes_json is not None and (text := cell(columns.attributes_json)):
        try:
            attributes = json.loads(text)
        except ValueError:
            attributes = None
        if not isinstance(attributes, dict):
            changes.append("the attributes column is not a JSON object: left out")
            attributes = {}
    attributes.update({name: cell(i) for i, name in columns.extra.items() if cell(i)})
    name = cell(columns.name)
    if len(name) > NAME_MAX:
        changes.append(f"name of {len(name):,} characters cut to {NAME_MAX}")
        name = name[:NAME_MAX].rstrip()
    return Row(line, parsed.e164, name, email, attributes), "; ".join(changes)


def _write(rows: list[Row], options: Options, summary: Summary) -> None:
    """Create the new, update the changed (empty cells never erase what is known), count the
    rest; then put them all on the list. One transaction per chunk."""
    phones = [row.phone for row in rows]
    mine = Contact.objects.filter(department_id=options.department_id)
    known = {
        phone: (pk, name, email, attributes)
        for pk, phone, name, email, attributes in mine.filter(phone__in=phones).values_list(
            "id", "phone", "name", "email", "attributes"
        )
    }
    new = [r for r in rows if r.phone not in known]
    changed = []
    now = timezone.now()
    for row in rows:
        if row.phone not in known:
            continue
        pk, name, email, attributes = known[row.phone]
        if not options.update_existing:
            summary.unchanged += 1
            continue
        merged = {**attributes, **row.attributes}
        after = (row.name or name, row.email or email, merged)
        if after == (name, email, attributes):
            summary.unchanged += 1
        else:
            changed.append(
                Contact(
                    pk=pk,
                    name=after[0],
                    name_key=Contact.key_of(after[0]),
                    email=after[1],
                    attributes=merged,
                    measures=Contact.measures_of(row.phone, after[0], after[1], merged),
                    updated_at=now,
                )
            )
    summary.created += len(new)
    summary.updated += len(changed)
    if options.dry_run:
        return
    with transaction.atomic():
        _insert(new, now, options.department_id)
        if changed:
            fields = ["name", "name_key", "email", "attributes", "measures", "updated_at"]
            Contact.objects.bulk_update(changed, fields, batch_size=500)
        if options.contact_list is not None:
            ids = [pk for pk, *_ in known.values()]
            if new:
                ids += mine.filter(phone__in=[r.phone for r in new]).values_list("id", flat=True)
            summary.added_to_list += options.contact_list.add(ids)


def _insert(rows: list[Row], now, department_id: int | None) -> None:
    """New contacts in one multi-row INSERT statement per batch: the same rows as bulk_create
    would write, at several times its speed (no model instances, values adapted once). On
    PostgreSQL, COPY: one stream per chunk, no statement to parse or parameters to bind."""
    if not rows:
        return
    ops = connection.ops
    meta = Contact._meta
    columns = [
        "phone",
        "name",
        "name_key",
        "email",
        "attributes",
        "measures",
        "created_at",
        "updated_at",
        "department",
    ]
    names = ", ".join(ops.quote_name(meta.get_field(c).column) for c in columns)
    if connection.vendor == "postgresql":
        statement = f"COPY {ops.quote_name(meta.db_table)} ({names}) FROM STDIN"
        _copy(rows, now, department_id, statement)
        return
    stamp = ops.adapt_datetimefield_value(now)
    for start in range(0, len(rows), INSERT_BATCH):
        batch = rows[start : start + INSERT_BATCH]
        values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(batch))
        params = []
        for r in batch:
            attributes = ops.adapt_json_value(r.attributes, None)
            measures = ops.adapt_json_value(
                Contact.measures_of(r.phone, r.name, r.email, r.attributes), None
            )
            key = Contact.key_of(r.name)
            params += [r.phone, r.name, key, r.email, attributes, measures, stamp, stamp]
            params.append(department_id)
        with connection.cursor() as cursor:
            cursor.execute(
                # Only quoted model names and placeholders are formatted in; data goes as params.
                f"INSERT INTO {ops.quote_name(meta.db_table)} ({names}) VALUES {values}",  # noqa: S608
                params,
            )


def _copy(rows: list[Row], now, department_id: int | None, statement: str) -> None:
    """The rows through psycopg's COPY (text format: psycopg escapes every value)."""
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for r in rows:
            copy.write_row(
                (
                    r.phone,
                    r.name,
                    Contact.key_of(r.name),  # the same key as save() and the INSERT path
                    r.email,
                    json.dumps(r.attributes),
                    json.dumps(Contact.measures_of(r.phone, r.name, r.email, r.attributes)),
                    now,
                    now,
                    department_id,
                )
            )
