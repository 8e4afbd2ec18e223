"""The Jambi demo: Jambi Province's regions, 98,350 serving village-institution workers with
enrollment histories over 2024, and the published coverage and UC Jamsostek figures.

Deterministic: the same seed gives the same data, and loading twice changes nothing (an
existing demo is detected and kept). The workers are written with bulk inserts shaped exactly
like the rows the services write (worker, enrollment, history events with the state after
each event), then the counters are rebuilt and snapshots stored; `tests/coverage` checks that
the result agrees with a recount and with the history.
"""

from __future__ import annotations

import csv
import datetime
import io
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection, transaction
from knox.models import AuthToken

from access.choices import Role
from access.models import AccessProfile
from access.services import CLIENT_PREFIX, client_create
from core.bulk import bulk_insert, next_ids
from core.clock import today
from coverage.choices import CoverageKind
from coverage.models import Target, WorkforceFigure
from coverage.services import counters_recount, snapshots_take
from enrollment.choices import (
    EventKind,
    EventSource,
    FundingSource,
    Institution,
    Position,
    Program,
    Scheme,
    Sex,
    WageBasis,
)
from enrollment.models import ApparatusWorker, Enrollment, EnrollmentEvent, WorkerPeriod
from enrollment.recording import (
    PERIOD_COLUMNS,
    Actor,
    NewHistory,
    WorkerFacts,
    changes_json,
    event_values,
)
from enrollment.transitions import MEMBERSHIP_FIELDS
from villages.boundary_services import boundaries_import_files
from villages.data import REGIONS, SHIPPED_BOUNDARIES
from villages.demo import JAMBI
from villages.demo import demo_load as regions_demo_load
from villages.models import BranchOffice, District, Province, Regency, Village
from villages.services import file_bytes, regions_import

SEED = 2024
REPORT_DATE = datetime.date(2024, 12, 2)
SERVING = 98_350
PROTECTED = 32_475
ENDED = 640
LAPSED = 1_500
SUBMITTED_SHARE = 0.06
PAID_UNTIL = datetime.date(2026, 12, 31)
ACTOR_LABEL = "load_demo"

WORKFORCE_FIGURES = [
    ("15", datetime.date(2024, 8, 12), 1_312_370, 518_632),
    ("15", datetime.date(2024, 10, 1), 1_312_370, 543_059),
    ("15", datetime.date(2024, 12, 2), 1_312_370, 592_806),
    ("15.04", datetime.date(2024, 8, 12), 98_206, 49_803),
]
WORKFORCE_SOURCE = "BPJS Ketenagakerjaan Jambi (demo data from the published report)"
TARGETS = [(CoverageKind.WORKFORCE, 2024, "53"), (CoverageKind.WORKFORCE, 2025, "55")]
# Not published for village apparatus; the demo mirrors the workforce targets, and keeps 2025's
# for every later year up to today's, so that "this year's target" and its gap show on any day.
APPARATUS_TARGETS: list[tuple[str, int, str]] = [
    (CoverageKind.VILLAGE_APPARATUS, 2024, "53"),
    (CoverageKind.VILLAGE_APPARATUS, 2025, "55"),
]


def apparatus_targets(year: int) -> list[tuple[str, int, str]]:
    """The demo's village-apparatus targets up to `year` (this year's)."""
    kind, last_year, pct = APPARATUS_TARGETS[-1]
    return APPARATUS_TARGETS + [(kind, later, pct) for later in range(last_year + 1, year + 1)]


FIRST_MALE = ["Ahmad", "Budi", "Dedi", "Eko", "Fauzi", "Hendra", "Irwan", "Joko", "Rahmat", "Syahrial", "Yusuf"]
FIRST_FEMALE = ["Ani", "Dewi", "Fitri", "Indah", "Lestari", "Nurhayati", "Rina", "Siti", "Wati", "Yuliana"]
LAST = ["Saputra", "Hidayat", "Siregar", "Nasution", "Harahap", "Lubis", "Putri", "Sari", "Wijaya", "Rahman"]

