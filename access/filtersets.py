"""Filters of the audit trail: by actor, region and date range."""

import django_filters

from access.models import AccessLog
from enrollment.models import EnrollmentEvent


class AuditEventFilterSet(django_filters.FilterSet):
    actor = django_filters.CharFilter(field_name="actor_label", label="Actor (username or client)")
    source = django_filters.CharFilter()
    province = django_filters.CharFilter(field_name="worker__province__code", label="Province code")
    regency = django_filters.CharFilter(field_name="worker__regency__code", label="Regency/city code")
    start = django_filters.DateFilter(field_name="recorded_at", lookup_expr="date__gte", label="Recorded from")
    end = django_filters.DateFilter(field_name="recorded_at", lookup_expr="date__lte", label="Recorded until")

    class Meta:
        model = EnrollmentEvent
        fields = ["actor", "source", "kind", "province", "regency", "start", "end"]


class AccessLogFilterSet(django_filters.FilterSet):
    user = django_filters.CharFilter(field_name="user__username")
    start = django_filters.DateFilter(field_name="at", lookup_expr="date__gte")
    end = django_filters.DateFilter(field_name="at", lookup_expr="date__lte")

    class Meta:
        model = AccessLog
        fields = ["user", "kind", "start", "end"]
