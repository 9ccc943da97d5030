"""Personalised messages: each recipient's own text, counted before sending and rendered at it.

The preview cannot render a million texts on every keystroke, so it counts in SQL by what decides
a text's alphabet and parts: for every field a placeholder uses, its length, whether it is all in
the standard alphabet, and how many of its characters count twice there (€ [ ] { } ^ ~ | \\ and
form feed). Each recipient's length in units is the template's fixed text plus those fields (or
their fallbacks); grouped by (alphabet, length), the counts give the distribution of parts and the
exact total, in one query however long the list.

Where counting by length could differ from cutting the real text into parts, the recipients are
rendered instead, one by one: those whose fields hold a character outside the Basic Multilingual
Plane (an emoji, two units that a part never splits), and everyone when the fixed text holds one
of those or a character counted twice (a part never ends between the two halves). Everything
else is exact by arithmetic: 160 (or 70) fit one SMS, and each further part holds 153 (or 67).

At the send every text is rendered and counted (`render_for`), and kept on its Delivery.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Q
from django.utils.translation import gettext as _

from smsportal.contacts.models import Contact, ContactField, Membership, OptOut
from smsportal.sms.encoding import GSM7, LIMITS, UCS2, EncodingProfile, analyse, gsm_septets
from smsportal.sms.placeholders import STANDARD_FIELDS, Template, contact_values, parse

SHOWN_RENDERED = 3  # rendered messages shown in the preview
SHOWN_UCS2 = 5  # recipients named as the reason their message goes in Unicode
EXTENSION = "\x0c^{}\\[~]|€"  # GSM characters that take two septets
GSM_BASIC = "".join(chr(c) for c in range(0x10000) if gsm_septets(chr(c)) == 1 and chr(c) != "\x1b")
ASTRAL_START, ASTRAL_END = "\U00010000", "\U0010ffff"


def known_fields() -> frozenset[str]:
    return frozenset(STANDARD_FIELDS) | ContactField.objects.keys()


def placeholder_problems(text: str) -> list[str]:
    """Why `text` cannot be a template, for staff: braces it cannot read (with their position),
    fields no contact has. Empty when it can."""
    template = parse(text)
    if template.errors:
        return [str(e) for e in template.errors]
    unknown = template.unknown(known_fields())
    if unknown:
        names = ", ".join("{" + name + "}" for name in unknown)
        return [
            f"No contact field is called {names}. Add the field under Contacts → Fields, or "
            "correct the name."
        ]
    return []


# --- SQL expressions per field ------------------------------------------------------------------


# --- the preview --------------------------------------------------------------------------------


@dataclass
class Problem:
    name: str
    recipients: int  # how many it affects
    unknown: bool  # no such field at all (else: missing for these recipients, no fallback)

    def __str__(self) -> str:
        who = "1 recipient" if self.recipients == 1 else f"{self.recipients:,} recipients"
        if self.unknown:
            return (
                f"{{{self.name}}} is no contact field (it would be missing for {who}): "
                "correct the name, or add the field under Contacts → Fields."
            )
        return (
            f"{{{self.name}}} is empty for {who} and has no fallback: give one, as "
            f"{{{self.name}|…}}, or fill it in."
        )


@dataclass
class Cause:
    """A recipient whose own text goes in Unicode, and the field that makes it so."""

    who: str
    field: str
    value: str


@dataclass
class Estimate:
    """What a personalised text comes to over its recipients."""

    template: Template
    recipients: int = 0
    parts: Counter = field(default_factory=Counter)  # parts -> recipients
    ucs2: int = 0  # recipients whose text goes in Unicode
    causes: list[Cause] = field(default_factory=list)  # the first few of them, and why
    problems: list[Problem] = field(default_factory=list)
    rendered: list[tuple[str, str]] = field(default_factory=list)  # (who, text), the first few
    longest: int = 0  # most parts any recipient gets

    @property
    def total_parts(self) -> int:
        return sum(parts * count for parts, count in self.parts.items())

    @property
    def distribution(self) -> list[tuple[int, int]]:
        return sorted(self.parts.items())

    @property
    def problem(self) -> str:
        return " ".join(str(p) for p in self.problems)

    def cost(self, price: Decimal) -> Decimal:
        return price * self.total_parts

    def add(self, encoding: str, segments: int, count: int = 1) -> None:
        self.recipients += count
        self.parts[segments] += count
        if encoding == UCS2:
            self.ucs2 += count
        self.longest = max(self.longest, segments)


def _segments(units: int, encoding: str) -> int:
    single, per_part = LIMITS[encoding]
    if units == 0:
        return 0
    return 1 if units <= single else -(-units // per_part)


def _literal_units(template: Template) -> tuple[bool, int, int, bool]:
    """(all GSM, septets, UCS-2 units, whether counting by length may differ from splitting)."""
    literal = template.literal
    gsm = all(gsm_septets(c) is not None for c in literal)
    septets = sum(gsm_septets(c) or 0 for c in literal) if gsm else 0
    ucs2 = sum(2 if ord(c) > 0xFFFF else 1 for c in literal)
    tricky = any(c in EXTENSION or ord(c) > 0xFFFF or c == "\x1b" for c in literal)
    return gsm, septets, ucs2, tricky


def estimate_contacts(
    text: str,
    contacts,  # a Contact queryset: who gets it
    profile: EncodingProfile,
    known: frozenset[str] | None = None,
) -> Estimate:
    """Count the parts each contact's own text takes, in SQL where exact, else by rendering."""
    template = parse(text)
    estimate = Estimate(template)
    known = known if known is not None else known_fields()
    for name in template.unknown(known):
        estimate.problems.append(Problem(name, contacts.count(), unknown=True))
    if estimate.problems:
        return estimate
    names = template.names
    gsm_literal, septets, ucs2_units, tricky = _literal_units(template)
    alphabets_ok = profile.alphabets == (GSM7, UCS2)  # other profiles (Latin-1): render
    if tricky or not alphabets_ok or not names:
        _render_all(estimate, template, contacts, profile)
    else:
        _count_in_sql(estimate, template, contacts, names, (gsm_literal, septets, ucs2_units))
    first = contacts.order_by("id").values_list("phone", "name", "email", "attributes")
    for phone, name, email, attributes in first[:SHOWN_RENDERED]:
        values = contact_values(phone=phone, name=name, email=email, attributes=attributes)
        estimate.rendered.append((name or phone, template.render(values).text))
    return estimate