FUNDING_WEIGHTS = [
    (FundingSource.APBDES, 55),
    (FundingSource.APBD_KABUPATEN, 25),
    (FundingSource.APBD_PROVINSI, 10),
    (FundingSource.SELF_PAID, 7),
    (FundingSource.OTHER, 3),
]

# Roles of one desa: (institution, position, how many: fixed or (low, high)).
DESA_ROLES: list[tuple[str, str, int | tuple[int, int]]] = [
    (Institution.PEMERINTAH_DESA, Position.KEPALA_DESA, 1),
    (Institution.PEMERINTAH_DESA, Position.SEKRETARIS_DESA, 1),
    (Institution.PEMERINTAH_DESA, Position.KEPALA_URUSAN, 3),
    (Institution.PEMERINTAH_DESA, Position.KEPALA_SEKSI, 3),
    (Institution.PEMERINTAH_DESA, Position.KEPALA_DUSUN, (2, 6)),
    (Institution.PEMERINTAH_DESA, Position.STAF, (0, 3)),
    (Institution.BPD, Position.KETUA, 1),
    (Institution.BPD, Position.WAKIL_KETUA, 1),
    (Institution.BPD, Position.SEKRETARIS, 1),
    (Institution.BPD, Position.ANGGOTA, (2, 6)),
    (Institution.RT, Position.KETUA, (6, 16)),
    (Institution.RW, Position.KETUA, (2, 5)),
    (Institution.PKK, Position.KETUA, 1),
    (Institution.PKK, Position.SEKRETARIS, 1),
    (Institution.PKK, Position.BENDAHARA, 1),
    (Institution.PKK, Position.KADER, (4, 10)),
    (Institution.POSYANDU, Position.KADER, (4, 10)),
    (Institution.KARANG_TARUNA, Position.KETUA, 1),
    (Institution.KARANG_TARUNA, Position.SEKRETARIS, 1),
    (Institution.KARANG_TARUNA, Position.ANGGOTA, (1, 4)),
    (Institution.LPM, Position.KETUA, 1),
    (Institution.LPM, Position.ANGGOTA, (1, 4)),
    (Institution.LINMAS, Position.KETUA, 1),
    (Institution.LINMAS, Position.ANGGOTA, (3, 8)),
    (Institution.LEMBAGA_ADAT, Position.KETUA, 1),
    (Institution.LEMBAGA_ADAT, Position.ANGGOTA, (0, 3)),
]
# Roles added or removed to reach the exact total.
FLEX_ROLES = [(Institution.RT, Position.KETUA), (Institution.LINMAS, Position.ANGGOTA)]
MOSTLY_FEMALE = {Institution.PKK, Institution.POSYANDU}
# Monthly wages by position and by institution, keyed by the plain strings a PlannedWorker holds.
SILTAP: dict[str, int] = {
    Position.KEPALA_DESA: 2_426_640,
    Position.SEKRETARIS_DESA: 2_224_420,
}
SILTAP_DEFAULT = 2_022_200
HONORARIUM: dict[str, int] = {
    Institution.BPD: 800_000,
    Institution.RT: 400_000,
    Institution.RW: 450_000,
    Institution.PKK: 250_000,
    Institution.POSYANDU: 200_000,
    Institution.KARANG_TARUNA: 250_000,
    Institution.LPM: 300_000,
    Institution.LINMAS: 300_000,
    Institution.LEMBAGA_ADAT: 300_000,
}


@dataclass
class PlannedWorker:
    village: Village
    institution: str
    position: str
    protected: bool = False
    fate: str = "unprotected"  # protected | lapsed | submitted | unprotected | ended
    events: list[tuple[str, datetime.date, str, str]] = field(default_factory=list)


def _day(rng: random.Random, start: datetime.date, end: datetime.date) -> datetime.date:
    return start + datetime.timedelta(days=rng.randint(0, (end - start).days))


