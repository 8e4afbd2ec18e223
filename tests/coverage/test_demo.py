"""The Jambi demo: the published figures come out of the API, every level adds up, and the
counters agree with a recount and with the history.

`load_demo` takes ~25 s, so it runs once for the module (committed outside the per-test
transactions, which roll back to it) and its rows are deleted when the module is done.
"""

from __future__ import annotations

import datetime
import io
from collections import Counter
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse

from access.models import AccessProfile
from core import clock
from coverage.models import (
    CoverageSnapshot,
    RegencyCoverage,
    RegencyTotals,
    Target,
    VillageCoverage,
    VillageTotals,
    WorkforceFigure,
)
from coverage.selectors.source import figure_source
from coverage.services import counters_recount
from enrollment.models import ApparatusWorker, Enrollment, EnrollmentEvent, WorkerPeriod
from enrollment.services import enrollments_expire
from tests.enrollment.helpers import assert_statuses_mirrored
from villages.demo import DEMO_ADMIN
from villages.models import Boundary, BranchOffice, District, Province, Regency, Village

pytestmark = pytest.mark.django_db

REPORT_DATE = "2024-12-02"
JAMBI_REGENCIES = ["15.01", "15.02", "15.03", "15.04", "15.05", "15.06", "15.07", "15.08", "15.09", "15.71", "15.72"]
FIGURES = ("serving", "protected", "unprotected")
DEMO_TABLES = [
    AccessProfile,
    WorkerPeriod,
    EnrollmentEvent,
    Enrollment,
    ApparatusWorker,
    VillageCoverage,
    RegencyCoverage,
    VillageTotals,
    RegencyTotals,
    CoverageSnapshot,
    Target,
    WorkforceFigure,
    BranchOffice.regencies.through,
    BranchOffice,
    Boundary,
    Village,
    District,
    Regency,
    Province,
]


def _wipe_demo(users_before: set[int]) -> None:
    """Delete what load_demo wrote (history is append-only for the ORM, hence plain SQL)."""
    with transaction.atomic(), connection.cursor() as cursor:
        for model in DEMO_TABLES:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
        get_user_model().objects.exclude(pk__in=users_before).delete()


@pytest.fixture(scope="module", autouse=True)
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        users_before = set(get_user_model().objects.values_list("pk", flat=True))
        try:
            call_command("load_demo", stdout=io.StringIO())
            yield
        finally:
            _wipe_demo(users_before)


@pytest.fixture
def admin_client(api_client, db):
    """The demo's own admin, a superuser that load_demo creates."""
    api_client.force_authenticate(get_user_model().objects.get(username=DEMO_ADMIN))
    return api_client


def get_all(client, name, **params):
    response = client.get(reverse(name), {**params, "page_size": 500})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["next"] is None
    return body["results"]


def totals(rows) -> dict[str, int]:
    return {key: sum(row[key] for row in rows) for key in FIGURES}


def state_counts() -> dict[str, object]:
    return {
        "workers": ApparatusWorker.objects.count(),
        "serving": ApparatusWorker.objects.filter(serving=True).count(),
        "enrollments": Counter(Enrollment.objects.values_list("status", flat=True)),
        "events": EnrollmentEvent.objects.count(),
        "periods": WorkerPeriod.objects.count(),
        "counters": sorted(VillageCoverage.objects.values_list("village_id", "institution", "serving", "protected")),
        "snapshots": CoverageSnapshot.objects.count(),
        "villages": Village.objects.count(),
        "targets": Target.objects.count(),
        "workforce": WorkforceFigure.objects.count(),
    }


def test_province_coverage_matches_published_report_on_report_date(admin_client):
    response = admin_client.get(reverse("coverage-detail", args=["15"]), {"as_of": REPORT_DATE})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["serving"], body["protected"], body["unprotected"]) == (98_350, 32_475, 65_875)
    assert Decimal(str(body["coverage_pct"])) == Decimal("33.02")
    assert body["level"] == "province"


