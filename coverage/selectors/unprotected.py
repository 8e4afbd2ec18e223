"""Villages with unprotected workers today, the places to go next."""

from __future__ import annotations

from typing import TypedDict

from django.db.models import F, QuerySet, Sum
from django.utils.translation import gettext as _

from access.scope import Scope
from core.errors import NotFoundError, ServiceError
from villages.choices import RegionLevel
from villages.models import BranchOffice, Regency

from ..models import VillageCoverage
from .regions import region_get


class UnprotectedVillageRow(TypedDict):
    """A village with unprotected workers, with its regions and today's counts."""

    village__code: str
    village__name: str
    district__code: str
    district__name: str
    regency__code: str
    regency__name: str
    province__code: str
    serving_sum: int
    protected_sum: int
    unprotected: int


def unprotected_villages(
    *, scope: Scope | None = None, branch: str | None = None, regency: str | None = None
) -> QuerySet[VillageCoverage, UnprotectedVillageRow]:
    """Villages with unprotected workers today, most unprotected first, with their regions: of the
    regencies the branch office coded `branch` serves, or of the regency coded `regency`, or all
    (of those the caller covers)."""
    regency_ids = None
    if branch:
        regency_ids = branch_regency_ids(branch, scope=scope)
    elif regency:
        region = region_get(regency, scope=scope, field="regency")
        if region.level != RegionLevel.REGENCY:
            raise ServiceError(_("regency must be a regency/city code."), field="regency")
        regency_ids = [region.id]
    rows = VillageCoverage.objects.all() if scope is None else scope.filter(VillageCoverage.objects.all())
    if regency_ids is not None:
        rows = rows.filter(regency_id__in=regency_ids)
    return (
        rows.values(
            "village__code",
            "village__name",
            "district__code",
            "district__name",
            "regency__code",
            "regency__name",
            "province__code",
        )
        .annotate(serving_sum=Sum("serving"), protected_sum=Sum("protected"))
        .annotate(unprotected=F("serving_sum") - F("protected_sum"))
        .filter(unprotected__gt=0)
        .order_by("-unprotected", "village__code")
    )


def branch_regency_ids(code: str, *, scope: Scope | None = None) -> list[int]:
    """The regencies a branch serves (those the caller covers); 404 when it covers none."""
    branch = BranchOffice.objects.filter(code=code).first()
    regencies = branch.regencies.all() if branch else Regency.objects.none()
    if scope is not None:
        regencies = scope.filter(regencies, regency="pk")
    ids = list(regencies.values_list("pk", flat=True))
    if not ids:
        raise NotFoundError(_("No branch office has the code %(code)s.") % {"code": code}, field="branch")
    return ids
