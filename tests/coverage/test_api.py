"""The coverage API: figures on any date, breakdowns, trends, exports, targets and workforce figures."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from access.models import AccessProfile
from coverage.models import CoverageSnapshot, Target, WorkforceFigure
from villages.models import Province, Regency
from villages.services import regions_import

from .conftest import DAY_ONE, DAY_TWO, D, build_after_day_one, build_until_day_one

pytestmark = pytest.mark.django_db

ROW_COLUMNS = ["code", "name", "serving", "protected", "unprotected", "coverage_pct", "target_pct", "gap_to_target"]
UNPROTECTED_COLUMNS = [
    "code",
    "name",
    "district_code",
    "district_name",
    "regency_code",
    "regency_name",
    "serving",
    "protected",
    "unprotected",
]


def pct(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def ok(response) -> dict:
    assert response.status_code == 200, response.content[:500]
    return response.json()


def error_attrs(response) -> set[str | None]:
    body = response.json()
    assert set(body) == {"type", "errors"}, body
    return {error["attr"] for error in body["errors"]}


def rows(client, **params) -> list[dict]:
    body = ok(client.get(reverse("coverage-list"), {"page_size": 500, **params}))
    assert body["next"] is None
    return body["results"]


def figures(row: dict) -> tuple:
    return (row["code"], row["serving"], row["protected"], row["unprotected"], pct(row["coverage_pct"]))


def user_with_role(role: str, **regions):
    user = get_user_model().objects.create_user(f"{role}-user", password="pw-role-123")
    AccessProfile.objects.create(user=user, role=role, **regions)
    return user


@pytest.fixture
def day_one(workers, set_today):
    """The scenario's first phase, read on DAY_ONE (so from the counters); targets 50% in Jambi."""
    set_today(DAY_ONE)
    people = build_until_day_one(workers)
    Target.objects.create(kind="village_apparatus", year=2024, region_code="15", target_pct=Decimal("50"))
    return people


# ---------------------------------------------------------------------------------------------
# Figures on a past date equal what the counters said on that date

LIST_QUERIES = [
    {"level": "province"},
    {"level": "regency"},
    {"level": "regency", "parent": "15"},
    {"level": "district", "parent": "15"},
    {"level": "district", "parent": "15.01"},
    {"level": "village", "parent": "15.01"},
    {"level": "village", "parent": "15.08.01"},
    {"level": "village"},
    {"level": "village", "parent": "15", "institution": "pemerintah_desa"},
]
DETAIL_CODES = ["15", "15.01", "15.08", "15.71", "15.01.01", "15.01.01.2001", "15.08.01.2001", "16", "16.01.01.2001"]


def test_coverage_in_the_past_equals_what_the_counters_gave_that_day(admin_client, day_one, workers, set_today):
    said_on_day_one = {i: rows(admin_client, **q) for i, q in enumerate(LIST_QUERIES)}
    details_on_day_one = {code: ok(admin_client.get(reverse("coverage-detail", args=[code]))) for code in DETAIL_CODES}
    set_today(DAY_TWO)
    build_after_day_one(workers, day_one)

    for i, query in enumerate(LIST_QUERIES):
        assert rows(admin_client, as_of=DAY_ONE.isoformat(), **query) == said_on_day_one[i], query
    for code in DETAIL_CODES:
        detail = ok(admin_client.get(reverse("coverage-detail", args=[code]), {"as_of": DAY_ONE.isoformat()}))
        assert detail == details_on_day_one[code], code
    today = ok(admin_client.get(reverse("coverage-detail", args=["15"])))
    assert (today["serving"], today["protected"]) == (8, 6)  # the later events did change today's figures
    assert (details_on_day_one["15"]["serving"], details_on_day_one["15"]["protected"]) == (10, 5)


def test_coverage_rows_give_figures_target_and_gap_per_region(admin_client, day_one):
    result = rows(admin_client, level="village", parent="15.01")

    assert [figures(row) for row in result] == [
        ("15.01.01.2001", 4, 2, 2, Decimal("50.00")),
        ("15.01.01.2002", 2, 1, 1, Decimal("50.00")),
        ("15.01.02.2001", 1, 0, 1, Decimal("0.00")),
    ]
    assert [row["name"] for row in result] == ["Lempur Tengah", "Lempur Mudik", "Pulau Tengah"]
    assert [(pct(row["target_pct"]), row["gap_to_target"]) for row in result] == [
        (Decimal(50), 0),
        (Decimal(50), 0),
        (Decimal(50), 1),
    ]


