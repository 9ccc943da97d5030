"""Cursor pagination: stable under inserts (a new message does not shift the next page), and
as fast on page 1,000 as on page 1 (no OFFSET)."""

from __future__ import annotations

import re

from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

LARGEST_ID = 2**63 - 1
ID = re.compile(r"[0-9]{1,19}")


def bad_cursor() -> serializers.ValidationError:
    return serializers.ValidationError(
        {
            "cursor": [
                serializers.ErrorDetail(
                    "This cursor is not one this list gave out (it may have been cut or "
                    "changed). Follow the “next” and “previous” links as given, or start "
                    "again without a cursor.",
                    code="invalid_cursor",
                )
            ]
        }
    )


class NewestFirst(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request) -> int:
        """`page_size` up to the maximum (more is cut to it); one that does not parse is a 400,
        not quietly the default (DRF's own behaviour)."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or len(raw) > 18 or int(raw) < 1:
            raise serializers.ValidationError(
                {
                    "page_size": [
                        serializers.ErrorDetail(
                            f"A whole number from 1 to {self.max_page_size:,} is required.",
                            code="invalid",
                        )
                    ]
                }
            )
        return min(int(raw), self.max_page_size)

    def decode_cursor(self, request):
        """A cursor that does not decode is a 400 naming `cursor` (DRF answers 404, as if the
        list were gone); so is one whose position is not an id (every list here is ordered by
        id), which would otherwise reach the database as a filter value and fail there, and one
        that decodes to nothing at all (garbage that base64 skips)."""
        try:
            cursor = super().decode_cursor(request)
        except NotFound as exc:
            raise bad_cursor() from exc
        if cursor is not None and not (cursor.offset or cursor.reverse or cursor.position):
            raise bad_cursor()  # decodes to nothing: ours always say where they point
        if cursor is not None and cursor.position is not None:
            position = cursor.position
            if not ID.fullmatch(position) or int(position) > LARGEST_ID:
                raise bad_cursor()
        return cursor


class OldestFirst(NewestFirst):
    ordering = "id"
    page_size = 200
    max_page_size = 1000
