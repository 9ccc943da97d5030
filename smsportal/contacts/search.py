"""Finding contacts by what staff type: any run of a number's digits, in national or
international form (`9711 5555`, `5555`, `+965 9711…`, `00965…`), or any word of a name (`hassan`
finds “Ali Hassan” and “Sara Al-Hassan”; `ali has` needs both words).

A substring cannot use an ordinary index, and a million contacts must still answer in
milliseconds, so each database gets the index it has for that (migration 0002): SQLite an FTS5
trigram table, PostgreSQL pg_trgm. On SQLite the page is read in the FTS table's own rowid order
(the contact's id): ordering by the contact's id instead makes SQLite collect and sort every
match first, seconds for a number run that a million contacts share.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from smsportal.sms.normalise import fold

from .models import Contact, OptOut

_NUMBER = re.compile(r"(\+|00)?\d+")
_NUMBER_PUNCTUATION = re.compile(r"[\s\-.()/]")
_WORD = re.compile(r"[^\W_]+")  # letters and digits; LIKE's % and _ never reach a pattern


def with_opt_out(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """`contacts`, each with `opted_out`: an EXISTS on the opt-outs' unique phone index, asked
    in the page's own query rather than once a row."""
    return contacts.annotate(opted_out=Exists(OptOut.objects.filter(phone=OuterRef("phone"))))


@dataclass(frozen=True)
class Terms:
    """A search box's text, understood."""

    phone_pattern: str = ""  # a LIKE pattern over E.164 numbers, or "" for a name search
    words: tuple[str, ...] = ()  # folded as names are (sms.normalise); each must start a word

    @classmethod
    def parse(cls, query: str) -> Terms:
        # Folded as the names were when stored: `احمد` finds أحمد, `٩٧١١` finds 9711.
        query = fold(query)
        compact = _NUMBER_PUNCTUATION.sub("", query)
        if compact and _NUMBER.fullmatch(compact):
            if compact.startswith(("+", "00")):  # international form: the number starts so
                return cls(phone_pattern="+" + compact.lstrip("+").removeprefix("00") + "%")
            # National form: a trunk 0 (`0770…` in the UK) is not part of the E.164 number.
            digits = compact[1:] if compact.startswith("0") and len(compact) > 1 else compact
            return cls(phone_pattern=f"%{digits}%")
        return cls(words=tuple(_WORD.findall(query)))

    def __bool__(self) -> bool:
        return bool(self.phone_pattern or self.words)

    @staticmethod
    def word_start(word: str) -> str:
        """A regular expression (Python's and PostgreSQL's alike) for `word` starting a word."""
        return r"(^|\W)" + re.escape(word)


