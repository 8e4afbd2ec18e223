"""The portal's coverage maps through the test client: the coverage page draws the regions one
level down from their outlines, coloured by coverage or by unprotected workers, each a link one
level down with its figures; the regions without an outline are named beside the map; the
branch's worklist maps its villages; nothing on a map comes from another site."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from portal.maps import COVERAGE_COLOURS, NO_DATA, coverage_colour, unprotected_classes
from tests.enrollment.factories import VILLAGE, WorkerFactory, bring_to, village
from tests.villages.test_boundaries import run
from villages.models import BranchOffice, Regency

from .test_pages import make_user
from .test_unprotected_page import client_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def mapped(regions, tmp_path):
    from tests.villages.test_boundaries import BOXES, collection, feature, write

    run(write(tmp_path / "all.geojson", collection([feature(code) for code in BOXES])))
    for status in ("active", "active", "submitted"):
        bring_to(WorkerFactory(village=village(VILLAGE)), status)
    bring_to(WorkerFactory(village=village("15.01.01.2002")), "submitted")
    make_user("pmd.jambi", "province_officer", province=Regency.objects.get(code="15.01").province)


def shapes(html: str) -> dict[str, str]:
    """Code -> fill of each region drawn."""
    found = re.findall(r'<path d="[^"]+" fill="(#[0-9a-f]{6})" data-code="([^"]+)"', html)
    return {code: fill for fill, code in found}


def test_the_coverage_page_maps_the_regions_one_level_down(mapped):
    html = client_of("pmd.jambi").get(reverse("portal:coverage", args=["15"])).text

    drawn = shapes(html)
    assert set(drawn) == {"15.01", "15.08", "15.71"}
    assert drawn["15.01"] == coverage_colour(50)  # 2 of 4 protected
    assert drawn["15.08"] == drawn["15.71"] == NO_DATA  # no one serves there
    assert 'href="/cakupan/15.01/?tanggal=' in html
    assert "Kabupaten Kerinci: cakupan 50,00%, 2 dari 4 terlindungi, 2 belum" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing from another site


def test_the_map_shows_unprotected_workers_when_asked(mapped):
    html = client_of("pmd.jambi").get(reverse("portal:coverage", args=["15.01"]), {"peta": "belum"}).text

    assert 'data-measure="unprotected"' in html
    bounds = unprotected_classes(1)
    assert bounds[0] >= 1
    assert set(shapes(html).values()) <= {"#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15", NO_DATA}


def test_a_region_without_an_outline_is_named_beside_the_map(mapped):
    from villages.models import Boundary

    Boundary.objects.filter(code="15.01.01").delete()

    html = client_of("pmd.jambi").get(reverse("portal:coverage", args=["15.01"])).text

    assert "15.01.01" not in shapes(html)
    assert re.search(r'class="no-outline">Tanpa batas wilayah di peta: <a href="[^"]+" data-code="15.01.01"', html)


def test_no_map_without_outlines(regions):
    make_user("pmd.jambi", "province_officer", province=Regency.objects.get(code="15.01").province)

    html = client_of("pmd.jambi").get(reverse("portal:coverage", args=["15"])).text

    assert "choropleth" not in html


def test_the_branchs_worklist_maps_its_villages_by_unprotected_workers(mapped):
    make_user("bpjs.bungo", "branch_officer", branch=BranchOffice.objects.get(code="muara-bungo"))
    bring_to(WorkerFactory(village=village("15.08.01.2001")), "submitted")

    html = client_of("bpjs.bungo").get(reverse("portal:unprotected")).text

    assert set(shapes(html)) == {"15.08.01.2001"}
    assert 'data-measure="unprotected"' in html


def test_the_legend_covers_every_class():
    assert [coverage_colour(p) for p in (0, 9.99, 10, 79.99, 80, 100)] == [
        COVERAGE_COLOURS[0],
        COVERAGE_COLOURS[0],
        COVERAGE_COLOURS[1],
        COVERAGE_COLOURS[7],
        COVERAGE_COLOURS[8],
        COVERAGE_COLOURS[8],
    ]
    assert coverage_colour(None) == NO_DATA
