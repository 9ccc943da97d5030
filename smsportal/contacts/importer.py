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
import gc
import io
import json
import multiprocessing
import os
import re
import sqlite3
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import NamedTuple

from django.core.validators import validate_email
from django.db import DatabaseError, connection, transaction
from django.utils import timezone, translation

from smsportal.sms.phones import parse_phone

from .models import Contact, ContactField, ContactList, header_form
from .reading import Table, UnreadableFile, unescape

CHUNK = 5_000
# SQLite's page cache for the import's connection while it runs (the default is 2 MB): the
# indexes' pages that the next chunks change are found in memory rather than read again.
IMPORT_CACHE_KIB = 32 * 1024
PARALLEL_FROM_BYTES = 4 * 2**20  # files from this size are parsed in another process
# Batches handed to the parsing process ahead of the one being written: the writer is the slower
# side, and 4 held 15 MB more at the peak than 2 for no measurable speed (docs/benchmarks.md).
IN_FLIGHT = 2


def parse_processes_for(size: int) -> int:
    """How many processes should parse a file of `size` bytes beside the one writing."""
    return 1 if size >= PARALLEL_FROM_BYTES and (os.cpu_count() or 1) > 1 else 0


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


class Row(NamedTuple):
    """A row to write (made by `new_row`). A tuple, not a dataclass: a batch comes back from the
    parsing process pickled, and tuples unpickle in about half the time of dataclass instances
    (which the writing process spent as much CPU on as on its INSERTs' Python side)."""

    line: int
    phone: str
    name: str
    email: str
    attributes: dict
    # What a new contact's INSERT writes besides: worked out where the row is parsed (another
    # process for a big file), not by the process writing.
    name_key: str
    attributes_json: str
    measures_json: str
    # PostgreSQL: the row's columns as COPY text ("" when not asked for), so that the process
    # writing only joins strings.
    copy_text: str


def new_row(
    line: int, phone: str, name: str, email: str, attributes: dict, *, copy_text: bool = False
) -> Row:
    name_key = Contact.key_of(name)
    attributes_json = to_json(attributes)
    measures_json = to_json(Contact.measures_of(phone, name, email, attributes))
    text = (
        _copy_text(phone, name, name_key, email, attributes_json, measures_json)
        if copy_text
        else ""
    )
    return Row(line, phone, name, email, attributes, name_key, attributes_json, measures_json, text)


# `json.dumps(value)` with its default options, but with one encoder made once: `dumps` makes a
# new one for every call, most of what it costs for a contact's small dicts (two a row). The
# same text as `dumps` (tests/contacts/test_importer.py); never circular here (a row's values
# come from a file), so no check for it.
_ENCODE = json.encoder.c_make_encoder and json.encoder.c_make_encoder(
    None,
    json.JSONEncoder().default,
    json.encoder.encode_basestring_ascii,
    None,
    ": ",
    ", ",
    False,
    False,
    True,
)


def to_json(value) -> str:
    return "".join(_ENCODE(value, 0)) if _ENCODE else json.dumps(value)


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
        copy_text=connection.vendor == "postgresql" and not options.dry_run,
    )
    with (
        _parsed(parse, _batches(table), options.parse_processes) as batches,
        _import_settings(),
        _page_cache(IMPORT_CACHE_KIB),
        SeenPhones() as seen,
    ):
        # A transaction a chunk (`_write`), not more: on SQLite the import holds the database's
        # one write lock while its transaction is open, and the moments between chunks are
        # when the worker and the web pages write. Ten chunks a transaction went in faster,
        # but another connection's one-row write then waited 4.6 s (median) instead of 0.07 s.
        for cells, batch in batches:
            chunk.extend(_kept(batch, cells, seen, summary, rejected, delimiter))
            flush()
    return summary


