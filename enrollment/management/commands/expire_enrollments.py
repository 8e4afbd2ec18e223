"""python manage.py expire_enrollments (daily): count terms whose start has come, lapse memberships
whose paid-until (plus grace) passed, end services whose term end passed."""

import datetime

from django.core.management.base import BaseCommand, CommandParser

from enrollment.services import enrollments_expire, terms_expire, terms_start


class Command(BaseCommand):
    help = (
        "Count workers registered ahead of their term start once it has come, lapse active memberships "
        "whose paid-until plus grace has passed, and end services whose term end has passed (source: system)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as-of", type=datetime.date.fromisoformat, default=None, help="YYYY-MM-DD (default today)"
        )

    def handle(self, *args, as_of: datetime.date | None, **options) -> None:
        started = terms_start(as_of=as_of)
        lapsed = enrollments_expire(as_of=as_of)
        ended = terms_expire(as_of=as_of)
        self.stdout.write(
            self.style.SUCCESS(
                f"{started} terms started; {lapsed} memberships lapsed; {ended} services ended at term end."
            )
        )
