"""Benchmark: the API over loopback against a (national-size) database, under gunicorn.

    DATABASE_URL=postgres://ucj:ucj@127.0.0.1:5432/ucj_nat .venv/bin/python bench/national_bench.py \\
        [--mode cached|cold|mixed|all] [--write-rate 5] [--requests 200] [--warmup 20] \\
        [--concurrency 4] [--quick] [--regency CODE] [--out DIR] [--generate N [--regions PATH]]

Fill the database first (`manage.py generate_synthetic`, or `manage.py load_demo` for Jambi), or
let `--generate N` do it: when the database has no workers it is created if missing, migrated,
given the region list (`--regions`, default ../shared/data/regions.csv when present, else the
shipped villages/data/regions.csv.gz) and N synthetic workers (seed 1). `make bench-quick` does
that for 500,000 workers and runs every mode with fewer requests (docs/performance.md).

Modes (`--mode`, default `cached`); `all` runs the three one after the other, each with a
gunicorn of its own and its own `/healthz`:

- `cached`: the service as configured (today's behaviour): coverage answers are kept in each
  gunicorn process's cache once computed, so after the warmup their figures are the steady state
  of unchanged data;
- `cold`: gunicorn started with `UCJ_COVERAGE_CACHE_SECONDS=0`, so every coverage answer is
  computed: what the first reader sees after any write in the country;
- `mixed`: the cache on, and a writer thread that activates serving workers of another province
  than the measured regency's through the API, then lapses or renews each (in turn), at a steady
  `--write-rate` writes per second (default 5), from before `/healthz` until the last scenario
  before the transitions; the report gives the writes done and their p50 / p95.

The script, through the ORM: makes a national admin API user `bench` (with the
`view_personal_data` permission, so exports and lists carry real personal data) and a knox
token for it; picks the regency (`--regency`, or the one with the most serving workers) and the
workers whose enrollment it will activate and lapse. Then, per mode, it starts gunicorn (2 sync
workers, 127.0.0.1, a free port; rate limits raised out of the way; DEBUG off unless the
environment sets it) and measures each scenario:

- warmup requests (not recorded), then `--requests` sequential requests by one client:
  p50 / p95 / mean / max latency, timed around the whole request (connect, send, read the body);
  `first_ms` is the scenario's first request since the server started (cold);
- then throughput: `--concurrency` threads sharing `--requests` requests, in requests/second.

Each scenario's sequential requests are interleaved with `/healthz` in blocks of ten: before
each ten of the scenario's, eleven of `/healthz`, timed apart, the first not counted (it follows
a request of the scenario's). The scenario's p50 divided by the p50 of those (`p50 ÷
healthz alongside`, `ratio_alongside`) is set against its target ratio (../shared/DESIGN.md §6:
coverage rows ≤ 3×, detail and trend ≤ 5× computed, as in the cold and mixed modes, all of them
≤ 2× cached; worker list ≤ 8×, worker detail ≤ 3×, one transition ≤ 6× in every mode). Both
are timed in the same seconds, so a machine whose speed drifts during the run (a shared VM's
`/healthz` p50 moved between 1.1 and 3.1 ms in one day here) moves both. The ratio to the run's
own `/healthz` row (measured once, first: `ratio_to_healthz`) is reported beside it.

One new connection per request (gunicorn's sync workers close it anyway).

Transitions are not repeatable on the same workers, so every transition request gets a worker of
its own: `warmup + 2 * requests` serving workers of the regency that are `not_registered` or
`submitted` are activated (`transition_activate`, with `If-Match` and a fresh unique KPJ
number), then the same workers are lapsed (`transition_lapse`), the throughput phase on workers
of its own. They run last, so their writes do not invalidate cached coverage answers while those
are measured (in every mode). Each run therefore uses up workers (each mode its own): rerun until
the regency runs out of them (the script then says so and measures what it can).

`portal_home` and `portal_drill_down` ask for the portal's home page and the regency's coverage
page (its districts, its trend) as the regency's officer `bench.pmd`, signed in through the
portal's login page with a fresh random password.

`export_unprotected_csv` makes `requests / 10` requests (at least 3). `coverage_*_304` repeat a
coverage request with `If-None-Match` set to its ETag; a server that sends no ETag is reported as
"not supported" (in the mixed mode a write may change the ETag: 200 is expected there too). Any
unexpected status is an error: the script exits 1 (for CI smoke runs with `--quick`).

Every report prints the machine (CPU model and count, memory, OS, Python, PostgreSQL and its
memory settings, the database's size, workers and villages, the commit, the load average before
and after). Results: bench/results/national.json and national.md (or `--out DIR`); with
`--mode all` they hold the three modes and a table of every scenario in each (p50 and ratio), and
national-MODE.json / .md each mode alone.

`main(argv)` returns the results dict; importing the module only sets Django up.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import re
import secrets
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ucj_project.settings.local")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import PBKDF2PasswordHasher  # noqa: E402
from django.contrib.auth.models import Permission  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import DatabaseError, connection  # noqa: E402
from django.db.models import Count, Exists, Max, OuterRef, Q, Sum  # noqa: E402
from django.utils import timezone  # noqa: E402
from knox.models import AuthToken  # noqa: E402

from access.choices import Role  # noqa: E402
from access.models import AccessProfile  # noqa: E402
from bench.server import Client, Gunicorn, Req, Resp  # noqa: E402
from coverage import models as coverage_models  # noqa: E402
from enrollment.choices import EnrollmentStatus  # noqa: E402
from enrollment.models import ApparatusWorker, Enrollment, EnrollmentEvent  # noqa: E402
from villages.models import Regency, Village  # noqa: E402

BENCH_USER = "bench"
PORTAL_USER = "bench.pmd"
GUNICORN_ENV = {
    "UCJ_RATE_TOKEN": "100000000/min",
    "UCJ_RATE_ANON": "100000000/min",
    "DJANGO_SETTINGS_MODULE": "ucj_project.settings.local",
}
ERROR_BODY_CHARS = 500
# The reference every ratio is taken to (and, alongside every scenario, timed between its requests).
HEALTHZ = Req("GET", "/healthz")
REFERENCE_BLOCK = 10
WORKER_PAGE_SIZE = 50
WORKER_PAGES = 5
DETAIL_WORKERS = 50
MODES = ("cached", "cold", "mixed")
# Workers the mixed mode's writer can take: enough for ten minutes at its rate (two writes each).
WRITER_SECONDS = 600
# Target ratios to /healthz p50 (../shared/DESIGN.md §6), per scenario and mode.
COMPUTED = {"cold", "mixed"}


def target_ratio(scenario: str, mode: str) -> float | None:
    """The ratio p50 ÷ `/healthz` p50 the scenario must keep in this mode, if it has one: coverage
    answers ≤ 2× cached; computed (cold; mixed, where writes keep retiring kept answers) rows ≤ 3×,
    detail and trend ≤ 5×; worker list ≤ 8×, worker detail ≤ 3×, one transition ≤ 6×."""
    if scenario in ("coverage_provinces", "coverage_villages_of_regency"):
        return 3.0 if mode in COMPUTED else 2.0
    if scenario in ("coverage_region_detail", "coverage_trend"):
        return 5.0 if mode in COMPUTED else 2.0
    return {"worker_list": 8.0, "worker_detail": 3.0, "transition_activate": 6.0, "transition_lapse": 6.0}.get(scenario)


# --- Scenarios -------------------------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    request: Callable[[int], Req]  # the i-th request: warmup first, then sequential, then throughput
    requests: int
    warmup: int
    expect: frozenset[int] = frozenset({200})
    throughput: bool = True
    note: str = ""
    on_response: Callable[[int, Resp], None] | None = None
    prepare: Callable[[], str | None] | None = None  # returns a reason to skip, or None


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


class Tally:
    """Status counts and the first unexpected answer of a scenario."""

    def __init__(self, expect: frozenset[int]):
        self.expect = expect
        self.statuses: Counter[int] = Counter()
        self.errors = 0
        self.first_error: str | None = None
        self.lock = threading.Lock()

    def add(self, resp: Resp) -> None:
        with self.lock:
            self.statuses[resp.status] += 1
            if resp.status not in self.expect:
                self.errors += 1
                if self.first_error is None:
                    text = resp.body[:ERROR_BODY_CHARS].decode(errors="replace")
                    self.first_error = f"{resp.status}: {text}"


def run_scenario(client: Client, scenario: Scenario, concurrency: int, reference: Req | None = None) -> dict:
    """The scenario's warmup, sequential and throughput phases. With `reference` (`/healthz`),
    the sequential requests go in blocks of `REFERENCE_BLOCK`, each block preceded by as many of
    the reference and one more, timed apart: the reference's p50 in the same seconds as the
    scenario's (`reference_p50_ms`). The first of each reference block follows the scenario's
    last request and is not counted: a request right after a heavy one is slower (on this
    machine /healthz took 2.3 ms right after a worker list page against 1.4 ms after itself), and
    the reference is meant to be /healthz as its own scenario measures it."""
    result: dict = {"scenario": scenario.name, "note": scenario.note}
    reason = scenario.prepare() if scenario.prepare else None
    if reason:
        result.update(supported=False, note=reason, n=0, errors=0)
        return result
    result["note"] = scenario.note  # a preparation may say more
    if scenario.requests <= 0:
        result.update(n=0, errors=0, note=scenario.note or "no requests to make")
        return result
    result["example"] = f"{scenario.request(0).method} {scenario.request(0).path}"
    tally = Tally(scenario.expect)
    extra = {"bytes": 0, "rows": 0}

    def one(i: int) -> Resp:
        resp = scenario.request(i)
        answer = client.fetch(resp)
        if scenario.on_response:
            scenario.on_response(i, answer)
        return answer

    warm = [one(i) for i in range(scenario.warmup)]
    if warm:
        result["first_ms"] = ms(warm[0].seconds)
    latencies = []
    alongside = []
    for k, i in enumerate(range(scenario.warmup, scenario.warmup + scenario.requests)):
        if reference is not None and k % REFERENCE_BLOCK == 0:
            client.fetch(reference)  # after the scenario's request: not counted
            for _ in range(REFERENCE_BLOCK):
                checked = client.fetch(reference)
                if checked.status == 200:
                    alongside.append(checked.seconds)
        resp = one(i)
        tally.add(resp)
        latencies.append(resp.seconds)
        result.setdefault("first_ms", ms(resp.seconds))  # no warmup: the first measured one
        extra["bytes"] += len(resp.body)
        extra["rows"] += max(resp.body.count(b"\n") - 1, 0)
    latencies.sort()
    result.update(
        n=len(latencies),
        p50_ms=ms(statistics.median(latencies)),
        p95_ms=ms(percentile(latencies, 95)),
        mean_ms=ms(statistics.fmean(latencies)),
        max_ms=ms(latencies[-1]),
        mean_bytes=round(extra["bytes"] / len(latencies)),
    )
    if alongside:
        result["reference_p50_ms"] = ms(statistics.median(alongside))
    if scenario.name.startswith("export"):
        result["rows"] = round(extra["rows"] / len(latencies))
    if scenario.throughput:
        start = scenario.warmup + scenario.requests
        stop = start + scenario.requests
        counter = iter(range(start, stop))
        lock = threading.Lock()

        def worker() -> None:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                tally.add(one(i))

        threads = [threading.Thread(target=worker) for _ in range(max(1, concurrency))]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - began
        result["rps"] = round(scenario.requests / wall, 1)
        result["throughput_n"] = scenario.requests
    else:
        result["rps"] = None
    result.update(
        total_requests=sum(tally.statuses.values()),
        statuses={str(k): v for k, v in sorted(tally.statuses.items())},
        errors=tally.errors,
        first_error=tally.first_error,
    )
    return result


# --- Setup through the ORM -------------------------------------------------------------------


def bench_user_token():
    """The national admin `bench`, allowed to see personal data, and a fresh 2-hour token."""
    user, _created = get_user_model().objects.get_or_create(username=BENCH_USER)
    user.is_active = True
    user.set_unusable_password()
    user.save()
    AccessProfile.objects.update_or_create(
        user=user, defaults={"role": Role.ADMIN, "province": None, "regency": None, "branch": None}
    )
    user.user_permissions.add(
        Permission.objects.get(codename="view_personal_data", content_type__app_label="enrollment")
    )
    AuthToken.objects.filter(user=user).delete()  # left over from an interrupted run
    _instance, token = AuthToken.objects.create(user=user, expiry=datetime.timedelta(hours=2))
    return user, token


def portal_officer(regency: Regency) -> tuple[object, str]:
    """The regency's officer `bench.pmd`, with a fresh random password: the portal's pages are
    asked for as a person who signed in there asks for them (`portal_login`)."""
    user, _created = get_user_model().objects.get_or_create(username=PORTAL_USER)
    password = secrets.token_urlsafe(18)
    user.is_active = True
    # The server's own hasher (the project's default), whatever hashers this process was given.
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(password, hasher.salt())
    user.save()
    AccessProfile.objects.update_or_create(
        user=user, defaults={"role": Role.REGENCY_OFFICER, "province": None, "regency": regency, "branch": None}
    )
    return user, password


def portal_login(client: Client, username: str, password: str) -> str:
    """Sign in through the portal's login page (its CSRF cookie and token, then the form) and
    return the session cookie's value."""
    login = client.fetch(Req("GET", "/masuk/", None, {"Cookie": ""}))
    csrf = SimpleCookie(login.headers.get("set-cookie", ""))[settings.CSRF_COOKIE_NAME].value
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', login.body)
    if login.status != 200 or token is None:
        raise SystemExit(f"the portal's login page answered {login.status} without a form")
    form = urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token.group(1).decode()})
    headers = {
        "Cookie": f"{settings.CSRF_COOKIE_NAME}={csrf}",
        "Content-Type": "application/x-www-form-urlencoded",
        "Referer": f"http://127.0.0.1:{client.port}/masuk/",
    }
    signed_in = client.fetch(Req("POST", "/masuk/", form.encode(), headers))
    session = SimpleCookie(signed_in.headers.get("set-cookie", "")).get(settings.SESSION_COOKIE_NAME)
    if signed_in.status != 302 or session is None:
        raise SystemExit(f"signing in to the portal answered {signed_in.status}, no session")
    return session.value


