"""Cursor pagination: stable under inserts (a new message does not shift the next page), and
as fast on page 1,000 as on page 1 (no OFFSET)."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.pagination import CursorPagination


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


class OldestFirst(NewestFirst):
    ordering = "id"
    page_size = 200
    max_page_size = 1000
