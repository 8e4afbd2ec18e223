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


class RateKind(models.TextChoices):
    PERCENT_OF_WAGE = "percent", _("Percent of the monthly wage")
    FIXED = "fixed", _("Fixed amount a month (Rp)")
