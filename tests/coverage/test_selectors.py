"""Coverage arithmetic and the read side: rounding, history against counters, rollups, targets."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from coverage import figures
from coverage.models import CoverageSnapshot, Target, VillageCoverage
from coverage.selectors.regions import LEVELS, region_get
from coverage.selectors.rows import coverage_rows, rank_among
from coverage.selectors.snapshots import snapshot_rows
from coverage.services import counters_recount, snapshots_take
from enrollment.models import Enrollment
from enrollment.services import enrollments_expire

from .conftest import DAY_ONE, DAY_TWO, D, build_after_day_one, build_until_day_one

# ---------------------------------------------------------------------------------------------
# Arithmetic


@pytest.mark.parametrize(
    ("protected", "total", "expected"),
    [
        (1, 8, "12.50"),
        (1, 16, "6.25"),
        (1, 32, "3.13"),  # 3.125: half up, not half to even
        (1, 800, "0.13"),  # 0.125
        (5, 8, "62.50"),
        (2, 3, "66.67"),
        (1, 3, "33.33"),
        (0, 5, "0.00"),
        (5, 5, "100.00"),
        (32_475, 98_350, "33.02"),
        (592_806, 1_312_370, "45.17"),
        (0, 0, None),
        (3, 0, None),
    ],
)
def test_coverage_pct_rounds_half_up_to_two_decimals(protected, total, expected):
    result = figures.coverage_pct(protected, total)

    assert result == (None if expected is None else Decimal(expected))
    if result is not None:
        assert result.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("target", "total", "protected", "expected"),
    [
        ("53", 1_312_370, 592_806, 102_750),
        ("55", 1_312_370, 592_806, 128_998),  # 721,803.5 needed: rounds up to 721,804
        ("50", 3, 0, 2),  # 1.5 -> 2
        ("50", 5, 2, 1),  # 2.5 -> 3
        ("12.5", 4, 0, 1),  # 0.5 -> 1
        ("33.33", 3, 0, 1),  # 0.9999 -> 1
        ("50", 10, 5, 0),
        ("50", 10, 8, 0),  # above the target: never below 0
        ("100", 0, 0, 0),
        ("0", 10, 0, 0),
        (None, 10, 3, None),
    ],
)
def test_gap_to_target_rounds_needed_half_up_and_never_goes_below_zero(target, total, protected, expected):
    target_pct = None if target is None else Decimal(target)

    assert figures.gap_to_target(target_pct, total, protected) == expected


@pytest.mark.parametrize(
    ("now", "earlier", "expected"),
    [
        ((592_806, 1_312_370), (543_059, 1_312_370), "3.79"),
        ((1, 3), (1, 6), "16.67"),  # from the exact fractions, not 33.33 - 16.67 = 16.66
        ((1, 6), (1, 3), "-16.67"),
        ((1, 2), (1, 2), "0.00"),
        ((1, 2), (0, 0), None),
        ((0, 0), (1, 2), None),
    ],
)
def test_change_points_come_from_exact_fractions(now, earlier, expected):
    result = figures.change_points(*now, *earlier)

    assert result == (None if expected is None else Decimal(expected))


# ---------------------------------------------------------------------------------------------
# History against counters


def figures_by_code(rows) -> dict[str, tuple[int, int]]:
    return {row.code: (row.serving, row.protected) for row in rows}


def all_rows(as_of: datetime.date) -> dict[str, tuple[int, int]]:
    rows = {}
    for level in LEVELS:
        rows.update(figures_by_code(coverage_rows(level=level, parent=None, as_of=as_of)))
    return rows


DAY_ONE_FIGURES = {
    "15": (10, 5),
    "15.01": (7, 3),
    "15.01.01": (6, 3),
    "15.01.01.2001": (4, 2),
    "15.01.01.2002": (2, 1),
    "15.01.02": (1, 0),
    "15.01.02.2001": (1, 0),
    "15.08": (3, 2),
    "15.08.01": (3, 2),
    "15.08.01.2001": (2, 2),
    "15.08.01.1001": (1, 0),
    "15.71": (0, 0),
    "15.71.01": (0, 0),
    "15.71.01.1001": (0, 0),
    "16": (1, 1),
    "16.01": (1, 1),
    "16.01.01": (1, 1),
    "16.01.01.2001": (1, 1),
}
DAY_TWO_FIGURES = {
    "15": (8, 6),
    "15.01": (5, 3),
    "15.01.01.2001": (4, 2),
    "15.01.01.2002": (0, 0),
    "15.01.02.2001": (1, 1),
    "15.08": (3, 3),
    "15.08.01.2001": (2, 2),
    "15.08.01.1001": (1, 1),
    "16": (2, 1),
    "16.01.01.2001": (2, 1),
}


@pytest.fixture
def scenario(workers, set_today):
    """The scenario written in two phases; returns every region's figures from the counters of DAY_ONE."""
    set_today(DAY_ONE)
    people = build_until_day_one(workers)
    on_day_one = all_rows(DAY_ONE)
    snapshots_take(as_of=DAY_ONE)
    set_today(DAY_TWO)
    build_after_day_one(workers, people)
    return on_day_one