def test_coverage_rows_include_regions_without_workers_with_null_pct(admin_client, day_one):
    result = rows(admin_client, level="regency", parent="15")

    kota = next(row for row in result if row["code"] == "15.71")
    assert (kota["serving"], kota["protected"], kota["coverage_pct"], kota["gap_to_target"]) == (0, 0, None, 0)
    assert [row["code"] for row in result] == ["15.01", "15.08", "15.71"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"ordering": "-coverage_pct"},
            ["15.08.01.2001", "15.01.01.2001", "15.01.01.2002", "15.01.02.2001", "15.08.01.1001", "15.71.01.1001"],
        ),
        (
            {"ordering": "coverage_pct"},
            ["15.01.02.2001", "15.08.01.1001", "15.01.01.2001", "15.01.01.2002", "15.08.01.2001", "15.71.01.1001"],
        ),
        (
            {"ordering": "-unprotected"},
            ["15.01.01.2001", "15.01.01.2002", "15.01.02.2001", "15.08.01.1001", "15.08.01.2001", "15.71.01.1001"],
        ),
        (
            {"ordering": "name"},
            ["15.08.01.1001", "15.01.01.2002", "15.01.01.2001", "15.01.02.2001", "15.08.01.2001", "15.71.01.1001"],
        ),
        ({"coverage_pct_lt": "50"}, ["15.01.02.2001", "15.08.01.1001"]),
        ({"coverage_pct_gte": "50"}, ["15.01.01.2001", "15.01.01.2002", "15.08.01.2001"]),
        ({"has_unprotected": "true"}, ["15.01.01.2001", "15.01.01.2002", "15.01.02.2001", "15.08.01.1001"]),
        ({"has_unprotected": "false"}, ["15.08.01.2001", "15.71.01.1001"]),
    ],
)
def test_coverage_rows_sort_and_filter_by_figures(admin_client, day_one, params, expected):
    result = rows(admin_client, level="village", parent="15", **params)

    assert [row["code"] for row in result] == expected


def test_coverage_rows_of_a_caller_cover_only_its_regions(api_client, day_one):
    api_client.force_authenticate(user_with_role("regency_officer", regency=Regency.objects.get(code="15.08")))

    assert [row["code"] for row in rows(api_client, level="regency", parent="15")] == ["15.08"]
    assert [row["code"] for row in rows(api_client, level="village")] == ["15.08.01.1001", "15.08.01.2001"]
    assert api_client.get(reverse("coverage-detail", args=["15.01"])).status_code == 404


# ---------------------------------------------------------------------------------------------
# One region: breakdowns, rank, change, premium estimate


def test_coverage_detail_breaks_down_by_institution_and_funding_source(admin_client, day_one):
    body = ok(admin_client.get(reverse("coverage-detail", args=["15.01.01.2001"])))

    assert (body["serving"], body["protected"], body["unprotected"], pct(body["coverage_pct"])) == (
        4,
        2,
        2,
        Decimal("50.00"),
    )
    assert body["level"] == "village"
    assert body["as_of"] == DAY_ONE.isoformat()
    assert [
        (i["institution"], i["serving"], i["protected"], i["unprotected"], pct(i["coverage_pct"]))
        for i in body["by_institution"]
    ] == [
        ("bpd", 1, 1, 0, Decimal("100.00")),
        ("pemerintah_desa", 1, 1, 0, Decimal("100.00")),
        ("pkk", 1, 0, 1, Decimal("0.00")),
        ("rt", 1, 0, 1, Decimal("0.00")),
    ]
    assert body["by_funding_source"] == [
        {"funding_source": "apbd_kabupaten", "protected": 1},
        {"funding_source": "apbdes", "protected": 1},
    ]


def test_coverage_detail_ranks_region_among_its_siblings(admin_client, day_one):
    regencies = {
        code: ok(admin_client.get(reverse("coverage-detail", args=[code]))) for code in ("15.01", "15.08", "15.71")
    }

    # 15.08: 2/3 = 66.67%, 15.01: 3/7 = 42.86%; 15.71 has nobody and no rank.
    assert [(r["rank"], r["ranked_siblings"]) for r in regencies.values()] == [(2, 2), (1, 2), (None, 2)]
    province = ok(admin_client.get(reverse("coverage-detail", args=["16"])))
    assert (province["rank"], province["ranked_siblings"]) == (1, 2)  # 16: 100% before Jambi's 50%


def test_coverage_detail_compare_gives_change_in_points(admin_client, day_one, workers, set_today):
    set_today(DAY_TWO)
    build_after_day_one(workers, day_one)

    body = ok(admin_client.get(reverse("coverage-detail", args=["15"]), {"compare": DAY_ONE.isoformat()}))

    # DAY_ONE 5/10 = 50%, DAY_TWO 6/8 = 75%.
    assert pct(body["coverage_pct"]) == Decimal("75.00")
    assert body["compare"] == DAY_ONE.isoformat()
    assert pct(body["compare_coverage_pct"]) == Decimal("50.00")
    assert pct(body["change_pct_points"]) == Decimal("25.00")


def test_coverage_detail_without_compare_has_no_change(admin_client, day_one):
    body = ok(admin_client.get(reverse("coverage-detail", args=["15"])))

    assert (body["compare"], body["compare_coverage_pct"], body["change_pct_points"]) == (None, None, None)


