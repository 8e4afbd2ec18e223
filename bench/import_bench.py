"""Benchmark: import 100,000 worker rows from CSV and from XLSX (the issue's target: at most
30 s on PostgreSQL, peak memory under 500 MB).

    DATABASE_URL=postgres://... .venv/bin/python bench/import_bench.py [--rows 100000]
    DATABASE_URL=postgres://... .venv/bin/python bench/import_bench.py --hostile

`--hostile` instead imports (dry run) the worst workbooks within the upload limit that we know
of: one far cell (CV1000000, XFD1048576), a <dimension> claiming the whole sheet, entity
expansion, a zip bomb, a part holding 300 MB while declaring 1 KB, one shared string shown by
3.8 million cells, the largest sheet that is read rather than refused, 200,000 ordinary rows and
long texts up to the unpacked limit (`--only TEXT` runs those whose label contains TEXT).
Results: bench/results/import_hostile.md; figures in the README's Spreadsheets section.

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


# Runs manage.py (argv[1:]) and then writes the process's peak resident size (VmHWM) to stderr.
PEAK = """
import sys
from pathlib import Path
sys.argv = sys.argv[1:]
sys.path.insert(0, str(Path(sys.argv[0]).resolve().parent))
try:
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
finally:
    peak = [line for line in open("/proc/self/status") if line.startswith("VmHWM:")]
    sys.stderr.write(peak[0] if peak else "")
