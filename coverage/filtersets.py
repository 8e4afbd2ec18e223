"""Filters of the target and workforce-figure lists."""

import django_filters

from core.api.filter_fields import IntegerFilter, RegionCodeFilter

from .models import Target, WorkforceFigure


class TargetFilterSet(django_filters.FilterSet):
    year = IntegerFilter()
    region_code = RegionCodeFilter(label="Province (`15`) or regency/city code (`15.08` or `1508`)", depths=(1, 2))

    class Meta:
        model = Target
        fields = ["kind", "year", "region_code"]


class WorkforceFilterSet(django_filters.FilterSet):
    region_code = RegionCodeFilter(label="Province (`15`) or regency/city code (`15.08` or `1508`)", depths=(1, 2))

    class Meta:
        model = WorkforceFigure
        fields = ["region_code", "date"]
