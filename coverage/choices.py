"""Enumerations of coverage figures."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CoverageKind(models.TextChoices):
    VILLAGE_APPARATUS = "village_apparatus", _("Village apparatus")
    WORKFORCE = "workforce", _("Whole workforce (UC Jamsostek)")


class Interval(models.TextChoices):
    DAY = "day", _("Day")
    WEEK = "week", _("Week")
    MONTH = "month", _("Month")


class PeriodType(models.TextChoices):
    """The periods an aggregate export is cut into (DHIS2's period types of the same names)."""

    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    YEARLY = "yearly", _("Yearly")


class RateKind(models.TextChoices):
    PERCENT_OF_WAGE = "percent", _("Percent of the monthly wage")
    FIXED = "fixed", _("Fixed amount a month (Rp)")
