"""Filters of the region endpoints; parents are named by their code (`?province=15`)."""

import django_filters

from .choices import RegencyKind, VillageKind
from .models import BranchOffice, District, Regency, Village


class RegencyFilterSet(django_filters.FilterSet):
    province = django_filters.CharFilter(field_name="province__code", label="Province code (`15`)")
    kind = django_filters.ChoiceFilter(choices=RegencyKind.choices)

    class Meta:
        model = Regency
        fields = ["province", "kind"]


class DistrictFilterSet(django_filters.FilterSet):
    province = django_filters.CharFilter(field_name="province__code", label="Province code (`15`)")
    regency = django_filters.CharFilter(field_name="regency__code", label="Regency/city code (`15.08`)")

    class Meta:
        model = District
        fields = ["province", "regency"]


class VillageFilterSet(django_filters.FilterSet):
    province = django_filters.CharFilter(field_name="province__code", label="Province code (`15`)")
    regency = django_filters.CharFilter(field_name="regency__code", label="Regency/city code (`15.08`)")
    district = django_filters.CharFilter(field_name="district__code", label="District code (`15.08.01`)")
    kind = django_filters.ChoiceFilter(choices=VillageKind.choices)

    class Meta:
        model = Village
        fields = ["province", "regency", "district", "kind"]


class BranchOfficeFilterSet(django_filters.FilterSet):
    regency = django_filters.CharFilter(field_name="regencies__code", label="Regency/city code served (`15.08`)")
    province = django_filters.CharFilter(
        field_name="regencies__province__code", label="Province code served (`15`)", distinct=True
    )

    class Meta:
        model = BranchOffice
        fields = ["regency", "province"]
