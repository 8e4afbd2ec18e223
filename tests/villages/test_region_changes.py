"""Codes changed by decree (`apply_region_changes`): splits, re-codes, villages moving; past figures
kept exactly, today's moved with the workers, counters equal to a recount, all or nothing."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from access.models import AccessProfile
from core.data_version import version_statement
from coverage.services import counters_differences
from enrollment.models import ApparatusWorker, EnrollmentEvent, WorkerPeriod
from tests.coverage.conftest import DAY_ONE, DAY_TWO, D, Workers, build_after_day_one, build_until_day_one
from villages.models import BranchOffice, District, Regency, Village

pytestmark = pytest.mark.django_db

DECREE_DAY = D(2024, 11, 30)
PAST_DATES = [D(2024, 3, 1), DAY_ONE, D(2024, 9, 1), DAY_TWO, D(2024, 11, 29)]
SPLIT = """old_code,new_code,new_name
,15.02,Kabupaten Danau Kerinci
15.01.02,15.02.01,Danau Kerinci
"""
LIST_QUERIES = [
    {"level": "province"},
    {"level": "regency", "parent": "15"},
    {"level": "district", "parent": "15"},
    {"level": "district", "parent": "15.01"},
    {"level": "village", "parent": "15"},
    {"level": "village", "parent": "15.01"},
    {"level": "village", "parent": "15.08"},
]
DETAIL_CODES = ["15", "15.01", "15.08", "15.01.02", "15.01.02.2001"]


@pytest.fixture
def workers(regions, actor) -> Workers:
    return Workers(actor)


@pytest.fixture
def history(workers, set_today):
    """The coverage scenario's workers and changes up to DAY_TWO, a second worker in the village
    that the split moves, and today the decree's day."""
    set_today(DAY_ONE)
    people = build_until_day_one(workers)
    people["danau"] = workers.register("15.01.02.2001", institution="bpd", position="anggota")
    workers.activate(people["danau"], D(2024, 4, 1))
    set_today(DAY_TWO)
    build_after_day_one(workers, people)
    set_today(DECREE_DAY)
    return people


def apply(tmp_path, text: str, *args: str) -> str:
    path = tmp_path / "changes.csv"
    path.write_text(text, encoding="utf-8")
    out = io.StringIO()
    call_command("apply_region_changes", str(path), *args, stdout=out)
    return out.getvalue()


def ok(response) -> dict:
    assert response.status_code == 200, response.content[:500]
    return response.json()


def rows(client, **params) -> list[dict]:
    body = ok(client.get(reverse("coverage-list"), {"page_size": 500, **params}))
    return body["results"]


def answers(client, as_of=None) -> dict:
    """Every coverage answer of the scenario on a date (today without one)."""
    when = {"as_of": as_of.isoformat()} if as_of else {}
    said = {("rows", i): rows(client, **query, **when) for i, query in enumerate(LIST_QUERIES)}
    for code in DETAIL_CODES:
        said[("detail", code)] = ok(client.get(reverse("coverage-detail", args=[code]), when))
    return said


def codes(found: list[dict]) -> list[str]:
    return [row["code"] for row in found]


def data_version() -> int:
    """The stored data version, read without moving it on (a test runs in one transaction, whose
    writes `core.data_version.data_version` would count first)."""
    with connection.cursor() as cursor:
        cursor.execute(*version_statement())
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def world() -> tuple:
    """What a refused or dry run must leave as it was."""
    return (
        list(Village.objects.values_list("code", "valid_from", "valid_to").order_by("code")),
        list(District.objects.values_list("code", "valid_to").order_by("code")),
        list(Regency.objects.values_list("code", "valid_to").order_by("code")),
        list(ApparatusWorker.objects.values_list("pk", "village_id", "regency_id", "version").order_by("pk")),
        WorkerPeriod.objects.count(),
        EnrollmentEvent.objects.count(),
        sorted(BranchOffice.objects.values_list("code", "regencies__code")),
    )