def _ensure_regions(regions_file: Path | None, log: Callable[[str], None]) -> None:
    """Jambi's districts and villages from the official list (the one shipped with the project,
    or `regions_file`), and Jambi's boundaries for its maps; kept if already present."""
    if District.objects.filter(code__startswith="15.").exists():
        log("Jambi districts and villages already present: kept as they are.")
    else:
        source = regions_file or REGIONS
        text = file_bytes(Path(source)).decode("utf-8-sig")
        rows = [row for row in csv.reader(io.StringIO(text)) if row]
        keep = [row for row in rows[1:] if row[0].strip() == JAMBI[0] or row[0].strip().startswith("15.")]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["code", "name"])
        writer.writerows(keep)
        regions_import(data=buffer.getvalue().encode("utf-8"))
        log(f"Jambi districts and villages loaded from {source if regions_file else 'the shipped official list'}.")
    report = boundaries_import_files(paths=list(SHIPPED_BOUNDARIES), within=JAMBI[0])
    drawn = sum(report.created.values()) + sum(report.replaced.values()) + sum(report.unchanged.values())
    log(f"Jambi boundaries: {drawn:,} regions drawn on its maps.")


def _plan(rng: random.Random, desa: list[Village]) -> list[PlannedWorker]:
    """Who serves where, how many are protected on the report date, and each one's fate."""
    per_village: dict[int, list[PlannedWorker]] = {}
    for village in desa:
        workers = []
        for institution, position, count in DESA_ROLES:
            n = count if isinstance(count, int) else rng.randint(*count)
            workers += [PlannedWorker(village, institution, position) for _ in range(n)]
        per_village[village.pk] = workers
    total = sum(len(w) for w in per_village.values())
    while total != SERVING:
        village = rng.choice(desa)
        institution, position = rng.choice(FLEX_ROLES)
        workers = per_village[village.pk]
        if total > SERVING:
            flex = [i for i, w in enumerate(workers) if (w.institution, w.position) == (institution, position)]
            if len(flex) > 1:
                workers.pop(rng.choice(flex))
                total -= 1
        else:
            workers.append(PlannedWorker(village, institution, position))
            total += 1

    # Uneven coverage: many villages with none, some fully protected, the rest in between.
    shares: dict[int, float] = {}
    for village in desa:
        draw = rng.random()
        shares[village.pk] = 0.0 if draw < 0.38 else 1.0 if draw < 0.46 else rng.uniform(0.15, 0.85)
    for village_id, workers in per_village.items():
        for worker in workers:
            worker.protected = rng.random() < shares[village_id]
    partial = [w for v, ws in per_village.items() if 0 < shares[v] < 1 for w in ws]
    protected = sum(w.protected for ws in per_village.values() for w in ws)
    rng.shuffle(partial)
    for worker in partial:
        if protected == PROTECTED:
            break
        if protected > PROTECTED and worker.protected:
            worker.protected, protected = False, protected - 1
        elif protected < PROTECTED and not worker.protected:
            worker.protected, protected = True, protected + 1
    if protected != PROTECTED:
        raise RuntimeError("the demo plan could not reach the protected total")

    planned = [w for ws in per_village.values() for w in ws]
    unprotected = [w for w in planned if not w.protected]
    rng.shuffle(unprotected)
    for worker in planned:
        worker.fate = "protected" if worker.protected else "unprotected"
    for worker in unprotected[:LAPSED]:
        worker.fate = "lapsed"
    submitted = int(len(unprotected) * SUBMITTED_SHARE)
    for worker in unprotected[LAPSED : LAPSED + submitted]:
        worker.fate = "submitted"
    for _ in range(ENDED):
        village = rng.choice(desa)
        institution, position = rng.choice(FLEX_ROLES)
        planned.append(PlannedWorker(village, institution, position, fate="ended"))
    return planned