def test_coverage_detail_compare_after_as_of_is_refused(admin_client, day_one):
    response = admin_client.get(
        reverse("coverage-detail", args=["15"]), {"as_of": "2024-03-01", "compare": "2024-04-01"}
    )

    assert response.status_code == 400
    assert error_attrs(response) == {"compare"}


@pytest.fixture
def premium_village(workers, set_today):
    """Kota Baru's kelurahan: four unprotected workers now, one protected, one who left."""
    set_today(DAY_ONE)
    village = "15.71.01.1001"
    workers.register(village, monthly_wage=2_500_000)  # PU
    workers.register(village, monthly_wage=1_234_567)  # PU
    workers.register(village, institution="rt", position="ketua", wage_basis="honorarium", monthly_wage=400_000)
    workers.register(village, monthly_wage=None)  # siltap without a known wage: BPU
    protected = workers.register(village, monthly_wage=3_000_000)
    workers.activate(protected, D(2024, 3, 1), scheme="pu")
    left = workers.register(village, institution="linmas", position="anggota", wage_basis="honorarium")
    workers.end(left, D(2024, 4, 1))
    return village


def test_premium_estimate_prices_unprotected_workers_by_scheme(admin_client, premium_village):
    body = ok(admin_client.get(reverse("coverage-detail", args=[premium_village])))

    estimate = body["premium_estimate"]
    assert pct(estimate.pop("pu_rate_pct")) == Decimal("0.54")
    # PU: (2,500,000 + 1,234,567) x 0.54% = 20,166.66 -> 20,167; BPU: 2 x (10,000 + 6,800).
    assert estimate == {
        "unprotected_workers": 4,
        "pu_workers": 2,
        "pu_monthly_wages": 3_734_567,
        "pu_monthly_premium": 20_167,
        "bpu_workers": 2,
        "bpu_monthly_rate": 16_800,
        "bpu_monthly_premium": 33_600,
        "monthly_premium": 53_767,
    }


def test_premium_estimate_in_the_past_counts_who_was_unprotected_then(admin_client, premium_village):
    body = ok(admin_client.get(reverse("coverage-detail", args=[premium_village]), {"as_of": "2024-02-15"}))

    estimate = body["premium_estimate"]
    # Not yet protected: +3,000,000 PU; not yet gone: +1 BPU.
    assert {k: estimate[k] for k in ("unprotected_workers", "pu_workers", "pu_monthly_wages", "bpu_workers")} == {
        "unprotected_workers": 6,
        "pu_workers": 3,
        "pu_monthly_wages": 6_734_567,
        "bpu_workers": 3,
    }
    assert (estimate["pu_monthly_premium"], estimate["bpu_monthly_premium"], estimate["monthly_premium"]) == (
        36_367,
        50_400,
        86_767,
    )


# ---------------------------------------------------------------------------------------------
# Trend from snapshots


@pytest.fixture
def snapshots(workers, set_today):
    """Snapshots of Jambi at five dates of early 2024 (stored by the command, from the history)."""
    set_today(DAY_ONE)
    first, second = workers.register("15.01.01.2001"), workers.register("15.01.01.2002")
    workers.activate(first, D(2024, 2, 10))
    workers.activate(second, D(2024, 3, 1))
    for day in ("2024-01-31", "2024-02-15", "2024-02-29", "2024-03-01", "2024-03-04"):
        call_command("snapshot_coverage", "--date", day, stdout=io.StringIO())


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        (
            "month",
            [
                ("2024-01-01", "2024-01-31", 0),
                ("2024-02-01", "2024-02-29", 1),
                ("2024-03-01", "2024-03-04", 2),
            ],
        ),
        (
            "week",
            [
                ("2024-01-29", "2024-01-31", 0),
                ("2024-02-12", "2024-02-15", 1),
                ("2024-02-26", "2024-03-01", 2),
                ("2024-03-04", "2024-03-04", 2),
            ],
        ),
        (
            "day",
            [
                ("2024-01-31", "2024-01-31", 0),
                ("2024-02-15", "2024-02-15", 1),
                ("2024-02-29", "2024-02-29", 1),
                ("2024-03-01", "2024-03-01", 2),
                ("2024-03-04", "2024-03-04", 2),
            ],
        ),
    ],
)
def test_trend_gives_last_snapshot_of_each_period(admin_client, snapshots, interval, expected):
    body = ok(
        admin_client.get(
            reverse("coverage-trend", args=["15"]), {"start": "2024-01-01", "end": "2024-03-31", "interval": interval}
        )
    )

    assert body["interval"] == interval
    assert [(p["period"], p["date"], p["protected"]) for p in body["points"]] == expected
    assert {(p["serving"], p["unprotected"] + p["protected"]) for p in body["points"]} == {(2, 2)}
    assert [pct(p["coverage_pct"]) for p in body["points"]][-1] == Decimal("100.00")