def test_split_of_a_regency_keeps_the_provinces_past_figures_unchanged(admin_client, history, tmp_path):
    kerinci = Regency.objects.get(code="15.01")
    branch = BranchOffice.objects.create(code="sungai-penuh", name="Cabang Sungai Penuh")
    branch.regencies.set([kerinci])
    officer = get_user_model().objects.create_user("kerinci-officer", password="pw-officer-123")
    AccessProfile.objects.create(user=officer, role="regency_officer", regency=kerinci)
    before = {day: answers(admin_client, day) for day in PAST_DATES}
    today_before = answers(admin_client)
    moved = ApparatusWorker.objects.filter(village__code="15.01.02.2001", serving=True).count()
    assert moved == 2

    out = apply(tmp_path, SPLIT)

    assert "regencies: 1 created (15.02), 0 retired" in out
    assert "districts: 1 created (15.02.01), 1 retired (15.01.02)" in out
    assert "workers moved: 2 (2 serving), from 1 villages, effective 2024-11-30" in out
    assert "branch territories changed: sungai-penuh" in out
    for day in PAST_DATES:
        assert answers(admin_client, day) == before[day], day
    province = ok(admin_client.get(reverse("coverage-detail", args=["15"])))
    old_province = today_before[("detail", "15")]
    assert (province["serving"], province["protected"]) == (old_province["serving"], old_province["protected"])
    assert province["serving"] > 0
    regencies = {row["code"]: row for row in rows(admin_client, level="regency", parent="15")}
    assert list(regencies) == ["15.01", "15.02", "15.08", "15.71"]
    assert (regencies["15.02"]["serving"], regencies["15.02"]["protected"]) == (2, 2)
    was = {row["code"]: row for row in today_before[("rows", 1)]}
    assert regencies["15.01"]["serving"] == was["15.01"]["serving"] - 2
    assert regencies["15.01"]["protected"] == was["15.01"]["protected"] - 2
    assert regencies["15.08"] == was["15.08"]
    assert codes(rows(admin_client, level="district", parent="15.01")) == ["15.01.01"]
    assert codes(rows(admin_client, level="village", parent="15.02")) == ["15.02.01.2001"]
    assert codes(rows(admin_client, level="district", parent="15.01", as_of="2024-11-29")) == ["15.01.01", "15.01.02"]
    assert counters_differences() == []
    # The old district and village stay, retired; the officer keeps the regency that remains.
    assert Village.objects.get(code="15.01.02.2001").valid_to == DECREE_DAY
    assert AccessProfile.objects.get(user=officer).regency == kerinci
    assert sorted(branch.regencies.values_list("code", flat=True)) == ["15.01", "15.02"]
    # A worker's past periods are kept: the one in the old village ends on the decree's day.
    worker = history["danau"]
    periods = list(
        WorkerPeriod.objects.filter(worker=worker).order_by("valid_from").values_list("valid_to", "village__code")
    )
    assert periods[-2:] == [(DECREE_DAY, "15.01.02.2001"), (None, "15.02.01.2001")]
    event = EnrollmentEvent.objects.filter(worker=worker).latest("id")
    assert (event.kind, event.effective_date, event.changes) == (
        "updated",
        DECREE_DAY,
        {"village": ["15.01.02.2001", "15.02.01.2001"]},
    )


def test_recode_of_a_village_moves_its_workers_and_keeps_the_past(admin_client, history, tmp_path):
    past = rows(admin_client, level="village", parent="15.01.01", as_of="2024-11-29")
    out = apply(tmp_path, "old_code,new_code,new_name\n15.01.01.2001,15.01.01.2005,Lempur Tengah Baru\n")

    assert "villages: 1 created (15.01.01.2005), 1 retired (15.01.01.2001)" in out
    assert rows(admin_client, level="village", parent="15.01.01", as_of="2024-11-29") == past
    today = {row["code"]: row for row in rows(admin_client, level="village", parent="15.01.01")}
    assert list(today) == ["15.01.01.2002", "15.01.01.2005"]
    old = next(row for row in past if row["code"] == "15.01.01.2001")
    assert (today["15.01.01.2005"]["serving"], today["15.01.01.2005"]["protected"]) == (
        old["serving"],
        old["protected"],
    )
    assert today["15.01.01.2005"]["name"] == "Lempur Tengah Baru"
    assert not ApparatusWorker.objects.filter(village__code="15.01.01.2001").exists()
    villages = ok(admin_client.get(reverse("village-list"), {"page_size": 100}))["results"]
    assert "15.01.01.2001" not in codes(villages)
    assert "15.01.01.2005" in codes(villages)
    assert counters_differences() == []


def test_village_moving_to_another_district_changes_its_code(admin_client, history, tmp_path):
    before = {row["code"]: row for row in rows(admin_client, level="district", parent="15.01")}
    tengah = ApparatusWorker.objects.filter(village__code="15.01.01.2001", serving=True).count()
    assert tengah > 0

    apply(tmp_path, "old_code,new_code,new_name\n15.01.01.2001,15.01.02.2003,\n")

    moved = Village.objects.get(code="15.01.02.2003")
    assert (moved.name, moved.district.code) == ("Lempur Tengah", "15.01.02")
    after = {row["code"]: row for row in rows(admin_client, level="district", parent="15.01")}
    assert after["15.01.01"]["serving"] == before["15.01.01"]["serving"] - tengah
    assert after["15.01.02"]["serving"] == before["15.01.02"]["serving"] + tengah
    assert set(ApparatusWorker.objects.filter(village=moved).values_list("district__code", flat=True)) == {"15.01.02"}
    assert counters_differences() == []


