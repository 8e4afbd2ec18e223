"""Benchmark: the API over loopback against a (national-size) database, under gunicorn.

    DATABASE_URL=postgres://ucj:ucj@127.0.0.1:5432/ucj_nat .venv/bin/python bench/national_bench.py \\
        [--requests 200] [--warmup 20] [--concurrency 4] [--quick] [--regency CODE] [--out DIR]

Fill the database first (`manage.py generate_synthetic`, or `manage.py load_demo` for Jambi).
The script, through the ORM: makes a national admin API user `bench` (with the
`view_personal_data` permission, so exports and lists carry real personal data) and a knox
token for it; picks the regency (`--regency`, or the one with the most serving workers) and the
workers whose enrollment it will activate and lapse. Then it starts gunicorn (2 sync workers,
127.0.0.1, a free port; rate limits raised out of the way; DEBUG off unless the environment
sets it) and measures each scenario:

- warmup requests (not recorded), then `--requests` sequential requests by one client:
  p50 / p95 / mean / max latency, timed around the whole request (connect, send, read the body);
- then throughput: `--concurrency` threads sharing `--requests` requests, in requests/second.

One new connection per request (gunicorn's sync workers close it anyway). Coverage answers are
kept in each gunicorn process's cache once computed, so after the warmup their figures are the
steady state of unchanged data; `first_ms` in the JSON is the first (cold) warmup request.

Transitions are not repeatable on the same workers, so every transition request gets a worker of
its own: `warmup + 2 * requests` serving workers of the regency that are `not_registered` or
`submitted` are activated (`transition_activate`, with `If-Match` and a fresh unique KPJ
number), then the same workers are lapsed (`transition_lapse`), the throughput phase on workers
of its own. They run last, so their writes do not invalidate cached coverage answers while those
are measured. Each run therefore uses up workers: rerun until the regency runs out of them (the
script then says so and measures what it can).

`portal_home` and `portal_drill_down` ask for the portal's home page and the regency's coverage
page (its districts, its trend) as the regency's officer `bench.pmd`, signed in through the
portal's login page with a fresh random password.

`export_unprotected_csv` makes `requests / 10` requests (at least 3). `coverage_*_304` repeat a
coverage request with `If-None-Match` set to its ETag; a server that sends no ETag is reported as
"not supported". Any unexpected status is an error: the script exits 1 (for CI smoke runs with
`--quick`). Results: bench/results/national.json and national.md (or `--out DIR`).

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
from django.db import DatabaseError, connection  # noqa: E402
from django.db.models import Count, Max, Q, Sum  # noqa: E402
from django.utils import timezone  # noqa: E402
from knox.models import AuthToken  # noqa: E402

from access.choices import Role  # noqa: E402
from access.models import AccessProfile  # noqa: E402
from bench.server import Client, Gunicorn, Req, Resp  # noqa: E402
from coverage import models as coverage_models  # noqa: E402
from enrollment.choices import EnrollmentStatus  # noqa: E402
from enrollment.models import ApparatusWorker, Enrollment  # noqa: E402
from villages.models import Regency, Village  # noqa: E402

BENCH_USER = "bench"
PORTAL_USER = "bench.pmd"
GUNICORN_ENV = {
    "UCJ_RATE_TOKEN": "100000000/min",
    "UCJ_RATE_ANON": "100000000/min",
    "DJANGO_SETTINGS_MODULE": "ucj_project.settings.local",
}
ERROR_BODY_CHARS = 500
WORKER_PAGE_SIZE = 50
WORKER_PAGES = 5
DETAIL_WORKERS = 50


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


def run_scenario(client: Client, scenario: Scenario, concurrency: int) -> dict:
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
    for i in range(scenario.warmup, scenario.warmup + scenario.requests):
        resp = one(i)
        tally.add(resp)
        latencies.append(resp.seconds)
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


def fresh_kpj_numbers(count: int) -> list[str]:
    """11-digit KPJ numbers starting with 3, from a millisecond clock, none already recorded."""
    base = int(time.time() * 1000)
    numbers: list[str] = []
    offset = 0
    while len(numbers) < count:
        batch = [f"3{(base + offset + k) % 10**10:010d}" for k in range(2 * (count - len(numbers)))]
        offset += len(batch)
        taken = set(Enrollment.objects.filter(kpj_number__in=batch).values_list("kpj_number", flat=True))
        numbers += [n for n in batch if n not in taken][: count - len(numbers)]
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


def database_info() -> dict:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT version()")
            version = cursor.fetchone()[0]
        else:
            version = connection.vendor
    return {
        "name": connection.settings_dict.get("NAME"),
        "version": version,
        "workers": ApparatusWorker.objects.count(),
        "serving_workers": ApparatusWorker.objects.filter(serving=True).count(),
        "villages": Village.objects.count(),
        "regencies": Regency.objects.count(),
    }


def machine_info() -> dict:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "memory_gb": memory_gb(),
        "hostname": platform.node(),
    }


# --- The run ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="API latency and throughput over loopback, under gunicorn.")
    parser.add_argument("--requests", type=int, default=200, help="measured requests per scenario (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="unrecorded requests first (default 20)")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads of the throughput phase")
    parser.add_argument("--quick", action="store_true", help="smoke run: 20 requests, 3 warmup")
    parser.add_argument("--regency", help="regency code (default: the one with the most serving workers)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="results directory")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.warmup = 20, 3
    if args.requests < 1 or args.warmup < 0:
        parser.error("--requests must be at least 1 and --warmup not negative")
    return args


def two_years_before(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year - 2)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 2, day=28)


def scenarios_for(args, client: Client, regency: Regency, today: datetime.date, session: str = "") -> list[Scenario]:
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

        return Scenario(name, request, n, w, expect=frozenset({304}), prepare=prepare)

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


def markdown(results: dict) -> str:
    regency = results["regency"]
    db = results["database"]
    machine = results["machine"]
    opts = results["options"]
    lines = [
        f"# National API bench, {results['started_at']}",
        "",
        f"- Machine: {machine['cpu_model']}, {machine['cpu_count']} CPUs, {machine['memory_gb']} GB; "
        f"{machine['platform']}",
        f"- Database `{db['name']}`: {db['version'].split(' on ')[0]}; {db['serving_workers']:,} serving workers "
        f"({db['workers']:,} in all), {db['villages']:,} villages, {db['regencies']:,} regencies",
        f"- Regency {regency['code']} {regency['name']}: {regency['serving_workers']:,} serving workers",
        f"- gunicorn: 2 sync workers, DEBUG={results['gunicorn']['debug']}; {opts['requests']} requests per "
        f"scenario after {opts['warmup']} warmup; throughput with {opts['concurrency']} client threads",
        "",
        "| scenario | requests | p50 ms | p95 ms | req/s | p50 ÷ healthz p50 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in results["scenarios"]:
        if not row.get("n"):
            lines.append(f"| {row['scenario']} | 0 | {row.get('note') or 'skipped'} | | | |")
            continue
        errors = f" ({row['errors']} of {row['total_requests']} unexpected)" if row["errors"] else ""
        name = row["scenario"] + errors
        ratio = "1.0×" if row["scenario"] == "healthz" else f"{fmt(row.get('ratio_to_healthz'))}×"
        lines.append(
            f"| {name} | {row['n']} | {fmt(row['p50_ms'])} | {fmt(row['p95_ms'])} | {fmt(row['rps'])} | {ratio} |"
        )
    notes = [f"- {row['scenario']}: {row['note']}" for row in results["scenarios"] if row.get("note")]
    if notes:
        lines += ["", *notes]
    first_errors = [
        f"- {row['scenario']}: {row['first_error']}" for row in results["scenarios"] if row.get("first_error")
    ]
    if first_errors:
        lines += ["", "First unexpected answer per scenario:", "", *first_errors]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    today = timezone.localdate()
    started_at = timezone.localtime().isoformat(timespec="seconds")
    regency = pick_regency(args.regency)
    results: dict = {
        "started_at": started_at,
        "options": {
            "requests": args.requests,
            "warmup": args.warmup,
            "concurrency": args.concurrency,
            "quick": args.quick,
            "regency": args.regency,
        },
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
    server = None
    try:
        env = {**os.environ, **GUNICORN_ENV}
        env.setdefault("DEBUG", "false")
        server = Gunicorn(env)
        results["gunicorn"] = {"workers": 2, "port": server.port, "debug": env["DEBUG"]}
        client = Client(server.port, token)
        connection.close()  # the bench's own connection idles during the run
        server.wait_ready()
        session = portal_login(client, PORTAL_USER, password)
        scenarios = scenarios_for(args, client, regency, today, session)
        rows = []
        for scenario in scenarios:
            print(f"{scenario.name}: {scenario.warmup} warmup + {scenario.requests} requests ...", flush=True)
            rows.append(run_scenario(client, scenario, args.concurrency))
        server_errors = server.errors().strip()
        if server_errors:
            results["gunicorn"]["stderr_tail"] = server_errors[-3000:]
    finally:
        if server is not None:
            server.stop()
        AuthToken.objects.filter(user=user).delete()

    rows.sort(key=lambda row: REPORT_ORDER.index(row["scenario"]))
    floor = next((row.get("p50_ms") for row in rows if row["scenario"] == "healthz"), None)
    for row in rows:
        if row.get("p50_ms") is not None and floor:
            row["ratio_to_healthz"] = round(row["p50_ms"] / floor, 2)
    results["scenarios"] = rows
    results["errors"] = sum(row.get("errors", 0) for row in rows)
    results["ok"] = results["errors"] == 0

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "national.json").write_text(json.dumps(results, indent=2, default=str))
    report = markdown(results)
    (args.out / "national.md").write_text(report)
    print()
    print(report)
    for row in rows:
        if row["scenario"] != "healthz" and row.get("ratio_to_healthz") is not None:
            print(f"{row['scenario']} is {row['ratio_to_healthz']:.1f}× /healthz")
    if server_errors:
        print("\ngunicorn stderr (last 20 lines):\n" + "\n".join(server_errors.splitlines()[-20:]))
    print(f"\nResults: {args.out / 'national.json'}, {args.out / 'national.md'}")
    return results


if __name__ == "__main__":
    sys.exit(0 if main()["ok"] else 1)