@dataclass
class _Builder:
    rng: random.Random
    serials: dict[str, int] = field(default_factory=dict)
    kpj: int = 0

    def person(self, planned: PlannedWorker) -> dict:
        rng = self.rng
        female_share = 0.9 if planned.institution in MOSTLY_FEMALE else 0.2
        sex = Sex.FEMALE if rng.random() < female_share else Sex.MALE
        birth = _day(rng, datetime.date(1962, 1, 1), datetime.date(2001, 12, 31))
        day = birth.day + (40 if sex == Sex.FEMALE else 0)
        prefix = planned.village.code[:8].replace(".", "") + f"{day:02d}{birth.month:02d}{birth.year % 100:02d}"
        self.serials[prefix] = self.serials.get(prefix, 0) + 1
        first = rng.choice(FIRST_FEMALE if sex == Sex.FEMALE else FIRST_MALE)
        if planned.institution == Institution.PEMERINTAH_DESA:
            wage_basis = WageBasis.SILTAP
            wage = SILTAP.get(planned.position, SILTAP_DEFAULT)
        else:
            wage_basis = WageBasis.HONORARIUM
            wage = HONORARIUM[planned.institution]
        return {
            "nik": f"{prefix}{self.serials[prefix]:04d}",
            "full_name": f"{first} {rng.choice(LAST)}",
            "sex": sex,
            "birth_date": birth,
            "phone": f"08{rng.randint(1_000_000_000, 9_999_999_999)}" if rng.random() < 0.7 else "",
            "wage_basis": wage_basis,
            "monthly_wage": wage,
        }

    def membership(self, planned: PlannedWorker, wage_basis: str, village: Village) -> dict:
        """What an activation is sent (`services.enrollment_activate`), but its period."""
        self.kpj += 1
        rng = self.rng
        scheme = Scheme.PU if wage_basis == WageBasis.SILTAP else Scheme.BPU
        sources, weights = zip(*FUNDING_WEIGHTS, strict=True)
        with_jht = scheme == Scheme.PU and rng.random() < 0.3
        return {
            "kpj_number": f"{24_000_000_000 + self.kpj}",
            "scheme": scheme,
            "npp": f"{90_000_000 + village.pk}" if scheme == Scheme.PU else "",
            "programs": [Program.JKK, Program.JKM, *([Program.JHT] if with_jht else [])],
            "funding_source": rng.choices(sources, weights)[0],
        }


def _steps(rng: random.Random, planned: PlannedWorker, term_start: datetime.date) -> list[tuple]:
    """(kind, effective date, paid-until, whether it records the membership) of each transition
    after the registration (`recording.NewHistory` refuses one the table does not allow)."""
    steps: list[tuple[str, datetime.date, datetime.date | None, bool]] = []
    year_start = max(term_start, datetime.date(2024, 1, 2))
    if planned.fate == "protected":
        # Activations spread over 2024, more of them late in the year: the trend rises.
        activated = (
            _day(rng, year_start, REPORT_DATE)
            if rng.random() < 0.5
            else _day(rng, max(year_start, datetime.date(2024, 7, 1)), REPORT_DATE)
        )
        submitted = max(term_start, activated - datetime.timedelta(days=rng.randint(3, 30)))
        steps += [
            (EventKind.SUBMITTED, submitted, None, False),
            (EventKind.ACTIVATED, activated, PAID_UNTIL, True),
        ]
    elif planned.fate == "lapsed":
        activated = _day(rng, year_start, max(year_start, datetime.date(2024, 3, 31)))
        paid_until = activated + datetime.timedelta(days=90)
        steps += [
            (EventKind.SUBMITTED, activated, None, False),
            (EventKind.ACTIVATED, activated, paid_until, True),
            (EventKind.LAPSED, paid_until + datetime.timedelta(days=1), paid_until, False),
        ]
    elif planned.fate == "submitted":
        steps.append(
            (EventKind.SUBMITTED, _day(rng, max(term_start, datetime.date(2024, 9, 1)), REPORT_DATE), None, False)
        )
    elif planned.fate == "ended":
        ended = _day(rng, datetime.date(2024, 2, 1), datetime.date(2024, 11, 30))
        steps.append((EventKind.SERVICE_ENDED, ended, None, False))
    return steps