"""


def run_import(path: Path, *options: str) -> dict:
    started = time.monotonic()
    # The child's peak is its own VmHWM, written by PEAK just before it exits. Neither wait4's
    # nor RUSAGE_CHILDREN's ru_maxrss will do: Linux carries the resident size of the process
    # that forked the child over its exec (here the benchmark, holding the generated rows), and
    # RUSAGE_CHILDREN is the largest of every child so far.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.run(
            [
                sys.executable,
                "-c",
                PEAK,
                str(ROOT / "manage.py"),
                "import_workers",
                str(path),
                "--region",
                "15",
                *options,
            ],
            stdout=out,
            stderr=err,
            text=True,
            # DEBUG off, as in production: with it on, Django keeps every statement with its
            # parameters (the stored file among them) in memory.
            env={**os.environ, "DEBUG": "0"},
            check=False,
        )
        elapsed = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    peaks = [line for line in stderr.splitlines() if line.startswith("VmHWM:")]
    stderr = "\n".join(line for line in stderr.splitlines() if not line.startswith("VmHWM:"))
    peak_kb = int(peaks[-1].split()[1]) if peaks else 0
    summary = [line for line in stdout.splitlines() if line.startswith("Import ")]
    if child.returncode != 0:
        print(stdout[-2000:], stderr[-2000:])
    return {
        "file": path.name,
        "seconds": round(elapsed, 1),
        "peak_mb": round(peak_kb / 1024, 1),
        "ok": child.returncode == 0,
        "summary": summary[0] if summary else stderr.strip().splitlines()[-1:],
    }


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"


def workbook_parts(sheet: bytes, shared: bytes | None = None) -> dict[str, bytes]:
    """The parts of a minimal real workbook whose first sheet is `sheet`."""
    shared_rel = (
        f'<Relationship Id="rId2" Type="{RELATIONSHIPS}/sharedStrings" Target="sharedStrings.xml"/>' if shared else ""
    )
    parts = {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        b'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
        b'"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.'
        b'main+xml"/></Types>',
        "_rels/.rels": f'<Relationships xmlns="{PACKAGE}"><Relationship Id="rId1" Type="{RELATIONSHIPS}/'
        f'officeDocument" Target="xl/workbook.xml"/></Relationships>'.encode(),
        "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="{RELATIONSHIPS}"><sheets><sheet name="a" '
        f'sheetId="1" r:id="rId1"/></sheets></workbook>'.encode(),
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{PACKAGE}"><Relationship Id="rId1" Type="'
        f'{RELATIONSHIPS}/worksheet" Target="worksheets/sheet1.xml"/>{shared_rel}</Relationships>'.encode(),
        "xl/worksheets/sheet1.xml": sheet,
    }
    if shared:
        parts["xl/sharedStrings.xml"] = shared
    return parts


def zipped(parts: dict[str, bytes], path: Path) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return path


def header_cells() -> bytes:
    return b"".join(
        b'<c r="%s1" t="inlineStr"><is><t>%s</t></is></c>' % (chr(65 + i).encode(), c.encode())
        for i, c in enumerate(COLUMNS)
    )


def sheet_xml(rows: bytes, head: bytes = b"", prologue: bytes = b"") -> bytes:
    return (
        b'<?xml version="1.0"?>'
        + prologue
        + b'<worksheet xmlns="'
        + MAIN.encode()
        + b'">'
        + head
        + b'<sheetData><row r="1">'
        + header_cells()
        + b"</row>"
        + rows
        + b"</sheetData></worksheet>"
    )


def hostile_files(tmp: Path) -> list[tuple[str, Path]]:
    """The worst workbooks we know of within UCJ_IMPORT_MAX_BYTES."""
    import random
    import struct
    import zlib

    from django.conf import settings

    limit = settings.UCJ_IMPORT_MAX_ROWS  # the files at the limit follow it
    last = limit + 1001  # the last row a sheet may reach (header and 1,000 blank rows)
    files = []
    rng = random.Random(1)
    words = [b"desa", b"kerinci", b"jambi", b"pekerja"]  # few words: the text packs 25:1
    for ref in ("CV1000000", "XFD1048576"):
        row = "".join(ch for ch in ref if ch.isdigit()).encode()
        cell = b'<row r="%s"><c r="%s" t="inlineStr"><is><t>x</t></is></c></row>' % (row, ref.encode())
        files.append((f"one cell at {ref}", zipped(workbook_parts(sheet_xml(cell)), tmp / f"{ref}.xlsx")))
    files.append(
        (
            "<dimension ref=A1:XFD1048576>",
            zipped(workbook_parts(sheet_xml(b"", head=b'<dimension ref="A1:XFD1048576"/>')), tmp / "dimension.xlsx"),
        )
    )
    laughs = b'<!DOCTYPE sst [<!ENTITY a "' + b"a" * 80 + b'">'
    for level, previous in zip("bcdefgh", "abcdefg", strict=True):
        laughs += b'<!ENTITY %s "%s">' % (level.encode(), b"&%s;" % previous.encode() * 20)
    laughs += b"]>"
    shared = b'<?xml version="1.0"?>' + laughs + b'<sst xmlns="' + MAIN.encode() + b'"><si><t>&h;</t></si></sst>'
    cell = b'<row r="2"><c r="A2" t="s"><v>0</v></c></row>'
    files.append(
        ("entity expansion (20^7 x 80 bytes)", zipped(workbook_parts(sheet_xml(cell), shared), tmp / "laughs.xlsx"))
    )
    # A zip bomb: 2 GB of one repeated row, declared as such.
    row = b'<row><c t="inlineStr"><is><t>1501011705800001</t></is></c></row>'
    bomb = workbook_parts(sheet_xml(b""))
    path = tmp / "bomb.xlsx"
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in bomb.items():
            if name != "xl/worksheets/sheet1.xml":
                archive.writestr(name, content)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as handle:
            handle.write(sheet_xml(b"").split(b"</sheetData>")[0])
            block = row * 10_000
            for _ in range(2 * 1024**3 // len(block)):
                handle.write(block)
            handle.write(b"</sheetData></worksheet>")
    files.append(("zip bomb (2 GB of rows)", path))
    # A sheet declaring 1 KB (with the checksum of that 1 KB) and holding 300 MB of rows.
    content = sheet_xml(row * (300 * 1024**2 // len(row)))
    declared = 1024
    path = zipped(workbook_parts(content), tmp / "underdeclared.xlsx")
    data = bytearray(path.read_bytes())
    member = b"xl/worksheets/sheet1.xml"
    local = zipfile.ZipFile(path).getinfo(member.decode()).header_offset
    central = data.index(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(member)] != member:
        central = data.index(b"PK\x01\x02", central + 4)
    crc = zlib.crc32(content[:declared])
    struct.pack_into("<I", data, local + 14, crc)  # local header: CRC, sizes at +18, +22
    struct.pack_into("<I", data, local + 22, declared)
    struct.pack_into("<I", data, central + 16, crc)  # central directory: CRC, sizes at +20, +24
    struct.pack_into("<I", data, central + 24, declared)
    path.write_bytes(bytes(data))
    files.append(("part declaring 1 KB, holding 300 MB", path))
    # Long texts: every cell of 2,600 rows filled with 8,000 characters (395 MB unpacked, just
    # under UCJ_IMPORT_MAX_UNPACKED_BYTES, and under 30 MB packed).
    rows = []
    for number in range(2, 2602):
        cells = b"".join(
            b'<c r="%s%d" t="inlineStr"><is><t>%s</t></is></c>'
            % (chr(65 + i).encode(), number, b" ".join(rng.choices(words, k=1200))[:8000])
            for i in range(len(COLUMNS))
        )
        rows.append(b'<row r="%d">%s</row>' % (number, cells))
    # One 32 KB shared string shown by every cell of 200,000 rows (python-calamine copies it into
    # each cell: 124 GB at 200,000 rows).
    shared_cells = b"".join(b'<c r="%s{row}" t="s"><v>0</v></c>' % chr(65 + i).encode() for i in range(len(COLUMNS)))
    sheet_rows = b"".join(
        b'<row r="%d">' % n + shared_cells.replace(b"{row}", b"%d" % n) + b"</row>" for n in range(2, 200_002)
    )
    shared = b'<sst xmlns="' + MAIN.encode() + b'"><si><t>' + b"y" * 32_000 + b"</t></si></sst>"
    path = zipped(workbook_parts(sheet_xml(sheet_rows), shared), tmp / "shared.xlsx")
    files.append(("one 32 KB shared string in 3.8 million cells", path))
    # The worst file that is read rather than refused: its grid as large as allowed (19 columns
    # to the last row allowed) and its text up to the limit (400 bytes a row).
    sheet_rows = b"".join(
        b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>%s</t></is></c></row>'
        % (n, n, b" ".join(rng.choices(words, k=80))[:396])
        for n in range(2, limit + 1)
    )
    sheet_rows += b'<row r="%d"><c r="S%d" t="inlineStr"><is><t>x</t></is></c></row>' % (last, last)
    path = zipped(workbook_parts(sheet_xml(sheet_rows)), tmp / "widest.xlsx")
    files.append((f"grid to S{last}, {limit * 400 // 10**6} MB of text (read, rows rejected)", path))
    # Ordinary files at the row limit.
    path = tmp / "limit.xlsx"
    write_xlsx(path, make_rows(limit, 3000, seed=3))
    files.append((f"{limit:,} ordinary rows (the row limit), XLSX", path))
    path = tmp / "limit.csv"
    write_csv(path, make_rows(limit, 3000, seed=3))
    files.append((f"{limit:,} ordinary rows (the row limit), CSV", path))
    files.append(
        (
            "long texts (19 x 2,600 cells of 8,000 characters)",
            zipped(workbook_parts(sheet_xml(b"".join(rows))), tmp / "long.xlsx"),
        )
    )
    return files


def run_hostile(only: str | None) -> None:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, path in hostile_files(Path(tmp)):
            if only and only not in label:
                continue
            run = run_import(path, "--dry-run")
            run["run"] = label
            run["size"] = path.stat().st_size
            results.append(run)
            print(f"{label}: {run['size']:,} bytes, {run['seconds']} s, peak {run['peak_mb']} MB, {run['summary']}")
    lines = ["| file | bytes | seconds | peak MB | answer |", "|---|---|---|---|---|"]
    lines += [f"| {r['run']} | {r['size']:,} | {r['seconds']} | {r['peak_mb']} | {r['summary']} |" for r in results]
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "import_hostile.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--hostile", action="store_true", help="the worst workbooks within the limits instead")
    parser.add_argument("--only", help="with --hostile: only the files whose label contains this")
    args = parser.parse_args()
    if args.hostile:
        run_hostile(args.only)
        return
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