def _render_all(estimate: Estimate, template: Template, contacts, profile) -> None:
    """Render and count every contact's text (the slow, always exact way), noting who is
    missing a required value."""
    missing: Counter = Counter()
    required = set(template.required())
    rows = contacts.values_list("phone", "name", "email", "attributes").iterator(chunk_size=5_000)
    for phone, name, email, attributes in rows:
        values = contact_values(phone=phone, name=name, email=email, attributes=attributes)
        result = template.render(values)
        if result.missing:
            missing.update(n for n in result.missing if n in required)
            continue
        analysis = analyse(result.text, profile)
        estimate.add(analysis.encoding, analysis.segments)
        if analysis.encoding == UCS2 and len(estimate.causes) < SHOWN_UCS2:
            _note_cause(estimate, template, values, name or phone)
    estimate.problems += [Problem(n, count, unknown=False) for n, count in missing.items()]


# --- SQL per field ------------------------------------------------------------------------------


def _value_sql(name: str) -> tuple[str, list]:
    """SQL for a placeholder's value over the columns of `c` (a contact), '' when absent."""
    pg = connection.vendor == "postgresql"
    strpos = "STRPOS" if pg else "INSTR"
    if name in ("name", "phone", "email"):
        return f"COALESCE(c.{name}, '')", []
    if name == "first_name":
        t = "TRIM(COALESCE(c.name, ''))"
        return (
            f"(CASE WHEN {strpos}({t}, ' ') > 0 THEN SUBSTR({t}, 1, {strpos}({t}, ' ') - 1)"
            f" ELSE {t} END)",
            [],
        )
    if name == "last_name":
        t = "TRIM(COALESCE(c.name, ''))"
        return (
            f"(CASE WHEN {strpos}({t}, ' ') > 0 THEN TRIM(SUBSTR({t}, {strpos}({t}, ' ') + 1))"
            " ELSE '' END)",
            [],
        )
    if pg:
        return "COALESCE(c.attributes ->> %s, '')", [name]
    return "COALESCE(CAST(JSON_EXTRACT(c.attributes, %s) AS TEXT), '')", ['$."' + name + '"']


