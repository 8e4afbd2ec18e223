"""A BPJS Ketenagakerjaan membership extract of a branch's territory, made from the demo data, to
try the reconciliation (`python manage.py demo_bpjs_extract`).

Deterministic for the same data and day (a seeded random; the dates proposed are counted from
`core.clock.today()`, as the reconciliation counts them). Most members are listed as the registry
holds them (`same`); a few rows of each kind make every outcome appear: workers the registry does
not count as protected listed active (`activate`), active members listed inactive or left out
(`lapse`), later paid-until dates (`renew`), a NIK typed wrong (`probable_match`), people the
registry does not know (`not_in_registry`) and two rows BPJS would never send (`bad_row`).
"""

from __future__ import annotations

import calendar
import csv
import datetime
import io
import random
from dataclasses import dataclass
from typing import Any

from core.clock import today
from enrollment.choices import EnrollmentStatus, Sex
from enrollment.models import ApparatusWorker
from villages.models import BranchOffice

SEED = 1508
HEADER = ["nik", "nama", "tanggal_lahir", "jenis_kelamin", "status", "program", "bayar_sampai", "kpj", "npp"]
# How many rows of each kind the extract holds (fewer if the territory has fewer workers).
ACTIVATE = 40
LAPSE_INACTIVE = 12
LAPSE_MISSING = 8
RENEW = 20
PROBABLE = 5
NOT_IN_REGISTRY = 5
# Names no demo worker has (seed.demo draws from other lists), for the people not in the registry.
STRANGERS = ["Marlina Tambunan", "Sutrisno Pardede", "Gusti Ayu Lestiani", "Roni Simatupang", "Welly Manurung"]
ACTIVE = str(EnrollmentStatus.ACTIVE)
LAPSED = str(EnrollmentStatus.LAPSED)


@dataclass(frozen=True, slots=True)
class Extract:
    """The extract's rows (header first) and how many rows of each kind it was made with."""

    rows: list[list[str]]
    planned: dict[str, int]


