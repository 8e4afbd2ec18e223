"""The coverage drill-down page: a region of the caller's (404 outside), the regions one level
down with the API's own figures, sorted and filtered as asked, and the region's trend."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.enrollment.factories import OTHER_VILLAGE_SAME_DISTRICT, VILLAGE, WorkerFactory, bring_to, village

from .test_pages import log_in, make_user

pytestmark = pytest.mark.django_db


def page(code: str) -> str:
    return reverse("portal:coverage", args=[code])


@pytest.fixture
def workers(regions):
    for code, statuses in ((VILLAGE, ("active", "active", "submitted")), (OTHER_VILLAGE_SAME_DISTRICT, ("active",))):
        for status in statuses:
            bring_to(WorkerFactory(village=village(code)), status)
    bring_to(WorkerFactory(village=village("15.08.01.2001"), institution="bpd", position="ketua"), "not_registered")


@pytest.fixture
def kerinci_client(regions):
    from villages.models import Regency

    make_user("pmd.kerinci", "regency_officer", regency=Regency.objects.get(code="15.01"))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    log_in(client, "pmd.kerinci")
    return client


@pytest.fixture
def admin_browser(regions, admin_user):
    client = Client()
    log_in(client, "admin", "pw-admin-123")
    return client


def rows(html: str) -> list[tuple[str, list[str]]]:
    """(code, [serving, protected, unprotected]) of each row of the drill-down table."""
    found = []
    for code, cells in re.findall(r'<tr data-code="([^"]+)">(.*?)</tr>', html, re.S):
        numbers = re.findall(r"<td>(?:<a [^>]*>)?([0-9.,]+)(?:</a>)?</td>", cells)  # a number may link to workers
        found.append((code, numbers[:3]))
    return found


def api_rows(api_client, **params) -> list[tuple[str, list[str]]]:
    answer = api_client.get(reverse("coverage-list"), {**params, "page_size": 500}).json()["results"]
    return [(r["code"], [str(r["serving"]), str(r["protected"]), str(r["unprotected"])]) for r in answer]


def test_a_regency_shows_its_districts_with_the_apis_figures(kerinci_client, workers, admin_client):
    response = kerinci_client.get(page("15.01"))

    shown = rows(response.text)
    assert response.status_code == 200
    assert shown == api_rows(admin_client, level="district", parent="15.01", ordering="name")
    assert ("15.01.01", ["4", "3", "1"]) in shown
    assert 'class="serving">4<' in response.text


def test_a_region_outside_the_callers_scope_is_not_found(kerinci_client, workers):
    assert kerinci_client.get(page("15.08")).status_code == 404
    assert kerinci_client.get(page("15")).status_code == 404
    assert kerinci_client.get(page("99.99")).status_code == 404


def test_rows_are_sorted_and_filtered_as_the_api_sorts_and_filters_them(admin_browser, workers, admin_client):
    by_unprotected = admin_browser.get(page("15"), {"urut": "-unprotected"})
    bpd_only = admin_browser.get(page("15"), {"lembaga": "bpd"})

    assert by_unprotected.status_code == bpd_only.status_code == 200
    assert [code for code, _ in rows(by_unprotected.text)][:2] == ["15.01", "15.08"]  # 1 unprotected each
    assert rows(by_unprotected.text) == api_rows(admin_client, level="regency", parent="15", ordering="-unprotected")
    assert rows(bpd_only.text)
    assert rows(bpd_only.text) == api_rows(
        admin_client, level="regency", parent="15", institution="bpd", ordering="name"
    )


def test_every_region_leads_one_level_down_and_back_up(kerinci_client, workers):
    regency = kerinci_client.get(page("15.01")).text
    district_link = page("15.01.01")
    district = kerinci_client.get(district_link)
    village_page = kerinci_client.get(page(VILLAGE))

    assert f'href="{district_link}?' in regency
    assert district.status_code == village_page.status_code == 200
    assert f'href="{page("15.01")}" class="up"' in district.text
    assert '<table class="rows drill">' not in village_page.text  # a village has no level below
    assert f'href="{page("15")}"' not in regency  # the province is above a Kerinci officer's scope


def test_a_past_date_shows_that_dates_figures(kerinci_client, workers, admin_client, today):
    import datetime

    past = today - datetime.timedelta(days=400)

    response = kerinci_client.get(page("15.01"), {"tanggal": past.isoformat()})

    assert response.status_code == 200
    assert rows(response.text) == api_rows(
        admin_client, level="district", parent="15.01", as_of=past.isoformat(), ordering="name"
    )
    assert 'class="protected">0<' in response.text  # serving since 2024, activated only today


def test_the_monthly_trend_is_drawn_from_the_stored_snapshots(kerinci_client, regions, today):
    import datetime

    from coverage.models import CoverageSnapshot

    months = [(today.replace(day=1) - datetime.timedelta(days=31 * n)).replace(day=1) for n in (3, 2, 1)]
    for month, protected in zip(months, (10, 20, 30), strict=True):
        CoverageSnapshot.objects.create(region_code="15.01", date=month, serving=100, protected=protected)

    response = kerinci_client.get(page("15.01"))

    assert response.status_code == 200
    points = re.search(r'<polyline [^>]*points="([^"]+)"', response.text).group(1).split()
    assert len(points) == 3
    heights = [float(point.split(",")[1]) for point in points]
    assert heights[0] > heights[1] > heights[2]  # coverage rose: the line climbs
    assert "10,00% →" in response.text
    assert "30,00%" in response.text