def _gsm_pattern() -> str:
    chars = GSM_BASIC + EXTENSION
    if connection.vendor == "postgresql":
        body = chars.replace("]", "").replace("-", "").replace("\\", "\\\\").replace("^", "")
        return "^[]" + body + "^-]*$"
    return "*[^]" + chars.replace("]", "").replace("-", "").replace("^", "") + "^-]*"


def _field_features(name: str) -> tuple[list[str], list]:
    """SQL for (length, all GSM, characters counted twice, has an emoji) of a field."""
    value, params = _value_sql(name)
    pg = connection.vendor == "postgresql"
    astral = f"[{ASTRAL_START}-{ASTRAL_END}]"
    if pg:
        gsm = f"(CASE WHEN {value} ~ %s THEN 1 ELSE 0 END)"
        has_astral = f"(CASE WHEN {value} ~ %s THEN 1 ELSE 0 END)"
        astral_param = astral
    else:
        gsm = f"(CASE WHEN {value} GLOB %s THEN 0 ELSE 1 END)"
        has_astral = f"(CASE WHEN {value} GLOB %s THEN 1 ELSE 0 END)"
        astral_param = f"*{astral}*"
    stripped, stripped_params = value, list(params)
    for char in EXTENSION:
        stripped = f"REPLACE({stripped}, %s, '')"
        stripped_params.append(char)
    twice = f"(LENGTH({value}) - LENGTH({stripped}))"
    return (
        [f"LENGTH({value})", gsm, twice, has_astral],
        [*params, *params, _gsm_pattern(), *params, *stripped_params, *params, astral_param],
    )


def _count_in_sql(estimate, template, contacts, names, literal) -> None:
    """One grouped scan: per distinct (length, alphabet, doubled, emoji) of every used field,
    how many recipients; their parts follow by arithmetic. Recipients with an emoji in a field
    are rendered instead; those missing a required value are counted as a problem."""
    inner, inner_params = (
        contacts.order_by().values_list("id", "phone", "name", "email", "attributes")
    ).query.sql_with_params()
    columns, params = [], []
    for name in names:
        sql, field_params = _field_features(name)
        columns += sql
        params += field_params
    positions = ", ".join(str(i + 1) for i in range(len(columns)))
    sql = f"SELECT {', '.join(columns)}, COUNT(*) FROM ({inner}) c GROUP BY {positions}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *inner_params])
        groups = cursor.fetchall()
    gsm_literal, septets, ucs2_units = literal
    fallbacks = {}
    for placeholder in template.placeholders:
        fallbacks.setdefault(placeholder.name, [])
        fallbacks[placeholder.name].append(placeholder.fallback)
    index = {name: i * 4 for i, name in enumerate(names)}
    missing: Counter = Counter()
    astral_rows = False
    unicode_fields: set[str] = set()
    for row in groups:
        count = row[-1]
        lacking = [n for n in names if not row[index[n]] and None in fallbacks[n]]
        if lacking:
            missing.update(dict.fromkeys(lacking, count))
            continue
        if any(row[index[name] + 3] for name in names):
            astral_rows = True
            continue
        all_gsm, units_gsm, units_ucs2 = gsm_literal, septets, ucs2_units
        for placeholder in template.placeholders:
            length, gsm, twice, _astral = row[index[placeholder.name] : index[placeholder.name] + 4]
            if length:
                all_gsm = all_gsm and bool(gsm)
                units_gsm += length + twice
                units_ucs2 += length
                if not gsm:
                    unicode_fields.add(placeholder.name)
            else:
                fallback = placeholder.fallback or ""
                all_gsm = all_gsm and all(gsm_septets(c) is not None for c in fallback)
                units_gsm += sum(gsm_septets(c) or 0 for c in fallback)
                units_ucs2 += sum(2 if ord(c) > 0xFFFF else 1 for c in fallback)
        if all_gsm:
            estimate.add(GSM7, _segments(units_gsm, GSM7), count)
        else:
            estimate.add(UCS2, _segments(units_ucs2, UCS2), count)
    estimate.problems += [Problem(n, count, unknown=False) for n, count in missing.items()]
    if astral_rows:
        _render_astral(estimate, template, contacts, names)
    if unicode_fields and gsm_literal:
        _find_causes(estimate, template, contacts, names)


