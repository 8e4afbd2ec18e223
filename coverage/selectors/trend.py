"""A region's coverage over time, from the stored snapshots."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext as _

from access.scope import Scope
from core.errors import ServiceError

from ..choices import Interval
from ..figures import coverage_pct
from ..models import CoverageSnapshot
from .regions import region_get

MAX_POINTS: dict[str, int] = {Interval.DAY: 366, Interval.WEEK: 260, Interval.MONTH: 240}


def period_start(date: datetime.date, interval: str) -> datetime.date:
    """The first day of the day, week (Monday) or month holding `date`."""
    if interval == Interval.MONTH:
        return date.replace(day=1)
    if interval == Interval.WEEK:
        return date - datetime.timedelta(days=date.weekday())
    return date


def trend(
    *, code: str, start: datetime.date, end: datetime.date, interval: str, scope: Scope | None = None
) -> list[dict[str, Any]]:
    """The region's stored snapshots from `start` to `end`, the last one of each period."""
    region_get(code, scope=scope)
    if start > end:
        raise ServiceError(_("start must be on or before end."), field="start", code="start_after_end")
    periods = period_count(start, end, interval)
    if periods > MAX_POINTS[interval]:
        raise ServiceError(
            _("The range has %(n)d %(interval)s periods; at most %(max)d are allowed.")
            % {"n": periods, "interval": interval, "max": MAX_POINTS[interval]},
            field="end",
            code="range_too_long",
        )
    snapshots = (
        CoverageSnapshot.objects.filter(region_code=code, date__range=(start, end))
        .order_by("date")
        .values_list("date", "serving", "protected")
    )
    last_of_period: dict[datetime.date, tuple[datetime.date, int, int]] = {}
    for snapshot in snapshots:
        last_of_period[period_start(snapshot[0], interval)] = snapshot
    return [
        {
            "period": period,
            "date": date,
            "serving": serving,
            "protected": protected,
            "unprotected": serving - protected,
            "coverage_pct": coverage_pct(protected, serving),
        }
        for period, (date, serving, protected) in sorted(last_of_period.items())
    ]


def period_count(start: datetime.date, end: datetime.date, interval: str) -> int:
    """How many days, weeks (from Monday) or months the range from `start` to `end` touches."""
    if end < start:
        return 0
    if interval == Interval.MONTH:
        return (end.year - start.year) * 12 + end.month - start.month + 1
    return (period_start(end, interval) - period_start(start, interval)).days // (
        7 if interval == Interval.WEEK else 1
    ) + 1