def _kept(batch, cells, seen: SeenPhones, summary: Summary, rejected: list, delimiter: str):
    """The rows of a parsed batch to write; the others (a bad row, a phone met on an earlier
    line) go to `rejected`, as do those kept with a warning."""
    # Duplicates inside the file: the first line of each phone is kept in a temporary table,
    # not in memory, so a file of millions costs the same memory as a small one.
    firsts: dict[str, int] = {}  # this batch's phones, each with its first line here
    for line, row, _, _ in batch:
        if row is not None:
            firsts.setdefault(row.phone, line)
    earlier = seen.claim(firsts)  # those met in an earlier batch: their first line
    kept = []
    for index, (line, row, reason, raw) in enumerate(batch):
        summary.rows += 1
        if row is not None:
            first = earlier.get(row.phone, firsts[row.phone])
            if first != line:
                reason = f"duplicate of line {first}"
                row = None
                if raw is None:  # the file's own row, from this process's copy
                    raw = _raw(cells[index][1], delimiter)
        if row is None:
            rejected.append(Rejection(line, raw, reason))
            continue
        kept.append(row)
        if reason:
            rejected.append(Rejection(line, raw, reason, kept=True))
    return kept


@contextmanager
def _page_cache(kib: int):
    """SQLite: a page cache of `kib` KiB for this connection, the size as it was again after."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (before,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = {-int(kib)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


# PostgreSQL settings for the import's own statements (its session), each as it was again after.
# - No JIT compilation: a first import's statements were estimated costly enough for JIT (the
#   table's statistics lag far behind a growing table), and the backend loaded LLVM, 51-55 MB
#   of the 70-88 MB of its own memory, to compile statements that take milliseconds.
# - No bitmap scans, so no trigram (GIN) index for a lookup by phone: on those statistics the
#   planner chose the search index for `phone = …` over the phone's b-tree, and each of a
#   chunk's 5,000 probes then read the index's list of pending entries: more than half of a
#   first import's time. A GIN index is read by bitmap scans only; the b-trees answer alone.
IMPORT_SETTINGS = {"jit": "off", "enable_bitmapscan": "off"}


@contextmanager
def _import_settings():
    if connection.vendor != "postgresql":
        yield
        return
    names = list(IMPORT_SETTINGS)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, current_setting(name) FROM unnest(%s::text[]) AS s(name)", [names]
        )
        before = dict(cursor.fetchall())
        for name, value in IMPORT_SETTINGS.items():
            cursor.execute("SELECT set_config(%s, %s, false)", [name, value])
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                for name, value in before.items():
                    cursor.execute("SELECT set_config(%s, %s, false)", [name, value])
        except DatabaseError:
            pass  # inside a transaction the import's error aborted: its rollback puts the
            # settings back, and the import's own error is the one to report


class SeenPhones:
    """The phones an import has met so far, with the line each first appeared on: a temporary
    table of this connection (dropped at the end), not a dict of every phone in memory. A batch
    reads the phones met before (with their first line) and records the others: on PostgreSQL
    in one statement, returning only those met before; on SQLite in two (no round trip)."""

    def __init__(self) -> None:
        self.table = connection.ops.quote_name(f"import_seen_{uuid.uuid4().hex}")
        self.postgres = connection.vendor == "postgresql"

    def __enter__(self) -> SeenPhones:
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {self.table} (phone VARCHAR(32) PRIMARY KEY, line INTEGER)"
                + ("" if self.postgres else " WITHOUT ROWID")  # SQLite: one b-tree, not two
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

    def claim(self, firsts: dict[str, int]) -> dict[str, int]:
        """Record each phone of `firsts` (phone → the line it is first on in this batch) not met
        before; return those met before, with the line they were first met on."""
        if not firsts:
            return {}
        with connection.cursor() as cursor:
            # Literal SQL; the data goes as one or two parameters (no limit on how many
            # phones). The phones met before are read by a probe of the primary key per phone
            # (the temporary table is never analysed); only they come back, usually none.
            if self.postgres:
                # One statement: every part of it sees the table as it was before, so `met` is
                # the phones of earlier batches and `added` records the rest.
                cursor.execute(
                    "WITH batch AS (SELECT * FROM unnest(string_to_array(%s, ' '),"  # noqa: S608
                    " string_to_array(%s, ' ')::integer[]) AS b(phone, line)),"
                    " met AS (SELECT s.phone, s.line FROM batch b CROSS JOIN LATERAL"
                    f" (SELECT * FROM {self.table} s WHERE s.phone = b.phone LIMIT 1) s),"
                    f" added AS (INSERT INTO {self.table} (phone, line)"
                    " SELECT phone, line FROM batch ON CONFLICT (phone) DO NOTHING)"
                    " SELECT phone, line FROM met",
                    [" ".join(firsts), " ".join(map(str, firsts.values()))],
                )
                return dict(cursor.fetchall())
            cursor.execute(
                f"SELECT s.phone, s.line FROM json_each(%s) AS p CROSS JOIN {self.table} s"  # noqa: S608
                " ON s.phone = p.value ->> 0",
                [pairs := json.dumps(list(firsts.items()))],
            )
            met = dict(cursor.fetchall())
            if len(met) < len(firsts):
                cursor.execute(
                    f"INSERT INTO {self.table} (phone, line)"  # noqa: S608
                    " SELECT value ->> 0, value ->> 1 FROM json_each(%s) WHERE true"
                    " ON CONFLICT (phone) DO NOTHING",
                    [pairs],
                )
            return met


def _batches(table: Table) -> Iterator[list[tuple[int, list[str]]]]:
    batch = []
    for line, cells in table.rows:
        if any(map(str.strip, cells)):  # a row of empty or blank cells is no row
            batch.append((line, cells))
            if len(batch) >= CHUNK:
                yield batch
                batch = []
    if batch:
        yield batch


def _parse_batch(
    batch, *, columns: Columns, width: int, region: str, delimiter: str, copy_text: bool = False
):
    """Pure (no database): rows parsed and checked, so it can run in another process.

    Each row comes back as (line, Row or None, reason, raw): the reason says why a row was
    rejected, or what was changed in one kept; raw is the row as written in the file when
    there is a reason, else None (the cells are not sent back: the caller has them, and
    formats them only if the row turns out to be a duplicate). With `copy_text`, each Row also
    carries its columns as PostgreSQL's COPY reads them."""
    parsed = []
    for line, cells in batch:
        row, reason = _row(line, cells, columns, width, region, copy_text)
        parsed.append((line, row, reason, _raw(cells, delimiter) if reason else None))
    return parsed