def _rows_where(contacts, names, param_of, limit: int | None = None) -> list[tuple]:
    """(phone, name, email, attributes) of the contacts whose fields meet `condition` (SQL over
    `f{i}` for each field's value), first by id."""
    inner, inner_params = (
        contacts.order_by().values_list("id", "phone", "name", "email", "attributes")
    ).query.sql_with_params()
    values, params = [], []
    for i, name in enumerate(names):
        sql, value_params = _value_sql(name)
        values.append(f"{sql} AS f{i}")
        params += value_params
    where, where_params = param_of()
    sql = (
        f"SELECT id FROM (SELECT c.id, {', '.join(values)} FROM ({inner}) c) v"  # noqa: S608
        f" WHERE {where} ORDER BY id" + (f" LIMIT {int(limit)}" if limit else "")
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *inner_params, *where_params])
        ids = [row[0] for row in cursor.fetchall()]
    found = Contact.objects.in_bulk(ids)
    return [
        (found[i].phone, found[i].name, found[i].email, found[i].attributes)
        for i in ids
        if i in found
    ]


def _render_astral(estimate, template, contacts, names) -> None:
    pg = connection.vendor == "postgresql"
    astral = f"[{ASTRAL_START}-{ASTRAL_END}]"

    def condition():
        op, param = ("~", astral) if pg else ("GLOB", f"*{astral}*")
        return " OR ".join(f"f{i} {op} %s" for i in range(len(names))), [param] * len(names)

    for phone, name, email, attributes in _rows_where(contacts, names, condition):
        values = contact_values(phone=phone, name=name, email=email, attributes=attributes)
        result = template.render(values)
        if result.missing:
            continue  # counted with the problems already
        analysis = analyse(result.text)
        estimate.add(analysis.encoding, analysis.segments)
        if analysis.encoding == UCS2 and len(estimate.causes) < SHOWN_UCS2:
            _note_cause(estimate, template, values, name or phone)


def _find_causes(estimate, template, contacts, names) -> None:
    pg = connection.vendor == "postgresql"

    def condition():
        if pg:
            terms = [f"(f{i} <> '' AND NOT f{i} ~ %s)" for i in range(len(names))]
        else:
            terms = [f"(f{i} <> '' AND f{i} GLOB %s)" for i in range(len(names))]
        return " OR ".join(terms), [_gsm_pattern()] * len(names)

    rows = _rows_where(contacts, names, condition, limit=SHOWN_UCS2)
    for phone, name, email, attributes in rows:
        if len(estimate.causes) >= SHOWN_UCS2:
            break
        values = contact_values(phone=phone, name=name, email=email, attributes=attributes)
        _note_cause(estimate, template, values, name or phone)


def _note_cause(estimate: Estimate, template: Template, values: Mapping, who: str) -> None:
    for name in template.names:
        value = values.get(name, "")
        if any(gsm_septets(c) is None for c in value):
            estimate.causes.append(Cause(who, name, value))
            return
    estimate.causes.append(Cause(who, "", ""))  # the fixed text itself


# --- the send -----------------------------------------------------------------------------------


def values_for(phones: Iterable[str], contact_ids: Mapping[str, int]) -> dict[str, dict]:
    """Each phone's placeholder values: its contact's (by id where known, else by number), or
    just the number for a phone that is no contact."""
    phones = list(phones)
    found: dict[str, dict] = {}
    by_id = {pk: phone for phone, pk in contact_ids.items()}
    ids = list(by_id)
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        rows = Contact.objects.filter(pk__in=chunk).values_list("pk", "name", "email", "attributes")
        for pk, name, email, attributes in rows:
            found[by_id[pk]] = contact_values(
                phone=by_id[pk], name=name, email=email, attributes=attributes
            )
    rest = [p for p in phones if p not in found]
    for start in range(0, len(rest), 900):
        chunk = rest[start : start + 900]
        for phone, name, email, attributes in Contact.objects.filter(phone__in=chunk).values_list(
            "phone", "name", "email", "attributes"
        ):
            found[phone] = contact_values(
                phone=phone, name=name, email=email, attributes=attributes
            )
    return {p: found.get(p) or contact_values(phone=p) for p in phones}


@dataclass
class Personalised:
    """Every recipient's own text, counted as the account sends it: what a personalised send
    stores on its deliveries."""

    texts: dict[str, tuple[str, int]]  # phone -> (text, parts), in the order to insert
    encoding: str  # of the text with the most parts
    segments: int  # the most parts any recipient gets
    total_parts: int
    longest: str  # that text, for the checks made on one text (the backend's own)


