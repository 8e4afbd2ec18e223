"""python manage.py import_workers FILE --region CODE [--dry-run]: import a large worker file."""

import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from access.scope import operator_scope
from core.errors import ServiceError
from enrollment.choices import EventSource
from enrollment.import_services import workers_import
from enrollment.imports import ImportFileError
from enrollment.services import Actor
from villages.choices import RegionLevel
from villages.selectors import region_by_code

ERRORS_SHOWN = 50


class Command(BaseCommand):
    help = "Import workers from a CSV or XLSX file into one region (same checks and summary as the API)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--region", required=True, help="province or regency/city code the rows must be in")
        parser.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
        parser.add_argument("--partial", action="store_true", help="write the valid rows even if some are rejected")
        parser.add_argument("--user", help="username recorded as the importer")

    def handle(self, *args, file: Path, region: str, dry_run: bool, partial: bool, user: str | None, **opts):
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        try:
            level, area_id = region_by_code(region)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        # The command is run by an operator of the server: every capability, limited to the region.
        if level == RegionLevel.PROVINCE:
            scope = operator_scope(province_id=area_id)
        elif level == RegionLevel.REGENCY:
            scope = operator_scope(regency_id=area_id)
        else:
            raise CommandError("--region must be a province or regency/city code")
        importer = get_user_model().objects.filter(username=user).first() if user else None
        if user and importer is None:
            raise CommandError(f"no user {user!r}")
        started = time.monotonic()

        def progress(stage: str, done: int, total: int) -> None:
            if stage == "read" or (stage == "check" and 0 < done < total and done % 10_000):
                return  # the stages, and every 10,000 rows checked
            self.stdout.write(f"  {stage}: {done:,}/{total:,} rows ({time.monotonic() - started:.1f} s)")

        self.stdout.write(f"Reading {file} ...")
        try:
            record, summary = workers_import(
                actor=Actor(
                    user=importer, label=user or "import_workers", source=EventSource.IMPORT, region_scope=scope
                ),
                file_name=file.name,
                data=file.read_bytes(),
                dry_run=dry_run,
                all_or_nothing=not partial,
                progress=progress,
            )
        except ImportFileError as exc:
            raise CommandError(f"{file} refused, nothing was written: {exc.message}") from exc
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        for error in summary.errors[:ERRORS_SHOWN]:
            self.stdout.write(f"  row {error.row}, {error.column or '-'}: {error.message}")
        if len(summary.errors) > ERRORS_SHOWN:
            self.stdout.write(f"  ... and {len(summary.errors) - ERRORS_SHOWN} more")
        self.stdout.write(
            f"Import {record.pk}: {summary.rows:,} rows read, {summary.created:,} created, "
            f"{summary.updated:,} updated, {summary.unchanged:,} unchanged, {summary.rejected:,} rejected "
            f"in {time.monotonic() - started:.1f} s."
        )
        if summary.committed:
            self.stdout.write(self.style.SUCCESS("Written."))
        elif dry_run:
            self.stdout.write(self.style.WARNING("Dry run: nothing written."))
        else:
            raise CommandError("Rows were rejected: nothing was written (use --partial to write the valid rows).")
