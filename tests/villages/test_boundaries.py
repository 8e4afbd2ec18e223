"""Region outlines: `import_boundaries` checks every feature against the regions in the database
and writes all or nothing, reports the regions left without an outline, changes nothing on a
second run, writes nothing on a dry run; the shipped region list and outlines import whole;
`GET /coverage/geo/` answers each region's coverage row with its outline, in the caller's scope."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from tests.enrollment.factories import VILLAGE, WorkerFactory, bring_to, village
from villages import geometry
from villages.data import REGIONS as SHIPPED_REGIONS
from villages.models import Boundary, District, Province, Regency, Village

pytestmark = pytest.mark.django_db

# Boxes (west, south, east, north) for the small region tree of tests/conftest.py; one village
# (15.08.01.1001) has none.
BOXES = {
    "15": (101.0, -2.8, 104.5, -0.7),
    "15.01": (101.0, -2.3, 101.8, -1.7),
    "15.01.01": (101.0, -2.3, 101.4, -1.7),
    "15.01.01.2001": (101.0, -2.3, 101.2, -2.0),
    "15.01.01.2002": (101.2, -2.3, 101.4, -2.0),
    "15.01.02": (101.4, -2.3, 101.8, -1.7),
    "15.01.02.2001": (101.4, -2.3, 101.8, -1.7),
    "15.08": (101.8, -1.9, 102.5, -1.1),
    "15.08.01": (101.8, -1.9, 102.5, -1.1),
    "15.08.01.2001": (101.8, -1.9, 102.1, -1.1),
    "15.71": (103.5, -1.7, 103.7, -1.5),
    "15.71.01": (103.5, -1.7, 103.7, -1.5),
    "15.71.01.1001": (103.5, -1.7, 103.7, -1.5),
    "16": (102.0, -5.0, 106.0, -2.8),
    "16.01": (103.5, -4.5, 104.5, -3.8),
    "16.01.01": (103.5, -4.5, 104.5, -3.8),
    "16.01.01.2001": (103.5, -4.5, 104.5, -3.8),
}


def box(west: float, south: float, east: float, north: float) -> dict:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def collection(features: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": features}


def feature(code: str, shape: dict | None = None) -> dict:
    return {"type": "Feature", "id": code, "properties": {"code": code}, "geometry": shape or box(*BOXES[code])}


def write(path: Path, document: object, *, gzipped: bool = True) -> Path:
    data = json.dumps(document).encode()
    path.write_bytes(gzip.compress(data) if gzipped else data)
    return path


@pytest.fixture
def boundary_files(tmp_path) -> list[Path]:
    """Two files, as the shared layer comes (regions above villages; villages alone)."""
    upper = [feature(code) for code in BOXES if code.count(".") < 3]
    villages = [feature(code) for code in BOXES if code.count(".") == 3]
    return [
        write(tmp_path / "upper.geojson.gz", collection(upper)),
        write(tmp_path / "v.geojson", collection(villages), gzipped=False),
    ]


def run(*args: object) -> str:
    out = io.StringIO()
    call_command("import_boundaries", *[str(a) for a in args], stdout=out)
    return out.getvalue()


def test_import_draws_every_level_at_its_details_and_names_the_regions_without(regions, boundary_files):
    output = run(*boundary_files)

    assert set(Boundary.objects.values_list("code", flat=True)) == set(BOXES)
    for code in BOXES:
        level = Boundary.objects.filter(code=code).values_list("level", flat=True).first()
        details = list(Boundary.objects.filter(code=code).order_by("detail").values_list("detail", flat=True))
        assert details == list(geometry.DETAILS[level])
    bungo = Boundary.objects.get(code="15.08", detail=3)
    assert (bungo.west, bungo.south, bungo.east, bungo.north) == BOXES["15.08"]
    assert json.loads(bungo.geometry)["type"] == "MultiPolygon"
    assert bungo.path == "M1018000 11000l0 8000 7000 0 0 -8000z"  # 10^-4 degrees (detail 3), y = -latitude
    assert "villages: 6 created, 0 replaced, 0 unchanged; 1 without a boundary: 15.08.01.1001" in output
    assert "provinces: 2 created" in output


def test_a_second_import_changes_nothing(regions, boundary_files):
    run(*boundary_files)
    before = list(Boundary.objects.order_by("pk").values_list("pk", "geometry"))

    output = run(*boundary_files)

    assert list(Boundary.objects.order_by("pk").values_list("pk", "geometry")) == before
    assert "nothing changed" in output
    assert "villages: 0 created, 0 replaced, 6 unchanged" in output


def test_a_changed_outline_is_replaced(regions, boundary_files, tmp_path):
    run(*boundary_files)
    moved = write(tmp_path / "moved.geojson", collection([feature("15.08", box(101.9, -1.9, 102.5, -1.1))]))

    output = run(moved)

    assert Boundary.objects.get(code="15.08", detail=3).west == 101.9
    assert "regencies: 0 created, 1 replaced, 0 unchanged" in output


def test_a_dry_run_writes_nothing(regions, boundary_files):
    output = run(*boundary_files, "--dry-run")

    assert Boundary.objects.count() == 0
    assert "dry run, nothing was written" in output


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"type": "Feature", "properties": {}, "geometry": box(0, 0, 1, 1)}, "feature 3: no region code"),
        (feature("15.99", box(0, 0, 1, 1)), "feature 3: 15.99: no such region in the database"),
        (feature("15.7", box(0, 0, 1, 1)), "feature 3: '15.7' is not a Kemendagri region code"),
        (feature("15.71", {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}), "feature 3: 15.71: a LineString"),
        (feature("15.71", {"type": "Polygon", "coordinates": "x"}), "feature 3: 15.71: not a GeoJSON geometry"),
        ({"type": "Feature", "id": "15.71", "properties": {}}, "feature 3: 15.71: no geometry"),
        (feature("15"), "feature 3: 15: a second boundary"),
    ],
)
def test_a_file_with_a_bad_feature_is_refused_whole_naming_it(regions, tmp_path, bad, message):
    path = write(tmp_path / "bad.geojson", collection([feature("15"), feature("15.01"), bad]))

    with pytest.raises(CommandError) as refused:
        run(path)

    assert f"bad.geojson: {message}" in str(refused.value)
    assert "nothing was written" in str(refused.value)
    assert Boundary.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x1f\x8bnot gzip", "not a readable gzip file"),
        (b"{]", "not JSON"),
        (b"[1, 2]", "not a GeoJSON FeatureCollection"),
    ],
)
def test_a_file_that_is_not_geojson_is_refused(regions, tmp_path, content, message):
    path = tmp_path / "broken.geojson"
    path.write_bytes(content)

    with pytest.raises(CommandError) as refused:
        run(path)

    assert message in str(refused.value)


def test_within_imports_one_regions_outlines_and_skips_the_rest(regions, boundary_files):
    run(*boundary_files, "--within", "15.08")

    assert set(Boundary.objects.values_list("code", flat=True)) == {"15.08", "15.08.01", "15.08.01.2001"}


def test_the_shipped_region_list_and_outlines_import_whole(db):
    """The list and outlines a fresh clone has (villages/data): every region of the country, the
    outlines of every province, regency and district and of the demo province's villages."""
    out = io.StringIO()
    call_command("import_regions", stdout=out)

    assert (Province.objects.count(), Regency.objects.count()) == (38, 514)
    assert (District.objects.count(), Village.objects.count()) == (7285, 83762)
    assert Village.objects.get(code="15.08.01.2001").name == "Pedukun"
    assert SHIPPED_REGIONS.stat().st_size < 700_000

    output = run("--within", "15")

    assert Boundary.objects.filter(level="regency", detail=0).count() == 11
    assert Boundary.objects.filter(level="district", detail=1).count() == 144
    assert Boundary.objects.filter(level="village", detail=2).count() == 1568
    assert "villages: 1,568 created, 0 replaced, 0 unchanged; 17 without a boundary" in output


