"""Filters of the target and workforce-figure lists."""

from core.api.filter_fields import IntegerFilter, RegionCodeFilter
from core.api.filtersets import KeptFilterSet

from .models import Target, WorkforceFigure


class TargetFilterSet(KeptFilterSet):
    year = IntegerFilter()
    region_code = RegionCodeFilter(label="Province (`15`) or regency/city code (`15.08` or `1508`)", depths=(1, 2))

    class Meta:
        model = Target
        fields = ["kind", "year", "region_code"]


class WorkforceFilterSet(KeptFilterSet):
    region_code = RegionCodeFilter(label="Province (`15`) or regency/city code (`15.08` or `1508`)", depths=(1, 2))

    class Meta:
        model = WorkforceFigure
        fields = ["region_code", "date"]
