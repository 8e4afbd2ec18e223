"""Coverage per region and period, for the aggregate exports (DHIS2 dataValueSets, ADX).

A period's figures are the coverage rows (`rows.coverage_rows_listed`, the same computation as
`GET /coverage/?as_of=`) as at the period's last day, or today for the period still running;
its target is the rows' `target_pct`, the region's target of that day's year. Nothing here
computes coverage another way: it picks the dates and bounds how many are asked for.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.translation import gettext as _

from access.scope import Scope
from core.clock import today
from core.errors import ServiceError

from ..choices import PeriodType
from .rows import CoverageFigures, coverage_rows_listed

# How long a range of each period type may be: ten years whatever the type, so that an export
# asks the history for at most 120 dates.
MAX_PERIODS: dict[str, int] = {PeriodType.MONTHLY: 120, PeriodType.QUARTERLY: 40, PeriodType.YEARLY: 10}
# Regions × periods: the groups of values one export holds (each a region's four figures of a
# period). 20,000 is the 852 villages of the largest regency over two years of months.
MAX_GROUPS = 20_000
MONTHS: dict[str, int] = {PeriodType.MONTHLY: 1, PeriodType.QUARTERLY: 3, PeriodType.YEARLY: 12}
# Each period type's length as an ISO 8601 duration.
DURATIONS: dict[str, str] = {PeriodType.MONTHLY: "P1M", PeriodType.QUARTERLY: "P3M", PeriodType.YEARLY: "P1Y"}


@dataclass(frozen=True)
class Period:
    """A calendar month, quarter or year."""

    type: str
    start: datetime.date

    @property
    def end(self) -> datetime.date:
        """The period's last day."""
        return _add_months(self.start, MONTHS[self.type]) - datetime.timedelta(days=1)

    @property
    def dhis2(self) -> str:
        """DHIS2's period identifier: `202412` (monthly), `2024Q4` (quarterly), `2024` (yearly)."""
        if self.type == PeriodType.MONTHLY:
            return f"{self.start.year}{self.start.month:02d}"
        if self.type == PeriodType.QUARTERLY:
            return f"{self.start.year}Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}"

    @property
    def iso(self) -> str:
        """The period as an ISO 8601 start and duration, as ADX writes it: `2024-12-01/P1M`,
        `2024-10-01/P3M`, `2024-01-01/P1Y`."""
        duration = DURATIONS[self.type]
        return f"{self.start.isoformat()}/{duration}"


@dataclass(frozen=True)
class PeriodRows:
    """The coverage rows of one period, as at `as_of` (its last day, or today)."""

    period: Period
    as_of: datetime.date
    rows: list[CoverageFigures]


def _add_months(date: datetime.date, months: int) -> datetime.date:
    index = date.year * 12 + date.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def period_of(date: datetime.date, period_type: str) -> Period:
    """The period of `period_type` holding `date`."""
    first_month = (date.month - 1) // MONTHS[period_type] * MONTHS[period_type] + 1
    return Period(period_type, datetime.date(date.year, first_month, 1))


def periods_between(start: datetime.date, end: datetime.date, period_type: str) -> list[Period]:
    """The periods of `period_type` from the one holding `start` to the one holding `end`."""
    periods = [period_of(start, period_type)]
    last = period_of(end, period_type)
    while periods[-1] != last:
        periods.append(Period(period_type, _add_months(periods[-1].start, MONTHS[period_type])))
    return periods


def _months_between(start: datetime.date, end: datetime.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def coverage_by_period(
    *,
    level: str,
    start: datetime.date,
    end: datetime.date | None,
    period_type: str,
    scope: Scope,
    parent: str | None = None,
) -> list[PeriodRows]:
    """The coverage rows of the regions of `level` the caller covers (under the region coded
    `parent`), for every period of `period_type` from the one holding `start` to the one holding
    `end` (default today), each as at the period's last day or today, in period then code order.
    Refuses (400, naming the parameter) a range backwards or in the future, and an export larger
    than `MAX_PERIODS` periods or `MAX_GROUPS` regions × periods."""
    now = today()
    end = now if end is None else end
    if end > now:
        raise ServiceError(_("end cannot be in the future."), field="end", code="future_date")
    if start > end:
        raise ServiceError(_("start must be on or before end."), field="start", code="start_after_end")
    count = _months_between(period_of(start, period_type).start, period_of(end, period_type).start)
    count = count // MONTHS[period_type] + 1
    if count > MAX_PERIODS[period_type]:
        raise ServiceError(
            _("The range has %(n)d %(type)s periods; at most %(max)d are allowed.")
            % {"n": count, "type": period_type, "max": MAX_PERIODS[period_type]},
            field="start",
            code="range_too_long",
        )
    periods = periods_between(start, end, period_type)
    # The latest period first: its rows (today's counters, when it is still running) tell how
    # many regions there are before the history is asked for the others.
    found: list[PeriodRows] = []
    for index, period in enumerate(reversed(periods)):
        as_of = min(period.end, now)
        rows = list(coverage_rows_listed(level=level, as_of=as_of, scope=scope, parent=parent))
        if index == 0 and len(rows) * len(periods) > MAX_GROUPS:
            raise ServiceError(
                _(
                    "%(regions)d regions × %(periods)d periods is more than %(max)d; choose a parent, a "
                    "higher level, a longer period type or a shorter range."
                )
                % {"regions": len(rows), "periods": len(periods), "max": MAX_GROUPS},
                field="level",
                code="export_too_large",
            )
        found.append(PeriodRows(period, as_of, rows))
    found.reverse()
    return found