def test_counters_on_day_one_give_hand_counted_figures(scenario):
    assert scenario == DAY_ONE_FIGURES


def test_past_figures_from_history_equal_counters_of_that_day(scenario):
    from_history = all_rows(DAY_ONE)

    assert from_history == scenario
    assert all_rows(DAY_TWO) != scenario  # later events did change today's figures


def test_counters_today_give_hand_counted_figures_after_later_events(scenario):
    today = all_rows(DAY_TWO)

    assert {code: today[code] for code in DAY_TWO_FIGURES} == DAY_TWO_FIGURES


def test_snapshot_rows_from_history_equal_snapshot_taken_from_counters(scenario):
    stored = set(CoverageSnapshot.objects.filter(date=DAY_ONE).values_list("region_code", "serving", "protected"))

    recomputed = {(row.region_code, row.serving, row.protected) for row in snapshot_rows(DAY_ONE)}

    assert recomputed == stored
    # Only regions with serving workers get a snapshot row.
    assert {code for code, _s, _p in stored} == {code for code, (s, _p) in DAY_ONE_FIGURES.items() if s}


def test_figures_before_any_registration_are_zero(scenario):
    assert set(all_rows(D(2023, 12, 31)).values()) == {(0, 0)}


@pytest.mark.parametrize("as_of", [D(2024, 1, 31), DAY_ONE, D(2024, 8, 15), DAY_TWO])
def test_rows_of_each_level_sum_to_their_parent_row(scenario, as_of):
    rows = all_rows(as_of)

    for code, (serving, protected) in rows.items():
        children = [value for child, value in rows.items() if child.rsplit(".", 1)[0] == code and "." in child]
        if children:
            assert (sum(s for s, _p in children), sum(p for _s, p in children)) == (serving, protected), code
    assert rows["15"][0] > 0


def test_counters_equal_full_recount_after_scenario(scenario):
    maintained = {
        row
        for row in VillageCoverage.objects.values_list("village_id", "institution", "serving", "protected")
        if row[2] or row[3]
    }

    counters_recount()

    assert set(VillageCoverage.objects.values_list("village_id", "institution", "serving", "protected")) == maintained


def test_institution_filter_counts_only_that_institution_in_past_and_today(scenario):
    past = coverage_rows(level="province", parent=None, as_of=DAY_ONE, institution="bpd")
    today = coverage_rows(level="province", parent=None, as_of=DAY_TWO, institution="bpd")

    assert figures_by_code(past)["15"] == (1, 1)
    assert figures_by_code(today)["15"] == (1, 0)  # the BPD chair lapsed on 2024-08-01


# ---------------------------------------------------------------------------------------------
# Lapse by paid-until, grace, expiry


