"""Filters of the audit trail: by actor, region and date range."""

import django_filters

from access.models import AccessLog
from enrollment.models import EnrollmentEvent


class AuditEventFilterSet(django_filters.FilterSet):
    actor = django_filters.CharFilter(field_name="actor_label", label="Actor (username or client)")
    source = django_filters.CharFilter(label="Where it came from: api, import, admin or system")
    province = django_filters.CharFilter(field_name="worker__province__code", label="Province code (`15`)")
    regency = django_filters.CharFilter(field_name="worker__regency__code", label="Regency/city code (`15.08`)")
    start = django_filters.DateFilter(
        field_name="recorded_at", lookup_expr="date__gte", label="Recorded on or after this day"
    )
    end = django_filters.DateFilter(
        field_name="recorded_at", lookup_expr="date__lte", label="Recorded on or before this day"
    )

    class Meta:
        model = EnrollmentEvent
        fields = ["actor", "source", "kind", "province", "regency", "start", "end"]


class AccessLogFilterSet(django_filters.FilterSet):
    user = django_filters.CharFilter(field_name="user__username", label="Username (or client) answered")
    start = django_filters.DateFilter(field_name="at", lookup_expr="date__gte", label="On or after this day")
    end = django_filters.DateFilter(field_name="at", lookup_expr="date__lte", label="On or before this day")

    class Meta:
        model = AccessLog
        fields = ["user", "kind", "start", "end"]
