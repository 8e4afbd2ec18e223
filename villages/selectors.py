"""Read querysets of the region hierarchy, with the joins each representation needs."""

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from core.errors import NotFoundError

from .models import BranchOffice, District, Province, Regency, Village
from .services import MODEL_BY_LEVEL, level_for_code


def province_list() -> QuerySet[Province]:
    """All provinces by code."""
    return Province.objects.all()


def regency_list() -> QuerySet[Regency]:
    """Regencies with their province (its code is shown)."""
    return Regency.objects.select_related("province")


def district_list() -> QuerySet[District]:
    """Districts with their regency and province (their codes are shown)."""
    return District.objects.select_related("regency", "province")


def village_list() -> QuerySet[Village]:
    """Villages with district, regency and province (their codes are shown)."""
    return Village.objects.select_related("district", "regency", "province")


def branch_office_list() -> QuerySet[BranchOffice]:
    """Branch offices with the regencies they serve, fetched in one extra query."""
    return BranchOffice.objects.prefetch_related(Prefetch("regencies", queryset=Regency.objects.order_by("code")))


def region_by_code(code: str, *, field: str = "code") -> tuple[str, int]:
    """The level and id of the region with this code at any level, or a 404 naming the code."""
    level = level_for_code(code)
    pk = MODEL_BY_LEVEL[level].objects.filter(code=code).values_list("pk", flat=True).first() if level else None
    if level is None or pk is None:
        raise NotFoundError(_("No region has the code %(code)s.") % {"code": code}, field=field)
    return level, pk
