"""python manage.py snapshot_coverage: store coverage of every region for a date or a range."""

import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.clock import today
from coverage.choices import Interval
from coverage.selectors.trend import period_start
from coverage.services import snapshots_take


def dates_between(start: datetime.date, end: datetime.date, interval: str) -> list[datetime.date]:
    """The last day of each period from start to end (end itself for the last period)."""
    dates: dict[datetime.date, datetime.date] = {}
    day = start
    while day <= end:
        dates[period_start(day, interval)] = day
        day += datetime.timedelta(days=1)
    return sorted(dates.values())


class Command(BaseCommand):
    help = "Store coverage snapshots (idempotent for a date); back-fill a range from the history."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=datetime.date.fromisoformat, help="YYYY-MM-DD (default today)")
        parser.add_argument("--start", type=datetime.date.fromisoformat, help="back-fill from this date")
        parser.add_argument("--end", type=datetime.date.fromisoformat, help="back-fill to this date (default today)")
        parser.add_argument("--interval", choices=Interval.values, default=Interval.MONTH)

    def handle(self, *args, date=None, start=None, end=None, interval=Interval.MONTH, **options) -> None:
        if start is None:
            dates = [date or today()]
        else:
            end = end or today()
            if start > end:
                raise CommandError("--start must be on or before --end")
            dates = dates_between(start, end, interval)
        if any(d > today() for d in dates):
            raise CommandError("cannot snapshot a future date")
        for day in dates:
            rows = snapshots_take(as_of=day)
            self.stdout.write(f"{day.isoformat()}: {rows} regions")
        self.stdout.write(self.style.SUCCESS(f"{len(dates)} snapshot dates stored."))
