"""Filters of the worker list: region by code at any level, institution, status, protection."""

import django_filters
from django.db.models import Q, QuerySet

from .choices import EnrollmentStatus, Institution, Position
from .models import ApparatusWorker
from .nik import nik_compact


class WorkerFilterSet(django_filters.FilterSet):
    province = django_filters.CharFilter(field_name="province__code", label="Province code")
    regency = django_filters.CharFilter(field_name="regency__code", label="Regency/city code")
    district = django_filters.CharFilter(field_name="district__code", label="District code")
    village = django_filters.CharFilter(field_name="village__code", label="Village code")
    # distinct=False: each of these names one value per worker (enrollment is one-to-one), so no
    # row can repeat, and DISTINCT over every column would make the database sort the region's
    # workers on each page and count.
    institution = django_filters.MultipleChoiceFilter(choices=Institution.choices, distinct=False)
    position = django_filters.MultipleChoiceFilter(choices=Position.choices, distinct=False)
    status = django_filters.MultipleChoiceFilter(
        field_name="enrollment__status", choices=EnrollmentStatus.choices, distinct=False
    )
    serving = django_filters.BooleanFilter()
    protected = django_filters.BooleanFilter(method="filter_protected")
    search = django_filters.CharFilter(method="filter_search", label="Name (part) or full NIK")

    class Meta:
        model = ApparatusWorker
        fields = ["province", "regency", "district", "village", "institution", "position", "status", "serving"]

    def filter_protected(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        protected = Q(serving=True, enrollment__status=EnrollmentStatus.ACTIVE)
        return queryset.filter(protected) if value else queryset.exclude(protected)

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        compact = nik_compact(value)
        if compact.isdigit() and len(compact) == 16:
            return queryset.filter(nik=compact)
        return queryset.filter(full_name__icontains=value.strip())
