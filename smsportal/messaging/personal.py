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

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import F, Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from smsportal.contacts.models import (
    Contact,
    ContactField,
    ListMeasureCount,
    Membership,
    OptOut,
)
from smsportal.sms.encoding import GSM7, LIMITS, UCS2, EncodingProfile, analyse, gsm_septets
from smsportal.sms.measures import unpack
from smsportal.sms.placeholders import (
    STANDARD_FIELDS,
    Template,
    contact_values,
    parse,
    value_text,
)

from .characters import costly_chips

SHOWN_RENDERED = 3  # rendered messages shown in the preview
SHOWN_UCS2 = 5  # recipients named as the reason their message goes in Unicode
EXTENSION = "\x0c^{}\\[~]|€"  # GSM characters that take two septets


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
    """A recipient whose own text goes in Unicode, and the field that makes it so: its value, or
    the placeholder's fallback where the recipient has none (`fallback`)."""

    who: str
    field: str
    value: str
    fallback: bool = False

    @property
    def chips(self) -> list[dict]:
        """The characters of the value outside the standard alphabet, named for staff."""
        return costly_chips(tuple(dict.fromkeys(c for c in self.value if gsm_septets(c) is None)))


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
    # The fixed text alone goes in Unicode: every recipient's text does, whatever their values
    # (no recipient is named as the reason; the preview names the text's characters).
    text_unicode: bool = False

    @property
    def total_parts(self) -> int:
        return sum(parts * count for parts, count in self.parts.items())

    @property
    def ucs2_unnamed(self) -> int:
        """Recipients in Unicode beyond the few named in `causes` (the preview counts them)."""
        return max(self.ucs2 - len(self.causes), 0)

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
    kept_list: int | None = None,
) -> Estimate:
    """Count the parts each contact's own text takes, in SQL where exact, else by rendering.
    `kept_list`: the contacts are exactly that list's reachable members, so their measures are
    read from its kept counts (ListMeasureCount) instead of from every contact."""
    template = parse(text)
    estimate = Estimate(template, text_unicode=fixed_text_unicode(template, profile))
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
        if kept_list is not None:
            groups = _kept_measures(kept_list, names)
        else:
            groups = _grouped_measures(contacts, names)
        literal = (gsm_literal, septets, ucs2_units)
        _count_in_sql(estimate, template, contacts, names, literal, groups)
    first = contacts.order_by(_order_key(contacts))
    first = first.values_list("phone", "name", "email", "attributes")
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


# --- SQL over the stored measures ---------------------------------------------------------------


def _measure_sql(name: str) -> tuple[str, list]:
    """SQL for a placeholder's stored measure (sms/measures.py) on `c` (a contact), NULL when
    the value is empty."""
    if connection.vendor == "postgresql":
        return "((c.measures ->> %s)::bigint)", [name]
    return "json_extract(c.measures, %s)", ['$."' + name + '"']


def _order_key(contacts) -> str:
    """The column that gives `contacts` in id order cheaply: `member_id` where they are one
    list's members (compose_estimate), the membership's copy of the id, read in order along its
    index and stopped after the first few; ordering by the contact's own id would sort them all."""
    return "member_id" if "member_id" in contacts.query.annotations else "id"


def _inner(contacts) -> tuple[str, list]:
    columns = dict.fromkeys(["id", "measures", _order_key(contacts)])
    return contacts.order_by().values_list(*columns).query.sql_with_params()


def _grouped_measures(contacts, names) -> list[tuple[tuple | None, int]]:
    """(the measures of `names`, or None for contacts whose measures were never computed,
    how many contacts) per distinct combination: one scan, one JSON read per contact."""
    inner, inner_params = _inner(contacts)
    if connection.vendor == "postgresql":
        columns = ", ".join("((c.measures ->> %s)::bigint)" for _ in names)
        positions = ", ".join(str(i + 1) for i in range(len(names) + 1))
        sql = (
            f"SELECT c.measures IS NULL, {columns}, COUNT(*) FROM ({inner}) c"  # noqa: S608
            f" GROUP BY {positions}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*names, *inner_params])
            return [(None if row[0] else tuple(row[1:-1]), row[-1]) for row in cursor.fetchall()]
    # SQLite reads the JSON once for every path asked at once, and answers an array; the
    # number (never empty) is asked too, so only an uncomputed measures column gives NULL.
    paths = ['$."' + name + '"' for name in (*names, "phone")]
    sql = (
        f"SELECT json_extract(c.measures, {', '.join(['%s'] * len(paths))}) AS k, COUNT(*)"  # noqa: S608
        f" FROM ({inner}) c GROUP BY k"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*paths, *inner_params])
        rows = cursor.fetchall()
    return [(None if key is None else tuple(json.loads(key)[:-1]), count) for key, count in rows]


