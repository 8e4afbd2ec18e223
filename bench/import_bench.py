"""Benchmark: import 100,000 worker rows from CSV and from XLSX (the issue's target: at most
30 s on PostgreSQL, peak memory under 500 MB).

    DATABASE_URL=postgres://... .venv/bin/python bench/import_bench.py [--rows 100000]

Needs the Jambi demo (`manage.py load_demo`) for its villages. Each file gets NIKs of its own,
so every run creates workers; then the CSV is imported again, which must report every row
unchanged. Each import runs `manage.py import_workers` in a child process, timed from outside,
with the child's peak resident memory. Results: bench/results/import.json and import.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ucj_project.settings.local")

import django  # noqa: E402

django.setup()

from enrollment.imports import COLUMNS  # noqa: E402
from villages.models import Village  # noqa: E402

ROLES = [
    ("pemerintah_desa", "staf", "siltap", 2_022_200),
    ("rt", "ketua", "honorarium", 400_000),
    ("posyandu", "kader", "honorarium", 200_000),
    ("linmas", "anggota", "honorarium", 300_000),
    ("bpd", "anggota", "honorarium", 800_000),
]


def make_rows(count: int, serial_base: int, seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    villages = list(Village.objects.filter(province__code="15", kind="desa").values_list("code", flat=True))
    if not villages:
        sys.exit("No Jambi villages: run `manage.py load_demo` first.")
    rows = []
    for n in range(count):
        village = rng.choice(villages)
        female = rng.random() < 0.4
        birth = datetime.date(1960, 1, 1) + datetime.timedelta(days=rng.randint(0, 14_000))
        day = birth.day + (40 if female else 0)
        prefix = village[:8].replace(".", "")
        nik = f"{prefix}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial_base + n % 4000:04d}"
        institution, position, basis, wage = rng.choice(ROLES)
        active = rng.random() < 0.4
        scheme = "pu" if basis == "siltap" else "bpu"
        rows.append(
            [
                village,
                nik,
                f"Peserta Bench {n}",
                "female" if female else "male",
                birth.isoformat(),
                "",
                institution,
                position,
                "2024-01-01",
                "",
                basis,
                str(wage),
                f"{70_000_000_000 + serial_base * 1000 + n}" if active else "",
                scheme if active else "",
                "90000001" if active and scheme == "pu" else "",
                "jkk,jkm" if active else "",
                "apbdes" if active else "",
                "2024-02-01" if active else "",
                "2026-12-31" if active else "",
            ]
        )
    # NIKs must be unique in a file: the serial cycles, so make the name part carry n too.
    seen: set[str] = set()
    unique = []
    for row in rows:
        if row[1] not in seen:
            seen.add(row[1])
            unique.append(row)
    return unique


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows)


def write_xlsx(path: Path, rows: list[list[str]]) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("aparatur")
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def run_import(path: Path) -> dict:
    started = time.monotonic()
    # The child's own peak (wait4), not RUSAGE_CHILDREN's, which is the largest of every child so
    # far and so carries one run's peak into the next runs' figures.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "import_workers", str(path), "--region", "15"],
            stdout=out,
            stderr=err,
            text=True,
            env=os.environ,
        )
        _pid, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    summary = [line for line in stdout.splitlines() if line.startswith("Import ")]
    if child.returncode != 0:
        print(stdout[-2000:], stderr[-2000:])
    return {
        "file": path.name,
        "seconds": round(elapsed, 1),
        "peak_mb": round(usage.ru_maxrss / 1024, 1),
        "ok": child.returncode == 0,
        "summary": summary[0] if summary else stderr.strip().splitlines()[-1:],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    from django.db import connection

    results = {"rows": args.rows, "database": connection.vendor, "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        csv_path, xlsx_path = Path(tmp) / "workers.csv", Path(tmp) / "workers.xlsx"
        write_csv(csv_path, make_rows(args.rows, 5000, seed=1))
        write_xlsx(xlsx_path, make_rows(args.rows, 1000, seed=2))
        for label, path in (("CSV, new rows", csv_path), ("XLSX, new rows", xlsx_path), ("CSV again", csv_path)):
            run = run_import(path)
            run["run"] = label
            results["runs"].append(run)
            print(f"{label}: {run['seconds']} s, peak {run['peak_mb']} MB, {run['summary']}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "import.json").write_text(json.dumps(results, indent=2))
    lines = ["| run | rows | seconds | peak MB |", "|---|---|---|---|"]
    lines += [f"| {r['run']} | {args.rows:,} | {r['seconds']} | {r['peak_mb']} |" for r in results["runs"]]
    (out / "import.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
