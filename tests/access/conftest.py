"""Fixtures of the access-control tests: a two-province region tree, two branch offices,
workers in every regency written through the real services, and one API client per role,
each signed in with a real knox token (so the token authentication path is exercised).

Region tree (distinct worker counts per regency, so a leaked row changes every sum):

    15 Jambi
       15.01 Kerinci    1 village    2 serving, 1 protected   branch sungai-penuh
       15.08 Bungo      1 village    3 serving, 1 protected   (no branch)
    16 Sumatera Selatan
       16.01 OKU        1 village    4 serving, 1 protected   branch baturaja
"""

from __future__ import annotations

import datetime
import hashlib
import io
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from access.models import AccessProfile
from access.services import client_create
from coverage.models import Target, WorkforceFigure
from enrollment import services
from enrollment.models import ApparatusWorker, WorkerImport
from tests.helpers import nik_for, today
from villages.models import BranchOffice, Province, Regency, Village
from villages.services import regions_import

REGIONS = b"""code,name
15,Jambi
15.01,Kabupaten Kerinci
15.01.01,Gunung Raya
15.01.01.2001,Lempur Tengah
15.08,Kabupaten Bungo
15.08.01,Pelepat
15.08.01.2001,Rantau Keloyang
16,Sumatera Selatan
16.01,Kabupaten Ogan Komering Ulu
16.01.01,Baturaja Timur
16.01.01.2001,Tanjung Baru
"""

OWN = "15.01"  # a regency every role covers
SIBLING = "15.08"  # same province, covered only by province-wide roles
OTHER = "16.01"  # the other province: covered by no one but the admin
VILLAGE = {OWN: "15.01.01.2001", SIBLING: "15.08.01.2001", OTHER: "16.01.01.2001"}
SERVING = {OWN: 2, SIBLING: 3, OTHER: 4}  # one active (protected) worker in each
PROTECTED = {OWN: 1, SIBLING: 1, OTHER: 1}
PASSWORD = "s3cret-Passw0rd!"

ANONYMOUS = "anonymous"
ADMIN = "admin"
PROVINCE_OFFICER = "province_officer"
REGENCY_OFFICER = "regency_officer"
BRANCH_OFFICER = "branch_officer"
VIEWER = "viewer"
CLIENT_RO = "client_ro"
CLIENT_RW = "client_rw"
ROLES = [ANONYMOUS, ADMIN, PROVINCE_OFFICER, REGENCY_OFFICER, BRANCH_OFFICER, VIEWER, CLIENT_RO, CLIENT_RW]

# What each role may do, written from the specification (not read from access.choices, so a
# change there that breaks the rules fails these tests).
READ, WRITE, ENROLL, EXPORT, COVERAGE, TARGETS, ADMINISTER, RECONCILE = (
    "read_workers",
    "write_workers",
    "manage_enrollment",
    "export",
    "read_coverage",
    "manage_targets",
    "admin",
    "reconcile",
)
CAPABILITIES: dict[str, set[str]] = {
    ANONYMOUS: set(),
    ADMIN: {READ, WRITE, ENROLL, EXPORT, COVERAGE, TARGETS, ADMINISTER, RECONCILE},
    PROVINCE_OFFICER: {READ, EXPORT, COVERAGE, WRITE, TARGETS, RECONCILE},
    REGENCY_OFFICER: {READ, EXPORT, COVERAGE, WRITE},
    BRANCH_OFFICER: {READ, EXPORT, COVERAGE, ENROLL, RECONCILE},
    VIEWER: {COVERAGE},
    CLIENT_RO: {READ, EXPORT, COVERAGE},  # a province client, read-only
    CLIENT_RW: {READ, EXPORT, COVERAGE, WRITE},  # a regency client, read-write
}
# The regencies each role covers.
COVERS: dict[str, set[str]] = {
    ANONYMOUS: set(),
    ADMIN: {OWN, SIBLING, OTHER},
    PROVINCE_OFFICER: {OWN, SIBLING},
    REGENCY_OFFICER: {OWN},
    BRANCH_OFFICER: {OWN},
    VIEWER: {OWN, SIBLING},
    CLIENT_RO: {OWN, SIBLING},
    CLIENT_RW: {OWN},
}
USERNAME = {
    ADMIN: "admin",
    PROVINCE_OFFICER: "dpmd-jambi",
    REGENCY_OFFICER: "dpmd-kerinci",
    BRANCH_OFFICER: "bpjs-sungai-penuh",
    VIEWER: "viewer-jambi",
    CLIENT_RO: "client:siskeudes-jambi",
    CLIENT_RW: "client:sipd-kerinci",
}

_serials = itertools.count(1)
_kpj = itertools.count(20_000_000_001)