class ContactSearch:
    """The contacts matching a query (and on a list), newest first, a window at a time."""

    def __init__(
        self,
        query: str = "",
        list_id: int | None = None,
        field: tuple[str, str] | None = None,
        *,
        departments: list[int] | None = None,
    ):
        """`departments`: ids of the departments whose contacts are searched (and the contacts
        of no department); None: every contact (a superuser)."""
        self.departments = departments
        self.terms = Terms.parse(query.strip())
        self.list_id = list_id
        # (custom field key, value): contacts whose value is that, case ignored.
        self.field = field if field and field[0] and field[1].strip() else None

    def window(self, *, before: int | None, after: int | None, limit: int) -> list[Contact]:
        """Up to `limit` contacts with an id below `before` (newest first) or above `after`
        (oldest first), without OFFSET or COUNT; each says whether its number `opted_out`."""
        if self.terms and connection.vendor == "sqlite":
            ids = self._sqlite_ids(before, after, limit)
            found = with_opt_out(Contact.objects.all()).in_bulk(ids)
            return [found[pk] for pk in ids if pk in found]
        if self.departments is not None and not self.terms:
            return self._merged_window(before=before, after=after, limit=limit)
        contacts = with_opt_out(self.queryset())
        if after is not None:
            return list(contacts.filter(pk__gt=after).order_by("pk")[:limit])
        if before is not None:
            contacts = contacts.filter(pk__lt=before)
        return list(contacts.order_by("-pk")[:limit])

    def _merged_window(self, *, before: int | None, after: int | None, limit: int):
        """The window read department by department (and the contacts of none), each an
        ordered scan of the (department, -id) index stopping at `limit`, merged here: one
        query over "department in (...) or none" would collect and sort every contact of
        those departments first."""
        rows: list[Contact] = []
        for department in [*self.departments, None]:
            contacts = self._filtered(
                with_opt_out(Contact.objects.filter(department_id=department))
            )
            if after is not None:
                rows += contacts.filter(pk__gt=after).order_by("pk")[:limit]
            else:
                if before is not None:
                    contacts = contacts.filter(pk__lt=before)
                rows += contacts.order_by("-pk")[:limit]
        rows.sort(key=lambda c: c.pk, reverse=after is None)
        return rows[:limit]

    def queryset(self) -> QuerySet[Contact]:
        """Every match, for exports: the same rows as the windows, in any order asked for."""
        contacts = Contact.objects.all()
        if self.departments is not None:
            contacts = contacts.filter(
                Q(department_id__in=self.departments) | Q(department__isnull=True)
            )
        return self._filtered(contacts)

    def _filtered(self, contacts: QuerySet[Contact]) -> QuerySet[Contact]:
        if self.list_id:
            contacts = contacts.filter(memberships__contact_list_id=self.list_id)
        if self.field:
            key, value = self.field
            contacts = contacts.filter(**{f"attributes__{key}__iexact": value.strip()})
        if not self.terms:
            return contacts
        if connection.vendor == "sqlite":
            where, params = self._sqlite_conditions()
            sql = f"SELECT f.rowid FROM contacts_contact_fts f WHERE {' AND '.join(where)}"  # noqa: S608
            # Only fixed SQL is formatted in; the terms go as parameters.
            return contacts.filter(pk__in=RawSQL(sql, params))  # noqa: S611
        return contacts.filter(self._q())

    def _q(self) -> Q:
        if self.terms.phone_pattern:
            pattern = self.terms.phone_pattern
            if pattern.startswith("%"):
                return Q(phone__contains=pattern.strip("%"))
            return Q(phone__startswith=pattern.rstrip("%"))
        condition = Q()
        for word in self.terms.words:
            # The LIKE lets pg_trgm narrow the rows; the expression keeps word starts only.
            condition &= Q(name_key__contains=word, name_key__regex=Terms.word_start(word))
        return condition

    def _sqlite_conditions(self) -> tuple[list[str], list]:
        # Plain LIKE (no ESCAPE clause, which FTS5 cannot use): the patterns hold no % or _
        # beyond the ones put there. REGEXP is the function Django registers on SQLite.
        if self.terms.phone_pattern:
            return ["f.phone LIKE %s"], [self.terms.phone_pattern]
        where, params = [], []
        for word in self.terms.words:
            where += ["f.name_key LIKE %s", "f.name_key REGEXP %s"]
            params += [f"%{word}%", Terms.word_start(word)]
        return where, params

    def _sqlite_ids(self, before: int | None, after: int | None, limit: int) -> list[int]:
        where, params = self._sqlite_conditions()
        if self.departments is not None:
            marks = ", ".join(["%s"] * len(self.departments)) or "NULL"
            # Only placeholders are formatted in; the ids go as parameters.
            condition = f"d.department_id IN ({marks}) OR d.department_id IS NULL"
            exists = "EXISTS (SELECT 1 FROM contacts_contact d WHERE d.id = f.rowid AND ("
            where.append(exists + condition + "))")
            params += list(self.departments)
        if self.list_id:
            where.append(
                "EXISTS (SELECT 1 FROM contacts_membership m"
                " WHERE m.contact_id = f.rowid AND m.contact_list_id = %s)"
            )
            params.append(self.list_id)
        if self.field:
            key, value = self.field
            where.append(
                "EXISTS (SELECT 1 FROM contacts_contact c WHERE c.id = f.rowid"
                " AND lower(json_extract(c.attributes, %s)) = lower(%s))"
            )
            params += ['$."' + key.replace('"', "") + '"', value.strip()]
        order = "DESC"
        if after is not None:
            where.append("f.rowid > %s")
            params.append(after)
            order = "ASC"
        elif before is not None:
            where.append("f.rowid < %s")
            params.append(before)
        sql = (
            f"SELECT f.rowid FROM contacts_contact_fts f WHERE {' AND '.join(where)}"  # noqa: S608
            f" ORDER BY f.rowid {order} LIMIT %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, limit])
            return [row[0] for row in cursor.fetchall()]