def _load_workers(rng: random.Random, log: Callable[[str], None]) -> None:
    """Every planned worker, its history recorded as the services record it (recording.NewHistory)."""
    desa = list(Village.objects.filter(province__code=JAMBI[0], kind="desa").order_by("code"))
    planned = _plan(rng, desa)
    builder = _Builder(rng)
    ids = next_ids(ApparatusWorker, len(planned))
    event_ids = iter(next_ids(EnrollmentEvent, 5 * len(planned)))
    period_ids = iter(next_ids(WorkerPeriod, 5 * len(planned)))
    actor = Actor(label=ACTOR_LABEL, source=EventSource.SYSTEM)
    workers, enrollments, events, periods = [], [], [], []
    for worker_id, plan in zip(ids, planned, strict=True):
        village = plan.village
        person = builder.person(plan)
        if plan.fate == "ended":
            term_start = _day(rng, datetime.date(2019, 1, 1), datetime.date(2021, 12, 31))
        else:
            term_start = _day(rng, datetime.date(2019, 1, 1), datetime.date(2024, 6, 30))
        steps = _steps(rng, plan, term_start)
        membership = builder.membership(plan, person["wage_basis"], village) if any(s[3] for s in steps) else {}
        data = {
            "village": village,
            **person,
            "institution": plan.institution,
            "position": plan.position,
            "term_start": term_start,
            "term_end": None,
        }
        history = NewHistory(
            WorkerFacts.of(
                worker_id,
                village,
                institution=plan.institution,
                term_started=True,
                term_end=None,
                wage_basis=person["wage_basis"],
                monthly_wage=person.get("monthly_wage"),
            )
        )
        history.register(data, effective_date=term_start, period_from=term_start)
        coverage_start = None
        for kind, date, paid_until, with_membership in steps:
            params = {}
            if with_membership:
                coverage_start = coverage_start or date
                params = {**membership, "coverage_start": coverage_start, "paid_until": paid_until}
            history.apply(kind, effective_date=date, params=params)
        worker = history.worker
        workers.append(
            {
                "id": worker_id,
                "village_id": village.pk,
                "district_id": village.district_id,
                "regency_id": village.regency_id,
                "province_id": village.province_id,
                **{name: value for name, value in data.items() if name != "village"},
                "term_end": worker.term_end,
                "serving": worker.serving,
                "term_started": True,
                "enrollment_status": history.status,
            }
        )
        status, *membership_values = history.enrollment_row()
        enrollments.append(
            {"worker_id": worker_id, "status": status, **dict(zip(MEMBERSHIP_FIELDS, membership_values, strict=True))}
        )
        for event in history.events:
            values = event_values(
                worker_id=worker_id,
                kind=event.kind,
                effective_date=event.effective_date,
                actor=actor,
                from_status=event.from_status,
                to_status=event.to_status,
                changes=changes_json(event.diff),
            )
            events.append({"id": next(event_ids), **values})
        for row in history.period_rows():
            periods.append({"id": next(period_ids), **dict(zip(PERIOD_COLUMNS, row, strict=True))})
    bulk_insert(ApparatusWorker, workers)
    bulk_insert(Enrollment, enrollments)
    bulk_insert(EnrollmentEvent, events)
    bulk_insert(WorkerPeriod, periods)
    log(f"{len(workers):,} workers and {len(events):,} history events written.")


def _load_figures() -> None:
    for code, date, potential, active in WORKFORCE_FIGURES:
        WorkforceFigure.objects.update_or_create(
            region_code=code,
            date=date,
            defaults={"potential_workers": potential, "active_participants": active, "source": WORKFORCE_SOURCE},
        )
    for kind, year, pct in TARGETS + apparatus_targets(today().year):
        Target.objects.update_or_create(
            kind=kind, year=year, region_code=JAMBI[0], defaults={"target_pct": Decimal(pct)}
        )