def busiest_regency_id() -> int | None:
    """The regency with the most serving workers: from the coverage counters, else the workers."""
    for model in (getattr(coverage_models, "RegencyCoverage", None), coverage_models.VillageCoverage):
        if model is None:
            continue
        try:
            row = model.objects.values("regency_id").annotate(n=Sum("serving")).order_by("-n").first()
        except DatabaseError:  # e.g. the counter table is not migrated yet
            continue
        if row and row["n"]:
            return row["regency_id"]
    row = (
        ApparatusWorker.objects.filter(serving=True).values("regency_id").annotate(n=Count("id")).order_by("-n").first()
    )
    return row["regency_id"] if row else None


def pick_regency(code: str | None) -> Regency:
    if not ApparatusWorker.objects.exists():
        raise SystemExit("The database has no workers: run `manage.py generate_synthetic` first.")
    if code:
        regency = Regency.objects.filter(code=code).first()
        if regency is None:
            raise SystemExit(f"No regency with code {code!r}.")
        return regency
    regency_id = busiest_regency_id()
    if regency_id is None:
        raise SystemExit("No serving workers: run `manage.py generate_synthetic` first.")
    return Regency.objects.get(pk=regency_id)


def transition_candidates(regency: Regency, count: int, today: datetime.date) -> list[tuple[int, int]]:
    """(id, version) of serving workers of the regency that may be activated today."""
    rows = (
        ApparatusWorker.objects.filter(
            regency=regency,
            serving=True,
            enrollment__status__in=[EnrollmentStatus.NOT_REGISTERED, EnrollmentStatus.SUBMITTED],
        )
        .annotate(last_event=Max("events__effective_date"))
        .filter(Q(last_event__isnull=True) | Q(last_event__lte=today))
        .order_by("id")
        .values_list("id", "version")[:count]
    )
    return list(rows)


