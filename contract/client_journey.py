"""An integrator's journey through the API with nothing but the client generated from its schema
(`ucj_desa_client`, made by openapi-python-client; see contract/live.py).

    PYTHONPATH=<folder holding ucj_desa_client> python contract/client_journey.py http://127.0.0.1:PORT

Against the demo data: the Bungo regency officer logs in, lists the regencies of Jambi (15),
picks a village of Bungo (15.08), reads its coverage, registers a worker there and submits it;
the Muara Bungo branch officer activates the membership; the officer reads the village's
coverage again (one more worker serving and protected) and its trend, edits the worker, then
repeats the edit with the version it had before: a stale `version` in the body is a 409 and a
stale `If-Match` a 412, each parsed by the client into its error model. Every step checks what
it got and prints one line; the exit status is 1 when any step failed.

Only the generated package and the standard library are imported: what the client cannot do
(a missing parameter, an answer it cannot parse) is a failure of the schema.
"""

from __future__ import annotations

import datetime
import random
import sys
import traceback
from collections.abc import Callable

from ucj_desa_client import AuthenticatedClient, Client
from ucj_desa_client.api.v1 import (
    v1_auth_login_create,
    v1_auth_logout_create,
    v1_coverage_retrieve,
    v1_coverage_trend_retrieve,
    v1_regencies_list,
    v1_villages_list,
    v1_workers_activate_create,
    v1_workers_create,
    v1_workers_partial_update,
    v1_workers_submit_create,
)
from ucj_desa_client.models import (
    ActivateRequest,
    FundingSourceEnum,
    InstitutionEnum,
    LoginRequest,
    PatchedWorkerWriteRequest,
    PositionEnum,
    ProgramsEnum,
    SchemeEnum,
    SexEnum,
    TransitionRequest,
    WageBasisEnum,
    WorkerWriteRequest,
)

PROVINCE = "15"  # Jambi
REGENCY = "15.08"  # Bungo
REGENCIES_OF_PROVINCE = 11
REGENCY_OFFICER = ("pmd.bungo", "ucj-demo-2024")
BRANCH_OFFICER = ("bpjs.muarabungo", "ucj-demo-2024")
WIB = datetime.timezone(datetime.timedelta(hours=7))
TREND_YEAR = 2024  # the demo stores monthly snapshots of 2024


class StepFailed(Exception):
    pass


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise StepFailed(message)


def answer(response, status: int, what: str):
    """The parsed answer of a call that should have answered `status` with a body."""
    expect(
        response.status_code == status,
        f"{what}: expected {status}, got {response.status_code}: {response.content[:300]!r}",
    )
    expect(response.parsed is not None, f"{what}: the client did not parse the {status} answer")
    return response.parsed


def typed_error(response, status: int, what: str) -> str:
    """A refusal the client parsed into one of its error models: its class name and first code."""
    error = answer(response, status, what)
    expect(
        type(error).__module__.startswith("ucj_desa_client.models."),
        f"{what}: the {status} answer was not parsed into a model ({type(error).__name__})",
    )
    errors = getattr(error, "errors", None) or []
    expect(bool(errors), f"{what}: {type(error).__name__} has no errors")
    first = errors[0]
    return f"{type(error).__name__} ({first.code}: {first.detail})"