def personalise(
    body: str,
    phones: list[str],
    contact_ids: Mapping[str, int],
    profile: EncodingProfile,
    max_parts: int,
    *,
    values: Mapping[str, Mapping[str, str]] | None = None,
    known: frozenset[str] | None = None,
) -> Personalised:
    """Render `body` for each phone and count it; raises SendRefused saying what is wrong (a
    field unknown, or missing without a fallback, and for how many; a text too long).

    `values` (a mail merge) gives each phone's values, and `known` the placeholders they can
    fill; otherwise both come from contacts."""
    from .sending import SendRefused

    template = parse(body)
    if template.errors:
        raise SendRefused(" ".join(str(e) for e in template.errors))
    unknown = template.unknown(known if known is not None else known_fields())
    if unknown and values is not None:
        raise SendRefused(
            _("No column of the file is called {%(name)s}.") % {"name": unknown[0]},
            code="unknown_placeholder",
        )
    if unknown:
        raise SendRefused(str(Problem(unknown[0], len(phones), unknown=True)))
    missing: Counter = Counter()
    too_long = 0
    unsendable = ""
    rendered: list[tuple[str, str, int, str]] = []
    for start in range(0, len(phones), 5_000):
        chunk = phones[start : start + 5_000]
        if values is not None:
            own = {p: values.get(p) or {"phone": p} for p in chunk}
        else:
            own = values_for(chunk, {p: contact_ids[p] for p in chunk if p in contact_ids})
        for phone in chunk:
            result = template.render(own[phone])
            if result.missing:
                missing.update(result.missing)
                continue
            analysis = analyse(result.text, profile)
            if not analysis.sendable:
                unsendable = unsendable or analysis.problem
            if analysis.segments > max_parts:
                too_long += 1
            rendered.append((phone, result.text, analysis.segments, analysis.encoding))
    if missing:
        raise SendRefused(
            " ".join(str(Problem(name, count, unknown=False)) for name, count in missing.items())
        )
    if unsendable:
        raise SendRefused(unsendable)
    if too_long:
        who = (
            "1 recipient's text needs" if too_long == 1 else f"{too_long:,} recipients' texts need"
        )
        raise SendRefused(
            f"{who} more parts than the {max_parts:,} the account allows per message.",
            code="too_many_parts",
        )
    # Identical texts side by side: dispatch sends each run in as few requests as the
    # provider allows (it cuts batches by consecutive deliveries).
    rendered.sort(key=lambda row: row[1])
    if not rendered:
        return Personalised({}, GSM7, 0, 0, "")
    longest = max(rendered, key=lambda row: row[2])
    return Personalised(
        texts={phone: (text, parts) for phone, text, parts, _encoding in rendered},
        encoding=longest[3],
        segments=longest[2],
        total_parts=sum(row[2] for row in rendered),
        longest=longest[1],
    )


def compose_estimate(
    text: str, list_ids: list[int], pasted: list[str], profile: EncodingProfile
) -> Estimate:
    """The preview's figures for a personalised text: the members of the lists and the pasted
    numbers that are contacts counted in SQL (opted-out numbers left out); pasted numbers that
    are no contact rendered one by one (they only have {phone})."""
    chosen = Q(phone__in=pasted) if pasted else Q(pk__in=[])
    if list_ids:
        members = Membership.objects.filter(contact_list_id__in=list_ids).values("contact_id")
        chosen |= Q(pk__in=members)
    contacts = Contact.objects.filter(chosen).exclude(phone__in=OptOut.objects.values("phone"))
    estimate = estimate_contacts(text, contacts, profile)
    if estimate.problems and any(p.unknown for p in estimate.problems):
        return estimate
    known = set(contacts.filter(phone__in=pasted).values_list("phone", flat=True))
    strangers = [p for p in pasted if p not in known]
    template = estimate.template
    missing: Counter = Counter()
    for phone in strangers:
        result = template.render(contact_values(phone=phone))
        if result.missing:
            missing.update(result.missing)
            continue
        analysis = analyse(result.text, profile)
        estimate.add(analysis.encoding, analysis.segments)
        if len(estimate.rendered) < SHOWN_RENDERED:
            estimate.rendered.append((phone, result.text))
    for problem in estimate.problems:
        problem.recipients += missing.pop(problem.name, 0)
    estimate.problems += [Problem(name, count, unknown=False) for name, count in missing.items()]
    return estimate