def test_trend_defaults_to_month_and_keeps_to_the_range(admin_client, snapshots):
    body = ok(
        admin_client.get(
            reverse("coverage-trend", args=["15.01.01.2001"]), {"start": "2024-02-01", "end": "2024-02-29"}
        )
    )

    assert body["interval"] == "month"
    assert [(p["date"], p["serving"], p["protected"], pct(p["coverage_pct"])) for p in body["points"]] == [
        ("2024-02-29", 1, 1, Decimal("100.00"))
    ]


def test_trend_of_region_without_snapshots_is_empty(admin_client, snapshots):
    body = ok(admin_client.get(reverse("coverage-trend", args=["16"]), {"start": "2024-01-01", "end": "2024-03-31"}))

    assert body["points"] == []


# ---------------------------------------------------------------------------------------------
# Bad input: a clear error naming the field, never a 500


@pytest.mark.parametrize(
    ("name", "args", "params", "status", "attr"),
    [
        ("coverage-detail", ["99"], {}, 404, None),
        ("coverage-detail", ["15.99"], {}, 404, None),
        ("coverage-list", [], {"level": "regency", "parent": "99"}, 404, "parent"),
        ("coverage-list", [], {"level": "regency", "parent": "15.1"}, 400, "parent"),
        ("coverage-list", [], {"level": "country"}, 400, "level"),
        ("coverage-list", [], {}, 400, "level"),
        ("coverage-list", [], {"level": "regency", "parent": "15.01.01.2001"}, 400, "parent"),
        ("coverage-list", [], {"level": "regency", "parent": "15.01"}, 400, "parent"),
        ("coverage-list", [], {"level": "village", "as_of": "2024-13-01"}, 400, "as_of"),
        ("coverage-list", [], {"level": "village", "as_of": "yesterday"}, 400, "as_of"),
        ("coverage-list", [], {"level": "village", "as_of": "2024-07-01"}, 400, "as_of"),
        ("coverage-list", [], {"level": "village", "ordering": "nik"}, 400, "ordering"),
        ("coverage-list", [], {"level": "village", "institution": "army"}, 400, "institution"),
        ("coverage-list", [], {"level": "village", "coverage_pct_lt": "abc"}, 400, "coverage_pct_lt"),
        ("coverage-detail", ["15"], {"as_of": "2024-02-30"}, 400, "as_of"),
        ("coverage-detail", ["15"], {"as_of": "2025-01-01"}, 400, "as_of"),
        ("coverage-detail", ["15"], {"compare": "01/02/2024"}, 400, "compare"),
        ("coverage-trend", ["99"], {"start": "2024-01-01", "end": "2024-02-01"}, 404, None),
        ("coverage-trend", ["15"], {"start": "2024-1-1x", "end": "2024-02-01"}, 400, "start"),
        ("coverage-trend", ["15"], {"start": "2024-01-01"}, 400, "end"),
        ("coverage-trend", ["15"], {"start": "2024-03-01", "end": "2024-02-01"}, 400, "start"),
        ("coverage-trend", ["15"], {"start": "2021-01-01", "end": "2023-12-31", "interval": "day"}, 400, "end"),
        ("coverage-trend", ["15"], {"start": "2024-01-01", "end": "2024-02-01", "interval": "hour"}, 400, "interval"),
        ("coverage-unprotected-villages", [], {"branch": "nowhere"}, 404, "branch"),
        ("coverage-unprotected-villages", [], {"regency": "15"}, 400, "regency"),
        ("coverage-unprotected-villages", [], {"regency": "15.99"}, 404, "regency"),
        ("coverage-unprotected-villages", [], {"regency": "15.08", "branch": "muara-bungo"}, 400, "branch"),
        ("workforce-detail", ["15"], {}, 404, "code"),
        ("workforce-detail", ["15"], {"as_of": "2024-07-01"}, 400, "as_of"),
        ("workforce-detail", ["15"], {"as_of": "2024-02-30"}, 400, "as_of"),
    ],
)
def test_bad_input_is_refused_naming_the_field(admin_client, day_one, name, args, params, status, attr):
    response = admin_client.get(reverse(name, args=args), params)

    assert response.status_code == status, response.json()
    if attr is not None:
        assert attr in error_attrs(response)
    else:
        assert set(response.json()) == {"type", "errors"}


