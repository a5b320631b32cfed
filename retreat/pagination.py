from typing import Any

from django.conf import settings
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination


class BoundedPagination(LimitOffsetPagination):
    """Limit/offset pages of at most ``API_PAGE_MAX`` items."""

    class Input(Schema):
        limit: int = Field(50, ge=1, le=settings.API_PAGE_MAX)
        offset: int = Field(0, ge=0, le=2**31 - 1)  # beyond any list here; larger would overflow the database

    def paginate_queryset(self, queryset, pagination: Input, **params: Any):
        return super().paginate_queryset(queryset, pagination, **params)
