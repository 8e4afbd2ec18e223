"""Filters of the access log: by user, kind and date range."""

import django_filters

from access.models import AccessLog
from core.api.filtersets import KeptFilterSet


class AccessLogFilterSet(KeptFilterSet):
    user = django_filters.CharFilter(field_name="user__username", label="Username (or client) answered")
    start = django_filters.DateFilter(field_name="at", lookup_expr="date__gte", label="On or after this day")
    end = django_filters.DateFilter(field_name="at", lookup_expr="date__lte", label="On or before this day")

    class Meta:
        model = AccessLog
        fields = ["user", "kind", "start", "end"]
