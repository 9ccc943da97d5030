"""Reading contacts as pages and sends need them: in bulk, streamed, never a query per row."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db import connection
from django.db.models import Count, QuerySet, Sum

from .models import Contact, ContactList, ListMeasureCount, OptOut

IN_CHUNK = 900  # stay under SQLite's bound-parameter limit on every version


def opted_out(phones: Iterable[str]) -> set[str]:
    """Which of `phones` (E.164) must not be messaged."""
    phones = list(phones)
    blocked: set[str] = set()
    if len(phones) > IN_CHUNK and OptOut.objects.count() <= len(phones):
        # A large send against a shorter opt-out list: read the list once (one query, no
        # phone sent to the database) instead of a query per 900 recipients.
        wanted = set(phones)
        listed = OptOut.objects.values_list("phone", flat=True).iterator(chunk_size=10_000)
        return {phone for phone in listed if phone in wanted}
    for start in range(0, len(phones), IN_CHUNK):
        blocked.update(opted_out_among(phones[start : start + IN_CHUNK]))
    return blocked


def opted_out_among(phones: list[str]) -> list[str]:
    """`OptOut.objects.filter(phone__in=phones).values_list("phone", flat=True)`, as SQL written
    out: the compose preview asks it on every keystroke, and compiling the ORM's query (its
    ordering included, of no use to a set) took several times what the database took to answer."""
    if not phones:
        return []
    quote = connection.ops.quote_name
    column = quote(OptOut._meta.get_field("phone").column)
    places = ", ".join(["%s"] * len(phones))
    # Names from the model's own metadata; the phones are parameters.
    sql = f"SELECT {column} FROM {quote(OptOut._meta.db_table)} WHERE {column} IN ({places})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, phones)
        return [row[0] for row in cursor.fetchall()]


def members(list_ids: Iterable[int]) -> Iterator[tuple[str, int]]:
    """(phone, contact id) of everyone on these lists, each contact once, streamed."""
    ids = list(list_ids)
    if not ids:
        return iter(())
    return (
        Contact.objects.filter(memberships__contact_list_id__in=ids)
        .distinct()
        .order_by("id")
        .values_list("phone", "id")
        .iterator(chunk_size=5_000)
    )


def lists_with_counts(lists: QuerySet[ContactList] | None = None) -> QuerySet[ContactList]:
    """`lists` (all by default) with their member counts, by name."""
    lists = ContactList.objects.all() if lists is None else lists
    return lists.select_related("department").annotate(size=Count("membership")).order_by("name")


def list_counts(list_ids: Iterable[int]) -> tuple[int, int]:
    """(members of these lists, of whom opted out), each contact once: two COUNT queries."""
    ids = list(list_ids)
    if len(ids) == 1:
        return one_list_counts(ids[0])
    members = Contact.objects.filter(memberships__contact_list_id__in=ids)
    blocked = members.filter(phone__in=OptOut.objects.values("phone"))
    return (
        members.values("id").distinct().count(),
        blocked.values("id").distinct().count(),
    )


def one_list_counts(list_id: int) -> tuple[int, int]:
    """list_counts of one list (Compose's usual case) without reading its members: those who
    may be messaged are its kept counts (ListMeasureCount), and the opted-out ones are found
    from the opt-outs (far fewer than a big list's members; CROSS JOIN keeps that order, where
    SQLite's planner would walk every member)."""
    kept = ListMeasureCount.objects.filter(contact_list_id=list_id).aggregate(n=Sum("count"))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM contacts_optout o CROSS JOIN contacts_contact c"
            " CROSS JOIN contacts_membership m"
            " WHERE c.phone = o.phone AND m.contact_id = c.id AND m.contact_list_id = %s",
            [list_id],
        )
        blocked = cursor.fetchone()[0]
    return (kept["n"] or 0) + blocked, blocked


def members_among(list_ids: Iterable[int], phones: Iterable[str]) -> list[str]:
    """Which of `phones` (E.164) are on these lists."""
    return list(
        Contact.objects.filter(memberships__contact_list_id__in=list(list_ids), phone__in=phones)
        .values_list("phone", flat=True)
        .distinct()
    )
