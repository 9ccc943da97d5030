"""Mail merge from a file: a CSV or XLSX with a phone column and any others, whose columns are the
text's placeholders (`Dear {name}, your order {order_no} is ready`).

The file is read by the contacts import's reader (`contacts.reading.open_table`: every encoding
and delimiter it knows, XLSX streamed within its safety limits), row by row; nothing of it is
added to contacts. Each row's number is parsed; a row whose number is missing or invalid, or
repeats an earlier row's, is refused with its line and the reason; opted-out numbers are shown
refused too, and the send service skips them whatever this module says (`sending.prepare`).

What the send needs is kept small: per number, only the values of the columns the text uses.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from typing import BinaryIO

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from smsportal.contacts.importer import Columns
from smsportal.contacts.reading import UnreadableFile, open_table
from smsportal.contacts.selectors import opted_out
from smsportal.core.words import listed, quoted
from smsportal.sms.encoding import UCS2, EncodingProfile, analyse
from smsportal.sms.phones import parse_phone
from smsportal.sms.placeholders import first_name, last_name, parse

from .personal import Estimate, _note_cause, fixed_text_unicode
from .sending import ResolvedRecipients

SHOWN_REFUSED = 50  # refused rows listed one by one (all are counted)
SHOWN_RENDERED = 5  # rendered texts shown in the preview
WORD = re.compile(r"\W+")
PHONE = "phone"  # the placeholder of the recipient's number


def column_keys(header: list[str], phone_column: int | None = None) -> list[str]:
    """The placeholder each column answers to: its header in lower case, with `_` for spaces and
    punctuation ("Order No." → `order_no`); a header that gives no name is `column_3`.

    `{phone}` is the recipient's number as sent, whichever column holds it (as it is a
    contact's number on Compose): only the phone column may be `phone`, so that a landline
    headed "Phone" beside the chosen "Mobile" column is `phone_1`, as a repeated header is."""
    keys: list[str] = []
    for position, title in enumerate(header, start=1):
        key = WORD.sub("_", title.casefold()).strip("_")
        if not key or key[0].isdigit():
            key = f"column_{position}"
        may_be_phone = phone_column is None or position - 1 == phone_column
        while key in keys or (key == PHONE and not may_be_phone):
            key = f"{key}_{position}"
        keys.append(key)
    return keys


def guess_phone_column(header: list[str]) -> int | None:
    """The column the contacts import would take for the phone (“phone”, “mobile”, …)."""
    try:
        return Columns.from_header(header, fields={}).phone
    except UnreadableFile:
        return None


# First-strong isolate and its end: a header in another direction than the sentence (Arabic in
# English, or the reverse) keeps to its quotes instead of carrying them to its side. The message
# is plain text (an error of the upload form too), where <bdi> cannot be.
ISOLATE, END_ISOLATE = "\u2068", "\u2069"


def no_phone_column(header: list[str]) -> str:
    shown = listed(quoted(f"{ISOLATE}{h}{END_ISOLATE}") for h in header if h) or _("nothing")
    return _(
        "The file has no phone column: choose the column that holds the numbers, or head it "
        "“phone”. Its first row holds %(columns)s."
    ) % {"columns": shown}


@dataclass
class Refused:
    line: int
    value: str  # the number as written in the file
    reason: str


@dataclass
class MergeFile:
    """A file read for a mail merge: who gets a message, with their values, and who does not."""

    describe: str
    header: list[str]
    keys: list[str]
    phone_column: int
    rows: int = 0
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # E.164 -> used values
    lines: dict[str, int] = field(default_factory=dict)  # E.164 -> its line in the file
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (as written, reason)
    opted_out: list[str] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)  # the first SHOWN_REFUSED
    refused_count: int = 0

    @property
    def known(self) -> frozenset[str]:
        """The placeholders the file can fill: its columns and the number; a `name` column
        also gives `first_name` and `last_name`."""
        derived = {"first_name", "last_name"} if "name" in self.keys else set()
        return frozenset(self.keys) | {PHONE} | derived

    @property
    def recipients(self) -> int:
        return len(self.values) - len(self.opted_out)

    def refuse(self, line: int, value: str, reason: str) -> None:
        self.refused_count += 1
        if len(self.refused) < SHOWN_REFUSED:
            self.refused.append(Refused(line, value, reason))

    def for_text(self, text: str) -> MergeFile:
        """This file as `text` uses it: per number only the values of its placeholders (and the
        number), what the send keeps."""
        names = set(parse(text).names) | {PHONE}
        values = {p: {k: v for k, v in row.items() if k in names} for p, row in self.values.items()}
        return replace(self, values=values)

    def to_json(self) -> bytes:
        # Reasons may be lazy translations (a number's parse error): kept as the words the
        # uploader read, like the rest of this copy of their file.
        return json.dumps(asdict(self), ensure_ascii=False, default=str).encode()

    @classmethod
    def from_json(cls, data: bytes) -> MergeFile:
        fields = json.loads(data)
        fields["invalid"] = [tuple(pair) for pair in fields["invalid"]]
        fields["refused"] = [Refused(**refused) for refused in fields["refused"]]
        return cls(**fields)

    def with_opt_outs(self) -> MergeFile:
        """A copy with the numbers opted out now refused (and so never counted as recipients);
        the send service skips them whatever this says."""
        merge = replace(self, refused=list(self.refused))
        blocked = opted_out(merge.values)
        merge.opted_out = [phone for phone in merge.values if phone in blocked]
        for phone in merge.opted_out:
            merge.refuse(merge.lines[phone], phone, _("opted out: never sent to"))
        merge.refused.sort(key=lambda refused: refused.line)
        return merge

    def resolved(self) -> ResolvedRecipients:
        """What the send service is given: every valid number (it skips the opted-out ones),
        their values, and the invalid ones to record as skipped."""
        return ResolvedRecipients(
            phones=list(self.values),
            skipped=[(raw, f"invalid number: {reason}") for raw, reason in self.invalid],
            values=self.values,
            known_fields=self.known,
        )


def read_merge(
    stream: BinaryIO,
    size: int,
    *,
    text: str,
    region: str,
    phone_column: int | None = None,
    encoding: str = "",
) -> MergeFile:
    """Read the file, streamed, for `text`: each row's number and the values of the columns
    `text` uses. `phone_column` is staff's choice (None: the column headed like a phone).
    Raises UnreadableFile when the file cannot be read, or has no phone column."""
    rows = read_rows(stream, size, region=region, phone_column=phone_column, encoding=encoding)
    return rows.with_opt_outs().for_text(text)


def read_rows(
    stream: BinaryIO,
    size: int,
    *,
    region: str,
    phone_column: int | None = None,
    encoding: str = "",
) -> MergeFile:
    """The file read once for any text (read_merge): every row's number and all its values, the
    rows refused (opt-outs are not looked up: `with_opt_outs`). What the merge page keeps beside
    the upload, so that a keystroke re-reads no file."""
    table = open_table(stream, size, encoding=encoding)
    header = table.header
    if phone_column is None:
        phone_column = guess_phone_column(header)
    if phone_column is None or not 0 <= phone_column < len(header):
        raise UnreadableFile(no_phone_column(header))
    keys = column_keys(header, phone_column)
    merge = MergeFile(table.describe, header, keys, phone_column)
    used = list(enumerate(keys))
    name_index = keys.index("name") if "name" in keys else None
    for line, cells in table.rows:
        if not any(cell.strip() for cell in cells):
            continue  # an empty line: no row
        merge.rows += 1
        raw = cells[phone_column].strip() if phone_column < len(cells) else ""
        if not raw:
            merge.refuse(line, raw, _("no phone number"))
            continue
        phone = parse_phone(raw, region)
        if not phone.valid:
            merge.invalid.append((raw, phone.error))
            merge.refuse(line, raw, _("invalid number: %(reason)s") % {"reason": phone.error})
            continue
        if phone.e164 in merge.lines:
            merge.refuse(
                line,
                raw,
                _("the same number as line %(line)s") % {"line": f"{merge.lines[phone.e164]:,}"},
            )
            continue
        values = {key: (cells[i].strip() if i < len(cells) else "") for i, key in used}
        values[PHONE] = phone.e164  # the number as sent, as a contact's (column_keys)
        if name_index is not None and name_index < len(cells):
            full = cells[name_index]
            values.setdefault("first_name", first_name(full))
            values.setdefault("last_name", last_name(full))
        merge.values[phone.e164] = values
        merge.lines[phone.e164] = line
    for line, length in table.long_lines:
        merge.rows += 1
        merge.refuse(
            line, "", _("a line of %(count)s characters: too long") % {"count": f"{length:,}"}
        )
    merge.refused.sort(key=lambda refused: refused.line)
    return merge


@dataclass
class MissingValue:
    """A column the text uses without a fallback, empty on some rows: the send is refused."""

    name: str
    recipients: int
    lines: list[int]
    unknown: bool = False

    def __str__(self) -> str:
        if self.unknown:
            return _(
                "No column of the file is called {%(name)s}: correct the name, or use one of "
                "the placeholders listed under the file."
            ) % {"name": self.name}
        who = ngettext(
            "{%(name)s} is empty on %(count)s row and has no fallback",
            "{%(name)s} is empty on %(count)s rows and has no fallback",
            self.recipients,
        ) % {"name": self.name, "count": f"{self.recipients:,}"}
        shown = listed(f"{line:,}" for line in self.lines)
        more = "…" if self.recipients > len(self.lines) else ""
        return _("%(who)s (line %(lines)s%(more)s): give one, as {%(name)s|…}, or fill it in.") % {
            "who": who,
            "lines": shown,
            "more": more,
            "name": self.name,
        }


def merge_estimate(text: str, merge: MergeFile, profile: EncodingProfile) -> Estimate:
    """Each recipient's own text rendered from their row and counted (the rows are in memory,
    so rendering is the exact and simple way): the distribution of parts, who
    goes in Unicode and why, the first texts, and what stops the send."""
    template = parse(text)
    estimate = Estimate(template, text_unicode=fixed_text_unicode(template, profile))
    unknown = template.unknown(merge.known)
    blocked = set(merge.opted_out)
    if unknown:
        count = len(merge.values) - len(blocked)
        estimate.problems += [MissingValue(n, count, [], unknown=True) for n in unknown]
        return estimate
    missing: Counter = Counter()
    missing_lines: dict[str, list[int]] = {}
    required = set(template.required())
    for phone, values in merge.values.items():
        if phone in blocked:
            continue
        result = template.render(values)
        if result.missing:
            for name in result.missing:
                if name in required:
                    missing[name] += 1
                    shown = missing_lines.setdefault(name, [])
                    if len(shown) < 5:
                        shown.append(merge.lines[phone])
            continue
        analysis = analyse(result.text, profile)
        estimate.add(analysis.encoding, analysis.segments)
        if analysis.encoding == UCS2 and len(estimate.causes) < 5:
            _note_cause(estimate, template, values, phone)
        if len(estimate.rendered) < SHOWN_RENDERED:
            estimate.rendered.append((phone, result.text))
    estimate.problems += [
        MissingValue(name, count, missing_lines[name]) for name, count in missing.items()
    ]
    return estimate


@dataclass(frozen=True)
class Column:
    """A column of the file as the page lists it under the text."""

    title: str
    key: str  # its placeholder

    @property
    def is_number(self) -> bool:
        """Whether `{phone}` is this column's: the recipient's number, listed once."""
        return self.key == PHONE


def placeholders_of(header: list[str], phone_column: int | None = None) -> list[Column]:
    """The file's columns and their placeholders, for the page."""
    return [
        Column(title, key)
        for title, key in zip(header, column_keys(header, phone_column), strict=True)
    ]