def worker_payload(village: str, *, serial: int | None = None, **overrides) -> dict:
    """A valid worker for POST /workers/ (a woman born 1985-08-17)."""
    serial = serial if serial is not None else 5000 + next(_serials)
    data = {
        "village": village,
        "nik": nik_for(datetime.date(1985, 8, 17), "female", serial),
        "full_name": f"Siti Aminah {serial}",
        "sex": "female",
        "birth_date": "1985-08-17",
        "phone": "081234567890",
        "institution": "pkk",
        "position": "ketua",
        "term_start": "2024-03-01",
        "wage_basis": "honorarium",
        "monthly_wage": 500_000,
    }
    data.update(overrides)
    return data


def activation_args() -> dict:
    """Valid `enrollment_activate` arguments: a BPU membership paid 60 days ahead."""
    return {
        "kpj_number": f"{next(_kpj):011d}",
        "scheme": "bpu",
        "programs": ["jkk", "jkm"],
        "funding_source": "apbdes",
        "coverage_start": today() - datetime.timedelta(days=30),
        "paid_until": today() + datetime.timedelta(days=60),
    }


def activation_payload() -> dict:
    """The same as a POST /workers/{id}/activate/ body."""
    args = activation_args()
    return {**args, "coverage_start": args["coverage_start"].isoformat(), "paid_until": args["paid_until"].isoformat()}


IMPORT_COLUMNS = [
    "village_code",
    "nik",
    "full_name",
    "sex",
    "birth_date",
    "phone",
    "institution",
    "position",
    "term_start",
    "wage_basis",
    "monthly_wage",
]


def import_file(village: str, **overrides) -> bytes:
    """A one-row worker spreadsheet (CSV) for POST /imports/workers/; extra columns may be added."""
    payload = worker_payload(village)
    row = {**payload, "village_code": village, **overrides}
    columns = IMPORT_COLUMNS + [c for c in overrides if c not in IMPORT_COLUMNS]
    lines = [",".join(columns), ",".join(str(row.get(c, "")) for c in columns)]
    return ("\n".join(lines) + "\n").encode()


def upload(client: APIClient, data: bytes, name: str = "workers.csv", **fields):
    file = io.BytesIO(data)
    file.name = name
    return client.post(reverse("import-workers"), {"file": file, **fields}, format="multipart")


@dataclass
class World:
    """The objects every access test addresses, by regency code."""

    new: dict[str, ApparatusWorker] = field(default_factory=dict)  # not registered, has a phone
    active: dict[str, ApparatusWorker] = field(default_factory=dict)  # protected
    workers: dict[str, list[ApparatusWorker]] = field(default_factory=dict)
    targets: dict[str, Target] = field(default_factory=dict)
    imports: dict[str, WorkerImport] = field(default_factory=dict)  # by role; "stranger": someone else's
    figure_date: datetime.date = datetime.date(2024, 8, 12)

    def worker_ids(self, regencies: set[str]) -> set[int]:
        return {w.pk for code in regencies for w in self.workers[code]}


def _register(code: str, actor: services.Actor, *, sex: str = "male", phone: str = "") -> ApparatusWorker:
    birth = datetime.date(1980, 5, 17)
    serial = next(_serials)
    return services.worker_register(
        actor=actor,
        village=Village.objects.get(code=VILLAGE[code]),
        nik=nik_for(birth, sex, serial, region=VILLAGE[code].replace(".", "")[:6]),
        full_name=f"Pekerja {code} {serial}",
        sex=sex,
        birth_date=birth,
        phone=phone,
        institution="pemerintah_desa",
        position="staf",
        term_start=datetime.date(2024, 1, 1),
        wage_basis="siltap",
        monthly_wage=2_500_000,
    )