def test_active_worker_past_paid_until_is_unprotected_in_history(workers, set_today):
    set_today(D(2024, 3, 1))
    worker = workers.register("15.01.01.2001")
    workers.activate(worker, D(2024, 2, 1), paid_until=D(2024, 2, 29))
    set_today(D(2024, 4, 30))  # no expiry has run: the enrollment is still "active"

    on_paid_until = figures_by_code(coverage_rows(level="village", parent=None, as_of=D(2024, 2, 29)))
    day_after = figures_by_code(coverage_rows(level="village", parent=None, as_of=D(2024, 3, 1)))

    assert on_paid_until["15.01.01.2001"] == (1, 1)
    assert day_after["15.01.01.2001"] == (1, 0)


def test_grace_days_keep_protection_after_paid_until(workers, set_today, settings):
    settings.UCJ_LAPSE_GRACE_DAYS = 10
    set_today(D(2024, 3, 1))
    worker = workers.register("15.01.01.2001")
    workers.activate(worker, D(2024, 2, 1), paid_until=D(2024, 5, 31))
    set_today(D(2024, 7, 1))
    assert enrollments_expire() == 1

    def protected_on(day):
        rows = coverage_rows(level="village", parent=None, as_of=day)
        return figures_by_code(rows)["15.01.01.2001"][1]

    assert [protected_on(D(2024, 5, 31)), protected_on(D(2024, 6, 10)), protected_on(D(2024, 6, 11))] == [1, 1, 0]
    assert worker.events.order_by("-id").values_list("kind", "effective_date").first() == ("lapsed", D(2024, 6, 11))


def test_expiry_makes_today_counters_agree_with_history(workers, set_today):
    set_today(D(2024, 3, 1))
    kept, expiring = workers.register("15.01.01.2001"), workers.register("15.01.01.2001")
    workers.activate(kept, D(2024, 2, 1), paid_until=D(2025, 1, 31))
    workers.activate(expiring, D(2024, 2, 1), paid_until=D(2024, 4, 30))
    today = set_today(D(2024, 6, 1))
    assert figures_by_code(coverage_rows(level="village", parent=None, as_of=today))["15.01.01.2001"] == (
        2,
        2,
    )

    assert enrollments_expire() == 1

    counted = figures_by_code(coverage_rows(level="village", parent=None, as_of=today))
    set_today(today + datetime.timedelta(days=1))
    from_history = figures_by_code(coverage_rows(level="village", parent=None, as_of=today))
    assert counted["15.01.01.2001"] == from_history["15.01.01.2001"] == (2, 1)
    assert Enrollment.objects.get(pk=expiring.pk).status == "lapsed"


def test_worker_with_future_term_start_is_not_serving_before_it(workers, set_today):
    set_today(D(2024, 6, 30))
    workers.register("15.01.01.2001", start=D(2024, 7, 20))

    def serving_on(day):
        return figures_by_code(coverage_rows(level="province", parent=None, as_of=day))["15"][0]

    on_registration = serving_on(D(2024, 6, 30))
    set_today(D(2024, 8, 30))

    assert (on_registration, serving_on(D(2024, 7, 19)), serving_on(D(2024, 7, 20))) == (0, 0, 1)


def _province(day):
    """(serving, protected) of Jambi on `day` (counters when `day` is today, periods before)."""
    return figures_by_code(coverage_rows(level="province", parent=None, as_of=day))["15"]


def test_future_term_counts_today_once_terms_start_has_run_on_its_start(workers, set_today):
    from coverage.services import counters_differences
    from enrollment.models import WorkerPeriod
    from enrollment.services import terms_start

    set_today(D(2024, 6, 30))
    worker = workers.register("15.01.01.2001", start=D(2024, 7, 20))
    workers.activate(worker, D(2024, 7, 1), paid_until=D(2024, 12, 31))  # a membership before the term
    assert list(WorkerPeriod.objects.filter(worker=worker).values_list("valid_from", "valid_to", "status")) == [
        (D(2024, 7, 20), None, "active")
    ]

    set_today(D(2024, 7, 19))
    assert terms_start() == 0
    assert _province(D(2024, 7, 19)) == (0, 0)

    set_today(D(2024, 7, 20))
    assert terms_start() == 1
    assert terms_start() == 0  # once
    assert _province(D(2024, 7, 20)) == (1, 1)
    assert counters_differences() == []

    set_today(D(2024, 8, 30))
    assert (_province(D(2024, 7, 1)), _province(D(2024, 7, 19)), _province(D(2024, 7, 20))) == ((0, 0), (0, 0), (1, 1))