def _analyze_loaded_tables() -> None:
    """Give PostgreSQL statistics of the tables just bulk-loaded. Until autovacuum analyzes them,
    the planner keeps the estimates of the (near) empty tables and may join 100,000 workers with a
    nested loop: the recount, the snapshots and the first past-date reads then take minutes."""
    if connection.vendor != "postgresql":
        return
    tables = [model._meta.db_table for model in (ApparatusWorker, Enrollment, EnrollmentEvent, WorkerPeriod)]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


DEMO_PASSWORD = "ucj-demo-2024"
# username, role, region or branch code, given the personal-data permission
DEMO_USERS = [
    ("pmd.jambi", Role.PROVINCE_OFFICER, "15", True),
    ("pmd.bungo", Role.REGENCY_OFFICER, "15.08", True),
    ("bpjs.muarabungo", Role.BRANCH_OFFICER, "muara-bungo", False),  # sees it by role (access.personal_data)
    ("viewer.jambi", Role.VIEWER, "15", False),
]
DEMO_CLIENT = ("sipd-bungo", "15.08")


@transaction.atomic
def demo_users_load() -> list[str]:
    """One user of each role for Jambi, and an integration client with a fresh token."""
    user_model = get_user_model()
    personal = Permission.objects.get(codename="view_personal_data")
    lines = ["Demo users (password " + DEMO_PASSWORD + "):"]
    for username, role, code, sees_personal in DEMO_USERS:
        user, _ = user_model.objects.get_or_create(username=username)
        user.set_password(DEMO_PASSWORD)
        # Officers use the admin; what they may open and do there follows their role and region
        # (access.admin_scope), not Django's model permissions. Viewers read coverage in the API.
        user.is_staff = role in (Role.PROVINCE_OFFICER, Role.REGENCY_OFFICER, Role.BRANCH_OFFICER)
        user.save()
        region: dict[str, Province | Regency | BranchOffice]
        if role == Role.REGENCY_OFFICER:
            region = {"regency": Regency.objects.get(code=code)}
        elif role == Role.BRANCH_OFFICER:
            region = {"branch": BranchOffice.objects.get(code=code)}
        else:
            region = {"province": Province.objects.get(code=code)}
        defaults = {"role": role, "province": None, "regency": None, "branch": None, **region}
        AccessProfile.objects.update_or_create(user=user, defaults=defaults)
        user.user_permissions.set([personal] if sees_personal else [])
        lines.append(f"  {username:18} {Role(role).label} ({code})")
    name, region_code = DEMO_CLIENT
    if get_user_model().objects.filter(username=f"{CLIENT_PREFIX}{name}").exists():
        AuthToken.objects.filter(user__username=f"{CLIENT_PREFIX}{name}").delete()
        client = get_user_model().objects.get(username=f"{CLIENT_PREFIX}{name}")
        _instance, token = AuthToken.objects.create(user=client, expiry=datetime.timedelta(days=365))
    else:
        _profile, token = client_create(name=name, region_code=region_code, can_write=True)
    lines.append(f"  integration client {name} (read-write, {region_code}): Authorization: Token {token}")
    return lines


SNAPSHOT_DATES = [datetime.date(2024, month, 1) - datetime.timedelta(days=1) for month in range(2, 13)] + [
    REPORT_DATE,
    datetime.date(2024, 12, 31),
]


def demo_load(*, admin_password: str, regions_file: Path | None = None, log: Callable[[str], None] = print) -> None:
    """Load (or confirm) the whole Jambi demo."""
    for line in regions_demo_load(admin_password=admin_password):
        log(line)
    for line in demo_users_load():
        log(line)
    with transaction.atomic():
        _ensure_regions(regions_file, log)
        _load_figures()
        if ApparatusWorker.objects.filter(province__code=JAMBI[0]).exists():
            log("Jambi workers already loaded: kept as they are.")
            return
        _load_workers(random.Random(SEED), log)
        _analyze_loaded_tables()
        counters_recount()
        for date in SNAPSHOT_DATES:
            snapshots_take(as_of=date)
    log(f"Counters rebuilt; {len(SNAPSHOT_DATES)} monthly snapshots of 2024 stored.")
