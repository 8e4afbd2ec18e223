"""python manage.py import_boundaries [FILE ...]: load or refresh region outlines for maps."""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from core.codes import region_code
from villages.boundary_services import MISSING_LISTED, BoundaryImportError, boundaries_import_files
from villages.data import SHIPPED_BOUNDARIES
from villages.services import LEVELS

from .import_regions import PLURAL


class Command(BaseCommand):
    help = (
        "Import region boundaries from GeoJSON files (plain or gzipped; feature id = Kemendagri code), "
        "simplified for maps at each level of detail. Without a file, the boundaries shipped with "
        "the project. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="*", type=Path, help="GeoJSON FeatureCollections (.geojson, .geojson.gz)")
        parser.add_argument("--within", help="only this region's boundary and those under it (e.g. 15)")
        parser.add_argument("--dry-run", action="store_true", help="check and report, write nothing")

    def handle(self, *args, files: list[Path], within: str | None, dry_run: bool, **options) -> None:
        if within is not None:  # `15.08` or `1508`
            code = region_code(within)
            if code is None:
                raise CommandError(
                    _("--within: %(value)s is not a region code (e.g. 15.08 or 1508).") % {"value": within}
                )
            within = code
        paths = files or list(SHIPPED_BOUNDARIES)
        for path in paths:
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
        started = time.monotonic()

        def progress(level: str, done: int, total: int) -> None:
            if done < total and not self.stdout.isatty():
                return
            self.stdout.write(f"  features: {done:,}/{total:,}", ending="\r" if done < total else "\n")
            self.stdout.flush()

        try:
            report = boundaries_import_files(paths=paths, within=within, dry_run=dry_run, progress=progress)
        except BoundaryImportError as exc:
            raise CommandError(f"rejected, nothing was written:\n{exc.describe()}") from exc

        elapsed = time.monotonic() - started
        for level in LEVELS:
            done = report.created[level] + report.replaced[level] + report.unchanged[level]
            without = report.without[level]
            if not done and not without:
                continue
            line = (
                f"{PLURAL[level]}: {report.created[level]:,} created, {report.replaced[level]:,} replaced, "
                f"{report.unchanged[level]:,} unchanged"
            )
            if without:
                listed = ", ".join(without[:MISSING_LISTED]) + (" ..." if len(without) > MISSING_LISTED else "")
                line += f"; {len(without):,} without a boundary: {listed}"
            self.stdout.write(line)
        if not report.changed:
            outcome = "nothing changed: every boundary is already up to date."
        elif dry_run:
            outcome = "changes found; dry run, nothing was written."
        else:
            outcome = f"changes applied ({report.points:,} points stored)."
        self.stdout.write(self.style.SUCCESS(f"{report.features:,} features read in {elapsed:.1f} s; {outcome}"))