def test_a_query_is_refused_each_time_in_the_callers_language_and_one_accepted_is_answered_each_time(
    admin_client, day_one
):
    """What a query string validates to is kept; a refused one is not: asked again, in another
    language, it is refused again in that language."""
    url = reverse("coverage-list")
    bad = {"level": "regency", "ordering": "nonsense"}
    messages = []
    for language in ("en", "id", "en"):
        response = admin_client.get(url, bad, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert error["attr"] == "ordering"
        messages.append(error["detail"])
    assert messages[0] == messages[2] != messages[1]

    good = {"level": "regency", "ordering": "-protected"}
    answers = [admin_client.get(url, good).json()["results"] for _ in range(2)]
    assert answers[0] == answers[1]
    assert [row["protected"] for row in answers[0]] == sorted((row["protected"] for row in answers[0]), reverse=True)


def test_trend_range_within_limit_for_days_is_accepted(admin_client, day_one):
    response = admin_client.get(
        reverse("coverage-trend", args=["15"]), {"start": "2023-07-01", "end": "2024-06-30", "interval": "day"}
    )

    assert response.status_code == 200, response.json()


def test_coverage_endpoints_refuse_anonymous_callers(api_client, day_one):
    urls = [
        reverse("coverage-list") + "?level=province",
        reverse("coverage-detail", args=["15"]),
        reverse("coverage-trend", args=["15"]) + "?start=2024-01-01&end=2024-02-01",
        reverse("coverage-unprotected-villages"),
        reverse("workforce-list"),
    ]

    assert [api_client.get(url).status_code for url in urls] == [401] * len(urls)


def test_get_requests_write_nothing(admin_client, day_one, workers, set_today):
    set_today(DAY_TWO)
    build_after_day_one(workers, day_one)
    WorkforceFigure.objects.create(region_code="15", date=D(2024, 8, 12), potential_workers=100, active_participants=40)
    # Rate-limit counts are bookkeeping of requests, not data: every request writes one. The
    # versions are bookkeeping of writes: the first read after the fixtures' writes, in the
    # test's one transaction, moves them on (core.data_version).
    bookkeeping = {"access.RateCount", "coverage.RegionVersion"}
    models = [
        m
        for m in apps.get_models()
        if m._meta.app_label in ("villages", "enrollment", "coverage", "access") and m._meta.label not in bookkeeping
    ]
    before = {m._meta.label: m.objects.count() for m in models}
    urls = [
        (reverse("coverage-list"), {"level": level, "as_of": as_of})
        for level in ("province", "regency", "district", "village")
        for as_of in (DAY_ONE.isoformat(), DAY_TWO.isoformat())
    ] + [
        (reverse("coverage-detail", args=["15.01"]), {"as_of": DAY_ONE.isoformat(), "compare": "2024-01-31"}),
        (reverse("coverage-detail", args=["15.01.01.2001"]), {}),
        (reverse("coverage-trend", args=["15"]), {"start": "2024-01-01", "end": "2024-10-31", "interval": "week"}),
        (reverse("coverage-unprotected-villages"), {"branch": "muara-bungo"}),
        (reverse("target-list"), {}),
        (reverse("workforce-list"), {}),
        (reverse("workforce-detail", args=["15"]), {}),
    ]

    for url, params in urls:
        ok(admin_client.get(url, params))

    assert {m._meta.label: m.objects.count() for m in models} == before
    assert before["enrollment.WorkerPeriod"] > 0


# ---------------------------------------------------------------------------------------------
# Unprotected villages


def test_unprotected_villages_lists_most_unprotected_first(admin_client, day_one):
    body = ok(admin_client.get(reverse("coverage-unprotected-villages")))

    assert [(r["code"], r["serving"], r["protected"], r["unprotected"]) for r in body["results"]] == [
        ("15.01.01.2001", 4, 2, 2),
        ("15.01.01.2002", 2, 1, 1),
        ("15.01.02.2001", 1, 0, 1),
        ("15.08.01.1001", 1, 0, 1),
    ]
    assert body["results"][0] == {
        "code": "15.01.01.2001",
        "name": "Lempur Tengah",
        "district_code": "15.01.01",
        "district_name": "Gunung Raya",
        "regency_code": "15.01",
        "regency_name": "Kabupaten Kerinci",
        "serving": 4,
        "protected": 2,
        "unprotected": 2,
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"branch": "muara-bungo"}, ["15.08.01.1001"]),
        ({"regency": "15.01"}, ["15.01.01.2001", "15.01.01.2002", "15.01.02.2001"]),
        ({"regency": "15.71"}, []),
    ],
)
def test_unprotected_villages_filter_by_branch_or_regency(admin_client, day_one, params, expected):
    body = ok(admin_client.get(reverse("coverage-unprotected-villages"), params))

    assert [r["code"] for r in body["results"]] == expected


# ---------------------------------------------------------------------------------------------
# Exports


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def read_xlsx(response) -> list[list]:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_coverage_rows_export_as_csv(admin_client, day_one):
    response = admin_client.get(reverse("coverage-list"), {"level": "village", "parent": "15.01", "format": "csv"})

    assert read_csv(response) == [
        ROW_COLUMNS,
        ["15.01.01.2001", "Lempur Tengah", "4", "2", "2", "50.00", "50.00", "0"],
        ["15.01.01.2002", "Lempur Mudik", "2", "1", "1", "50.00", "50.00", "0"],
        ["15.01.02.2001", "Pulau Tengah", "1", "0", "1", "0.00", "50.00", "1"],
    ]
    assert 'filename="coverage.csv"' in response["Content-Disposition"]