def test_workforce_summary_matches_published_report_on_report_date(admin_client):
    response = admin_client.get(reverse("workforce-detail", args=["15"]), {"as_of": REPORT_DATE})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["active_participants"] == 592_806
    assert body["potential_workers"] == 1_312_370
    assert Decimal(str(body["coverage_pct"])) == Decimal("45.17")
    assert Decimal(str(body["change_pct_points"])) == Decimal("3.79")
    assert body["previous_date"] == "2024-10-01"
    assert [(t["year"], Decimal(str(t["target_pct"])), t["gap_to_target"]) for t in body["targets"]] == [
        (2024, Decimal("53"), 102_750),
        (2025, Decimal("55"), 128_998),
    ]


@pytest.mark.parametrize("as_of", [REPORT_DATE, None])
def test_regency_rows_sum_to_province_row_on_report_date_and_today(admin_client, as_of):
    date = {"as_of": as_of} if as_of else {}
    province = get_all(admin_client, "coverage-list", level="province", **date)
    regencies = get_all(admin_client, "coverage-list", level="regency", parent="15", **date)

    assert [row["code"] for row in regencies] == JAMBI_REGENCIES
    jambi = next(row for row in province if row["code"] == "15")
    assert totals(regencies) == {key: jambi[key] for key in FIGURES}
    assert jambi["serving"] > 90_000


@pytest.mark.parametrize("as_of", [REPORT_DATE, None])
def test_village_and_district_rows_sum_to_their_regency_for_every_regency(admin_client, as_of):
    date = {"as_of": as_of} if as_of else {}
    regencies = get_all(admin_client, "coverage-list", level="regency", parent="15", **date)

    for regency in regencies:
        villages = get_all(admin_client, "coverage-list", level="village", parent=regency["code"], **date)
        districts = get_all(admin_client, "coverage-list", level="district", parent=regency["code"], **date)
        expected = {key: regency[key] for key in FIGURES}
        assert totals(villages) == expected, regency["code"]
        assert totals(districts) == expected, regency["code"]
        assert all(row["code"].startswith(regency["code"] + ".") for row in villages + districts)
    assert sum(row["serving"] for row in regencies if row["code"] != "15.71") > 0


def test_district_rows_sum_to_province_on_report_date(admin_client):
    districts = get_all(admin_client, "coverage-list", level="district", parent="15", as_of=REPORT_DATE)

    assert len(districts) == 144
    assert totals(districts) == {"serving": 98_350, "protected": 32_475, "unprotected": 65_875}


def test_jambi_has_published_numbers_of_districts_desa_and_kelurahan():
    villages = Village.objects.filter(province__code="15")

    assert District.objects.filter(province__code="15").count() == 144
    assert villages.filter(kind="desa").count() == 1414
    assert villages.filter(kind="kelurahan").count() == 171
    assert villages.count() == 1585
    assert Regency.objects.filter(province__code="15").count() == 11


def test_load_demo_twice_changes_nothing():
    before = state_counts()

    call_command("load_demo", stdout=io.StringIO())

    assert state_counts() == before
    assert before["serving"] == 98_350


def test_counters_equal_full_recount():
    assert_statuses_mirrored()
    maintained = sorted(VillageCoverage.objects.values_list("village_id", "institution", "serving", "protected"))

    counters_recount()

    recounted = sorted(VillageCoverage.objects.values_list("village_id", "institution", "serving", "protected"))
    assert recounted == maintained
    assert sum(row[2] for row in recounted) == 98_350


def test_counters_equal_history_for_today_after_expiry(set_today):
    enrollments_expire()
    today = clock.today()
    group = ["village_id", "institution"]
    from_counters = {
        (row["village_id"], row["institution"]): (row["serving_sum"], row["protected_sum"])
        for row in figure_source(today).aggregate(where={}, group=group)
        if row["serving_sum"]
    }
    # One day later "today" is in the past, so the same question is answered from the history.
    set_today(today + datetime.timedelta(days=1))

    from_history = {
        (row["village_id"], row["institution"]): (row["serving_sum"], row["protected_sum"])
        for row in figure_source(today).aggregate(where={}, group=group)
    }

    assert from_history == from_counters
    assert sum(serving for serving, _ in from_history.values()) == 98_350


def test_snapshot_of_report_date_matches_published_figures():
    jambi = CoverageSnapshot.objects.get(region_code="15", date=datetime.date(2024, 12, 2))

    assert (jambi.serving, jambi.protected) == (98_350, 32_475)
    assert (
        CoverageSnapshot.objects.filter(date=datetime.date(2024, 12, 2), region_code__regex=r"^15\.[0-9]{2}$").count()
        == 10
    )


