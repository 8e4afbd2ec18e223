"""python manage.py demo_bpjs_extract: a BPJS extract of a branch's territory from the demo data."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from seed.bpjs_extract import SEED, bpjs_extract, extract_bytes
from villages.models import BranchOffice


class Command(BaseCommand):
    help = (
        "Write a BPJS Ketenagakerjaan membership extract of a branch's territory, made from the demo "
        "data (deterministic for the same data and day), to try the reconciliation."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--branch", default="muara-bungo", help="the branch office's code")
        parser.add_argument("--out", type=Path, required=True, help="the file to write: .csv or .xlsx")
        parser.add_argument("--seed", type=int, default=SEED, help="the random seed")

    def handle(self, *args, branch: str, out: Path, seed: int, **options) -> None:
        suffix = out.suffix.lower()
        if suffix not in (".csv", ".xlsx"):
            raise CommandError(f"{out}: the file must end in .csv or .xlsx")
        try:
            extract = bpjs_extract(branch_code=branch, seed=seed)
        except BranchOffice.DoesNotExist as exc:
            raise CommandError(f"{branch}: no such branch office (load the demo first: load_demo)") from exc
        out.write_bytes(extract_bytes(extract, xlsx=suffix == ".xlsx"))
        planned = ", ".join(f"{outcome} {count}" for outcome, count in sorted(extract.planned.items()))
        self.stdout.write(f"Rows planned by outcome: {planned}.")
        self.stdout.write(self.style.SUCCESS(f"{len(extract.rows) - 1} rows written to {out.resolve()}"))
