"""generate_synthetic at CI size (PostgreSQL): valid rows of the services' shapes, counters equal
to a full recount, snapshots equal to what the state periods say, determinism for a seed, and
the national benchmark in quick mode against the generated data."""

from __future__ import annotations

import datetime
import hashlib
import io
from collections import Counter, defaultdict

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Sum

from coverage.models import CoverageSnapshot, RegencyCoverage, Target, VillageCoverage
from coverage.selectors.snapshots import snapshot_rows
from coverage.services import counters_recount
from enrollment.choices import EnrollmentStatus, EventKind
from enrollment.models import ApparatusWorker, Enrollment, EnrollmentEvent, WorkerPeriod
from enrollment.nik import nik_problems
from enrollment.rules import rule_worker
from seed.synthetic import _snapshot_dates
from tests.enrollment.helpers import assert_statuses_mirrored, counter_rows
from villages.models import District, Province, Regency, Village

pytestmark = [pytest.mark.requires_postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 20_000
END = datetime.date(2026, 6, 30)
# Aceh, Jambi and Papua: a few thousand desa in regencies of every size.
PROVINCES = ("11", "15", "94")


@pytest.fixture
def some_provinces(regions_csv, tmp_path):
    lines = regions_csv.read_text("utf-8-sig").splitlines()
    kept = [lines[0]] + [line for line in lines[1:] if line.split(".", 1)[0].split(",", 1)[0] in PROVINCES]
    path = tmp_path / "regions.csv"
    path.write_text("\n".join(kept) + "\n", "utf-8")
    return path


def generate(*extra: str, end: datetime.date = END) -> str:
    out = io.StringIO()
    call_command(
        "generate_synthetic", "--workers", str(WORKERS), "--seed", "5", "--end", end.isoformat(), *extra, stdout=out
    )
    return out.getvalue()


def digest() -> str:
    """Everything the generator wrote, as one hash."""
    h = hashlib.sha256()
    for queryset in (
        ApparatusWorker.objects.order_by("id").values_list(
            "id", "village_id", "nik", "full_name", "sex", "birth_date", "phone", "position", "term_start", "version"
        ),
        Enrollment.objects.order_by("worker_id").values_list("worker_id", "status", "kpj_number", "paid_until"),
        EnrollmentEvent.objects.order_by("id").values_list("id", "worker_id", "kind", "effective_date", "changes"),
        WorkerPeriod.objects.order_by("id").values_list("worker_id", "valid_from", "valid_to", "status", "paid_until"),
        CoverageSnapshot.objects.order_by("region_code", "date").values_list("region_code", "date", "protected"),
    ):
        for row in queryset.iterator(chunk_size=5000):
            h.update(repr(row).encode())
    return h.hexdigest()


def test_generated_data_is_valid_counted_and_deterministic(some_provinces):
    output = generate("--regions", str(some_provinces))

    assert "12/12" in output
    assert ApparatusWorker.objects.count() == WORKERS
    assert Enrollment.objects.count() == WORKERS
    # Only desa are staffed.
    assert not ApparatusWorker.objects.exclude(village__kind="desa").exists()

    # Rows pass the services' own rules.
    for worker in ApparatusWorker.objects.order_by("id")[:: WORKERS // 500]:
        assert nik_problems(worker.nik, birth_date=worker.birth_date, sex=worker.sex) == []
        data = {f: getattr(worker, f) for f in ("nik", "full_name", "sex", "birth_date", "phone", "institution")}
        data |= {f: getattr(worker, f) for f in ("position", "term_start", "term_end", "wage_basis", "monthly_wage")}
        rule_worker({**data, "village": worker.village}, now=END)
    serving_niks = ApparatusWorker.objects.filter(serving=True).values("nik").annotate(n=Count("id"))
    assert not serving_niks.filter(n__gt=1).exists()

    # Every status occurs; each worker's history ends in its current status, in date order.
    statuses = Counter(Enrollment.objects.values_list("status", flat=True))
    assert set(statuses) == set(EnrollmentStatus.values)
    last: dict[int, tuple] = {}
    for worker_id, kind, date, to_status in EnrollmentEvent.objects.order_by("worker_id", "id").values_list(
        "worker_id", "kind", "effective_date", "to_status"
    ):
        previous = last.get(worker_id)
        assert previous is None or previous[1] <= date
        assert (previous is None) == (kind == EventKind.REGISTERED)
        last[worker_id] = (kind, date, to_status)
    assert {w: v[2] for w, v in last.items()} == dict(Enrollment.objects.values_list("worker_id", "status"))
    assert max(date for _k, date, _s in last.values()) <= END
    assert EnrollmentEvent.objects.filter(effective_date__gte=END - datetime.timedelta(days=730)).count() > WORKERS

    # One open period per worker, periods back to back.
    open_periods = WorkerPeriod.objects.filter(valid_to__isnull=True).values("worker_id").annotate(n=Count("id"))
    assert open_periods.count() == WORKERS
    assert not open_periods.filter(n__gt=1).exists()
    ranges = defaultdict(list)
    for worker_id, start, end in WorkerPeriod.objects.order_by("worker_id", "valid_from").values_list(
        "worker_id", "valid_from", "valid_to"
    ):
        ranges[worker_id].append((start, end))
    for periods in ranges.values():
        assert all(a[1] == b[0] for a, b in zip(periods, periods[1:], strict=False))

    # Counters equal a full recount; workers carry their enrollment's status.
    assert_statuses_mirrored()
    maintained = counter_rows()
    assert (
        sum(row[-2] for row in maintained if row[0] == "village")
        == ApparatusWorker.objects.filter(serving=True).count()
    )
    counters_recount()
    assert counter_rows() == maintained

    # Snapshots equal what the state periods say on each date.
    dates = _snapshot_dates(END)
    assert CoverageSnapshot.objects.values("date").distinct().count() == len(dates)
    for date in dates[::5]:
        expected = sorted((s.region_code, s.serving, s.protected) for s in snapshot_rows(date))
        stored = sorted(CoverageSnapshot.objects.filter(date=date).values_list("region_code", "serving", "protected"))
        assert stored == expected, date

    # Coverage varies by region, between roughly 5% and 90%.
    regencies = RegencyCoverage.objects.values("regency_id").annotate(s=Sum("serving"), p=Sum("protected"))
    shares = [row["p"] / row["s"] for row in regencies.order_by() if row["s"] >= 100]
    assert min(shares) < 0.35
    assert max(shares) > 0.6
    assert Target.objects.filter(region_code="15", year=END.year).exists()

    # The same seed gives the same rows.
    first = digest()
    generate("--replace")
    assert digest() == first


def test_same_seed_gives_the_same_data_whatever_ids_the_regions_got(some_provinces):
    """The draws follow the regions' official codes: the same seed gives the same data in a
    database where the region list was loaded into rows of other ids."""

    def by_code() -> list[tuple]:
        workers = ApparatusWorker.objects.order_by("id").values_list(
            "id", "village__code", "nik", "full_name", "birth_date", "position", "term_start", "enrollment_status"
        )
        events = EnrollmentEvent.objects.order_by("worker_id", "id").values_list("worker_id", "kind", "effective_date")
        counters = VillageCoverage.objects.order_by("village__code", "institution").values_list(
            "village__code", "institution", "serving", "protected"
        )
        return [list(workers), list(events), list(counters)]

    generate("--regions", str(some_provinces))
    first = by_code()
    first_ids = set(Village.objects.values_list("id", flat=True))
    tables = [model._meta.db_table for model in (Province, Regency, District, Village)]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        for table in tables:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 7919 + %s)", [max(first_ids)])
    generate("--regions", str(some_provinces))

    assert first_ids.isdisjoint(Village.objects.values_list("id", flat=True))
    assert by_code() == first


def test_generator_refuses_a_database_with_workers_unless_replacing(some_provinces):
    generate("--regions", str(some_provinces))
    with pytest.raises(CommandError, match="--replace"):
        generate()
    assert ApparatusWorker.objects.count() == WORKERS


def test_generator_needs_desa(db):
    with pytest.raises(CommandError, match="region list"):
        generate()
    assert not VillageCoverage.objects.exists()
    assert connection.vendor == "postgresql"


def test_benchmark_runs_in_quick_mode_on_generated_data(some_provinces, tmp_path, monkeypatch):
    from django.utils import timezone

    from tests.conftest import serve_test_database

    generate("--regions", str(some_provinces), end=timezone.localdate())
    serve_test_database(monkeypatch)
    from bench import national_bench

    results = national_bench.main(["--quick", "--out", str(tmp_path)])

    assert results["ok"], results["scenarios"]
    scenarios = {row["scenario"]: row for row in results["scenarios"]}
    assert {
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
    } <= set(scenarios)
    assert all(row["p50_ms"] > 0 for row in scenarios.values() if row.get("p50_ms") is not None)
    assert (tmp_path / "national.md").read_text().count("|") > 20
    assert "GeoJSON of its" in scenarios["coverage_geo_villages"]["note"]