def test_the_demo_has_a_village_apparatus_target_for_this_year(admin_client, today):
    body = admin_client.get(reverse("coverage-detail", args=["15"])).json()

    assert body["as_of"] == today.isoformat()
    assert Decimal(str(body["target_pct"])) == Decimal("55")  # 2025's, kept for every later year
    assert body["gap_to_target"] > 0  # 33% protected against 55%


def test_the_demo_has_the_official_names_and_jambis_outlines():
    assert Village.objects.get(code="15.08.01.2001").name == "Pedukun"  # shipped with the project
    assert Boundary.objects.filter(level="regency", code__startswith="15.", detail=0).count() == 11
    assert Boundary.objects.filter(level="village", detail=2).count() == 1568  # 17 have none in the source


# -- the aggregate exports (DHIS2 dataValueSets, ADX) ----------------------------------------

EXPORT_FIGURES = {"UCJ_SERVING": "serving", "UCJ_PROTECTED": "protected", "UCJ_UNPROTECTED": "unprotected"}


def export_expected(client, level: str, parent: str, periods: dict[str, str]) -> dict[tuple[str, str, str], object]:
    """{(period, org unit, data element): value} as the coverage rows give them on each period's day."""
    expected: dict[tuple[str, str, str], object] = {}
    for period, day in periods.items():
        for row in get_all(client, "coverage-list", level=level, parent=parent, as_of=day):
            for element, figure in EXPORT_FIGURES.items():
                expected[(period, row["code"], element)] = str(row[figure])
            if row["target_pct"] is not None:
                expected[(period, row["code"], "UCJ_TARGET_PCT")] = Decimal(str(row["target_pct"]))
    return expected


def exported(data_values: list[dict]) -> dict[tuple[str, str, str], object]:
    return {
        (v["period"], v["orgUnit"], v["dataElement"]): Decimal(v["value"])
        if v["dataElement"] == "UCJ_TARGET_PCT"
        else v["value"]
        for v in data_values
    }


@pytest.mark.parametrize("level", ["regency", "district"])
def test_dhis2_export_of_the_demo_matches_the_coverage_rows(admin_client, level):
    """Each month of the report's quarter as at its last day (the demo's dates are all past)."""
    params = {"level": level, "parent": "15", "start": "2024-10-01", "end": "2024-12-31"}
    response = admin_client.get(reverse("coverage-export-dhis2"), params)

    assert response.status_code == 200
    values = response.json()["dataValues"]
    periods = {"202410": "2024-10-31", "202411": "2024-11-30", "202412": "2024-12-31"}
    expected = export_expected(admin_client, level, "15", periods)
    assert exported(values) == expected
    assert len(values) == len(expected)
    serving = sum(int(v["value"]) for v in values if v["dataElement"] == "UCJ_SERVING" and v["period"] == "202412")
    assert (
        serving
        == next(row for row in get_all(admin_client, "coverage-list", level="province", as_of="2024-12-31"))["serving"]
    )


def test_adx_export_of_the_demo_matches_the_dhis2_export(admin_client):
    from xml.etree import ElementTree

    params = {"level": "regency", "parent": "15", "start": "2024-01-01", "end": "2024-12-31", "period_type": "yearly"}
    dhis2 = admin_client.get(reverse("coverage-export-dhis2"), params)
    adx = admin_client.get(reverse("coverage-export-adx"), params)

    assert (dhis2.status_code, adx.status_code) == (200, 200)
    ns = "{urn:ihe:qrph:adx:2015}"
    in_adx = {
        (group.get("period"), group.get("orgUnit"), value.get("dataElement")): value.get("value")
        for group in ElementTree.fromstring(adx.content).findall(f"{ns}group")
        for value in group.findall(f"{ns}dataValue")
    }
    in_dhis2 = {
        (f"{v['period']}-01-01/P1Y", v["orgUnit"], v["dataElement"]): v["value"] for v in dhis2.json()["dataValues"]
    }
    assert in_adx == in_dhis2
    assert exported(dhis2.json()["dataValues"]) == export_expected(
        admin_client, "regency", "15", {"2024": "2024-12-31"}
    )
    assert in_dhis2[("2024-01-01/P1Y", "15.08", "UCJ_TARGET_PCT")] == "53"  # the demo's 2024 target
