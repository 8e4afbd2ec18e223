"""python manage.py apply_region_changes FILE [--dry-run] [--effective YYYY-MM-DD]: apply a decree's
change of region codes (re-codes, splits, villages moving) with the workers and counters."""

import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from enrollment.region_changes import region_changes_apply
from villages.choices import RegionLevel
from villages.region_changes import RegionChangeError
from villages.services import LEVELS

PLURAL: dict[str, str] = {
    RegionLevel.PROVINCE: "provinces",
    RegionLevel.REGENCY: "regencies",
    RegionLevel.DISTRICT: "districts",
    RegionLevel.VILLAGE: "villages",
}
SHOWN = 10


def _listed(codes: list[str]) -> str:
    return ", ".join(codes[:SHOWN]) + (" ..." if len(codes) > SHOWN else "")


class Command(BaseCommand):
    help = (
        "Apply a change list of region codes (CSV old_code,new_code,new_name): workers, counters, "
        "officers and branch territories follow; past figures are kept. All or nothing, idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV file with the header old_code,new_code,new_name")
        parser.add_argument("--dry-run", action="store_true", help="report what would change, write nothing")
        parser.add_argument(
            "--effective",
            type=datetime.date.fromisoformat,
            help="the date the decree takes effect (default today; not in the future)",
        )

    def handle(self, *args, file: Path, dry_run: bool, effective: datetime.date | None, **options) -> None:
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        try:
            report = region_changes_apply(data=file.read_bytes(), effective=effective, dry_run=dry_run)
        except RegionChangeError as exc:
            raise CommandError(f"{file} rejected, nothing was written:\n{exc.describe()}") from exc
        plan = report.plan
        for level in LEVELS:
            created, retired = plan.created[level], plan.retired[level]
            if created or retired:
                self.stdout.write(
                    f"{PLURAL[level]}: {len(created):,} created ({_listed(created)}), "
                    f"{len(retired):,} retired ({_listed(retired)})"
                )
        if plan.renamed:
            self.stdout.write(f"renamed: {_listed(plan.renamed)}")
        self.stdout.write(
            f"workers moved: {report.workers_moved:,} ({report.serving_moved:,} serving), "
            f"from {len(plan.villages):,} villages, effective {report.effective.isoformat()}"
        )
        if plan.branches_changed:
            self.stdout.write(f"branch territories changed: {', '.join(plan.branches_changed)}")
        for line in report.profiles_changed:
            self.stdout.write(f"officer's region re-coded: {line}")
        for line in report.profiles_on_retired:
            self.stdout.write(self.style.WARNING(f"officer on a retired regency, reassign by hand: {line}"))
        if plan.already_applied:
            self.stdout.write(f"{plan.already_applied:,} of {plan.rows:,} rows already applied")
        if not report.changed:
            outcome = "nothing changed: the change list is already applied."
        elif dry_run:
            outcome = "changes found; dry run, nothing was written."
        else:
            outcome = "changes applied."
        self.stdout.write(self.style.SUCCESS(f"{plan.rows:,} rows read; {outcome}"))