# Numbers handed out by this process: the mixed mode's writer takes its own while the transitions'
# are not recorded yet.
HANDED_OUT: set[str] = set()


def fresh_kpj_numbers(count: int) -> list[str]:
    """11-digit KPJ numbers starting with 3, from a millisecond clock, none already recorded or
    handed out before."""
    base = int(time.time() * 1000)
    numbers: list[str] = []
    offset = 0
    while len(numbers) < count:
        batch = [f"3{(base + offset + k) % 10**10:010d}" for k in range(2 * (count - len(numbers)))]
        offset += len(batch)
        taken = set(Enrollment.objects.filter(kpj_number__in=batch).values_list("kpj_number", flat=True))
        numbers += [n for n in batch if n not in taken and n not in HANDED_OUT][: count - len(numbers)]
    HANDED_OUT.update(numbers)
    return numbers


# --- Machine and database --------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


PG_SETTINGS = ("shared_buffers", "work_mem", "maintenance_work_mem", "effective_cache_size", "jit", "max_connections")


def database_info() -> dict:
    """The database: server, its memory settings, size, and what it holds."""
    info: dict = {"name": connection.settings_dict.get("NAME"), "vendor": connection.vendor}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT version(), current_setting('server_version'), pg_database_size(current_database())")
            info["version"], info["server_version"], size = cursor.fetchone()
            info["size_gb"] = round(size / 1024**3, 2)
            cursor.execute(
                "SELECT name, setting, unit FROM pg_settings WHERE name = ANY(%s) ORDER BY name", [list(PG_SETTINGS)]
            )
            info["settings"] = {name: _setting(setting, unit) for name, setting, unit in cursor.fetchall()}
        else:
            info["version"] = connection.vendor
    info.update(
        workers=ApparatusWorker.objects.count(),
        serving_workers=ApparatusWorker.objects.filter(serving=True).count(),
        villages=Village.objects.count(),
        regencies=Regency.objects.count(),
    )
    return info