# --- GET /coverage/geo/ -----------------------------------------------------------------------------------


@pytest.fixture
def drawn(regions, boundary_files, admin_user, api_client):
    run(*boundary_files)
    for status in ("active", "active", "submitted"):
        bring_to(WorkerFactory(village=village(VILLAGE)), status)
    bring_to(WorkerFactory(village=village("15.08.01.1001")), "active")
    api_client.force_authenticate(admin_user)
    return api_client


@pytest.mark.parametrize(
    "query",
    [{"level": "province"}, {"level": "regency", "parent": "15"}, {"level": "village", "parent": "15.08"}],
)
def test_each_feature_is_a_coverage_row_with_its_outline(drawn, query):
    answer = drawn.get(reverse("coverage-geo"), query)
    rows = drawn.get(reverse("coverage-list"), {**query, "page_size": 1000}).json()["results"]

    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/geo+json"
    collection = json.loads(answer.content)
    assert collection["type"] == "FeatureCollection"
    assert [f["properties"] for f in collection["features"]] == rows
    assert [f["id"] for f in collection["features"]] == [row["code"] for row in rows]
    for f in collection["features"]:
        if f["id"] == "15.08.01.1001":
            assert f["geometry"] is None  # no outline: still listed, with its figures
        else:
            west, south, east, north = BOXES[f["id"]]
            assert f["geometry"]["type"] == "MultiPolygon"
            ring = f["geometry"]["coordinates"][0][0]
            assert {tuple(p) for p in ring} == {(west, south), (east, south), (east, north), (west, north)}


