"""Coverage counters kept exact by the write path, and the figures read from them."""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from enrollment.choices import Institution, Program, Scheme
from villages.models import District, Province, Regency, Village

from .choices import CoverageKind, RateKind


class VillageCoverage(models.Model):
    """Serving and protected workers of one institution in one village, as of now.

    Maintained in the same transaction as every worker write (`coverage.services`); any region's
    figures are SUMs over these rows. `recount_coverage` rebuilds them from the worker rows.
    """

    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="coverage_counters")
    institution = models.CharField(_("institution"), max_length=20, choices=Institution.choices)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    regency = models.ForeignKey(Regency, on_delete=models.PROTECT, related_name="+")
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="+")
    serving = models.IntegerField(_("serving"), default=0)
    protected = models.IntegerField(_("protected"), default=0)

    class Meta:
        verbose_name = _("village coverage counter")
        verbose_name_plural = _("village coverage counters")
        constraints = [
            models.UniqueConstraint(fields=["village", "institution"], name="coverage_village_institution_unique"),
            models.CheckConstraint(
                condition=Q(protected__gte=0) & Q(protected__lte=F("serving")), name="coverage_counts_in_range"
            ),
        ]
        indexes = [
            models.Index(fields=["regency", "village"], name="coverage_regency_idx"),
            models.Index(fields=["province", "regency"], name="coverage_province_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.village_id}/{self.institution}: {self.protected}/{self.serving}"


class RegencyCoverage(models.Model):
    """Serving and protected workers of one institution in one regency/city, as of now.

    The same figures as the regency's `VillageCoverage` rows summed, kept by the same writes, so
    province and regency rows read a few thousand counter rows instead of the whole country's
    village rows.
    """

    regency = models.ForeignKey(Regency, on_delete=models.PROTECT, related_name="coverage_counters", db_index=False)
    institution = models.CharField(_("institution"), max_length=20, choices=Institution.choices)
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="+", db_index=False)
    serving = models.IntegerField(_("serving"), default=0)
    protected = models.IntegerField(_("protected"), default=0)

    class Meta:
        verbose_name = _("regency coverage counter")
        verbose_name_plural = _("regency coverage counters")
        constraints = [
            models.UniqueConstraint(fields=["regency", "institution"], name="coverage_regency_institution_unique"),
            models.CheckConstraint(
                condition=Q(protected__gte=0) & Q(protected__lte=F("serving")), name="regency_counts_in_range"
            ),
        ]
        indexes = [models.Index(fields=["province", "regency"], name="regency_coverage_province_idx")]

    def __str__(self) -> str:
        return f"{self.regency_id}/{self.institution}: {self.protected}/{self.serving}"


class CoverageTotals(models.Model):
    """Figures of all institutions together, with the breakdowns a region's detail shows: its
    protected workers by the source funding their premium, and its unprotected wage earners
    (a siltap with a known wage) with their monthly wages, on which the premium that would
    protect them is estimated. Kept by the same writes as the counters per institution
    (`coverage.services`), in the order `enrollment.counting.counter_values` gives them."""

    serving = models.IntegerField(_("serving"), default=0)
    protected = models.IntegerField(_("protected"), default=0)
    protected_apbdes = models.IntegerField(default=0)
    protected_apbd_kabupaten = models.IntegerField(default=0)
    protected_apbd_provinsi = models.IntegerField(default=0)
    protected_self_paid = models.IntegerField(default=0)
    protected_other = models.IntegerField(default=0)
    protected_unrecorded = models.IntegerField(default=0)
    unprotected_wage_earners = models.IntegerField(default=0)
    unprotected_wages = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


# The totals' figures, in the order of `enrollment.counting.counter_values`.
TOTAL_COLUMNS = (
    "serving",
    "protected",
    "protected_apbdes",
    "protected_apbd_kabupaten",
    "protected_apbd_provinsi",
    "protected_self_paid",
    "protected_other",
    "protected_unrecorded",
    "unprotected_wage_earners",
    "unprotected_wages",
)


class VillageTotals(CoverageTotals):
    """One village's figures of all institutions together (`CoverageTotals`): a regency's
    villages are read one row each, not one per institution."""

    village = models.OneToOneField(Village, on_delete=models.PROTECT, related_name="coverage_totals")
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+", db_index=False)
    regency = models.ForeignKey(Regency, on_delete=models.PROTECT, related_name="+", db_index=False)
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="+", db_index=False)

    class Meta:
        verbose_name = _("village coverage totals")
        verbose_name_plural = _("village coverage totals")
        constraints = [
            models.CheckConstraint(
                condition=Q(protected__gte=0) & Q(protected__lte=F("serving")), name="village_totals_in_range"
            ),
        ]
        indexes = [
            models.Index(fields=["regency", "village"], name="village_totals_regency_idx"),
            models.Index(fields=["district", "village"], name="village_totals_district_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.village_id}: {self.protected}/{self.serving}"


class RegencyTotals(CoverageTotals):
    """One regency's figures of all institutions together (`CoverageTotals`)."""

    regency = models.OneToOneField(Regency, on_delete=models.PROTECT, related_name="coverage_totals")
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="+", db_index=False)

    class Meta:
        verbose_name = _("regency coverage totals")
        verbose_name_plural = _("regency coverage totals")
        constraints = [
            models.CheckConstraint(
                condition=Q(protected__gte=0) & Q(protected__lte=F("serving")), name="regency_totals_in_range"
            ),
        ]
        indexes = [models.Index(fields=["province", "regency"], name="regency_totals_province_idx")]

    def __str__(self) -> str:
        return f"{self.regency_id}: {self.protected}/{self.serving}"


class DataVersion(models.Model):
    """One number that changes after every committed write that can change a coverage answer.

    Coverage responses are cached per process and answered with 304 under an ETag made of
    this number; see `coverage.caching`. On PostgreSQL the number is a sequence (bumped without
    locks or waits), elsewhere this single row.
    """

    version = models.BigIntegerField(default=1)

    class Meta:
        verbose_name = _("coverage data version")
        verbose_name_plural = _("coverage data versions")

    def __str__(self) -> str:
        return str(self.version)


class RegionVersion(models.Model):
    """A province's version (`province_id`), or the version of everything that is not one
    province's workers (`province_id` 0): the data version of the last write that changed it
    (core.data_version). Coverage answers about one province are kept under these two."""

    province_id = models.IntegerField(primary_key=True)
    version = models.BigIntegerField()

    class Meta:
        verbose_name = _("region data version")
        verbose_name_plural = _("region data versions")

    def __str__(self) -> str:
        return f"{self.province_id}: {self.version}"


class Target(models.Model):
    """A coverage target (percent) for a year, a region and a kind of coverage.

    A region without its own target inherits the nearest ancestor's (`coverage.selectors.targets`).
    """

    kind = models.CharField(_("kind"), max_length=20, choices=CoverageKind.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    region_code = models.CharField(_("region code"), max_length=13)
    target_pct = models.DecimalField(_("target (%)"), max_digits=5, decimal_places=2)

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["kind", "year", "region_code"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "year", "region_code"], name="target_unique"),
            models.CheckConstraint(condition=Q(target_pct__gte=0) & Q(target_pct__lte=100), name="target_pct_range"),
            models.CheckConstraint(condition=Q(year__gte=2000) & Q(year__lte=2100), name="target_year_range"),
        ]

    def __str__(self) -> str:
        return f"{self.region_code} {self.year} {self.kind}: {self.target_pct}%"


