"""Filters of the region endpoints; parents are named by their code (`?province=15`)."""

import django_filters

from .choices import RegencyKind, VillageKind
from .models import BranchOffice, District, Regency, Village


class RegencyFilterSet(django_filters.FilterSet):
    province = django_filters.CharFilter(field_name="province__code", label="Province code")
    kind = django_filters.ChoiceFilter(choices=RegencyKind.choices)

    class Meta:
        model = Regency
        fields = ["province", "kind"]


class DistrictFilterSet(django_filters.FilterSet):
    province = django_filters.CharFilter(field_name="province__code", label="Province code")
    regency = django_filters.CharFilter(field_name="regency__code", label="Regency/city code")

    class Meta:
        model = District
        fields = ["province", "regency"]


class VillageFilterSet(django_filters.FilterSet):
    province = django_filters.CharFilter(field_name="province__code", label="Province code")
    regency = django_filters.CharFilter(field_name="regency__code", label="Regency/city code")
    district = django_filters.CharFilter(field_name="district__code", label="District code")
    kind = django_filters.ChoiceFilter(choices=VillageKind.choices)

    class Meta:
        model = Village
        fields = ["province", "regency", "district", "kind"]


class BranchOfficeFilterSet(django_filters.FilterSet):
    regency = django_filters.CharFilter(field_name="regencies__code", label="Regency/city code served")
    province = django_filters.CharFilter(
        field_name="regencies__province__code", label="Province code served", distinct=True
    )

    class Meta:
        model = BranchOffice
        fields = ["regency", "province"]