def test_coverage_rows_export_as_xlsx(admin_client, day_one):
    response = admin_client.get(reverse("coverage-list"), {"level": "regency", "parent": "15", "format": "xlsx"})

    assert read_xlsx(response) == [
        ROW_COLUMNS,
        ["15.01", "Kabupaten Kerinci", 7, 3, 4, 42.86, 50, 1],
        ["15.08", "Kabupaten Bungo", 3, 2, 1, 66.67, 50, 0],
        ["15.71", "Kota Jambi", 0, 0, 0, None, 50, 0],
    ]
    assert 'filename="coverage.xlsx"' in response["Content-Disposition"]


def test_coverage_export_is_not_paginated(admin_client, day_one):
    response = admin_client.get(reverse("coverage-list"), {"level": "village", "page_size": 2, "format": "csv"})

    assert len(read_csv(response)) == 1 + 7


def test_unprotected_villages_export_as_csv_and_xlsx(admin_client, day_one):
    url = reverse("coverage-unprotected-villages")

    as_csv = read_csv(admin_client.get(url, {"regency": "15.01", "format": "csv"}))
    as_xlsx = read_xlsx(admin_client.get(url, {"regency": "15.01", "format": "xlsx"}))

    assert as_csv == [
        UNPROTECTED_COLUMNS,
        ["15.01.01.2001", "Lempur Tengah", "15.01.01", "Gunung Raya", "15.01", "Kabupaten Kerinci", "4", "2", "2"],
        ["15.01.01.2002", "Lempur Mudik", "15.01.01", "Gunung Raya", "15.01", "Kabupaten Kerinci", "2", "1", "1"],
        ["15.01.02.2001", "Pulau Tengah", "15.01.02", "Danau Kerinci", "15.01", "Kabupaten Kerinci", "1", "0", "1"],
    ]
    assert as_xlsx[0] == UNPROTECTED_COLUMNS
    assert as_xlsx[1:] == [[int(v) if v.isdigit() else v for v in row] for row in as_csv[1:]]


def test_export_neutralises_formula_like_region_names(admin_client, day_one):
    regions_import(
        data=b'code,name\n15.01.01,@SUM(A1:A9)\n15.01.01.2002,"=HYPERLINK(""http://evil.example"",""x"")"\n'
        b"15.01.02.2001,+62 Desa\n15.01.02,-Danau\n"
    )
    url = reverse("coverage-unprotected-villages")

    as_csv = read_csv(admin_client.get(url, {"regency": "15.01", "format": "csv"}))
    as_xlsx = read_xlsx(admin_client.get(url, {"regency": "15.01", "format": "xlsx"}))
    rows_csv = read_csv(
        admin_client.get(reverse("coverage-list"), {"level": "village", "parent": "15.01", "format": "csv"})
    )
    rows_xlsx = read_xlsx(
        admin_client.get(reverse("coverage-list"), {"level": "village", "parent": "15.01", "format": "xlsx"})
    )

    hyperlink = '\'=HYPERLINK("http://evil.example","x")'
    for table in (as_csv, as_xlsx):
        assert [(row[1], row[3]) for row in table[1:]] == [
            ("Lempur Tengah", "'@SUM(A1:A9)"),
            (hyperlink, "'@SUM(A1:A9)"),
            ("'+62 Desa", "'-Danau"),
        ]
    for table in (rows_csv, rows_xlsx):
        assert [row[1] for row in table[1:]] == ["Lempur Tengah", hyperlink, "'+62 Desa"]
    # JSON is data, not a spreadsheet: names are returned as stored.
    assert rows(admin_client, level="village", parent="15.01")[1]["name"] == hyperlink[1:]


def test_export_needs_the_export_capability(api_client, day_one):
    api_client.force_authenticate(user_with_role("viewer", province=Province.objects.get(code="15")))

    response = api_client.get(reverse("coverage-list"), {"level": "province", "format": "csv"})

    assert response.status_code == 403
    assert len(rows(api_client, level="province")) == 1  # the JSON rows are still readable


# ---------------------------------------------------------------------------------------------
# Query counts do not grow with the number of regions


def grow_tree(workers) -> None:
    lines = ["code,name", "15.01.03,Kecamatan Baru"] + [f"15.01.03.2{n:03d},Desa Baru {n}" for n in range(1, 41)]
    regions_import(data="\n".join(lines).encode())
    for n in range(1, 41, 3):
        worker = workers.register(f"15.01.03.2{n:03d}")
        workers.activate(worker, D(2024, 2, 1))