class Journey:
    def __init__(self, base_url: str):
        self.base_url = base_url
        self.anonymous = Client(base_url=base_url, raise_on_unexpected_status=False)
        self.today = datetime.datetime.now(tz=WIB).date()  # the server's day (Asia/Jakarta)
        self.rng = random.Random()
        self.tokens: list[AuthenticatedClient] = []

    def login(self, credentials: tuple[str, str]) -> tuple[AuthenticatedClient, str]:
        username, password = credentials
        response = v1_auth_login_create.sync_detailed(
            client=self.anonymous, body=LoginRequest(username=username, password=password)
        )
        token = answer(response, 200, f"login as {username}")
        expect(bool(token.token), "login: empty token")
        client = AuthenticatedClient(base_url=self.base_url, token=token.token, prefix="Token")
        self.tokens.append(client)
        return client, f"{username}, token valid until {token.expiry.isoformat(timespec='minutes')}"

    # --- the steps, in order; each returns its one line ---

    def log_in_officer(self) -> str:
        self.officer, line = self.login(REGENCY_OFFICER)
        return line

    def list_regencies(self) -> str:
        response = v1_regencies_list.sync_detailed(client=self.officer, province=PROVINCE, page_size=100)
        page = answer(response, 200, "regencies of 15")
        codes = [regency.code for regency in page.results]
        expect(len(codes) == REGENCIES_OF_PROVINCE, f"{len(codes)} regencies, expected {REGENCIES_OF_PROVINCE}")
        expect(page.count == REGENCIES_OF_PROVINCE, f"count {page.count}, expected {REGENCIES_OF_PROVINCE}")
        expect(all(regency.province == PROVINCE for regency in page.results), "a regency of another province")
        expect(REGENCY in codes, f"{REGENCY} not among {codes}")
        return f"{len(codes)} regencies ({codes[0]} … {codes[-1]})"

    def pick_village(self) -> str:
        response = v1_villages_list.sync_detailed(client=self.officer, regency=REGENCY, page_size=10)
        page = answer(response, 200, "villages of 15.08")
        expect(bool(page.results), "no village in 15.08")
        expect(all(village.regency == REGENCY for village in page.results), "a village of another regency")
        self.village = page.results[0]
        return f"{self.village.code} {self.village.name} (of {page.count} in {REGENCY})"

    def read_coverage_before(self) -> str:
        self.before = self.coverage()
        return f"{self.village.code}: {self.before.protected} of {self.before.serving} protected"

    def register_worker(self) -> str:
        birth = datetime.date(1990, self.rng.randint(1, 12), self.rng.randint(1, 28))
        district_digits = self.village.district.replace(".", "")
        nik = f"{district_digits}{birth:%d%m%y}{self.rng.randint(1, 9999):04d}"
        body = WorkerWriteRequest(
            village=self.village.code,
            nik=nik,
            full_name="Budi Kontrak",
            sex=SexEnum.MALE,
            birth_date=birth,
            institution=InstitutionEnum.PEMERINTAH_DESA,
            position=PositionEnum.STAF,
            term_start=datetime.date(self.today.year - 1, 1, 2),
            wage_basis=WageBasisEnum.SILTAP,
            monthly_wage=2_500_000,
        )
        worker = answer(v1_workers_create.sync_detailed(client=self.officer, body=body), 201, "register")
        expect(worker.village == self.village.code, f"registered in {worker.village}")
        expect(worker.enrollment.status.value == "not_registered", f"status {worker.enrollment.status}")
        self.worker = worker
        status = worker.enrollment.status.value
        return f"worker {worker.id} in {worker.village}, status {status}, version {worker.version}"

    def submit(self) -> str:
        response = v1_workers_submit_create.sync_detailed(
            str(self.worker.id), client=self.officer, body=TransitionRequest(version=self.worker.version)
        )
        worker = answer(response, 200, "submit")
        expect(worker.enrollment.status.value == "submitted", f"status {worker.enrollment.status}")
        self.worker = worker
        return f"worker {worker.id} {worker.enrollment.status.value}, version {worker.version}"

    def activate(self) -> str:
        branch, who = self.login(BRANCH_OFFICER)
        kpj = f"99{self.rng.randint(0, 10**9 - 1):09d}"
        body = ActivateRequest(
            kpj_number=kpj,
            scheme=SchemeEnum.BPU,
            programs=[ProgramsEnum.JKK, ProgramsEnum.JKM],
            funding_source=FundingSourceEnum.APBDES,
            coverage_start=self.today - datetime.timedelta(days=7),
            paid_until=self.today + datetime.timedelta(days=60),
            version=self.worker.version,
        )
        worker = answer(
            v1_workers_activate_create.sync_detailed(str(self.worker.id), client=branch, body=body), 200, "activate"
        )
        expect(worker.enrollment.status.value == "active", f"status {worker.enrollment.status}")
        expect(worker.enrollment.kpj_number == kpj, f"KPJ {worker.enrollment.kpj_number}, sent {kpj}")
        expect(worker.protected, "an active worker not protected")
        self.worker = worker
        return f"by {who}: worker {worker.id} active, KPJ {kpj}, version {worker.version}"

    def read_coverage_after(self) -> str:
        after = self.coverage()
        expect(after.serving == self.before.serving + 1, f"serving {self.before.serving} -> {after.serving}")
        expect(after.protected == self.before.protected + 1, f"protected {self.before.protected} -> {after.protected}")
        return (
            f"{self.village.code}: {after.protected} of {after.serving} protected "
            f"(was {self.before.protected} of {self.before.serving}), {after.coverage_pct}%"
        )

    def read_trend(self) -> str:
        response = v1_coverage_trend_retrieve.sync_detailed(
            self.village.code,
            client=self.officer,
            start=datetime.date(TREND_YEAR, 1, 1),
            end=datetime.date(TREND_YEAR, 12, 31),
        )
        trend = answer(response, 200, "trend")
        points = trend.points
        expect(bool(points), f"no trend point in {TREND_YEAR}")
        periods = [point.period for point in points]
        expect(periods == sorted(periods), "trend points out of order")
        expect(all(point.protected <= point.serving for point in points), "more protected than serving")
        first, last = points[0], points[-1]
        return (
            f"{len(points)} monthly points in {TREND_YEAR}: {first.period} {first.coverage_pct}% … "
            f"{last.period} {last.coverage_pct}%"
        )

    def edit(self) -> str:
        self.stale_version = self.worker.version
        response = v1_workers_partial_update.sync_detailed(
            str(self.worker.id),
            client=self.officer,
            body=PatchedWorkerWriteRequest(phone="081234567890", version=self.worker.version),
        )
        worker = answer(response, 200, "edit with the current version")
        expect(isinstance(worker, type(self.worker)), f"an edit answered {type(worker).__name__}, not a worker")
        expect(worker.phone == "081234567890", f"phone {worker.phone!r}")
        expect(worker.version == self.stale_version + 1, f"version {worker.version} after {self.stale_version}")
        return f"phone changed, version {self.stale_version} -> {worker.version}"

    def stale_version_in_body(self) -> str:
        response = v1_workers_partial_update.sync_detailed(
            str(self.worker.id),
            client=self.officer,
            body=PatchedWorkerWriteRequest(phone="081234567891", version=self.stale_version),
        )
        return f"version {self.stale_version} in the body: 409 " + typed_error(response, 409, "stale version")

    def stale_if_match(self) -> str:
        response = v1_workers_partial_update.sync_detailed(
            str(self.worker.id),
            client=self.officer,
            body=PatchedWorkerWriteRequest(phone="081234567891"),
            if_match=f'"{self.stale_version}"',
        )
        return f'If-Match "{self.stale_version}": 412 ' + typed_error(response, 412, "stale If-Match")

    def log_out(self) -> str:
        for client in self.tokens:
            response = v1_auth_logout_create.sync_detailed(client=client)
            expect(response.status_code == 204, f"logout: {response.status_code} {response.content[:200]!r}")
        again = v1_auth_logout_create.sync_detailed(client=self.tokens[0])
        typed = typed_error(again, 401, "logout with a revoked token")
        return f"{len(self.tokens)} tokens revoked; a revoked token then gets 401 {typed}"

    # --- helpers ---

    def coverage(self):
        response = v1_coverage_retrieve.sync_detailed(self.village.code, client=self.officer)
        row = answer(response, 200, f"coverage of {self.village.code}")
        expect(row.code == self.village.code, f"coverage of {row.code}")
        return row


