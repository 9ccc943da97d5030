"""Cursor pagination: stable under inserts (a new message does not shift the next page), and
as fast on page 1,000 as on page 1 (no OFFSET)."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination


class NewestFirst(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class OldestFirst(NewestFirst):
    ordering = "id"
    page_size = 200
    max_page_size = 1000