def reads(context) -> list[str]:
    """The statements of a request but for the data-version move that a request after a write
    in the same (test) transaction makes first."""
    return [
        q["sql"]
        for q in context.captured_queries
        if "nextval('coverage_data_version_seq')" not in q["sql"]
        and "INTO coverage_dataversion" not in q["sql"]
        and "INTO coverage_regionversion" not in q["sql"]
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"level": "village"},
        {"level": "village", "parent": "15.01", "as_of": "2024-03-01"},
        {"level": "district", "parent": "15"},
        {"level": "village", "format": "csv"},
    ],
)
def test_coverage_rows_query_count_does_not_grow_with_regions(admin_client, day_one, workers, params):
    url = reverse("coverage-list")
    ok_status = admin_client.get(url, params).status_code  # warm the caller's scope
    caches["coverage"].clear()  # computed, not answered from the cache of computed answers
    with CaptureQueriesContext(connection) as small:
        small_rows = admin_client.get(url, params)
    grow_tree(workers)
    admin_client.get(url, params)  # the regions, changed, are read again once (coverage.selectors.kept)
    caches["coverage"].clear()
    with CaptureQueriesContext(connection) as large:
        large_rows = admin_client.get(url, params)

    assert ok_status == small_rows.status_code == large_rows.status_code == 200
    assert len(reads(large)) == len(reads(small))
    assert len(large_rows.content) > len(small_rows.content)


def test_unprotected_villages_query_count_does_not_grow_with_villages(admin_client, day_one, workers):
    url = reverse("coverage-unprotected-villages")
    admin_client.get(url)
    caches["coverage"].clear()  # computed, not answered with the kept answer
    with CaptureQueriesContext(connection) as small:
        admin_client.get(url)
    grow_tree(workers)
    for n in range(2, 41, 3):
        workers.register(f"15.01.03.2{n:03d}")
    admin_client.get(url)  # the regions, changed, are read again once (coverage.selectors.kept)
    caches["coverage"].clear()
    with CaptureQueriesContext(connection) as large:
        body = ok(admin_client.get(url))

    assert len(reads(large)) == len(reads(small))
    assert body["count"] > 4


# ---------------------------------------------------------------------------------------------
# Targets


TARGET = {"kind": "village_apparatus", "year": 2025, "region_code": "15.01", "target_pct": "60.00"}


def test_target_created_by_admin(admin_client, regions):
    response = admin_client.post(reverse("target-list"), TARGET, format="json")

    assert response.status_code == 201, response.json()
    assert {k: v for k, v in response.json().items() if k != "id"} == TARGET
    assert Target.objects.get().target_pct == Decimal("60.00")


def test_target_applies_to_coverage_rows_of_its_year(admin_client, day_one):
    created = admin_client.post(reverse("target-list"), {**TARGET, "year": 2024, "target_pct": "80"}, format="json")
    assert created.status_code == 201, created.json()

    result = {row["code"]: row for row in rows(admin_client, level="village", parent="15")}

    # 15.01 overrides the province's 50%: 80% of 4 = 3.2 -> 3 needed, 2 protected.
    assert (pct(result["15.01.01.2001"]["target_pct"]), result["15.01.01.2001"]["gap_to_target"]) == (Decimal(80), 1)
    assert pct(result["15.08.01.2001"]["target_pct"]) == Decimal(50)


@pytest.mark.parametrize("client_kind", ["anonymous", "viewer"])
def test_target_not_created_by_anonymous_or_viewer(api_client, regions, client_kind):
    if client_kind == "viewer":
        api_client.force_authenticate(user_with_role("viewer", province=Province.objects.get(code="15")))

    response = api_client.post(reverse("target-list"), TARGET, format="json")

    assert response.status_code == (401 if client_kind == "anonymous" else 403)
    assert not Target.objects.exists()


@pytest.mark.parametrize(
    ("change", "attr"),
    [
        ({"target_pct": "120"}, "target_pct"),
        ({"target_pct": "-1"}, "target_pct"),
        ({"year": 1999}, "year"),
        ({"region_code": "15.1"}, "region_code"),
        ({"kind": "everyone"}, "kind"),
    ],
)
def test_target_invalid_values_are_refused_naming_the_field(admin_client, regions, change, attr):
    response = admin_client.post(reverse("target-list"), {**TARGET, **change}, format="json")

    assert response.status_code == 400
    assert attr in error_attrs(response)
    assert not Target.objects.exists()


def test_target_duplicate_is_refused(admin_client, regions):
    assert admin_client.post(reverse("target-list"), TARGET, format="json").status_code == 201

    response = admin_client.post(reverse("target-list"), {**TARGET, "target_pct": "70"}, format="json")

    assert response.status_code == 400
    assert Target.objects.get().target_pct == Decimal("60.00")


def test_target_set_by_province_officer_only_for_its_regencies(api_client, regions):
    api_client.force_authenticate(user_with_role("province_officer", province=Province.objects.get(code="15")))

    own = api_client.post(reverse("target-list"), TARGET, format="json")
    province = api_client.post(reverse("target-list"), {**TARGET, "region_code": "15"}, format="json")
    other = api_client.post(reverse("target-list"), {**TARGET, "region_code": "16.01"}, format="json")

    assert own.status_code == 201, own.json()
    assert (province.status_code, other.status_code) == (400, 400)
    assert error_attrs(province) == error_attrs(other) == {"region_code"}
    assert list(Target.objects.values_list("region_code", flat=True)) == ["15.01"]


