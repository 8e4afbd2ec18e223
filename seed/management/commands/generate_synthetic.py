"""python manage.py generate_synthetic: national-scale synthetic data for benchmarks (PostgreSQL)."""

import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from core.errors import ServiceError
from seed.synthetic import synthetic_generate
from villages.services import RegionImportError, regions_import_file


class Command(BaseCommand):
    help = (
        "Load the official region list and staff every desa with synthetic apparatus workers, two years of "
        "enrollment history, counters and monthly snapshots. Deterministic for a seed, a worker count, an end "
        "date and a region list. PostgreSQL only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--regions", type=Path, help="official region list (code,name CSV); loaded first")
        parser.add_argument("--workers", type=int, default=5_000_000, help="workers in total (default 5,000,000)")
        parser.add_argument("--seed", type=int, default=1, help="seed of the generator (default 1)")
        parser.add_argument(
            "--end", type=datetime.date.fromisoformat, help="last day of the histories, YYYY-MM-DD (default today)"
        )
        parser.add_argument(
            "--replace", action="store_true", help="delete existing workers, history and counters first"
        )

    def handle(self, *args, regions: Path | None, workers: int, seed: int, end, replace: bool, **options) -> None:
        if regions is not None:
            if not regions.is_file():
                raise CommandError(f"{regions}: no such file")
            self.stdout.write(f"Loading regions from {regions} ...")
            try:
                report = regions_import_file(path=regions)
            except RegionImportError as exc:
                raise CommandError(f"{regions} refused: {exc.describe()}") from exc
            created = sum(report.created.values())
            self.stdout.write(f"  {report.rows:,} rows read, {created:,} regions created.")
        try:
            summary = synthetic_generate(
                workers=workers,
                seed=seed,
                end=end or timezone.localdate(),
                replace=replace,
                log=self.stdout.write,
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{summary.workers:,} workers in {summary.villages:,} desa, {summary.events:,} history events, "
                f"{summary.periods:,} state periods, {summary.snapshots:,} snapshots in {summary.seconds} s."
            )
        )
