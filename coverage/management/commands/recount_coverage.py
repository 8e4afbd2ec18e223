"""python manage.py recount_coverage: rebuild the coverage counters from the worker rows."""

from django.core.management.base import BaseCommand

from coverage.services import counters_recount


class Command(BaseCommand):
    help = "Rebuild the per-village coverage counters from scratch."

    def handle(self, *args, **options) -> None:
        rows = counters_recount()
        self.stdout.write(self.style.SUCCESS(f"Counters rebuilt: {rows} village/institution rows."))