def test_counters_equal_a_recount_while_a_future_term_waits(workers, set_today):
    from coverage.services import counters_differences

    set_today(D(2024, 6, 30))
    waiting = workers.register("15.01.01.2001", start=D(2024, 7, 20))
    workers.register("15.01.01.2001", start=D(2024, 6, 1))
    workers.submit(waiting, D(2024, 7, 2))

    assert _province(D(2024, 6, 30)) == (1, 0)
    assert counters_differences() == []
    set_today(D(2024, 7, 25))  # term start passed, terms_start not run yet: both still agree
    assert counters_differences() == []


def test_moving_a_future_term_start_moves_its_period_and_an_earlier_start_counts_at_once(workers, set_today):
    from coverage.services import counters_differences
    from enrollment.models import ApparatusWorker, WorkerPeriod
    from enrollment.services import Actor, worker_update

    set_today(D(2024, 6, 30))
    worker = workers.register("15.01.01.2001", start=D(2024, 7, 20))

    def move_start(day):
        current = ApparatusWorker.objects.get(pk=worker.pk)
        worker_update(actor=Actor(), worker_id=worker.pk, changes={"term_start": day}, expected_version=current.version)
        return list(WorkerPeriod.objects.filter(worker=worker).values_list("valid_from", "valid_to"))

    assert move_start(D(2024, 7, 25)) == [(D(2024, 7, 25), None)]
    assert _province(D(2024, 6, 30)) == (0, 0)
    assert move_start(D(2024, 6, 15)) == [(D(2024, 6, 15), None)]
    assert ApparatusWorker.objects.get(pk=worker.pk).term_started is True
    assert _province(D(2024, 6, 30)) == (1, 0)
    assert counters_differences() == []
    set_today(D(2024, 7, 1))
    assert _province(D(2024, 6, 15)) == (1, 0)
    assert _province(D(2024, 6, 14)) == (0, 0)


# ---------------------------------------------------------------------------------------------
# Targets and rank


def test_targets_inherit_from_nearest_ancestor_and_own_target_overrides(workers, set_today):
    set_today(DAY_ONE)
    build_until_day_one(workers)
    Target.objects.create(kind="village_apparatus", year=2024, region_code="15", target_pct=Decimal("50"))
    Target.objects.create(kind="village_apparatus", year=2024, region_code="15.08", target_pct=Decimal("70"))
    Target.objects.create(kind="village_apparatus", year=2025, region_code="15.01", target_pct=Decimal("90"))
    Target.objects.create(kind="workforce", year=2024, region_code="15.01", target_pct=Decimal("80"))

    rows = {}
    for level in LEVELS:
        rows.update({row.code: row for row in coverage_rows(level=level, parent=None, as_of=DAY_ONE)})

    targets = {code: row.target_pct for code, row in rows.items()}
    assert targets["15"] == targets["15.01"] == targets["15.01.01.2001"] == targets["15.71.01.1001"] == Decimal(50)
    assert targets["15.08"] == targets["15.08.01"] == targets["15.08.01.1001"] == Decimal(70)
    assert targets["16"] is targets["16.01.01.2001"] is None
    # 15.01: 50% of 7 = 3.5 -> 4 needed, 3 protected; 15.08.01.1001: 70% of 1 -> 1 needed, none protected.
    assert (rows["15.01"].gap_to_target, rows["15.08.01.1001"].gap_to_target) == (1, 1)
    assert rows["15.08.01.2001"].gap_to_target == 0
    assert rows["16"].gap_to_target is None


def test_rank_among_siblings_is_competition_rank_by_coverage(workers, set_today):
    set_today(DAY_ONE)
    build_until_day_one(workers)
    regencies = coverage_rows(level="regency", parent=region_get("15"), as_of=DAY_ONE)

    # 15.08: 2/3 = 66.67%, 15.01: 3/7 = 42.86%, 15.71: no workers, no rank.
    assert [rank_among(regencies, code) for code in ("15.01", "15.08", "15.71")] == [2, 1, None]


