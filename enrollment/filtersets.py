"""Filters of the worker list: region by code at any level, institution, status, protection."""

import django_filters
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from access.services import nik_lookups_record
from core.api.filter_fields import RegionCodeFilter, StrictBooleanFilter
from core.api.filtersets import KeptFilterSet

from .choices import EnrollmentStatus, Institution, Position
from .models import ApparatusWorker
from .nik import is_full_nik, nik_compact


class WorkerFilterSet(KeptFilterSet):
    # Either spelling (`regency=1508` is `regency=15.08`, core.codes); a code of another level is an error.
    province = RegionCodeFilter(
        field_name="province", method="filter_region", label="Province code (`15`)", depths=(1,)
    )
    regency = RegionCodeFilter(
        field_name="regency", method="filter_region", label="Regency/city code (`15.08` or `1508`)", depths=(2,)
    )
    district = RegionCodeFilter(
        field_name="district", method="filter_region", label="District code (`15.08.01` or `150801`)", depths=(3,)
    )
    village = RegionCodeFilter(
        field_name="village",
        method="filter_region",
        label="Village code (`15.08.01.2001` or `1508012001`)",
        depths=(4,),
    )
    # distinct=False: each of these names one value per worker (enrollment is one-to-one), so no
    # row can repeat, and DISTINCT over every column would make the database sort the region's
    # workers on each page and count.
    institution = django_filters.MultipleChoiceFilter(choices=Institution.choices, distinct=False)
    position = django_filters.MultipleChoiceFilter(choices=Position.choices, distinct=False)
    status = django_filters.MultipleChoiceFilter(
        field_name="enrollment_status", choices=EnrollmentStatus.choices, distinct=False
    )
    serving = StrictBooleanFilter(label="true: in office; false: service ended")
    protected = StrictBooleanFilter(
        method="filter_protected", label="true: serving, term begun and membership active; false: the others"
    )
    search = django_filters.CharFilter(
        method="filter_search",
        label="A part of the name, any case (`siti`); or a whole NIK (16 digits), matched exactly",
    )

    class Meta:
        model = ApparatusWorker
        fields = ["province", "regency", "district", "village", "institution", "position", "status", "serving"]

    def filter_region(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """By the region's id (looked up by code in a subquery), not by a join on its code: the
        database then walks the (region, status, id) index in page order and stops after a page,
        instead of joining every worker of the region to sort them."""
        region = ApparatusWorker._meta.get_field(name).related_model
        if not isinstance(region, type):  # a foreign key to a region model, named by the filter
            raise TypeError(f"{name} is not a foreign key of ApparatusWorker")
        # Written out: the same subquery built as a QuerySet cost a quarter of a millisecond more to
        # build and compile on every list request.
        table = connection.ops.quote_name(region._meta.db_table)
        region_id = RawSQL(f'SELECT "id" FROM {table} WHERE "code" = %s LIMIT 1', [value])  # noqa: S611
        return queryset.filter(**{f"{name}_id": region_id})

    def filter_protected(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        # As coverage counts it: a term that has not started yet protects no one yet.
        protected = Q(serving=True, term_started=True, enrollment_status=EnrollmentStatus.ACTIVE)
        return queryset.filter(protected) if value else queryset.exclude(protected)

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if is_full_nik(value):
            if self.request is not None:  # counted and logged for callers who may not see NIKs
                nik_lookups_record(request=self.request, lookups=1, field="search")
            return queryset.filter(nik=nik_compact(value))
        return queryset.filter(full_name__icontains=value.strip())