# COPY's text format: a backslash, a tab, a newline or a carriage return inside a value is
# written as its escape, the rest as it is.
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
# The columns `_copy_text` writes, in its order; `_copy` adds COPY_TAIL_COLUMNS after them.
COPY_COLUMNS = ("phone", "name", "name_key", "email", "attributes", "measures")
COPY_TAIL_COLUMNS = ("created_at", "updated_at", "department")


def _copy_text(*values: str) -> str:
    """A row's own columns (the values of COPY_COLUMNS, in order) as one line of COPY text,
    without its end."""
    # Joined by NUL, which no value holds (a row with one is rejected; JSON escapes it), then
    # escaped only when there is something to escape: most rows have nothing (a translate of
    # every value cost six times as much).
    text = "\x00".join(values)
    if _COPY_SPECIAL.search(text):
        text = text.translate(_COPY_ESCAPES)
    return text.replace("\x00", "\t")


def _row_copy_text(r: Row) -> str:
    return _copy_text(r.phone, r.name, r.name_key, r.email, r.attributes_json, r.measures_json)


@contextmanager
def _parsed(parse, batches, processes: int):
    """Batches parsed here, or by `processes` other processes while this one writes: parsing
    phone numbers is most of an import's work, and a machine has more than one core. Yields
    each batch of cells with what `parse` made of it."""
    if processes < 1:
        yield ((batch, parse(batch)) for batch in batches)
        return
    # fork: the children inherit the loaded code and settings, and never touch the database.
    # Frozen, the objects loaded so far (code, settings, modules) are left alone by the children's
    # garbage collector, whose passes would write to them and so make each child its own copy
    # of the pages they are on (17 MB of a parsing process's 68).
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(processes) as pool:

            def in_order():
                # At most IN_FLIGHT batches read ahead (Pool.imap would read the whole file).
                pending = deque()
                for batch in batches:
                    pending.append((batch, pool.apply_async(parse, (batch,))))
                    if len(pending) >= IN_FLIGHT:
                        batch, parsed = pending.popleft()
                        yield batch, parsed.get()
                while pending:
                    batch, parsed = pending.popleft()
                    yield batch, parsed.get()

            yield in_order()
    finally:
        gc.unfreeze()