def _setting(value: str, unit: str | None) -> str:
    """A pg_settings value in words: 16384 of 8kB is 128 MB."""
    sizes = {"8kB": 8 * 1024, "kB": 1024, "MB": 1024**2}
    if unit in sizes and value.lstrip("-").isdigit():
        size = int(value) * sizes[unit]
        return f"{size / 1024**3:g} GB" if size >= 1024**3 else f"{size / 1024**2:g} MB"
    return value + (f" {unit}" if unit else "")


def os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.system()


def tree_commit() -> str:
    """The commit of the tree measured, with `+changes` when tracked files differ from it."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + (" +changes" if dirty else "")


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def machine_info() -> dict:
    return {
        "platform": platform.platform(),
        "os": os_name(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "memory_gb": memory_gb(),
        "hostname": platform.node(),
        "commit": tree_commit(),
    }


# --- The mixed mode's writer -------------------------------------------------------------------


def writer_candidates(regency: Regency, count: int, today: datetime.date) -> tuple[str, list[tuple[int, int]]]:
    """(province code, [(id, version)]) of serving workers that may be activated today, of the
    province other than the regency's with the most of them."""
    activatable = ApparatusWorker.objects.filter(
        serving=True, enrollment_status__in=[EnrollmentStatus.NOT_REGISTERED, EnrollmentStatus.SUBMITTED]
    ).exclude(province_id=regency.province_id)
    row = activatable.values("province_id", "province__code").annotate(n=Count("id")).order_by("-n").first()
    if row is None:
        return "", []
    later = EnrollmentEvent.objects.filter(worker=OuterRef("pk"), effective_date__gt=today)
    rows = (
        activatable.filter(province_id=row["province_id"])
        .filter(~Exists(later))
        .order_by("id")
        .values_list("id", "version")[:count]
    )
    return row["province__code"], list(rows)


class Writer(threading.Thread):
    """Activates each of its workers, then lapses it (even ones) or renews it (odd ones), through
    the API at `rate` writes per second, until stopped or out of workers."""

    def __init__(self, client: Client, candidates: list[tuple[int, int]], rate: float, today: datetime.date):
        super().__init__(daemon=True)
        self.client = client
        self.rate = rate
        self.today = today
        self.candidates = candidates
        self.kpj = fresh_kpj_numbers(len(candidates))
        self.halt = threading.Event()
        self.latencies: list[float] = []
        self.tally = Tally(frozenset({200}))
        self.seconds = 0.0

    def writes(self):
        activate = {
            "scheme": "bpu",
            "programs": ["jkk", "jkm"],
            "funding_source": "apbdes",
            "coverage_start": self.today.isoformat(),
            "paid_until": (self.today + datetime.timedelta(days=300)).isoformat(),
        }
        renew = {"paid_until": (self.today + datetime.timedelta(days=365)).isoformat()}
        for n, (worker_id, version) in enumerate(self.candidates):
            body = json.dumps({"kpj_number": self.kpj[n], **activate}).encode()
            version = yield Req("POST", f"/api/v1/workers/{worker_id}/activate/", body, {"If-Match": f'"{version}"'})
            if n % 2:
                body, action = json.dumps(renew).encode(), "renew"
            else:
                body, action = b"{}", "lapse"
            yield Req("POST", f"/api/v1/workers/{worker_id}/{action}/", body, {"If-Match": f'"{version}"'})

    def run(self) -> None:
        started = time.perf_counter()
        writes = self.writes()
        req = next(writes, None)
        k = 0
        while req is not None and not self.halt.wait(max(0.0, started + k / self.rate - time.perf_counter())):
            resp = self.client.fetch(req)
            self.tally.add(resp)
            self.latencies.append(resp.seconds)
            k += 1
            etag = resp.headers.get("etag", "").removeprefix("W/").strip('"')
            try:
                req = writes.send(int(etag) if etag.isdigit() else 0)
            except StopIteration:
                req = None
        self.seconds = time.perf_counter() - started

    def stop(self) -> dict:
        self.halt.set()
        self.join()
        done = sorted(self.latencies)
        result: dict = {
            "rate_wanted": self.rate,
            "workers": len(self.candidates),
            "writes": len(done),
            "seconds": round(self.seconds, 1),
            "rate_done": round(len(done) / self.seconds, 2) if self.seconds else None,
            "statuses": {str(k): v for k, v in sorted(self.tally.statuses.items())},
            "errors": self.tally.errors,
            "first_error": self.tally.first_error,
        }
        if done:
            result.update(p50_ms=ms(statistics.median(done)), p95_ms=ms(percentile(done, 95)))
        return result