def _kept_measures(list_id: int, names) -> list[tuple[tuple | None, int]]:
    """What _grouped_measures answers, from a list's kept counts (ListMeasureCount): a few
    hundred rows (one per distinct combination of all the members' measures) however long the
    list, so the preview of a million members reads no contact."""
    grouped: Counter = Counter()
    rows = ListMeasureCount.objects.filter(contact_list_id=list_id, count__gt=0)
    for measures, count in rows.values_list("measures", "count").iterator(chunk_size=5_000):
        if not measures:
            grouped[None] += count
            continue
        values = json.loads(measures)
        grouped[tuple(values.get(name) for name in names)] += count
    return list(grouped.items())


def _count_in_sql(estimate, template, contacts, names, literal, groups) -> None:
    """One grouped scan over the stored measures: per distinct combination of the used fields'
    measures, how many recipients; their parts follow by arithmetic. Contacts whose measures
    were never computed, and those with a value counting by length cannot settle (an emoji),
    are rendered instead; those missing a required value are counted as a problem."""
    gsm_literal, septets, ucs2_units = literal
    required = set(template.required())
    index = {name: i for i, name in enumerate(names)}
    missing: Counter = Counter()
    special_rows = unmeasured = False
    unicode_fields: set[str] = set()
    for row, count in groups:
        if row is None:
            unmeasured = True
            continue
        lacking = [n for n in names if row[index[n]] is None and n in required]
        if lacking:
            missing.update(dict.fromkeys(lacking, count))
            continue
        measures = {n: unpack(int(row[index[n]])) for n in names if row[index[n]] is not None}
        if any(m[3] for m in measures.values()):
            special_rows = True
            continue
        all_gsm, units_gsm, units_ucs2 = gsm_literal, septets, ucs2_units
        for placeholder in template.placeholders:
            measure = measures.get(placeholder.name)
            if measure:
                length, twice, outside, _special = measure
                all_gsm = all_gsm and not outside
                units_gsm += length + twice
                units_ucs2 += length
                if outside:
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
    if unmeasured:
        rows = contacts.filter(measures__isnull=True)
        missing.update(_render_rows(estimate, template, rows, required))
    if special_rows:
        rows = _rows_where(contacts, names, lambda m: f"({m} %% 2) = 1")
        missing.update(_render_rows(estimate, template, rows, required, counted_missing=True))
    estimate.problems += [Problem(n, count, unknown=False) for n, count in missing.items()]
    if unicode_fields and gsm_literal:
        _find_causes(estimate, template, contacts, names)


def _render_rows(estimate, template, rows, required, counted_missing=False) -> Counter:
    """Render and count each of `rows` (a Contact queryset, or (phone, name, email,
    attributes) tuples); returns the required names each lacked (unless `counted_missing`:
    already counted from their measures)."""
    if not isinstance(rows, list):
        rows = rows.values_list("phone", "name", "email", "attributes").iterator(chunk_size=5_000)
    missing: Counter = Counter()
    for phone, name, email, attributes in rows:
        values = contact_values(phone=phone, name=name, email=email, attributes=attributes)
        result = template.render(values)
        if result.missing:
            if not counted_missing:
                missing.update(n for n in result.missing if n in required)
            continue
        analysis = analyse(result.text)
        estimate.add(analysis.encoding, analysis.segments)
        if analysis.encoding == UCS2 and len(estimate.causes) < SHOWN_UCS2:
            _note_cause(estimate, template, values, name or phone)
    return missing


def _rows_where(contacts, names, condition, limit: int | None = None) -> list[tuple]:
    """(phone, name, email, attributes) of the contacts one of whose used fields' measures
    meets `condition` (a function of its SQL), first by id."""
    inner, inner_params = _inner(contacts)
    terms, params = [], []
    for name in names:
        sql, name_params = _measure_sql(name)
        terms.append(condition(sql))
        params += name_params
    sql = (
        f"SELECT c.id FROM ({inner}) c WHERE c.measures IS NOT NULL"  # noqa: S608
        f" AND ({' OR '.join(terms)}) ORDER BY c.{_order_key(contacts)}"
        + (f" LIMIT {int(limit)}" if limit else "")
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*inner_params, *params])
        ids = [row[0] for row in cursor.fetchall()]
    found = Contact.objects.in_bulk(ids)
    return [
        (found[i].phone, found[i].name, found[i].email, found[i].attributes)
        for i in ids
        if i in found
    ]


