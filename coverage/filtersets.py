"""Filters of the target and workforce-figure lists."""

import django_filters

from core.api.filter_fields import IntegerFilter

from .models import Target


class TargetFilterSet(django_filters.FilterSet):
    year = IntegerFilter()

    class Meta:
        model = Target
        fields = ["kind", "year", "region_code"]
