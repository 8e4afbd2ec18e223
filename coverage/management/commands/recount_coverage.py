"""python manage.py recount_coverage: rebuild the coverage counters from the worker rows, or with
--check only compare them with a recount (for cron: exit status 1 when any counter differs)."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coverage.services import counters_differences, counters_recount


class Command(BaseCommand):
    help = (
        "Rebuild the per-village and per-regency coverage counters from scratch; with --check, report "
        "every counter that differs from a recount, write nothing, and exit with status 1 if any does."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="Compare the counters with a recount without writing; exit status 1 when any differs.",
        )

    def handle(self, *args, check: bool, **options) -> None:
        if not check:
            rows = counters_recount()
            self.stdout.write(self.style.SUCCESS(f"Counters rebuilt: {rows} village/institution rows."))
            return
        differences = counters_differences()
        for d in differences:
            line = (
                f"{d.level} {d.code} {d.name}, {d.institution or 'all institutions'}: "
                f"counted serving {d.counted[0]}, protected {d.counted[1]}; "
                f"recount serving {d.recounted[0]}, protected {d.recounted[1]}"
            )
            if not d.institution:  # the totals: their breakdowns too
                line += f" (all figures: counted {list(d.counted)}, recount {list(d.recounted)})"
            self.stdout.write(line)
        if differences:
            raise CommandError(
                f"{len(differences)} counter rows differ from a recount; run recount_coverage to rebuild them.",
                returncode=1,
            )
        self.stdout.write(self.style.SUCCESS("Counters agree with a recount."))