def _raw(cells: list[str], delimiter: str) -> str:
    """The row as the file had it (its delimiter, CSV quoting), to show and to download."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="").writerow(cells)
    return out.getvalue()[:10_000].replace("\x00", "\ufffd")  # a text column holds no NUL


def raw_cells(raw: str, delimiter: str) -> list[str]:
    """The cells of a row kept by `_raw`."""
    return next(csv.reader([raw], delimiter=delimiter), [])


# Django's own e-mail validator, its regular expressions compiled once here (its are lazy
# objects, every use of them a proxy call) and each domain's answer kept: a file has few domains.
_EMAIL_USER = re.compile(validate_email.user_regex.pattern, validate_email.user_regex.flags)


@lru_cache(maxsize=4096)
def _email_domain_is_valid(domain: str) -> bool:
    return domain in validate_email.domain_allowlist or validate_email.validate_domain_part(domain)


def email_is_valid(email: str) -> bool:
    """What `validate_email` accepts (tests/contacts/test_importer.py holds it to it), at a
    tenth of its cost: its steps, in its order."""
    if "@" not in email or len(email) > 320:
        return False
    user, domain = email.rsplit("@", 1)
    return bool(_EMAIL_USER.match(user)) and _email_domain_is_valid(domain)


def _row(
    line: int, cells: list[str], columns: Columns, width: int, region: str, copy_text: bool = False
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
    if email and not email_is_valid(email):
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
    row = new_row(line, parsed.e164, name, email, attributes, copy_text=copy_text)
    return row, "; ".join(changes)


def _write(rows: list[Row], options: Options, summary: Summary) -> None:
    """Create the new, update the changed (empty cells never erase what is known), count the
    rest; then put them all on the list. One transaction per chunk."""
    phones = [row.phone for row in rows]
    # Attributes as JSON text (`known_contacts`), parsed below only when needed.
    known = {
        phone: (pk, name, email, attributes)
        for pk, phone, name, email, attributes in known_contacts(phones, options.department_id)
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
        if attributes == row.attributes_json and (row.name or name, row.email or email) == (
            name,
            email,
        ):
            # The stored text is the one this row's attributes make (a file imported again):
            # nothing changes, and the text need not be parsed (a fifth of the writing
            # process's CPU when every row is known).
            summary.unchanged += 1
            continue
        attributes = json.loads(attributes)
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
                new_phones = [r.phone for r in new]
                ids += [pk for (pk,) in known_contacts(new_phones, options.department_id, ["id"])]
            summary.added_to_list += options.contact_list.add(ids)


KNOWN_COLUMNS = ("id", "phone", "name", "email", "attributes")


def known_contacts(phones: list[str], department_id: int | None, columns=KNOWN_COLUMNS):
    """Rows of `columns` of the department's contacts (the organisation's when None) with these
    phones, found phone by phone through an index on the phone.

    The loop is spelled out (SQLite: CROSS JOIN keeps the phones outside; PostgreSQL: a
    LATERAL probe per phone, the department only checked, so no index on the department alone
    can be chosen) rather than left to the planner: `filter(phone__in=…)` walked every contact
    of the department for every chunk — on SQLite for the model's newest-first ordering, on
    PostgreSQL for statistics taken while the table was still small — so an import slowed as it
    grew (996 rows/s at 1,000,000 on PostgreSQL). The phones go as one parameter: no
    placeholder and field conversion per phone (on PostgreSQL one text, cut by the server:
    psycopg quotes a list element by element in Python, 20 ms a chunk)."""
    ops = connection.ops
    table = ops.quote_name(Contact._meta.db_table)
    department = ops.quote_name(Contact._meta.get_field("department").column)
    postgres = connection.vendor == "postgresql"
    # The attributes as text on PostgreSQL too (jsonb's own), as SQLite gives them: `_write`
    # parses them only when they differ from the text of the row's.
    selected = ", ".join(
        f"c.{ops.quote_name(column)}" + ("::text" if postgres and column == "attributes" else "")
        for column in columns
    )
    if postgres:
        sql = (
            f"SELECT {selected} FROM unnest(string_to_array(%s, ' ')) AS p(phone)"  # noqa: S608
            " CROSS JOIN LATERAL"
            f" (SELECT * FROM {table} c WHERE c.phone = p.phone"
            f" AND c.{department} IS NOT DISTINCT FROM %s LIMIT 1) c"
        )
        params = [" ".join(phones), department_id]
    else:
        sql = (
            f"SELECT {selected} FROM json_each(%s) AS p CROSS JOIN {table} c"  # noqa: S608
            f" ON c.phone = p.value AND c.{department} IS %s"
        )
        params = [json.dumps(phones), department_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _insert(rows: list[Row], now, department_id: int | None) -> None:
    """New contacts in one INSERT statement: the same rows as bulk_create would write, at several
    times its speed (no model instances, values adapted once). On PostgreSQL, COPY: one stream
    per chunk, no statement to parse or parameters to bind."""
    if not rows:
        return
    ops = connection.ops
    meta = Contact._meta
    columns = [*COPY_COLUMNS, *COPY_TAIL_COLUMNS]
    names = ", ".join(ops.quote_name(meta.get_field(c).column) for c in columns)
    if connection.vendor == "postgresql":
        statement = f"COPY {ops.quote_name(meta.db_table)} ({names}) FROM STDIN"
        _copy(rows, now, department_id, statement)
        return
    # SQLite: one statement for the chunk, its rows as one JSON parameter. The search index
    # (FTS5, kept by a trigger) writes out what it has gathered at the end of every statement:
    # at 500 rows a statement it wrote ten times the segments, merged again later.
    stamp = ops.adapt_datetimefield_value(now)
    own = ", ".join(f"value ->> {i}" for i in range(len(COPY_COLUMNS)))
    data = json.dumps(
        [(r.phone, r.name, r.name_key, r.email, r.attributes_json, r.measures_json) for r in rows]
    )
    with connection.cursor() as cursor:
        # sqlite3's own execute, with its own "?" marks (Django's SQLite cursor rewrites "%s"
        # with a regular expression). Only quoted model names are formatted in.
        sqlite3.Cursor.execute(
            cursor.cursor,
            f"INSERT INTO {ops.quote_name(meta.db_table)} ({names})"  # noqa: S608
            f" SELECT {own}, ?, ?, ? FROM json_each(?)",
            [stamp, stamp, department_id, data],
        )


def _copy(rows: list[Row], now, department_id: int | None, statement: str) -> None:
    """The rows through COPY, as one block of text: each row's own columns were written as COPY
    text where it was parsed (`_copy_text`), the columns all rows share are added here."""
    department = "\\N" if department_id is None else str(department_id)
    stamp = now.isoformat()
    tail = f"\t{stamp}\t{stamp}\t{department}\n"
    text = tail.join([r.copy_text or _row_copy_text(r) for r in rows]) + tail
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        copy.write(text)
