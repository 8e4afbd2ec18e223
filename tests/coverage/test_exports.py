"""The aggregate exports: DHIS2 dataValueSets JSON and ADX XML hold, for every region and period,
the figures the coverage rows give as at the period's last day (or today), in the shapes DHIS2's
and IHE's documentation describe; scoped to the caller; bad parameters refused by name."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from jsonschema import Draft7Validator

from access.models import AccessProfile
from coverage.models import Target
from villages.models import Regency

from .conftest import DAY_ONE, DAY_TWO, D, build_after_day_one, build_until_day_one

pytestmark = pytest.mark.django_db

DHIS2 = "coverage-export-dhis2"
ADX = "coverage-export-adx"
ADX_NS = "urn:ihe:qrph:adx:2015"
ELEMENTS = {"UCJ_SERVING": "serving", "UCJ_PROTECTED": "protected", "UCJ_UNPROTECTED": "unprotected"}

# A data value set as DHIS2's Web API documents it ("Data values": sending data values, and
# sending large bulks of them, each value naming its own period and org unit): the properties a
# set and a value may have, values as text, periods in DHIS2's formats (yyyyMM, yyyyQn, yyyy).
DATA_VALUE_SET_SCHEMA = {
    "type": "object",
    "required": ["dataValues"],
    "additionalProperties": False,
    "properties": {
        "dataSet": {"type": "string", "minLength": 1},
        "completeDate": {"type": "string"},
        "period": {"type": "string"},
        "orgUnit": {"type": "string"},
        "attributeOptionCombo": {"type": "string"},
        "dataValues": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["dataElement", "period", "orgUnit", "value"],
                "additionalProperties": False,
                "properties": {
                    "dataElement": {"type": "string", "minLength": 1},
                    "period": {"type": "string", "pattern": r"^[0-9]{4}([0-9]{2}|Q[1-4])?$"},
                    "orgUnit": {"type": "string", "minLength": 1},
                    "categoryOptionCombo": {"type": "string"},
                    "attributeOptionCombo": {"type": "string"},
                    "value": {"type": "string"},
                    "comment": {"type": "string"},
                    "followup": {"type": "boolean"},
                },
            },
        },
    },
}
ISO_PERIOD = re.compile(r"^(\d{4})-(\d{2})-(\d{2})/P(1M|3M|1Y)$")


@pytest.fixture
def history(workers, set_today):
    """The coverage scenario written over 2024 (tests/coverage/conftest.py), read on DAY_TWO;
    Jambi's target 50% in 2024."""
    set_today(DAY_ONE)
    w = build_until_day_one(workers)
    set_today(DAY_TWO)
    build_after_day_one(workers, w)
    Target.objects.create(kind="village_apparatus", year=2024, region_code="15", target_pct=Decimal("50"))
    Target.objects.create(kind="village_apparatus", year=2024, region_code="15.08", target_pct=Decimal("52.5"))


def ok(response):
    assert response.status_code == 200, response.content[:500]
    return response


def dhis2(client, **params) -> dict:
    response = ok(client.get(reverse(DHIS2), params))
    assert response["Content-Type"] == "application/json"
    return response.json()


def adx(client, **params) -> ElementTree.Element:
    response = ok(client.get(reverse(ADX), params))
    assert response["Content-Type"] == "application/adx+xml"
    assert response.content.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return ElementTree.fromstring(response.content)


def rows_on(client, as_of: datetime.date, **params) -> dict[str, dict]:
    response = ok(client.get(reverse("coverage-list"), {"page_size": 500, "as_of": as_of.isoformat(), **params}))
    return {row["code"]: row for row in response.json()["results"]}


def by_key(data_values: list[dict]) -> dict[tuple[str, str, str], str]:
    """{(period, org unit, data element): value}, each key once."""
    found = {(v["period"], v["orgUnit"], v["dataElement"]): v["value"] for v in data_values}
    assert len(found) == len(data_values)
    return found