def test_recode_of_a_regency_moves_everything_under_it_and_its_officers(admin_client, history, tmp_path):
    kota = Regency.objects.get(code="15.71")
    officer = get_user_model().objects.create_user("kota-officer", password="pw-officer-123")
    AccessProfile.objects.create(user=officer, role="regency_officer", regency=kota)
    branch = BranchOffice.objects.get(code="muara-bungo")
    branch.regencies.add(kota)

    out = apply(tmp_path, "old_code,new_code,new_name\n15.71,15.72,Kota Jambi\n")

    assert "regencies: 1 created (15.72), 1 retired (15.71)" in out
    assert Village.objects.filter(code="15.72.01.1001", valid_to__isnull=True).exists()
    assert AccessProfile.objects.get(user=officer).regency.code == "15.72"
    assert sorted(branch.regencies.values_list("code", flat=True)) == ["15.08", "15.72"]
    assert "kota-officer: 15.71 → 15.72" in out
    assert codes(rows(admin_client, level="regency", parent="15")) == ["15.01", "15.08", "15.72"]
    assert codes(rows(admin_client, level="regency", parent="15", as_of="2024-11-29")) == ["15.01", "15.08", "15.71"]


def test_dry_run_writes_nothing(admin_client, history, tmp_path):
    before, version = world(), data_version()

    out = apply(tmp_path, SPLIT, "--dry-run")

    assert "workers moved: 2 (2 serving), from 1 villages" in out
    assert "dry run, nothing was written" in out
    assert world() == before
    assert data_version() == version


BAD_FILES = [
    ("15.01.02.2001,15.01.02.2002,\n99.01.01.2001,15.01.01.2009,\n", 3, "unknown old code 99.01.01.2001"),
    ("15.01.02,15.01.02.2009,\n", 2, "new code 15.01.02.2009 is a village, old code 15.01.02 a district"),
    ("15.01.01.2001,15.01.01.9001,\n", 2, "new code '15.01.01.9001' has the shape of no region code"),
    ("15.01.02,15.03.01,\n", 2, "new code 15.03.01: its parent 15.03 does not exist"),
    ("15.01.01.2001,15.01.01.2009,\n15.01.01.2009,15.01.01.2001,\n", 2, "a cycle or a chain"),
    ("15.01.02,15.08.01,\n", 2, "new code 15.08.01 already exists"),
    (",15.02,\n", 2, "new code 15.02: a region created needs its new_name"),
]


@pytest.mark.parametrize(("body", "line", "message"), BAD_FILES)
def test_bad_change_list_is_refused_with_its_line_and_nothing_written(history, tmp_path, body, line, message):
    before = world()
    with pytest.raises(CommandError) as refused:
        apply(tmp_path, "old_code,new_code,new_name\n" + body)
    assert f"line {line}: {message}" in str(refused.value)
    assert "nothing was written" in str(refused.value)
    assert world() == before


def test_refused_after_a_good_row_leaves_the_good_row_unwritten(history, tmp_path):
    before = world()
    with pytest.raises(CommandError, match="line 4: unknown old code 15.01.09"):
        apply(tmp_path, SPLIT + "15.01.09,15.02.02,\n")
    assert world() == before
    assert not Regency.objects.filter(code="15.02").exists()


def test_applying_the_same_list_twice_changes_nothing_the_second_time(admin_client, history, tmp_path):
    apply(tmp_path, SPLIT)
    after_first, version = world(), data_version()

    out = apply(tmp_path, SPLIT)

    assert "nothing changed: the change list is already applied" in out
    assert "2 of 2 rows already applied" in out
    assert world() == after_first
    assert data_version() == version
    assert counters_differences() == []


def test_import_regions_suggests_apply_region_changes_for_missing_regions(regions, tmp_path):
    path = tmp_path / "regions.csv"
    path.write_text("code,name\n15,Jambi\n", encoding="utf-8")
    out = io.StringIO()
    call_command("import_regions", str(path), "--dry-run", stdout=out)
    assert "apply_region_changes" in out.getvalue()


def test_village_merged_into_an_existing_one_brings_its_workers(admin_client, history, tmp_path):
    before = {row["code"]: row for row in rows(admin_client, level="village", parent="15.01")}

    out = apply(tmp_path, "old_code,new_code,new_name\n15.01.01.2001,15.01.02.2001,\n")

    assert "villages: 0 created (), 1 retired (15.01.01.2001)" in out
    after = {row["code"]: row for row in rows(admin_client, level="village", parent="15.01")}
    assert list(after) == ["15.01.01.2002", "15.01.02.2001"]
    merged = before["15.01.01.2001"]["serving"] + before["15.01.02.2001"]["serving"]
    assert after["15.01.02.2001"]["serving"] == merged
    assert counters_differences() == []


def test_change_list_before_a_workers_later_change_is_refused(history, tmp_path):
    before = world()
    with pytest.raises(CommandError, match=r"line 2: pekerja \d+ punya perubahan yang berlaku pada 2024-10-01"):
        apply(tmp_path, "old_code,new_code,new_name\n15.08.01.2001,15.08.01.2002,\n", "--effective", "2024-09-01")
    assert world() == before


def test_effective_date_in_the_future_is_refused(history, tmp_path):
    with pytest.raises(CommandError, match="tanggal berlaku 2024-12-01 ada di masa depan"):
        apply(tmp_path, SPLIT, "--effective", "2024-12-01")
