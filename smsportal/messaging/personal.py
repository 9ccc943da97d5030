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
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Case, CharField, Count, F, IntegerField, Q, Value, When
from django.db.models.expressions import Func
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, Length, Replace, Trim

from smsportal.contacts.models import Contact, ContactField
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


class _AllGSM(Func):
    """1 when the text is all in the GSM alphabet (basic and extension), else 0."""

    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        chars = GSM_BASIC + EXTENSION
        if connection.vendor == "postgresql":
            # A bracket expression: "]" first, "-" last, "\" doubled, "^" not first.
            body = "]" + chars.replace("]", "").replace("-", "").replace("\\", "\\\\").replace(
                "^", ""
            )
            pattern = "^[" + body + "^-]*$"
            return f"(CASE WHEN {sql} ~ %s THEN 1 ELSE 0 END)", [*params, pattern]
        # GLOB: "*[^...]*" matches a text with a character outside the class.
        body = "]" + chars.replace("]", "").replace("-", "").replace("^", "") + "^-"
        return f"(CASE WHEN {sql} GLOB %s THEN 0 ELSE 1 END)", [*params, "*[^" + body + "]*"]


class _HasAstral(Func):
    """1 when the text holds a character outside the Basic Multilingual Plane (an emoji)."""

    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        span = f"[{ASTRAL_START}-{ASTRAL_END}]"
        if connection.vendor == "postgresql":
            return f"(CASE WHEN {sql} ~ %s THEN 1 ELSE 0 END)", [*params, span]
        return f"(CASE WHEN {sql} GLOB %s THEN 1 ELSE 0 END)", [*params, f"*{span}*"]


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _value_expression(name: str):
    """The SQL for a placeholder's value on Contact ('' when absent)."""
    if name in ("name", "phone", "email"):
        return Coalesce(F(name), Value(""), output_field=CharField())
    return Coalesce(KeyTextTransform(name, "attributes"), Value(""), output_field=CharField())


def _extension_count(expression):
    total = Value(0)
    for char in EXTENSION:
        total = total + (Length(expression) - Length(Replace(expression, Value(char), Value(""))))
    return total


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
    annotated = _annotate(contacts, names)
    required = set(template.required())
    for name in names:
        if name in required:
            missing = annotated.filter(**{f"_len_{name}": 0}).count()
            if missing:
                estimate.problems.append(Problem(name, missing, unknown=False))
    gsm_literal, septets, ucs2_units, tricky = _literal_units(template)
    alphabets_ok = profile.alphabets == (GSM7, UCS2)  # other profiles (Latin-1): render
    if tricky or not alphabets_ok or not names:
        rows = contacts.values_list("phone", "name", "email", "attributes")
        _render_rows(estimate, template, rows.iterator(chunk_size=5_000), profile)
    else:
        astral = Q()
        for name in names:
            astral |= Q(**{f"_astral_{name}": 1})
        plain = annotated.exclude(astral) if names else annotated
        _count_in_sql(estimate, template, plain, names, gsm_literal, septets, ucs2_units)
        rest = annotated.filter(astral).values_list("phone", "name", "email", "attributes")
        _render_rows(estimate, template, rest.iterator(chunk_size=5_000), profile)
    first = contacts.order_by("id").values_list("phone", "name", "email", "attributes")
    for phone, name, email, attributes in first[:SHOWN_RENDERED]:
        values = contact_values(phone=phone, name=name, email=email, attributes=attributes)
        estimate.rendered.append((name or phone, template.render(values).text))
    if estimate.ucs2 and not estimate.causes:
        _find_causes(estimate, template, annotated, names, gsm_literal)
    return estimate


def _annotate(contacts, names: Iterable[str]):
    annotations = {}
    for name in names:
        if name == "first_name":
            trimmed = Trim(Coalesce(F("name"), Value(""), output_field=CharField()))
            space = Func(
                trimmed,
                Value(" "),
                function="STRPOS" if _pg() else "INSTR",
                output_field=IntegerField(),
            )
            annotations["_space"] = space
            value = Case(
                When(
                    _space__gt=0,
                    then=Func(
                        trimmed,
                        Value(1),
                        F("_space") - 1,
                        function="SUBSTR",
                        output_field=CharField(),
                    ),
                ),
                default=trimmed,
                output_field=CharField(),
            )
        elif name == "last_name":
            trimmed = Trim(Coalesce(F("name"), Value(""), output_field=CharField()))
            space = Func(
                trimmed,
                Value(" "),
                function="STRPOS" if _pg() else "INSTR",
                output_field=IntegerField(),
            )
            annotations["_lspace"] = space
            value = Case(
                When(
                    _lspace__gt=0,
                    then=Trim(
                        Func(trimmed, F("_lspace") + 1, function="SUBSTR", output_field=CharField())
                    ),
                ),
                default=Value(""),
                output_field=CharField(),
            )
        else:
            value = _value_expression(name)
        annotations[f"_v_{name}"] = value
    contacts = contacts.annotate(**annotations) if annotations else contacts
    more = {}
    for name in names:
        value = F(f"_v_{name}")
        more[f"_len_{name}"] = Length(value)
        more[f"_gsm_{name}"] = _AllGSM(value)
        more[f"_ext_{name}"] = _extension_count(value)
        more[f"_astral_{name}"] = _HasAstral(value)
    return contacts.annotate(**more) if more else contacts