# ---------------------------------------------------------------------------------------------
# Workforce figures


@pytest.fixture
def workforce(regions):
    for code, date, potential, active in [
        ("15", D(2024, 8, 12), 1_312_370, 518_632),
        ("15", D(2024, 10, 1), 1_312_370, 543_059),
        ("16", D(2024, 10, 1), 1_000, 500),
    ]:
        WorkforceFigure.objects.create(
            region_code=code, date=date, potential_workers=potential, active_participants=active
        )
    Target.objects.create(kind="workforce", year=2024, region_code="15", target_pct=Decimal("53"))


def test_workforce_list_enriches_figures(admin_client, workforce):
    body = ok(admin_client.get(reverse("workforce-list")))

    by_key = {(r["region_code"], r["date"]): r for r in body["results"]}
    first, second, other = by_key[("15", "2024-08-12")], by_key[("15", "2024-10-01")], by_key[("16", "2024-10-01")]
    assert pct(first["coverage_pct"]) == Decimal("39.52")
    assert (first["previous_date"], first["change_pct_points"]) == (None, None)
    assert pct(second["coverage_pct"]) == Decimal("41.38")
    assert (second["previous_date"], pct(second["change_pct_points"])) == ("2024-08-12", Decimal("1.86"))
    # 53% of 1,312,370 = 695,556.1 -> 695,556 needed.
    assert (pct(second["target_pct"]), second["gap_to_target"]) == (Decimal(53), 152_497)
    assert (second["rank"], second["ranked_regions"]) == (2, 2)
    assert (other["rank"], other["target_pct"], other["gap_to_target"]) == (1, None, None)


def test_workforce_detail_takes_latest_figure_on_or_before_as_of(admin_client, workforce, set_today):
    set_today(DAY_TWO)

    body = ok(admin_client.get(reverse("workforce-detail", args=["15"]), {"as_of": "2024-09-30"}))

    assert (body["date"], body["active_participants"], body["as_of"]) == ("2024-08-12", 518_632, "2024-09-30")
    assert [(t["year"], pct(t["target_pct"]), t["gap_to_target"]) for t in body["targets"]] == [
        (2024, Decimal(53), 176_924)
    ]


WORKFORCE = {"region_code": "15.08", "date": "2024-10-01", "potential_workers": 100_000, "active_participants": 40_000}


def test_workforce_figure_created_by_admin(admin_client, regions):
    response = admin_client.post(reverse("workforce-list"), WORKFORCE, format="json")

    assert response.status_code == 201, response.json()
    assert WorkforceFigure.objects.get().active_participants == 40_000


@pytest.mark.parametrize(
    ("change", "attr"),
    [
        ({"active_participants": 100_001}, "active_participants"),
        ({"region_code": "15.08.01"}, "region_code"),
        ({"potential_workers": -5}, "potential_workers"),
        ({"date": "2024-02-30"}, "date"),
    ],
)
def test_workforce_figure_invalid_values_are_refused(admin_client, regions, change, attr):
    response = admin_client.post(reverse("workforce-list"), {**WORKFORCE, **change}, format="json")

    assert response.status_code == 400
    assert attr in error_attrs(response)
    assert not WorkforceFigure.objects.exists()


def test_workforce_figure_partial_update_is_checked_against_the_stored_count(admin_client, workforce):
    url = reverse("workforce-detail", args=["16"]) + "?as_of=2024-10-01"

    lowered = admin_client.patch(url, {"active_participants": 450}, format="json")
    too_many = admin_client.patch(url, {"active_participants": 1_001}, format="json")
    too_few = admin_client.patch(url, {"potential_workers": 449}, format="json")

    assert lowered.status_code == 200, lowered.json()
    assert (too_many.status_code, too_few.status_code) == (400, 400)
    assert error_attrs(too_many) == error_attrs(too_few) == {"active_participants"}
    figure = WorkforceFigure.objects.get(region_code="16")
    assert (figure.potential_workers, figure.active_participants) == (1_000, 450)


def test_workforce_figure_not_created_by_province_officer(api_client, regions):
    api_client.force_authenticate(user_with_role("province_officer", province=Province.objects.get(code="15")))

    response = api_client.post(reverse("workforce-list"), WORKFORCE, format="json")

    assert response.status_code == 403
    assert not WorkforceFigure.objects.exists()


def test_snapshots_are_not_written_by_reading_a_trend(admin_client, snapshots):
    before = list(CoverageSnapshot.objects.order_by("pk").values())

    ok(admin_client.get(reverse("coverage-trend", args=["15"]), {"start": "2024-01-01", "end": "2024-03-31"}))

    assert list(CoverageSnapshot.objects.order_by("pk").values()) == before