def _find_causes(estimate, template, contacts, names) -> None:
    """The first few recipients whose own values are outside the standard alphabet."""
    rows = _rows_where(contacts, names, lambda m: f"(({m} / 2) %% 2) = 1", limit=SHOWN_UCS2)
    for phone, name, email, attributes in rows:
        if len(estimate.causes) >= SHOWN_UCS2:
            break
        values = contact_values(phone=phone, name=name, email=email, attributes=attributes)
        _note_cause(estimate, template, values, name or phone)


def fixed_text_unicode(template: Template, profile: EncodingProfile) -> bool:
    """Whether the text every recipient gets (all but the placeholders) needs Unicode alone."""
    return analyse(template.literal, profile).encoding == UCS2


def _note_cause(estimate: Estimate, template: Template, values: Mapping, who: str) -> None:
    """Name `who` among those whose own text goes in Unicode, with the value (or the fallback
    used for a value they lack) that makes it so. Nobody is named when the fixed text is the
    reason: it is everybody's."""
    if estimate.text_unicode or any(cause.who == who for cause in estimate.causes):
        return  # found both by its measures and when rendered
    for placeholder in template.placeholders:
        value = value_text(values.get(placeholder.name))
        used = value or placeholder.fallback or ""
        if any(gsm_septets(c) is None for c in used):
            estimate.causes.append(Cause(who, placeholder.name, used, fallback=not value))
            return


# --- the send -----------------------------------------------------------------------------------


def values_for(
    phones: Iterable[str], contact_ids: Mapping[str, int], *, department_id: int | None = None
) -> dict[str, dict]:
    """Each phone's placeholder values: its contact's (by id where known, else by number among
    `department_id`'s contacts and those of no department), or just the number for a phone
    that is no contact."""
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
        # Another department's contact of the same number is not this message's to read.
        mine = Contact.objects.filter(
            Q(department_id=department_id) | Q(department__isnull=True), phone__in=chunk
        )
        for phone, name, email, attributes in mine.values_list(
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
    department=None,
) -> Personalised:
    """Render `body` for each phone and count it; raises SendRefused saying what is wrong (a
    field unknown, or missing without a fallback, and for how many; a text too long).

    `values` (a mail merge) gives each phone's values, and `known` the placeholders they can
    fill; otherwise both come from contacts (`department`'s, for a number typed in)."""
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
            own = values_for(
                chunk,
                {p: contact_ids[p] for p in chunk if p in contact_ids},
                department_id=getattr(department, "pk", None),
            )
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
        refusal = ngettext(
            "%(count)s recipient's text needs more parts than the %(most)s the account allows "
            "per message.",
            "%(count)s recipients' texts need more parts than the %(most)s the account allows "
            "per message.",
            too_long,
        ) % {"count": f"{too_long:,}", "most": f"{max_parts:,}"}
        raise SendRefused(
            refusal, code="too_many_parts", values={"count": too_long, "most": max_parts}
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
    text: str,
    list_ids: list[int],
    pasted: list[str],
    profile: EncodingProfile,
    departments: list[int] | None = None,
) -> Estimate:
    """The preview's figures for a personalised text: the members of the lists and the pasted
    numbers that are contacts counted in SQL (opted-out numbers left out); pasted numbers that
    are no contact rendered one by one (they only have {phone})."""
    # Nobody chosen yet (a template picked before the numbers) must still make SQL: an empty
    # `pk__in` alone compiles to nothing and the counting query would raise EmptyResultSet.
    chosen = Q(phone__in=pasted) if pasted else Q(pk__isnull=True)
    if pasted and departments is not None:
        # A typed number is read as the sender's departments' contact, never another's.
        chosen &= Q(department_id__in=departments) | Q(department__isnull=True)
    if list_ids:
        members = Membership.objects.filter(contact_list_id__in=list_ids).values("contact_id")
        chosen |= Q(pk__in=members)
    # One list and nothing pasted (the big case): its kept counts say the same as grouping its
    # members. Several lists may share members, counted once: those are grouped in SQL.
    kept_list = list_ids[0] if len(list_ids) == 1 and not pasted else None
    if kept_list is not None:
        # A join, not `pk IN (members)`: the first few members by id (the texts shown, who goes
        # in Unicode) are then read along the membership index (_order_key), where SQLite would
        # first gather every member's id for the IN.
        contacts = Contact.objects.filter(memberships__contact_list_id=kept_list).annotate(
            member_id=F("memberships__contact_id")
        )
    else:
        contacts = Contact.objects.filter(chosen)
    contacts = contacts.exclude(phone__in=OptOut.objects.values("phone"))
    estimate = estimate_contacts(text, contacts, profile, kept_list=kept_list)
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
