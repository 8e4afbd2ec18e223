"""Coverage counters kept exact by the write path, and the figures read from them."""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from enrollment.choices import Institution
from villages.models import District, Province, Regency, Village


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