def _count_in_sql(estimate, template, annotated, names, gsm_literal, septets, ucs2_units) -> None:
    fallbacks = {}
    for placeholder in template.placeholders:
        fallbacks.setdefault(placeholder.name, placeholder.fallback or "")
    gsm_all = Value(1 if gsm_literal else 0)
    units_gsm = Value(septets)
    units_ucs2 = Value(ucs2_units)
    for placeholder in template.placeholders:
        name = placeholder.name
        fallback = placeholder.fallback or ""
        fb_gsm = 1 if all(gsm_septets(c) is not None for c in fallback) else 0
        fb_septets = sum(gsm_septets(c) or 0 for c in fallback) if fb_gsm else 0
        fb_units = sum(2 if ord(c) > 0xFFFF else 1 for c in fallback)
        empty = Q(**{f"_len_{name}": 0})
        gsm_all = Case(
            When(empty, then=gsm_all * Value(fb_gsm)),
            default=gsm_all * F(f"_gsm_{name}"),
            output_field=IntegerField(),
        )
        units_gsm = units_gsm + Case(
            When(empty, then=Value(fb_septets)),
            default=F(f"_len_{name}") + F(f"_ext_{name}"),
            output_field=IntegerField(),
        )
        units_ucs2 = units_ucs2 + Case(
            When(empty, then=Value(fb_units)),
            default=F(f"_len_{name}"),
            output_field=IntegerField(),
        )
    rows = (
        annotated.annotate(_all_gsm=gsm_all, _ug=units_gsm, _uu=units_ucs2)
        .order_by()
        .values("_all_gsm", "_ug", "_uu")
        .annotate(n=Count("id"))
    )
    for row in rows:
        if row["_all_gsm"]:
            estimate.add(GSM7, _segments(row["_ug"], GSM7), row["n"])
        else:
            estimate.add(UCS2, _segments(row["_uu"], UCS2), row["n"])


def _render_rows(estimate: Estimate, template: Template, rows: Iterator, profile) -> None:
    for phone, name, email, attributes in rows:
        values = contact_values(phone=phone, name=name, email=email, attributes=attributes)
        analysis = analyse(template.render(values).text, profile)
        estimate.add(analysis.encoding, analysis.segments)
        if analysis.encoding == UCS2 and len(estimate.causes) < SHOWN_UCS2:
            _note_cause(estimate, template, values, name or phone)


def _note_cause(estimate: Estimate, template: Template, values: Mapping, who: str) -> None:
    for name in template.names:
        value = values.get(name, "")
        if any(gsm_septets(c) is None for c in value):
            estimate.causes.append(Cause(who, name, value))
            return
    estimate.causes.append(Cause(who, "", ""))  # the fixed text itself


def _find_causes(estimate, template, annotated, names, gsm_literal) -> None:
    if not gsm_literal:
        return  # the fixed text is Unicode: everyone's is, nobody is the cause
    not_gsm = Q()
    for name in names:
        not_gsm |= Q(**{f"_gsm_{name}": 0}) & ~Q(**{f"_len_{name}": 0})
    rows = (
        annotated.filter(not_gsm).order_by("id").values_list("phone", "name", "email", "attributes")
    )
    for phone, name, email, attributes in rows[:SHOWN_UCS2]:
        values = contact_values(phone=phone, name=name, email=email, attributes=attributes)
        _note_cause(estimate, template, values, name or phone)


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
) -> Personalised:
    """Render `body` for each phone and count it; raises SendRefused saying what is wrong (a
    field unknown, or missing without a fallback, and for how many; a text too long)."""
    from .sending import SendRefused

    template = parse(body)
    if template.errors:
        raise SendRefused(" ".join(str(e) for e in template.errors))
    unknown = template.unknown(known_fields())
    if unknown:
        raise SendRefused(str(Problem(unknown[0], len(phones), unknown=True)))
    missing: Counter = Counter()
    too_long = 0
    unsendable = ""
    rendered: list[tuple[str, str, int, str]] = []
    for start in range(0, len(phones), 5_000):
        chunk = phones[start : start + 5_000]
        values = values_for(chunk, {p: contact_ids[p] for p in chunk if p in contact_ids})
        for phone in chunk:
            result = template.render(values[phone])
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
            f"{who} more parts than the {max_parts:,} the account allows per message."
        )
    # Identical texts side by side: dispatch sends each run in as few requests as the
    # provider allows (it cuts batches by consecutive deliveries).
    rendered.sort(key=lambda row: row[1])
    if not rendered:
        return Personalised({}, GSM7, 0, 0, "")
    longest = max(rendered, key=lambda row: row[2])
    return Personalised(
        texts={phone: (text, parts) for phone, text, parts, _ in rendered},
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
    from smsportal.contacts.models import Membership, OptOut

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
