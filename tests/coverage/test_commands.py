"""Management commands of coverage: snapshots (one date or a back-filled range) and recount."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from coverage.models import CoverageSnapshot, VillageCoverage, VillageTotals
from coverage.selectors.snapshots import snapshot_rows

from .conftest import DAY_ONE, D

pytestmark = pytest.mark.django_db


def snapshot(*args: str) -> str:
    out = io.StringIO()
    call_command("snapshot_coverage", *args, stdout=out)
    return out.getvalue()


def stored(date=None) -> set[tuple]:
    rows = CoverageSnapshot.objects.all() if date is None else CoverageSnapshot.objects.filter(date=date)
    return set(rows.values_list("region_code", "date", "serving", "protected"))


@pytest.fixture
def history(workers, set_today):
    """Jambi: two workers from January, one protected from 2024-02-10, one from 2024-04-20."""
    set_today(DAY_ONE)
    first, second = workers.register("15.01.01.2001"), workers.register("15.08.01.2001")
    workers.activate(first, D(2024, 2, 10))
    workers.activate(second, D(2024, 4, 20))


def test_snapshot_for_a_date_stores_every_level_from_the_history(history):
    output = snapshot("--date", "2024-03-15")

    assert stored() == {
        ("15", D(2024, 3, 15), 2, 1),
        ("15.01", D(2024, 3, 15), 1, 1),
        ("15.01.01", D(2024, 3, 15), 1, 1),
        ("15.01.01.2001", D(2024, 3, 15), 1, 1),
        ("15.08", D(2024, 3, 15), 1, 0),
        ("15.08.01", D(2024, 3, 15), 1, 0),
        ("15.08.01.2001", D(2024, 3, 15), 1, 0),
    }
    assert "2024-03-15: 7 regions" in output


def test_snapshot_twice_for_a_date_gives_the_same_rows(history):
    snapshot("--date", "2024-05-01")
    first = stored()

    snapshot("--date", "2024-05-01")

    assert stored() == first
    assert CoverageSnapshot.objects.count() == 7
    assert ("15", D(2024, 5, 1), 2, 2) in first


def test_snapshot_without_date_stores_today_from_the_counters(history):
    # The counters (per institution and of all of them), not the history.
    VillageCoverage.objects.filter(village__code="15.08.01.2001").update(protected=0)
    VillageTotals.objects.filter(village__code="15.08.01.2001").update(protected=0)

    snapshot()

    assert ("15", DAY_ONE, 2, 1) in stored(DAY_ONE)
    assert ("15.08.01.2001", DAY_ONE, 1, 0) in stored(DAY_ONE)


def test_snapshot_back_fill_stores_last_day_of_each_month(history):
    output = snapshot("--start", "2024-01-15", "--end", "2024-04-20", "--interval", "month")

    dates = sorted(set(CoverageSnapshot.objects.values_list("date", flat=True)))
    assert dates == [D(2024, 1, 31), D(2024, 2, 29), D(2024, 3, 31), D(2024, 4, 20)]
    jambi = sorted((date, serving, protected) for code, date, serving, protected in stored() if code == "15")
    assert jambi == [(D(2024, 1, 31), 2, 0), (D(2024, 2, 29), 2, 1), (D(2024, 3, 31), 2, 1), (D(2024, 4, 20), 2, 2)]
    assert "4 snapshot dates stored." in output


def test_snapshot_back_fill_by_week_and_day(history):
    snapshot("--start", "2024-02-07", "--end", "2024-02-20", "--interval", "week")
    weeks = sorted(set(CoverageSnapshot.objects.values_list("date", flat=True)))
    CoverageSnapshot.objects.all().delete()
    snapshot("--start", "2024-02-08", "--end", "2024-02-11", "--interval", "day")
    days = sorted(set(CoverageSnapshot.objects.values_list("date", flat=True)))

    # Weeks start on Monday: 2024-02-11 and 2024-02-18 are Sundays.
    assert weeks == [D(2024, 2, 11), D(2024, 2, 18), D(2024, 2, 20)]
    assert days == [D(2024, 2, 8), D(2024, 2, 9), D(2024, 2, 10), D(2024, 2, 11)]
    jambi = {date: protected for code, date, _serving, protected in stored() if code == "15"}
    assert jambi == {D(2024, 2, 8): 0, D(2024, 2, 9): 0, D(2024, 2, 10): 1, D(2024, 2, 11): 1}


def test_snapshot_back_fill_equals_the_history_of_each_date(history):
    snapshot("--start", "2024-01-01", "--end", "2024-06-30")

    for date in sorted(set(CoverageSnapshot.objects.values_list("date", flat=True))):
        expected = {(row.region_code, row.date, row.serving, row.protected) for row in snapshot_rows(date)}
        assert stored(date) == expected


def test_snapshot_back_fill_ends_today_by_default(history):
    snapshot("--start", "2024-05-20", "--interval", "month")

    assert sorted(set(CoverageSnapshot.objects.values_list("date", flat=True))) == [D(2024, 5, 31), DAY_ONE]


@pytest.mark.parametrize(
    "args",
    [
        ("--date", "2024-07-01"),
        ("--start", "2024-06-01", "--end", "2024-07-31"),
    ],
)
def test_snapshot_of_a_future_date_is_refused_and_writes_nothing(history, args):
    with pytest.raises(CommandError, match="future"):
        snapshot(*args)

    assert not CoverageSnapshot.objects.exists()


def test_snapshot_start_after_end_is_refused(history):
    with pytest.raises(CommandError, match="--start"):
        snapshot("--start", "2024-03-01", "--end", "2024-02-01")

    assert not CoverageSnapshot.objects.exists()


@pytest.mark.parametrize("args", [("--date", "2024-02-30"), ("--interval", "hour")])
def test_snapshot_malformed_arguments_are_refused(history, args):
    with pytest.raises(CommandError):
        snapshot(*args)

    assert not CoverageSnapshot.objects.exists()


def test_recount_rebuilds_counters_from_the_workers(history):
    expected = sorted(VillageCoverage.objects.values_list("village__code", "institution", "serving", "protected"))
    VillageCoverage.objects.filter(village__code="15.01.01.2001").update(serving=5, protected=5)
    out = io.StringIO()

    call_command("recount_coverage", stdout=out)

    assert sorted(VillageCoverage.objects.values_list("village__code", "institution", "serving", "protected")) == (
        expected
    )
    assert expected == [("15.01.01.2001", "pemerintah_desa", 1, 1), ("15.08.01.2001", "pemerintah_desa", 1, 1)]
    assert "2 village/institution rows" in out.getvalue()


def test_load_demo_with_missing_regions_file_is_refused(tmp_path, db):
    with pytest.raises(CommandError, match="no such file"):
        call_command("load_demo", "--regions", str(tmp_path / "absent.csv"), stdout=io.StringIO())