def _month_end(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def _programs(values: dict[str, Any]) -> str:
    programs = ["jkk", "jkm"]
    if values["enrollment__program_jht"]:
        programs.append("jht")
    if values["enrollment__program_jp"]:
        programs.append("jp")
    return ",".join(programs)


def _line(values: dict[str, Any], *, status: str, paid_until: datetime.date | None, **changes: str) -> list[str]:
    line = {
        "nik": values["nik"],
        "nama": values["full_name"],
        "tanggal_lahir": values["birth_date"].isoformat(),
        "jenis_kelamin": "P" if values["sex"] == Sex.FEMALE else "L",
        "status": status,
        "program": _programs(values),
        "bayar_sampai": paid_until.isoformat() if paid_until is not None else "",
        "kpj": values["enrollment__kpj_number"] or "",
        "npp": values["enrollment__npp"] or "",
    }
    line.update(changes)
    return [line[column] for column in HEADER]


def _typo(nik: str, taken: set[str]) -> str:
    """`nik` with its serial's last digit typed wrong (still a valid NIK no one holds)."""
    for digit in "7349152860":
        typed = nik[:15] + digit
        if typed != nik and typed[12:] != "0000" and typed not in taken:
            return typed
    return nik


def bpjs_extract(*, branch_code: str, seed: int = SEED) -> Extract:
    """The extract of the branch `branch_code`'s territory (BranchOffice.DoesNotExist if none)."""
    branch = BranchOffice.objects.get(code=branch_code)
    regency_ids = list(branch.regencies.values_list("pk", flat=True))
    workers: list[dict[str, Any]] = [
        dict(values)
        for values in ApparatusWorker.objects.filter(serving=True, regency_id__in=regency_ids)
        .order_by("pk")
        .values(
            "pk",
            "nik",
            "full_name",
            "birth_date",
            "sex",
            "enrollment_status",
            "enrollment__paid_until",
            "enrollment__kpj_number",
            "enrollment__npp",
            "enrollment__program_jht",
            "enrollment__program_jp",
        )
    ]
    taken = set(ApparatusWorker.objects.filter(serving=True).values_list("nik", flat=True))
    rng = random.Random(seed)
    day = today()
    active = [w for w in workers if w["enrollment_status"] == ACTIVE and w["enrollment__paid_until"] is not None]
    lapsed = [w for w in workers if w["enrollment_status"] == LAPSED]
    unprotected = [w for w in workers if w["enrollment_status"] not in (ACTIVE, LAPSED)]
    rng.shuffle(active)
    rng.shuffle(unprotected)
    lines: list[list[str]] = []
    planned: dict[str, int] = {}

    def take(pool: list[dict[str, Any]], wanted: int) -> list[dict[str, Any]]:
        chosen, pool[:] = pool[:wanted], pool[wanted:]
        return chosen

    # Active members: a few inactive in BPJS, a few left out, a few paid further; the rest the same.
    inactive = take(active, LAPSE_INACTIVE)
    missing = take(active, LAPSE_MISSING)  # not listed: proposed lapses
    renewed = take(active, RENEW)
    planned["lapse"] = len(inactive) + len(missing)
    planned["renew"] = len(renewed)
    for values in inactive:
        lines.append(_line(values, status="nonaktif", paid_until=values["enrollment__paid_until"]))
    for values in renewed:
        paid = max(values["enrollment__paid_until"], day)
        lines.append(_line(values, status="aktif", paid_until=_month_end(paid, rng.randint(1, 3))))
    for values in active:
        lines.append(_line(values, status="aktif", paid_until=values["enrollment__paid_until"]))
    # Lapsed members are inactive in BPJS too: nothing to do.
    for values in lapsed:
        lines.append(_line(values, status="nonaktif", paid_until=values["enrollment__paid_until"]))
    # Workers not protected here whom BPJS lists active (enrolled without the registry knowing).
    activated = take(unprotected, ACTIVATE)
    planned["activate"] = len(activated)
    for values in activated:
        lines.append(_line(values, status="aktif", paid_until=_month_end(day, rng.randint(1, 6)), kpj="", npp=""))
    # A NIK typed wrong at BPJS: no NIK matches; the registry has someone very like the person.
    typed = take(unprotected, PROBABLE)
    planned["probable_match"] = len(typed)
    for values in typed:
        nik = _typo(values["nik"], taken)
        taken.add(nik)
        lines.append(_line(values, status="aktif", paid_until=_month_end(day, 3), nik=nik, kpj="", npp=""))
    # People BPJS covers whom the registry does not know (not apparatus, or not registered yet).
    planned["not_in_registry"] = 0
    for number, name in enumerate(STRANGERS[:NOT_IN_REGISTRY]):
        if not workers:
            break
        model = workers[rng.randrange(len(workers))]
        birth = datetime.date(1970 + rng.randrange(30), rng.randint(1, 12), rng.randint(1, 28))
        female = number % 2 == 0
        nik = f"{model['nik'][:6]}{birth.day + (40 if female else 0):02d}{birth:%m%y}{9000 + number:04d}"
        if nik in taken:
            continue
        taken.add(nik)
        lines.append(
            [nik, name, birth.isoformat(), "P" if female else "L", "aktif", "jkk,jkm", _month_end(day, 2).isoformat()]
            + ["", ""]
        )
        planned["not_in_registry"] += 1
    rng.shuffle(lines)
    # Two rows BPJS's system would not send: a NIK one digit short, and a status no table knows.
    if workers:
        lines.append(_line(workers[0], status="aktif", paid_until=_month_end(day, 1), nik=workers[0]["nik"][:15]))
        lines.append(_line(workers[-1], status="ditangguhkan", paid_until=_month_end(day, 1)))
        planned["bad_row"] = 2
    planned["same"] = len(active) + len(lapsed)
    return Extract(rows=[HEADER, *lines], planned=planned)


def extract_bytes(extract: Extract, *, xlsx: bool) -> bytes:
    """The extract as a file: CSV (UTF-8) or XLSX (every cell text, as BPJS's exports hold NIKs)."""
    if not xlsx:
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(extract.rows)
        return out.getvalue().encode("utf-8")
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.worksheets[0]
    sheet.title = "peserta"
    for row in extract.rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