class WorkforceFigure(models.Model):
    """UC Jamsostek figure of a province or regency on a date: potential workers (BPS) and
    active BPJS Ketenagakerjaan participants."""

    region_code = models.CharField(_("region code"), max_length=5)
    date = models.DateField(_("date"))
    potential_workers = models.PositiveIntegerField(_("potential workers"))
    active_participants = models.PositiveIntegerField(_("active participants"))
    source = models.CharField(_("source"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("workforce figure")
        verbose_name_plural = _("workforce figures")
        ordering = ["region_code", "date"]
        constraints = [
            models.UniqueConstraint(fields=["region_code", "date"], name="workforce_unique"),
            models.CheckConstraint(
                condition=Q(active_participants__lte=F("potential_workers")), name="workforce_active_le_potential"
            ),
            models.CheckConstraint(
                condition=Q(region_code__regex=r"^[0-9]{2}(\.[0-9]{2})?\Z"), name="workforce_region_level"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region_code} {self.date}: {self.active_participants}/{self.potential_workers}"


class CoverageSnapshot(models.Model):
    """A region's apparatus coverage on a date, stored by `snapshot_coverage` for cheap trends."""

    region_code = models.CharField(_("region code"), max_length=13)
    date = models.DateField(_("date"))
    serving = models.PositiveIntegerField(_("serving"))
    protected = models.PositiveIntegerField(_("protected"))

    class Meta:
        verbose_name = _("coverage snapshot")
        verbose_name_plural = _("coverage snapshots")
        constraints = [
            models.UniqueConstraint(fields=["region_code", "date"], name="snapshot_unique"),
            models.CheckConstraint(condition=Q(protected__lte=F("serving")), name="snapshot_counts_in_range"),
        ]

    def __str__(self) -> str:
        return f"{self.region_code} {self.date}: {self.protected}/{self.serving}"


class PremiumRate(models.Model):
    """A contribution rate of one program of one scheme, valid over a period.

    PU rates are a percent of the monthly wage; BPU rates a fixed amount a month.
    """

    scheme = models.CharField(_("scheme"), max_length=3, choices=Scheme.choices)
    program = models.CharField(_("program"), max_length=3, choices=Program.choices)
    kind = models.CharField(_("kind"), max_length=8, choices=RateKind.choices)
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=4)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        verbose_name = _("premium rate")
        verbose_name_plural = _("premium rates")
        ordering = ["scheme", "program", "valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "program", "valid_from"], name="rate_unique_start"),
            models.CheckConstraint(condition=Q(value__gte=0), name="rate_value_not_negative"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")), name="rate_period_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scheme}/{self.program} {self.value} from {self.valid_from}"
