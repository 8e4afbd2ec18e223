"""python manage.py import_regions FILE: load or refresh the official region list."""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from villages.choices import RegionLevel
from villages.data import REGIONS
from villages.services import LEVELS, RegionImportError, regions_import_file

PLURAL: dict[str, str] = {
    RegionLevel.PROVINCE: "provinces",
    RegionLevel.REGENCY: "regencies",
    RegionLevel.DISTRICT: "districts",
    RegionLevel.VILLAGE: "villages",
}
MISSING_SHOWN = 10


class Command(BaseCommand):
    help = (
        "Import the official Kemendagri region list from a `code,name` CSV file, plain or gzipped "
        "(idempotent). Without a file, the list shipped with the project."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file", type=Path, nargs="?", default=REGIONS, help="CSV file with the header code,name (default: shipped)"
        )
        parser.add_argument("--dry-run", action="store_true", help="check and report, write nothing")

    def handle(self, *args, file: Path, dry_run: bool, **options) -> None:
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        started = time.monotonic()

        def progress(level: str, done: int, total: int) -> None:
            interactive = self.stdout.isatty()
            if done < total and not interactive:
                return
            ending = "\r" if done < total else "\n"
            self.stdout.write(f"  {PLURAL[level]}: {done:,}/{total:,} created", ending=ending)
            self.stdout.flush()

        try:
            report = regions_import_file(path=file, dry_run=dry_run, progress=progress)
        except RegionImportError as exc:
            raise CommandError(f"{file} rejected, nothing was written:\n{exc.describe()}") from exc

        elapsed = time.monotonic() - started
        any_missing = False
        for level in LEVELS:
            line = f"{PLURAL[level]}: {report.created[level]:,} created, {report.renamed[level]:,} renamed"
            missing = report.missing[level]
            if missing:
                listed = ", ".join(missing[:MISSING_SHOWN]) + (" ..." if len(missing) > MISSING_SHOWN else "")
                line += f"; {len(missing):,} in the database but not in the file (kept): {listed}"
            self.stdout.write(line)
            any_missing = any_missing or bool(missing)
        if any_missing:
            self.stdout.write(
                "Regions missing from the file are kept, never deleted (workers and past figures hang on "
                "them): if a decree re-coded, split or moved them, apply its change list with "
                "`python manage.py apply_region_changes FILE` (old_code,new_code,new_name)."
            )
        if not report.changed:
            outcome = "nothing changed: every region is already up to date."
        elif dry_run:
            outcome = "changes found; dry run, nothing was written."
        else:
            outcome = "changes applied."
        self.stdout.write(self.style.SUCCESS(f"{report.rows:,} rows read in {elapsed:.1f} s; {outcome}"))