# --- The run ---------------------------------------------------------------------------------


def default_regions() -> Path:
    """The official region list next to the project when present, else the one shipped with it."""
    shared = ROOT.parent / "shared" / "data" / "regions.csv"
    return shared if shared.is_file() else ROOT / "villages" / "data" / "regions.csv.gz"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="API latency and throughput over loopback, under gunicorn.")
    parser.add_argument(
        "--mode",
        choices=[*MODES, "all"],
        default="cached",
        help="cached (default: the service as configured), cold (coverage cache off), mixed (cache on, a writer "
        "in another province), all (the three in turn)",
    )
    parser.add_argument("--write-rate", type=float, default=5.0, help="the mixed mode's writes per second (default 5)")
    parser.add_argument("--requests", type=int, default=200, help="measured requests per scenario (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="unrecorded requests first (default 20)")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads of the throughput phase")
    parser.add_argument("--quick", action="store_true", help="smoke run: 20 requests, 3 warmup")
    parser.add_argument("--regency", help="regency code (default: the one with the most serving workers)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="results directory")
    parser.add_argument(
        "--generate",
        type=int,
        metavar="N",
        help="when the database has no workers: create it if missing, migrate, load the regions and generate N "
        "synthetic workers (seed 1) first",
    )
    parser.add_argument("--regions", type=Path, help="region list for --generate (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.warmup = 20, 3
    if args.requests < 1 or args.warmup < 0:
        parser.error("--requests must be at least 1 and --warmup not negative")
    if args.write_rate <= 0:
        parser.error("--write-rate must be positive")
    if args.regions is None:
        args.regions = default_regions()
    return args


def two_years_before(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year - 2)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 2, day=28)


def scenarios_for(
    args, client: Client, regency: Regency, today: datetime.date, session: str = "", mode: str = "cached"
) -> list[Scenario]:
    code = regency.code
    cookie = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"}

    def page(path: str) -> Callable[[int], Req]:
        return lambda _i: Req("GET", path, None, cookie)

    n, w = args.requests, args.warmup
    api = "/api/v1"

    def get(path: str, **params) -> Callable[[int], Req]:
        url = f"{api}{path}" + (f"?{urlencode(params)}" if params else "")
        return lambda _i: Req("GET", url)

    active = ApparatusWorker.objects.filter(regency=regency, enrollment__status=EnrollmentStatus.ACTIVE).count()
    pages = max(1, min(WORKER_PAGES, math.ceil(active / WORKER_PAGE_SIZE)))

    def worker_list(i: int) -> Req:
        query = {"regency": code, "status": "active", "page_size": WORKER_PAGE_SIZE, "page": i % pages + 1}
        return Req("GET", f"{api}/workers/?{urlencode(query)}")

    detail_ids = list(
        ApparatusWorker.objects.filter(regency=regency).order_by("id").values_list("id", flat=True)[:DETAIL_WORKERS]
    )

    def worker_detail(i: int) -> Req:
        return Req("GET", f"{api}/workers/{detail_ids[i % len(detail_ids)]}/")

    # Transitions: one worker per request, in the same order for activate and lapse.
    wanted = w + 2 * n
    candidates = transition_candidates(regency, wanted, today)
    transition_note = "own workers for the throughput phase"
    transition_throughput = True
    t_warmup, t_requests = w, n
    if len(candidates) < wanted:
        transition_throughput = False
        t_warmup = min(w, len(candidates))
        t_requests = min(n, len(candidates) - t_warmup)
        transition_note = (
            f"only {len(candidates)} workers of {code} can be activated (wanted {wanted}): no throughput phase"
        )
    kpj = fresh_kpj_numbers(len(candidates))
    versions = {i: version for i, (_id, version) in enumerate(candidates)}
    activate_body = {
        "scheme": "bpu",
        "programs": ["jkk", "jkm"],
        "funding_source": "apbdes",
        "coverage_start": today.isoformat(),
        "paid_until": (today + datetime.timedelta(days=300)).isoformat(),
    }

    def activate(i: int) -> Req:
        body = json.dumps({"kpj_number": kpj[i], **activate_body}).encode()
        return Req("POST", f"{api}/workers/{candidates[i][0]}/activate/", body, {"If-Match": f'"{versions[i]}"'})

    def after_transition(i: int, resp: Resp) -> None:
        if resp.status == 200:
            etag = resp.headers.get("etag", "").removeprefix("W/").strip('"')
            versions[i] = int(etag) if etag.isdigit() else versions[i] + 1

    def lapse(i: int) -> Req:
        return Req("POST", f"{api}/workers/{candidates[i][0]}/lapse/", b"{}", {"If-Match": f'"{versions[i]}"'})

    def conditional(name: str, base: Callable[[int], Req]) -> Scenario:
        etag: dict[str, str] = {}

        def prepare() -> str | None:
            resp = client.fetch(base(0))
            if resp.status != 200:
                return f"not supported: the plain request answered {resp.status}"
            if "etag" not in resp.headers:
                return "not supported: no ETag header"
            etag["value"] = resp.headers["etag"]
            return None

        def request(i: int) -> Req:
            req = base(i)
            return Req(req.method, req.path, req.body, {**req.headers, "If-None-Match": etag["value"]})

        # In the mixed mode a write elsewhere may move the data version, and with it the ETag.
        expect = frozenset({200, 304}) if mode == "mixed" else frozenset({304})
        note = "a write elsewhere may change the ETag: 200 expected too" if mode == "mixed" else ""
        return Scenario(name, request, n, w, expect=expect, prepare=prepare, note=note)

    trend_query = {"start": two_years_before(today).isoformat(), "end": today.isoformat(), "interval": "month"}
    provinces = get("/coverage/", level="province")
    villages = get("/coverage/", level="village", parent=code, page_size=500)
    export_n = max(3, n // 10)
    geo = get("/coverage/geo/", level="village", parent=code)
    geo_villages = Scenario("coverage_geo_villages", geo, n, w)

    def geo_prepare() -> str | None:
        resp = client.fetch(geo(0))
        if resp.status != 200:
            return f"not supported: the request answered {resp.status}"
        features, drawn = resp.body.count(b'{"type":"Feature"'), resp.body.count(b'"geometry":{')
        geo_villages.note = (
            f"{code}: GeoJSON of its {features:,} villages ({drawn:,} with an outline), {len(resp.body) / 1e6:.2f} MB"
        )
        return None

    geo_villages.prepare = geo_prepare
    return [
        Scenario("healthz", lambda _i: Req("GET", "/healthz"), n, w),
        Scenario("coverage_provinces", provinces, n, w),
        Scenario("coverage_villages_of_regency", villages, n, w),
        Scenario("coverage_region_detail", get(f"/coverage/{code}/"), n, w),
        Scenario("coverage_trend", get(f"/coverage/{code}/trend/", **trend_query), n, w),
        geo_villages,
        Scenario("portal_home", page("/"), n, w, note=f"the officer of {code}, signed in"),
        Scenario("portal_drill_down", page(f"/cakupan/{code}/"), n, w, note=f"{code}: its districts, trend"),
        Scenario("worker_list", worker_list, n, w, note=f"pages 1..{pages} of 50"),
        Scenario("worker_detail", worker_detail, n, w, note=f"{len(detail_ids)} workers in turn"),
        Scenario(
            "export_unprotected_csv",
            get("/workers/", regency=code, protected="false", format="csv"),
            export_n,
            min(w, 1),
            note="streamed CSV, whole body read",
        ),
        conditional("coverage_provinces_304", provinces),
        conditional("coverage_villages_304", villages),
        Scenario(
            "transition_activate",
            activate,
            t_requests,
            t_warmup,
            throughput=transition_throughput,
            note=transition_note,
            on_response=after_transition,
        ),
        Scenario(
            "transition_lapse",
            lapse,
            t_requests,
            t_warmup,
            throughput=transition_throughput,
            note=transition_note,
            on_response=after_transition,
        ),
    ]


# The order of the report (the run order differs: transitions go last).
REPORT_ORDER = [
    "healthz",
    "coverage_provinces",
    "coverage_villages_of_regency",
    "coverage_region_detail",
    "coverage_trend",
    "coverage_geo_villages",
    "portal_home",
    "portal_drill_down",
    "worker_list",
    "worker_detail",
    "transition_activate",
    "transition_lapse",
    "export_unprotected_csv",
    "coverage_provinces_304",
    "coverage_villages_304",
]


def fmt(value, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def verdict(row: dict) -> str:
    if row.get("target_ratio") is None or row.get("meets_target") is None:
        return ""
    return "✓" if row["meets_target"] else "✗"


def header(results: dict) -> list[str]:
    db = results["database"]
    machine = results["machine"]
    regency = results["regency"]
    opts = results["options"]
    settings_text = ", ".join(f"{k} {v}" for k, v in db.get("settings", {}).items())
    return [
        f"- Machine: {machine['cpu_model']}, {machine['cpu_count']} CPUs, {machine['memory_gb']} GB; "
        f"{machine['os']} ({machine['platform']}); Python {machine['python']}",
        f"- PostgreSQL {db.get('server_version', db['version'])}: {settings_text or 'settings unknown'}",
        f"- Database `{db['name']}`: {fmt(db.get('size_gb'), 2)} GB; {db['serving_workers']:,} serving workers "
        f"({db['workers']:,} in all), {db['villages']:,} villages, {db['regencies']:,} regencies",
        f"- Regency {regency['code']} {regency['name']}: {regency['serving_workers']:,} serving workers",
        f"- Tree: commit {machine['commit']}; load average {results['loadavg_before']} before, "
        f"{results.get('loadavg_after', '?')} after",
        f"- gunicorn: 2 sync workers; {opts['requests']} requests per scenario after {opts['warmup']} warmup; "
        f"throughput with {opts['concurrency']} client threads",
    ]


def mode_lines(run: dict) -> list[str]:
    lines = [
        f"- Mode `{run['mode']}`: coverage cache {run['cache']}; DEBUG={run['gunicorn']['debug']}; "
        f"load average {run['loadavg_before']} before, {run['loadavg_after']} after; {run['seconds']} s",
    ]
    writer = run.get("writer")
    if writer and not writer["workers"]:
        lines.append("- Writer: no serving worker of another province can be activated: no writes")
    elif writer:
        lines.append(
            f"- Writer (province {run['writer_province']}): {writer['writes']:,} writes in {writer['seconds']} s "
            f"({fmt(writer['rate_done'], 2)}/s, wanted {fmt(writer['rate_wanted'], 2)}/s), p50 "
            f"{fmt(writer.get('p50_ms'))} ms, p95 {fmt(writer.get('p95_ms'))} ms, {writer['errors']} unexpected"
            + (f"; first: {writer['first_error']}" if writer["first_error"] else "")
        )
    lines += [
        "",
        "| scenario | requests | p50 ms | p95 ms | first ms | req/s | healthz alongside: p50 ms | "
        "p50 ÷ healthz alongside | target | | p50 ÷ the run's healthz |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for row in run["scenarios"]:
        if not row.get("n"):
            lines.append(f"| {row['scenario']} | 0 | {row.get('note') or 'skipped'} | | | | | | | | |")
            continue
        errors = f" ({row['errors']} of {row['total_requests']} unexpected)" if row["errors"] else ""
        healthz = row["scenario"] == "healthz"
        alongside = "1.0×" if healthz else f"{fmt(row.get('ratio_alongside'))}×"
        ratio = "1.0×" if healthz else f"{fmt(row.get('ratio_to_healthz'))}×"
        target = f"≤ {row['target_ratio']:g}×" if row.get("target_ratio") else ""
        lines.append(
            f"| {row['scenario']}{errors} | {row['n']} | {fmt(row['p50_ms'])} | {fmt(row['p95_ms'])} | "
            f"{fmt(row.get('first_ms'))} | {fmt(row['rps'])} | {fmt(row.get('reference_p50_ms'))} | {alongside} | "
            f"{target} | {verdict(row)} | {ratio} |"
        )
    notes = [f"- {row['scenario']}: {row['note']}" for row in run["scenarios"] if row.get("note")]
    if notes:
        lines += ["", *notes]
    first_errors = [f"- {row['scenario']}: {row['first_error']}" for row in run["scenarios"] if row.get("first_error")]
    if first_errors:
        lines += ["", "First unexpected answer per scenario:", "", *first_errors]
    return lines


def combined_table(runs: dict[str, dict]) -> list[str]:
    """Every scenario in each mode: p50 (ratio to the /healthz timed alongside it, ✓/✗ against
    its target; then the ratio to that run's /healthz row)."""
    modes = list(runs)
    lines = [
        "| scenario | " + " | ".join(f"{mode}: p50 ms (÷ healthz alongside; ÷ the run's)" for mode in modes) + " |",
        "|---|" + "---:|" * len(modes),
    ]
    by_mode = {mode: {row["scenario"]: row for row in run["scenarios"]} for mode, run in runs.items()}
    for name in REPORT_ORDER:
        cells = []
        for mode in modes:
            row = by_mode[mode].get(name)
            if not row or not row.get("n"):
                cells.append("–")
            elif name == "healthz":
                cells.append(fmt(row["p50_ms"]))
            else:
                target = f" ≤ {row['target_ratio']:g}× {verdict(row)}" if row.get("target_ratio") else ""
                cells.append(
                    f"{fmt(row['p50_ms'])} ({fmt(row.get('ratio_alongside'))}×{target}; "
                    f"{fmt(row.get('ratio_to_healthz'))}×)"
                )
        if any(cell != "–" for cell in cells):
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def markdown(results: dict) -> str:
    lines = [f"# National API bench, {results['started_at']}", "", *header(results), ""]
    runs = results.get("modes") or {results["mode"]: results}
    if len(runs) > 1:
        lines += ["## Every mode", "", *combined_table(runs), ""]
    for mode, run in runs.items():
        if len(runs) > 1:
            lines += [f"## Mode {mode}", ""]
        lines += [*mode_lines(run), ""]
    return "\n".join(lines).rstrip() + "\n"


def prepare_database(workers: int, regions: Path) -> float | None:
    """Create the database when it is missing, migrate it, and when it has no workers generate
    `workers` synthetic ones; returns the generation's seconds (None when it had workers)."""
    import psycopg
    from psycopg import sql

    if connection.vendor != "postgresql":
        raise SystemExit("--generate needs PostgreSQL (generate_synthetic does)")
    params = connection.get_connection_params()
    name = str(connection.settings_dict["NAME"])
    try:
        connection.ensure_connection()
    except DatabaseError:
        admin = {**params, "dbname": "postgres"}
        with psycopg.connect(**{k: v for k, v in admin.items() if k != "cursor_factory"}, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        print(f"Created database {name}.", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    if ApparatusWorker.objects.exists():
        print(f"{name} has workers: nothing generated.", flush=True)
        return None
    if not regions.is_file():
        raise SystemExit(f"{regions}: no such file (--regions)")
    started = time.monotonic()
    call_command("generate_synthetic", "--workers", str(workers), "--regions", str(regions), "--seed", "1")
    return round(time.monotonic() - started, 1)


def run_mode(mode: str, args, regency: Regency, token: str, password: str, today: datetime.date) -> dict:
    """One mode's run: its own gunicorn, every scenario, ratios to its own /healthz."""
    env = {**os.environ, **GUNICORN_ENV}
    env.setdefault("DEBUG", "false")
    if mode == "cold":
        env["UCJ_COVERAGE_CACHE_SECONDS"] = "0"
    cache_seconds = env.get("UCJ_COVERAGE_CACHE_SECONDS")
    run: dict = {
        "mode": mode,
        "started_at": timezone.localtime().isoformat(timespec="seconds"),
        "cache": "off (UCJ_COVERAGE_CACHE_SECONDS=0)"
        if cache_seconds == "0"
        else f"on ({cache_seconds + ' s' if cache_seconds else 'as configured'})",
        "loadavg_before": load_average(),
    }
    began = time.monotonic()
    print(f"\n== mode {mode}: coverage cache {run['cache']}", flush=True)
    server = None
    writer: Writer | None = None
    rows: list[dict] = []
    try:
        server = Gunicorn(env)
        run["gunicorn"] = {"workers": 2, "port": server.port, "debug": env["DEBUG"]}
        client = Client(server.port, token)
        server.wait_ready()
        session = portal_login(client, PORTAL_USER, password)
        scenarios = scenarios_for(args, client, regency, today, session, mode)
        if mode == "mixed":
            wanted = math.ceil(args.write_rate * WRITER_SECONDS / 2)
            run["writer_province"], candidates = writer_candidates(regency, wanted, today)
            writer = Writer(Client(server.port, token), candidates, args.write_rate, today)
        connection.close()  # the bench's own connection idles during the run
        if writer is not None:
            writer.start()
        for scenario in scenarios:
            if writer is not None and scenario.name.startswith("transition") and "writer" not in run:
                run["writer"] = writer.stop()
            print(f"{mode} {scenario.name}: {scenario.warmup} warmup + {scenario.requests} requests ...", flush=True)
            reference = None if scenario.name == "healthz" else HEALTHZ
            rows.append(run_scenario(client, scenario, args.concurrency, reference))
        server_errors = server.errors().strip()
        if server_errors:
            run["gunicorn"]["stderr_tail"] = server_errors[-3000:]
    finally:
        if writer is not None and "writer" not in run:
            run["writer"] = writer.stop()
        if server is not None:
            server.stop()
    rows.sort(key=lambda row: REPORT_ORDER.index(row["scenario"]))
    floor = next((row.get("p50_ms") for row in rows if row["scenario"] == "healthz"), None)
    for row in rows:
        if row.get("p50_ms") is not None and floor:
            row["ratio_to_healthz"] = round(row["p50_ms"] / floor, 2)
        if row.get("p50_ms") is not None and row.get("reference_p50_ms"):
            row["ratio_alongside"] = round(row["p50_ms"] / row["reference_p50_ms"], 2)
        elif row["scenario"] == "healthz" and row.get("p50_ms") is not None:
            row["ratio_alongside"] = 1.0
        # A `cached` run whose environment turned the cache off (run.sh's `off`) is held to the cold targets.
        row["target_ratio"] = target_ratio(row["scenario"], "cold" if cache_seconds == "0" else mode)
        if row["target_ratio"] is not None and row.get("ratio_alongside") is not None:
            row["meets_target"] = row["ratio_alongside"] <= row["target_ratio"]
    run["scenarios"] = rows
    run["errors"] = sum(row.get("errors", 0) for row in rows) + (run.get("writer") or {}).get("errors", 0)
    run["loadavg_after"] = load_average()
    run["seconds"] = round(time.monotonic() - began, 1)
    return run


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    generated = prepare_database(args.generate, args.regions) if args.generate else None
    today = timezone.localdate()
    started_at = timezone.localtime().isoformat(timespec="seconds")
    regency = pick_regency(args.regency)
    results: dict = {
        "started_at": started_at,
        "options": {
            "mode": args.mode,
            "write_rate": args.write_rate,
            "requests": args.requests,
            "warmup": args.warmup,
            "concurrency": args.concurrency,
            "quick": args.quick,
            "regency": args.regency,
            "generated_workers": args.generate,
            "generation_seconds": generated,
        },
        "loadavg_before": load_average(),
        "machine": machine_info(),
        "database": database_info(),
        "regency": {
            "code": regency.code,
            "name": regency.name,
            "serving_workers": ApparatusWorker.objects.filter(regency=regency, serving=True).count(),
        },
    }
    user, token = bench_user_token()
    _officer, password = portal_officer(regency)
    modes = MODES if args.mode == "all" else (args.mode,)
    runs: dict[str, dict] = {}
    try:
        for mode in modes:
            runs[mode] = run_mode(mode, args, regency, token, password, today)
    finally:
        AuthToken.objects.filter(user=user).delete()
    results["loadavg_after"] = load_average()
    if len(runs) == 1:
        results.update(runs[modes[0]])  # one mode: its scenarios at the top, as before the modes
    else:
        results["modes"] = runs
    results["errors"] = sum(run["errors"] for run in runs.values())
    results["ok"] = results["errors"] == 0

    args.out.mkdir(parents=True, exist_ok=True)
    report = markdown(results)
    (args.out / "national.json").write_text(json.dumps(results, indent=2, default=str))
    (args.out / "national.md").write_text(report)
    if len(runs) > 1:
        for mode, run in runs.items():
            alone = {**{k: v for k, v in results.items() if k != "modes"}, **run}
            (args.out / f"national-{mode}.json").write_text(json.dumps(alone, indent=2, default=str))
            (args.out / f"national-{mode}.md").write_text(markdown(alone))
    print()
    print(report)
    for mode, run in runs.items():
        tail = (run.get("gunicorn") or {}).get("stderr_tail")
        if tail:
            print(f"\ngunicorn stderr, mode {mode} (last 20 lines):\n" + "\n".join(tail.splitlines()[-20:]))
    print(f"\nResults: {args.out / 'national.json'}, {args.out / 'national.md'}")
    return results


if __name__ == "__main__":
    sys.exit(0 if main()["ok"] else 1)