def test_rank_ties_share_the_better_place(workers, set_today):
    set_today(DAY_ONE)
    for village in ("15.01.01.2001", "15.01.01.2002", "15.01.02.2001"):
        worker = workers.register(village)
        if village != "15.01.02.2001":
            workers.activate(worker, D(2024, 2, 1))
    villages = coverage_rows(level="village", parent=region_get("15.01"), as_of=DAY_ONE)

    ranks = [rank_among(villages, code) for code in ("15.01.01.2001", "15.01.01.2002", "15.01.02.2001")]
    assert ranks == [1, 1, 3]


def test_migration_marks_workers_registered_before_it_with_a_term_ahead(workers, set_today):
    """Registered by an earlier version, a worker with a term ahead was counted at once."""
    import importlib

    from django.apps import apps as django_apps
    from django.db import connection

    from coverage.services import counters_differences, counters_recount
    from enrollment.models import ApparatusWorker

    migration = importlib.import_module("enrollment.migrations.0009_workers_waiting_for_their_term")
    set_today(D(2024, 6, 30))
    waiting = workers.register("15.01.01.2001", start=D(2024, 7, 20))
    workers.register("15.01.01.2001", start=D(2024, 6, 1))
    ApparatusWorker.objects.filter(pk=waiting.pk).update(term_started=True)  # as the earlier version left it
    counters_recount()
    assert _province(D(2024, 6, 30)) == (2, 0)

    recounts = []

    def recount() -> None:
        recounts.append(1)
        migration.counters_recounted(django_apps, connection)
        counters_recount()  # the totals, which later migrations create and fill

    assert migration.workers_waiting_marked(ApparatusWorker, D(2024, 6, 30), recount) == 1

    assert ApparatusWorker.objects.get(pk=waiting.pk).term_started is False
    assert _province(D(2024, 6, 30)) == (1, 0)
    assert counters_differences() == []
    assert migration.workers_waiting_marked(ApparatusWorker, D(2024, 6, 30), recount) == 0  # once only
    assert recounts == [1]


def test_worker_list_calls_a_worker_protected_as_coverage_does_once_the_term_starts(workers, set_today):
    from django.contrib.auth import get_user_model
    from django.urls import reverse
    from rest_framework.test import APIClient

    from enrollment.services import terms_start

    set_today(D(2024, 6, 30))
    worker = workers.register("15.01.01.2001", start=D(2024, 7, 20))
    workers.activate(worker, D(2024, 7, 1), paid_until=D(2024, 12, 31))
    client = APIClient()
    client.force_authenticate(get_user_model().objects.create_superuser("root", "root@example.id", "pw-root-123"))

    def shown():
        listed = client.get(reverse("worker-list"), {"protected": "true"}).json()["results"]
        return [row["id"] for row in listed], client.get(reverse("worker-detail", args=[worker.pk])).json()["protected"]

    assert shown() == ([], False)  # active, but its term has not started: coverage counts it not
    set_today(D(2024, 7, 20))
    terms_start()
    assert shown() == ([worker.pk], True)


@pytest.mark.parametrize("interval", ["day", "week", "month"])
def test_a_ranges_periods_are_counted_as_the_distinct_periods_its_days_fall_in(interval):
    """The limit on a trend's points counts periods without walking the range's days: the same
    count as the distinct periods of its days, for ranges starting on every weekday and in every
    month, across year ends, one day long and years long."""
    from coverage.selectors.trend import period_count, period_start

    starts = [datetime.date(2023, 12, 25) + datetime.timedelta(days=d) for d in range(0, 400, 9)]
    for start in starts:
        for length in (0, 1, 6, 7, 30, 31, 59, 365, 800):
            end = start + datetime.timedelta(days=length)
            days = (start + datetime.timedelta(days=d) for d in range(length + 1))
            assert period_count(start, end, interval) == len({period_start(day, interval) for day in days})
    assert period_count(datetime.date(2024, 2, 1), datetime.date(2024, 1, 31), interval) == 0
