"""The lists' ordering (`?ordering=`): DRF's, made total. Ordered by a column that repeats (a
name, a date), rows that tie could come in any order on each page asked for, so a client paging
through could see one twice and miss another; the primary key, last, settles ties."""

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model, QuerySet
from rest_framework import filters
from rest_framework.request import Request
from rest_framework.views import APIView


class OrderingFilter(filters.OrderingFilter):
    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: APIView) -> Sequence[str] | None:
        ordering = super().get_ordering(request, queryset, view)
        if not ordering or any(_unique(queryset.model, term) for term in ordering):
            return ordering
        return [*ordering, "pk"]


def _unique(model: type[Model], term: Any) -> bool:
    """Whether an ordering term is a column of the model no two rows share."""
    if not isinstance(term, str):
        return False  # an expression
    name = term.lstrip("-")
    if name == "pk":
        return True
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    # Nulls of a unique column tie with each other.
    return bool(getattr(field, "primary_key", False) or (getattr(field, "unique", False) and not field.null))
