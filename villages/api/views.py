"""Read-only region endpoints, addressed by official code. Regions change only by import and by
`apply_region_changes`; a retired region is listed no more, its code still answers."""

from django.utils.decorators import method_decorator
from rest_framework import viewsets

from access.api.permissions import PUBLIC, CapabilityRequired
from core.api.routers import RegionCodeInPath
from core.routing import replica_reads
from villages import selectors
from villages.filtersets import BranchOfficeFilterSet, DistrictFilterSet, RegencyFilterSet, VillageFilterSet

from .serializers import (
    BranchOfficeSerializer,
    DistrictSerializer,
    ProvinceSerializer,
    RegencySerializer,
    VillageSerializer,
)


# Reads that may come from a replica (core.routing).
@method_decorator(replica_reads(), name="list")
@method_decorator(replica_reads(), name="retrieve")
class RegionViewSet(RegionCodeInPath, viewsets.ReadOnlyModelViewSet):
    # The official region list is public reference data.
    permission_classes = [CapabilityRequired]
    required_capabilities = {"list": PUBLIC, "retrieve": PUBLIC}
    # Addressed by code, in either spelling (`regencies/1508/` is `regencies/15.08/`).
    search_fields = ["name"]
    ordering_fields = ["code", "name"]
    ordering = ["code"]

    def get_queryset(self):
        return selectors.regions_listed(super().get_queryset(), action=self.action)


class ProvinceViewSet(RegionViewSet):
    """Provinces (`15`)."""

    queryset = selectors.province_list()
    path_example = "15"
    serializer_class = ProvinceSerializer


class RegencyViewSet(RegionViewSet):
    """Regencies and cities (`15.01`); filter by `province` code and `kind`."""

    queryset = selectors.regency_list()  # select_related: province (its code)
    path_example = "15.08"
    serializer_class = RegencySerializer
    filterset_class = RegencyFilterSet


class DistrictViewSet(RegionViewSet):
    """Districts (`15.01.01`); filter by `province` or `regency` code."""

    queryset = selectors.district_list()  # select_related: regency, province (their codes)
    path_example = "15.08.01"
    serializer_class = DistrictSerializer
    filterset_class = DistrictFilterSet


class VillageViewSet(RegionViewSet):
    """Villages (`15.01.01.2001`); filter by `province`, `regency`, `district` code and `kind`."""

    queryset = selectors.village_list()  # select_related: district, regency, province (codes)
    path_example = "15.08.01.2001"
    serializer_class = VillageSerializer
    filterset_class = VillageFilterSet


@method_decorator(replica_reads(), name="list")
@method_decorator(replica_reads(), name="retrieve")
class BranchOfficeViewSet(viewsets.ReadOnlyModelViewSet):
    """BPJS Ketenagakerjaan branch offices and the regencies each serves."""

    queryset = selectors.branch_office_list()  # prefetch: regencies (listed per branch)
    path_example = "muara-bungo"
    serializer_class = BranchOfficeSerializer
    filterset_class = BranchOfficeFilterSet
    permission_classes = [CapabilityRequired]
    required_capabilities = {"list": PUBLIC, "retrieve": PUBLIC}
    lookup_field = "code"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"  # a slug (BranchOffice.code): anything else is a JSON 404
    search_fields = ["name", "code"]
    ordering_fields = ["code", "name"]
    ordering = ["code"]
