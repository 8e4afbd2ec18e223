"""Assertion helpers shared by the enrollment tests: counters, recount, database snapshots."""

from __future__ import annotations

from django.db.models import F

from coverage.models import TOTAL_COLUMNS, RegencyCoverage, RegencyTotals, VillageCoverage, VillageTotals
from coverage.services import counters_recount
from enrollment.models import ApparatusWorker, Enrollment, EnrollmentEvent, WorkerPeriod


def counters() -> dict[tuple[str, str], tuple[int, int]]:
    """Maintained counters as {(village code, institution): (serving, protected)}.

    Rows at zero are left out: a worker who moves away leaves a zero row behind, which a
    recount does not create, and which means the same thing as no row.
    """
    return {
        (code, institution): (serving, protected)
        for code, institution, serving, protected in VillageCoverage.objects.values_list(
            "village__code", "institution", "serving", "protected"
        )
        if serving or protected
    }


def counter_rows() -> set[tuple]:
    """Every non-zero counter row, village and regency, with its denormalized parents (to compare
    with a recount)."""
    villages = {
        ("village", *row)
        for row in VillageCoverage.objects.values_list(
            "village_id", "district_id", "regency_id", "province_id", "institution", "serving", "protected"
        )
        if row[-2] or row[-1]
    }
    regencies = {
        ("regency", *row)
        for row in RegencyCoverage.objects.values_list(
            "regency_id", "province_id", "institution", "serving", "protected"
        )
        if row[-2] or row[-1]
    }
    # The totals of all institutions, every figure (rows at zero left out likewise).
    width = len(TOTAL_COLUMNS)
    totals = {
        ("village totals", *row)
        for row in VillageTotals.objects.values_list(
            "village_id", "district_id", "regency_id", "province_id", *TOTAL_COLUMNS
        )
        if any(row[-width:])
    } | {
        ("regency totals", *row)
        for row in RegencyTotals.objects.values_list("regency_id", "province_id", *TOTAL_COLUMNS)
        if any(row[-width:])
    }
    return villages | regencies | totals


def assert_statuses_mirrored() -> None:
    """Every worker carries its enrollment's status (the copy the worker lists filter on)."""
    mismatched = ApparatusWorker.objects.exclude(enrollment_status=F("enrollment__status"))
    assert list(mismatched.values_list("pk", "enrollment_status", "enrollment__status")) == []


def recounted_rows() -> set[tuple]:
    """The counter rows a full recount produces (the recount replaces the maintained rows);
    checks the workers' copies of their enrollment status on the way."""
    assert_statuses_mirrored()
    counters_recount()
    return counter_rows()


def db_state() -> dict:
    """Everything a rejected request must leave untouched."""
    return {
        "workers": list(ApparatusWorker.objects.order_by("pk").values()),
        "enrollments": list(Enrollment.objects.order_by("pk").values()),
        "events": EnrollmentEvent.objects.count(),
        "periods": WorkerPeriod.objects.count(),
        "counters": sorted(VillageCoverage.objects.values_list("village_id", "institution", "serving", "protected")),
        "counter_rows": VillageCoverage.objects.count(),
        "regency_counters": sorted(
            RegencyCoverage.objects.values_list("regency_id", "institution", "serving", "protected")
        ),
        "totals": sorted(VillageTotals.objects.values_list("village_id", *TOTAL_COLUMNS)),
        "regency_totals": sorted(RegencyTotals.objects.values_list("regency_id", *TOTAL_COLUMNS)),
    }


def error_attrs(response) -> set[str | None]:
    """The fields an error body names."""
    body = response.json()
    assert set(body) == {"type", "errors"}, body
    return {error["attr"] for error in body["errors"]}


def error_codes(response) -> set[str]:
    return {error["code"] for error in response.json()["errors"]}