@pytest.fixture
def rates(settings, monkeypatch):
    """rates(anon="3/min", ...): lower the throttle rates for this test (DRF reads them at class
    level, so the class attribute is patched too) and forget earlier counts."""

    def apply(**changes: str) -> None:
        new = {**django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **changes}
        settings.REST_FRAMEWORK = {**django_settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": new}
        monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", new)
        cache.clear()

    return apply


@pytest.fixture(autouse=True)
def _empty_cache(db):
    """Throttle counts and login failures live in the database cache: start each test clean."""
    cache.clear()


def build_world() -> World:
    regions_import(data=REGIONS)
    BranchOffice.objects.create(code="sungai-penuh", name="Cabang Sungai Penuh").regencies.set(
        Regency.objects.filter(code=OWN)
    )
    BranchOffice.objects.create(code="baturaja", name="Cabang Baturaja").regencies.set(
        Regency.objects.filter(code=OTHER)
    )
    seed = services.Actor(label="seed", source="system")
    world = World()
    for code in (OWN, SIBLING, OTHER):
        new = _register(code, seed, sex="female", phone="081277778888")
        active = _register(code, seed)
        services.enrollment_submit(actor=seed, worker_id=active.pk)
        services.enrollment_activate(actor=seed, worker_id=active.pk, **activation_args())
        extra = [_register(code, seed) for _ in range(SERVING[code] - 2)]
        world.new[code] = ApparatusWorker.objects.get(pk=new.pk)
        world.active[code] = ApparatusWorker.objects.get(pk=active.pk)
        world.workers[code] = [world.new[code], world.active[code], *extra]
    year = today().year
    for code, pct in ((OWN, "60"), (SIBLING, "55"), (OTHER, "70")):
        world.targets[code] = Target.objects.create(
            kind="village_apparatus", year=year, region_code=code, target_pct=Decimal(pct)
        )
    figures = [
        ("15", 1_312_370, 518_632),
        (OWN, 98_206, 49_803),
        ("16", 4_000_000, 1_600_000),
        (OTHER, 150_000, 30_000),
    ]
    for code, potential, active in figures:
        WorkforceFigure.objects.create(
            region_code=code, date=world.figure_date, potential_workers=potential, active_participants=active
        )
    return world


@pytest.fixture(scope="module")
def shared(django_db_setup, django_db_blocker):
    """One world and one signed-in user per role for a whole test module (the matrix alone runs
    hundreds of requests against it). Built inside a transaction that is rolled back after the
    module; each test runs in a savepoint inside it, so whatever a test writes is undone."""
    with django_db_blocker.unblock(), transaction.atomic():
        world = build_world()
        users = {role: make_user(role) for role in ROLES if role != ANONYMOUS}
        stranger = get_user_model().objects.create_user("stranger", password=PASSWORD)
        for role, user in [*((r, u) for r, (u, _t) in users.items()), ("stranger", stranger)]:
            world.imports[role] = _past_import(user)
        yield SimpleNamespace(world=world, users=users)
        transaction.set_rollback(True)


@pytest.fixture
def world(shared, db) -> World:
    """The module's world; what the test changes is rolled back after it."""
    return shared.world


def _past_import(user) -> WorkerImport:
    data = import_file(VILLAGE[OWN])
    return WorkerImport.objects.create(
        created_by=user,
        source="import",
        file_name="workers.csv",
        size=len(data),
        checksum=hashlib.sha256(data).hexdigest(),
        data=data,
        committed=False,
        dry_run=True,
        summary={"rows": 1},
    )


def make_user(role: str, *, personal_data: bool = False):
    """A user of `role` (clients through `access.services.client_create`) with a knox token.

    With `personal_data` the user also has `enrollment.view_personal_data` and its username ends
    in "-pd". Returns (user, token)."""
    user_model = get_user_model()
    suffix = "-pd" if personal_data else ""
    username = USERNAME[role] + suffix
    if role == ADMIN:
        user = user_model.objects.create_superuser(username, "admin@example.id", PASSWORD)
        return user, AuthToken.objects.create(user)[1]
    if role in (CLIENT_RO, CLIENT_RW):
        profile, token = client_create(
            name=username.removeprefix("client:"),
            region_code="15" if role == CLIENT_RO else OWN,
            can_write=role == CLIENT_RW,
            personal_data=personal_data,
        )
        return profile.user, token
    user = user_model.objects.create_user(username, password=PASSWORD)
    region = {
        PROVINCE_OFFICER: {"province": Province.objects.get(code="15")},
        REGENCY_OFFICER: {"regency": Regency.objects.get(code=OWN)},
        BRANCH_OFFICER: {"branch": BranchOffice.objects.get(code="sungai-penuh")},
        VIEWER: {"province": Province.objects.get(code="15")},
    }[role]
    AccessProfile.objects.create(user=user, role=role, **region)
    if personal_data:
        user.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    return user, AuthToken.objects.create(user)[1]


def token_client(token: str | None) -> APIClient:
    client = APIClient()
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def client_for(shared, db):
    """client_for(role, personal_data=False) -> an APIClient signed in with a real knox token:
    the module's user of the role, or (personal_data=True) a new one with the right."""
    made: dict[str, tuple] = {}

    def build(role: str, *, personal_data: bool = False) -> APIClient:
        if role == ANONYMOUS:
            return token_client(None)
        if personal_data:
            if role not in made:
                made[role] = make_user(role, personal_data=True)
            user, token = made[role]
        else:
            user, token = shared.users[role]
        client = token_client(token)
        client.user = user
        client.token = token
        return client

    return build


def rows(response) -> list[dict]:
    """The rows of a paginated JSON response."""
    return response.json()["results"]