def test_the_map_answers_304_to_its_etag_and_changes_after_a_write(drawn):
    url = reverse("coverage-geo")
    first = drawn.get(url, {"level": "regency", "parent": "15"})

    again = drawn.get(url, {"level": "regency", "parent": "15"}, HTTP_IF_NONE_MATCH=first["ETag"])
    bring_to(WorkerFactory(village=village(VILLAGE)), "active")
    after = drawn.get(url, {"level": "regency", "parent": "15"}, HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 304
    assert after.status_code == 200
    kerinci = next(f for f in json.loads(after.content)["features"] if f["id"] == "15.01")
    assert kerinci["properties"]["protected"] == 3


@pytest.mark.parametrize(
    "query",
    [{"level": "village"}, {"level": "village", "parent": "15"}, {"level": "district"}],
)
def test_a_map_too_large_is_refused_naming_the_parent(drawn, query):
    refused = drawn.get(reverse("coverage-geo"), query)

    assert refused.status_code == 400
    assert refused.json()["errors"][0]["attr"] == "parent"


def test_a_parent_outside_the_scope_is_404(drawn, client_for_regency_officer):
    outside = client_for_regency_officer.get(reverse("coverage-geo"), {"level": "district", "parent": "15.08"})

    assert outside.status_code == 404


def test_json_is_answered_to_a_client_that_asks_for_it(drawn):
    answer = drawn.get(reverse("coverage-geo"), {"level": "province"}, HTTP_ACCEPT="application/json")

    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/json"
    assert json.loads(answer.content)["type"] == "FeatureCollection"


@pytest.fixture
def client_for_regency_officer(regions):
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from access.models import AccessProfile

    user = get_user_model().objects.create_user("pmd.kerinci", password="x")
    AccessProfile.objects.create(user=user, role="regency_officer", regency=Regency.objects.get(code="15.01"))
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize(
    ("level", "extent", "detail"),
    [
        ("province", 46.0, 0),
        ("regency", 3.0, 2),
        ("district", 1.0, 3),
        ("village", 1.0, 3),
        ("village", 0.1, 4),
        ("village", 40.0, 2),
    ],
)
def test_a_map_gets_the_coarsest_detail_finer_than_a_pixel(level, extent, detail):
    assert geometry.detail_for(level, extent) == detail


SHARED_VILLAGES = Path(__file__).resolve().parents[3] / "shared" / "data" / "boundaries" / "villages"


def test_the_busiest_regencys_villages_come_as_a_map_under_a_megabyte(regions_csv, admin_user, api_client):
    """Kabupaten Aceh Utara (11.08) has the most villages of any regency (852): its map, from the
    national village layer in ../shared/data, must stay small enough for a phone."""
    layer = SHARED_VILLAGES / "11.geojson.gz"
    if not layer.is_file():
        pytest.skip(f"{layer} is absent: the national village layer is not available here")
    from villages.services import regions_import

    lines = [line for line in regions_csv.read_text("utf-8").splitlines()[1:] if line.startswith("11")]
    regions_import(data=("code,name\n" + "\n".join(lines)).encode())
    run(layer, "--within", "11.08")
    api_client.force_authenticate(admin_user)

    answer = api_client.get(reverse("coverage-geo"), {"level": "village", "parent": "11.08"})

    assert answer.status_code == 200
    features = json.loads(answer.content)["features"]
    assert len(features) == 852
    assert sum(f["geometry"] is not None for f in features) >= 840
    assert len(answer.content) < 1_000_000