def raised_where(exc: Exception) -> str:
    """`KeyError: 'name' (models/coverage_row.py:93, in from_dict)`: what the client raised, where."""
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    where = "/".join(frame.filename.split("/")[-2:])
    return f"{type(exc).__name__}: {exc} ({where}:{frame.lineno}, in {frame.name})"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    journey = Journey(argv[1].rstrip("/"))
    # Steps that later ones need stop the journey when they fail; the checks of the end run
    # whatever happened to their neighbours.
    steps: list[tuple[str, Callable[[], str], bool]] = [
        ("log in (regency officer)", journey.log_in_officer, True),
        ("regencies of province 15", journey.list_regencies, True),
        ("a village of Bungo", journey.pick_village, True),
        ("village coverage before", journey.read_coverage_before, True),
        ("register a worker", journey.register_worker, True),
        ("submit it", journey.submit, True),
        ("activate it (branch officer)", journey.activate, True),
        ("village coverage after", journey.read_coverage_after, False),
        ("village trend", journey.read_trend, False),
        ("edit with the current version", journey.edit, False),
        ("stale version in the body", journey.stale_version_in_body, False),
        ("stale If-Match", journey.stale_if_match, False),
        ("log out", journey.log_out, False),
    ]
    failed = []
    for name, run, needed in steps:
        try:
            line = run()
        except Exception as exc:  # a failed check, or the client itself failing: both reported
            failed.append(name)
            reason = str(exc) if isinstance(exc, StepFailed) else raised_where(exc)
            print(f"FAILED {name}: {reason}", flush=True)
            if needed:
                break
        else:
            print(f"ok     {name}: {line}", flush=True)
    if failed:
        print(f"client journey: {len(failed)} step(s) failed: {', '.join(failed)}")
        return 1
    print("client journey: every step passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
