"""The official region hierarchy (Kemendagri codes) and BPJS Ketenagakerjaan branch offices.

Every level keeps an integer primary key and a unique `code`; the API addresses regions by
code. Lower levels carry foreign keys to every ancestor so any level can be filtered or
grouped without joins.
"""

import datetime

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.codes import DISTRICT_CODE_RE, PROVINCE_CODE_RE, REGENCY_CODE_RE, VILLAGE_CODE_RE

from .choices import RegencyKind, RegionLevel, VillageKind

# First digit of the last part of a village code -> kind.
VILLAGE_KIND_BY_DIGIT = {"1": VillageKind.KELURAHAN, "2": VillageKind.DESA, "3": VillageKind.DESA_ADAT}


def regency_kind_for_code(code: str) -> RegencyKind:
    """Kabupaten when the regency part is below 70, kota from 70 up."""
    return RegencyKind.KOTA if int(code[3:5]) >= 70 else RegencyKind.KABUPATEN


def village_kind_for_code(code: str) -> VillageKind:
    """Kelurahan `1xxx`, desa `2xxx`, desa adat `3xxx`."""
    return VILLAGE_KIND_BY_DIGIT[code[9]]


def in_force_on(day: datetime.date) -> Q:
    """The regions of a level as they stood on `day`: created by then (a region created by a
    decree, `apply_region_changes`, has `valid_from`) and not yet retired by one (`valid_to`)."""
    return (Q(valid_from__isnull=True) | Q(valid_from__lte=day)) & (Q(valid_to__isnull=True) | Q(valid_to__gt=day))


# The regions in force today: a decree takes effect today at the latest, so a retired region
# always has `valid_to` set.
IN_FORCE = Q(valid_to__isnull=True)


class Region(models.Model):
    """Fields every level shares: the official code and name, and the dates a decree gave it.

    A region changed by decree (re-coded, split, moved) is never deleted: its row stays, with
    `valid_to`, so that figures of past dates still name it; its successor's row has `valid_from`.
    Both are empty for a region that has simply always been in the official list."""

    code = models.CharField(_("code"), max_length=13, unique=True)
    name = models.CharField(_("name"), max_length=100)
    valid_from = models.DateField(_("in force from"), null=True, blank=True)
    valid_to = models.DateField(_("retired on"), null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Province(Region):
    """A province (`15`)."""

    class Meta(Region.Meta):
        verbose_name = _("province")
        verbose_name_plural = _("provinces")
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=PROVINCE_CODE_RE), name="province_code_shape"),
        ]


class Regency(Region):
    """A regency (kabupaten, `15.01`) or city (kota, `15.71`)."""

    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="regencies", verbose_name=_("province")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=RegencyKind.choices)

    class Meta(Region.Meta):
        verbose_name = _("regency/city")
        verbose_name_plural = _("regencies/cities")
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=REGENCY_CODE_RE), name="regency_code_shape"),
            models.CheckConstraint(
                condition=(
                    Q(kind=RegencyKind.KOTA, code__regex=r"^[0-9]{2}\.[7-9][0-9]\Z")
                    | Q(kind=RegencyKind.KABUPATEN, code__regex=r"^[0-9]{2}\.[0-6][0-9]\Z")
                ),
                name="regency_kind_matches_code",
            ),
        ]


class District(Region):
    """A district (kecamatan, `15.01.01`)."""

    regency = models.ForeignKey(
        Regency, on_delete=models.PROTECT, related_name="districts", verbose_name=_("regency/city")
    )
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="districts", verbose_name=_("province")
    )

    class Meta(Region.Meta):
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=DISTRICT_CODE_RE), name="district_code_shape"),
        ]


class Village(Region):
    """A village: kelurahan (`1xxx`), desa (`2xxx`) or desa adat (`3xxx`)."""

    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="villages", verbose_name=_("district")
    )
    regency = models.ForeignKey(
        Regency, on_delete=models.PROTECT, related_name="villages", verbose_name=_("regency/city")
    )
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="villages", verbose_name=_("province")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=VillageKind.choices)

    class Meta(Region.Meta):
        verbose_name = _("village")
        verbose_name_plural = _("villages")
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=VILLAGE_CODE_RE), name="village_code_shape"),
            models.CheckConstraint(
                condition=(
                    Q(kind=VillageKind.KELURAHAN, code__regex=r"\.1[0-9]{3}\Z")
                    | Q(kind=VillageKind.DESA, code__regex=r"\.2[0-9]{3}\Z")
                    | Q(kind=VillageKind.DESA_ADAT, code__regex=r"\.3[0-9]{3}\Z")
                ),
                name="village_kind_matches_code",
            ),
        ]


class BranchOffice(models.Model):
    """A BPJS Ketenagakerjaan branch office (Kantor Cabang) and the regencies it serves."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    regencies = models.ManyToManyField(
        Regency, related_name="branch_offices", blank=True, verbose_name=_("regencies/cities served")
    )
    # The key BPJS and the branch agreed on for keyed-hash NIKs in a reconciliation (HMAC-SHA256);
    # never shown by the API. Empty: the branch cannot reconcile hashed extracts.
    reconciliation_secret = models.CharField(_("reconciliation secret"), max_length=128, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("branch office")
        verbose_name_plural = _("branch offices")

    def __str__(self) -> str:
        return self.name


class Boundary(models.Model):
    """A region's outline at one level of detail, for maps (villages.geometry): keyed by the
    region's code, so a boundary may arrive before or after its region, and a region without
    one is simply drawn without it."""

    code = models.CharField(_("code"), max_length=13)
    level = models.CharField(_("level"), max_length=10, choices=RegionLevel.choices)
    detail = models.PositiveSmallIntegerField(_("level of detail"))  # 0 is the coarsest
    geometry = models.TextField(_("geometry (GeoJSON)"))
    path = models.TextField(_("SVG path"))
    points = models.PositiveIntegerField(_("points"))
    west = models.FloatField()
    south = models.FloatField()
    east = models.FloatField()
    north = models.FloatField()
    # SHA-256 of the source feature's geometry: a re-import of the same file changes nothing.
    source_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["code", "detail"]
        verbose_name = _("boundary")
        verbose_name_plural = _("boundaries")
        constraints = [
            models.UniqueConstraint(fields=["code", "detail"], name="boundary_one_per_detail"),
        ]
        indexes = [models.Index(fields=["level", "detail", "code"], name="boundary_level_detail_idx")]

    def __str__(self) -> str:
        return f"{self.code} ({self.detail})"
