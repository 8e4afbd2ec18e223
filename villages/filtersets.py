"""Filters of the region endpoints; parents are named by their code (`?province=15`)."""

import django_filters

from core.api.filter_fields import RegionCodeFilter
from core.api.filtersets import KeptFilterSet

from .choices import RegencyKind, VillageKind
from .models import BranchOffice, District, Regency, Village


class RegencyFilterSet(KeptFilterSet):
    province = RegionCodeFilter(field_name="province__code", label="Province code (`15`)", depths=(1,))
    kind = django_filters.ChoiceFilter(choices=RegencyKind.choices)

    class Meta:
        model = Regency
        fields = ["province", "kind"]


class DistrictFilterSet(KeptFilterSet):
    province = RegionCodeFilter(field_name="province__code", label="Province code (`15`)", depths=(1,))
    regency = RegionCodeFilter(field_name="regency__code", label="Regency/city code (`15.08` or `1508`)", depths=(2,))

    class Meta:
        model = District
        fields = ["province", "regency"]


class VillageFilterSet(KeptFilterSet):
    province = RegionCodeFilter(field_name="province__code", label="Province code (`15`)", depths=(1,))
    regency = RegionCodeFilter(field_name="regency__code", label="Regency/city code (`15.08` or `1508`)", depths=(2,))
    district = RegionCodeFilter(
        field_name="district__code", label="District code (`15.08.01` or `150801`)", depths=(3,)
    )
    kind = django_filters.ChoiceFilter(choices=VillageKind.choices)

    class Meta:
        model = Village
        fields = ["province", "regency", "district", "kind"]


class BranchOfficeFilterSet(KeptFilterSet):
    regency = RegionCodeFilter(
        field_name="regencies__code", label="Regency/city code served (`15.08` or `1508`)", depths=(2,)
    )
    province = RegionCodeFilter(
        field_name="regencies__province__code", label="Province code served (`15`)", depths=(1,), distinct=True
    )

    class Meta:
        model = BranchOffice
        fields = ["regency", "province"]
