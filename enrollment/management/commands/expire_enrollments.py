"""python manage.py expire_enrollments: lapse memberships whose paid-until (plus grace) passed."""

import datetime

from django.core.management.base import BaseCommand, CommandParser

from enrollment.services import enrollments_expire, terms_expire


class Command(BaseCommand):
    help = (
        "Lapse active memberships whose paid-until plus grace has passed, and end services whose term "
        "end has passed (source: system)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as-of", type=datetime.date.fromisoformat, default=None, help="YYYY-MM-DD (default today)"
        )

    def handle(self, *args, as_of: datetime.date | None, **options) -> None:
        lapsed = enrollments_expire(as_of=as_of)
        ended = terms_expire(as_of=as_of)
        self.stdout.write(self.style.SUCCESS(f"{lapsed} memberships lapsed; {ended} services ended at term end."))