def adx_values(root: ElementTree.Element) -> dict[tuple[str, str, str], str]:
    """{(ISO period, org unit, data element): value} of an ADX message."""
    found = {}
    for group in root:
        for value in group:
            found[(group.get("period"), group.get("orgUnit"), value.get("dataElement"))] = value.get("value")
    return found


def month_end(year: int, month: int) -> datetime.date:
    return (D(year + month // 12, month % 12 + 1, 1)) - datetime.timedelta(days=1)


def expected_values(client, periods: list[tuple[str, datetime.date]], **params) -> dict:
    """What the coverage rows give for each (period id, date): the export's values."""
    expected = {}
    for period, as_of in periods:
        for code, row in rows_on(client, as_of, **params).items():
            for element, figure in ELEMENTS.items():
                expected[(period, code, element)] = str(row[figure])
            if row["target_pct"] is not None:
                expected[(period, code, "UCJ_TARGET_PCT")] = Decimal(str(row["target_pct"]))
    return expected


def as_compared(values: dict) -> dict:
    """Targets as numbers (`52.5` and `52.50` are one value); counts as they are written."""
    return {key: Decimal(value) if key[2] == "UCJ_TARGET_PCT" else value for key, value in values.items()}


# -- the shapes --------------------------------------------------------------------------------


def test_dhis2_export_is_a_data_value_set_as_dhis2_documents_it(admin_client, history):
    body = dhis2(admin_client, level="regency", parent="15", start="2024-01-01", end="2024-10-31")

    assert list(Draft7Validator(DATA_VALUE_SET_SCHEMA).iter_errors(body)) == []
    assert body["dataSet"] == "UCJ_COVERAGE"
    values = body["dataValues"]
    assert {v["period"] for v in values} == {f"2024{m:02d}" for m in range(1, 11)}
    assert {v["orgUnit"] for v in values} == {"15.01", "15.08", "15.71"}
    assert {v["dataElement"] for v in values} == {"UCJ_SERVING", "UCJ_PROTECTED", "UCJ_UNPROTECTED", "UCJ_TARGET_PCT"}
    assert len(values) == 10 * 3 * 4
    assert all(re.fullmatch(r"\d+", v["value"]) for v in values if v["dataElement"] != "UCJ_TARGET_PCT")


def test_adx_export_is_an_adx_message(admin_client, history):
    root = adx(admin_client, level="regency", parent="15", start="2024-01-01", end="2024-10-31", data_set="DS_UCJ")

    assert root.tag == f"{{{ADX_NS}}}adx"
    exported = datetime.datetime.fromisoformat(root.get("exported").replace("Z", "+00:00"))
    assert exported.tzinfo is not None
    assert len(root) == 10 * 3
    for group in root:
        assert group.tag == f"{{{ADX_NS}}}group"
        assert set(group.attrib) == {"orgUnit", "period", "dataSet"}
        assert group.get("dataSet") == "DS_UCJ"
        match = ISO_PERIOD.fullmatch(group.get("period"))
        assert match is not None, group.get("period")
        assert (match.group(3), match.group(4)) == ("01", "1M")
        datetime.date.fromisoformat(group.get("period").split("/")[0])
        elements = []
        for value in group:
            assert value.tag == f"{{{ADX_NS}}}dataValue"
            assert set(value.attrib) == {"dataElement", "value"}
            elements.append(value.get("dataElement"))
            if value.get("dataElement") == "UCJ_TARGET_PCT":
                assert Decimal(value.get("value")) in (Decimal("50"), Decimal("52.5"))
            else:
                assert str(int(value.get("value"))) == value.get("value")
        assert elements == ["UCJ_SERVING", "UCJ_PROTECTED", "UCJ_UNPROTECTED", "UCJ_TARGET_PCT"]


@pytest.mark.parametrize(
    ("period_type", "dhis2_periods", "iso_periods"),
    [
        (
            "quarterly",
            ["2024Q1", "2024Q2", "2024Q3", "2024Q4"],
            ["2024-01-01/P3M", "2024-04-01/P3M", "2024-07-01/P3M", "2024-10-01/P3M"],
        ),
        ("yearly", ["2024"], ["2024-01-01/P1Y"]),
    ],
)
def test_quarters_and_years_are_written_as_each_format_writes_them(
    admin_client, history, period_type, dhis2_periods, iso_periods
):
    params = {"level": "province", "start": "2024-02-10", "end": "2024-10-31", "period_type": period_type}

    body = dhis2(admin_client, **params)
    root = adx(admin_client, **params)

    assert sorted({v["period"] for v in body["dataValues"]}) == dhis2_periods
    assert sorted({group.get("period") for group in root}) == iso_periods


# -- the values ----------------------------------------------------------------------------------


def test_dhis2_values_equal_the_coverage_rows_at_each_periods_last_day_or_today(admin_client, history):
    body = dhis2(admin_client, level="village", parent="15.01", start="2024-03-15", end="2024-10-31")

    # October is still running on DAY_TWO (its last day): every other month as at its last day.
    periods = [(f"2024{m:02d}", month_end(2024, m)) for m in range(3, 11)]
    expected = expected_values(admin_client, periods, level="village", parent="15.01")
    assert as_compared(by_key(body["dataValues"])) == expected
    assert expected[("202406", "15.01.01.2001", "UCJ_SERVING")] == "4"  # the scenario's head, bpd, rt, pkk


def test_the_running_period_is_counted_as_of_today(admin_client, history, set_today):
    set_today(D(2024, 11, 20))

    body = dhis2(admin_client, level="regency", parent="15", start="2024-11-01", period_type="yearly")

    expected = expected_values(admin_client, [("2024", D(2024, 11, 20))], level="regency", parent="15")
    assert as_compared(by_key(body["dataValues"])) == expected


def test_adx_holds_the_same_values_as_the_dhis2_export(admin_client, history):
    params = {"level": "district", "parent": "15", "start": "2024-01-01", "end": "2024-10-31"}

    body = dhis2(admin_client, **params)
    root = adx(admin_client, **params)

    def iso(period: str) -> str:
        return f"{period[:4]}-{period[4:]}-01/P1M"

    assert adx_values(root) == {
        (iso(p), unit, element): v for (p, unit, element), v in by_key(body["dataValues"]).items()
    }


def test_a_range_across_a_year_uses_each_years_target(admin_client, history, set_today):
    Target.objects.create(kind="village_apparatus", year=2025, region_code="15", target_pct=Decimal("60"))
    set_today(D(2025, 2, 15))

    body = dhis2(admin_client, level="regency", parent="15", start="2024-11-01", end="2025-02-15")

    targets = {
        (v["period"], v["orgUnit"]): Decimal(v["value"])
        for v in body["dataValues"]
        if v["dataElement"] == "UCJ_TARGET_PCT"
    }
    assert targets == {
        ("202411", "15.01"): Decimal("50"),
        ("202412", "15.01"): Decimal("50"),
        ("202501", "15.01"): Decimal("60"),
        ("202502", "15.01"): Decimal("60"),
        ("202411", "15.08"): Decimal("52.5"),  # its own 2024 target
        ("202412", "15.08"): Decimal("52.5"),
        ("202501", "15.08"): Decimal("60"),  # none of its own in 2025: Jambi's
        ("202502", "15.08"): Decimal("60"),
        ("202411", "15.71"): Decimal("50"),
        ("202412", "15.71"): Decimal("50"),
        ("202501", "15.71"): Decimal("60"),
        ("202502", "15.71"): Decimal("60"),
    }


def test_a_region_without_a_target_has_no_target_value(admin_client, history):
    body = dhis2(admin_client, level="province", start="2024-10-01", end="2024-10-31")

    assert {(v["orgUnit"], v["dataElement"]) for v in body["dataValues"]} == {
        ("15", "UCJ_SERVING"),
        ("15", "UCJ_PROTECTED"),
        ("15", "UCJ_UNPROTECTED"),
        ("15", "UCJ_TARGET_PCT"),
        ("16", "UCJ_SERVING"),  # Sumatera Selatan has no target
        ("16", "UCJ_PROTECTED"),
        ("16", "UCJ_UNPROTECTED"),
    }


# -- scope -----------------------------------------------------------------------------------


@pytest.fixture
def bungo_officer(api_client, history):
    user = get_user_model().objects.create_user("pmd.bungo", password="pw-role-123")
    AccessProfile.objects.create(user=user, role="regency_officer", regency=Regency.objects.get(code="15.08"))
    api_client.force_authenticate(user)
    return api_client


@pytest.mark.parametrize("name", [DHIS2, ADX])
@pytest.mark.parametrize("parent", ["15.01", "16", "15.01.01"])
def test_a_parent_outside_the_callers_regions_is_not_found(bungo_officer, name, parent):
    response = bungo_officer.get(reverse(name), {"level": "village", "parent": parent, "start": "2024-10-01"})

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert [error["attr"] for error in response.json()["errors"]] == ["parent"]


def test_a_caller_gets_only_the_regions_it_covers(bungo_officer):
    body = dhis2(bungo_officer, level="regency", start="2024-10-01", end="2024-10-31")
    root = adx(bungo_officer, level="village", start="2024-10-01", end="2024-10-31")

    assert {v["orgUnit"] for v in body["dataValues"]} == {"15.08"}
    assert {group.get("orgUnit") for group in root} == {"15.08.01.2001", "15.08.01.1001"}


def test_a_caller_without_the_coverage_capability_is_refused(api_client, history):
    user = get_user_model().objects.create_user("tanpa-peran", password="pw-role-123")
    api_client.force_authenticate(user)

    assert api_client.get(reverse(DHIS2), {"level": "province", "start": "2024-10-01"}).status_code == 403


# -- bad parameters ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", [DHIS2, ADX])
@pytest.mark.parametrize(
    ("params", "attr"),
    [
        ({"start": "2024-01-01"}, "level"),
        ({"level": "kingdom", "start": "2024-01-01"}, "level"),
        ({"level": "regency"}, "start"),
        ({"level": "regency", "start": "2024-13-01"}, "start"),
        ({"level": "regency", "start": "2024-06-01", "end": "2024-05-31"}, "start"),
        ({"level": "regency", "start": "2024-06-01", "end": "2024-11-01"}, "end"),  # after DAY_TWO
        ({"level": "regency", "start": "2024-06-01", "period_type": "weekly"}, "period_type"),
        ({"level": "regency", "start": "2024-06-01", "data_set": "UCJ COVERAGE"}, "data_set"),
        ({"level": "regency", "start": "2024-06-01", "parent": "15.x"}, "parent"),
        ({"level": "regency", "start": "2024-06-01", "parent": "15.08"}, "parent"),  # not above the level
        ({"level": "regency", "start": "2014-10-01"}, "start"),  # 121 months
        ({"level": "regency", "start": "2014-10-01", "period_type": "yearly"}, "start"),  # 11 years
        ({"level": "regency", "start": "2024-06-01", "as_of": "2024-06-01"}, "as_of"),  # not a parameter here
    ],
)
def test_bad_parameters_are_refused_naming_the_field(admin_client, history, name, params, attr):
    response = admin_client.get(reverse(name), params)

    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert [error["attr"] for error in response.json()["errors"]] == [attr]


def test_ten_years_of_months_are_allowed(admin_client, history):
    body = dhis2(admin_client, level="province", start="2014-11-01", end="2024-10-31")

    assert len({v["period"] for v in body["dataValues"]}) == 120


def test_too_many_regions_times_periods_is_refused_naming_the_level(admin_client, history, monkeypatch):
    from coverage.selectors import exports

    # Six villages of the test regions over three months: 18 groups, more than a limit of 17.
    monkeypatch.setattr(exports, "MAX_GROUPS", 17)
    params = {"level": "village", "parent": "15", "start": "2024-08-01", "end": "2024-10-31"}

    refused = admin_client.get(reverse(DHIS2), params, HTTP_ACCEPT_LANGUAGE="en")
    accepted = admin_client.get(reverse(DHIS2), {**params, "start": "2024-09-01"})

    assert refused.status_code == 400
    assert [error["attr"] for error in refused.json()["errors"]] == ["level"]
    assert "6 regions × 3 periods" in refused.json()["errors"][0]["detail"]
    assert accepted.status_code == 200


def test_the_error_is_in_indonesian_for_an_indonesian_caller(admin_client, history):
    response = admin_client.get(
        reverse(ADX), {"level": "regency", "start": "2024-06-01", "end": "2024-11-01"}, HTTP_ACCEPT_LANGUAGE="id"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["detail"] == "Tanggal end tidak boleh di masa depan."


# -- answers kept ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [DHIS2, ADX])
def test_an_unchanged_export_is_not_modified(admin_client, history, name):
    params = {"level": "regency", "parent": "15", "start": "2024-09-01"}
    first = ok(admin_client.get(reverse(name), params))

    again = admin_client.get(reverse(name), params, HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 304


def test_the_query_count_does_not_grow_with_the_regions(admin_client, history):
    """Two reads per past period (the regions then, their figures), whatever the regions' number."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(params) -> int:
        with CaptureQueriesContext(connection) as queries:
            ok(admin_client.get(reverse(DHIS2), params))
        return len(queries)

    # The first read files the data version and keeps the year's targets (coverage.selectors.kept).
    count({"level": "province", "start": "2024-05-01", "end": "2024-07-31"})
    one_regency = count({"level": "village", "parent": "15.71", "start": "2024-05-01", "end": "2024-07-31"})
    province = count({"level": "village", "parent": "15", "start": "2024-05-01", "end": "2024-07-31"})

    assert province == one_regency


# --- the same exports as background jobs --------------------------------------------------------


def test_a_dhis2_export_in_the_background_keeps_the_data_value_set_the_endpoint_answers(admin_client, history):
    params = {"level": "regency", "parent": "15", "start": "2024-01-01", "end": "2024-10-31"}
    at_once = ok(admin_client.get(reverse(DHIS2), params))

    queued = admin_client.get(reverse(DHIS2), {**params, "background": "true"})

    assert queued.status_code == 202
    job = admin_client.get(queued["Location"]).json()
    assert (job["kind"], job["state"], job["result"]["rows"]) == ("export_aggregate", "succeeded", 10 * 3 * 4)
    downloaded = admin_client.get(job["result"]["file"])
    assert downloaded.status_code == 200
    assert downloaded["Content-Type"] == "application/json"
    assert downloaded["Content-Disposition"] == 'attachment; filename="coverage-dhis2.json"'
    assert downloaded.content == at_once.content


def test_an_adx_export_in_the_background_keeps_the_message_the_endpoint_answers(admin_client, history):
    params = {"level": "regency", "parent": "15", "start": "2024-01-01", "end": "2024-10-31", "data_set": "DS_UCJ"}
    at_once = ElementTree.fromstring(ok(admin_client.get(reverse(ADX), params)).content)

    queued = admin_client.get(reverse(ADX), params, HTTP_PREFER="respond-async")

    assert queued.status_code == 202
    assert queued["Content-Type"] == "application/json"
    job = admin_client.get(queued["Location"]).json()
    downloaded = admin_client.get(job["result"]["file"])
    assert downloaded.status_code == 200
    assert downloaded["Content-Type"] == "application/adx+xml"
    kept = ElementTree.fromstring(downloaded.content)
    for root in (at_once, kept):
        del root.attrib["exported"]  # when each was made
    assert ElementTree.tostring(kept) == ElementTree.tostring(at_once)
    assert len(kept) == 10 * 3


def test_a_background_export_with_a_bad_query_is_refused_before_queuing(admin_client, history):
    from jobs.models import Job

    response = admin_client.get(reverse(DHIS2), {"level": "regency", "start": "2024-13-01", "background": "true"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "start"
    assert not Job.objects.exists()
