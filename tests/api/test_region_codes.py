"""Region codes as other systems write them: `1508` for `15.08`, `150801` for `15.08.01`,
`1508012001` for `15.08.01.2001` (core.codes), taken wherever a code is (paths, query filters,
write bodies, spreadsheets, commands, the portal) and always answered dotted; a spelling that is
no code (`150`, `15.8`, `15-08`, `1508x`) is a 400 naming the field (a 404 in a path)."""

from __future__ import annotations

import datetime
import io
import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from access.models import AccessProfile
from core.codes import PATH_SPELLINGS_PATTERN, SPELLINGS_PATTERN, code_prefix, region_code
from coverage.models import Target, WorkforceFigure
from enrollment.models import ApparatusWorker
from enrollment.services import worker_register
from villages.models import Boundary, Province, Regency, Village

from ..enrollment.test_imports import csv_file, nik, worker_row, xlsx_file

pytestmark = pytest.mark.django_db

BUNGO_VILLAGE = "15.08.01.2001"  # Rantau Keloyang, Kabupaten Bungo
BAD = ["150", "15.8", "15-08", "1508x"]
CODE = re.compile(r"\{([0-9.]+)\}")


def spelled(text: str, undotted: bool) -> str:
    """`text` with each `{15.08}` written dotted or as its digits alone."""
    return CODE.sub(lambda m: m.group(1).replace(".", "") if undotted else m.group(1), text)


def errors(response) -> list[tuple[str, str | None]]:
    body = response.json()
    assert set(body) == {"type", "errors"}, body
    return [(error["code"], error["attr"]) for error in body["errors"]]


# --- the one rule -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("15", "15"),
        ("15.08", "15.08"),
        ("1508", "15.08"),
        (" 1508 ", "15.08"),
        ("\t1508 ", "15.08"),
        ("150801", "15.08.01"),
        ("15.08.01", "15.08.01"),
        ("1508012001", "15.08.01.2001"),
        ("15.08.01.2001", "15.08.01.2001"),
        ("1508011001", "15.08.01.1001"),
        # not codes
        ("150", None),
        ("15.8", None),
        ("15-08", None),
        ("1508x", None),
        ("15.0801", None),
        ("1508014001", None),  # a village's number starts with 1, 2 or 3
        ("15080120011", None),
        ("١٥٠٨", None),  # digits, but not ASCII ones
        ("15\x0008", None),
        ("15.08\n", None),  # spaces and tabs around are dropped, nothing else (the schema's pattern)
        ("\x1c1508", None),
        ("", None),
        (1508, None),  # a number is not text
        (None, None),
    ],
)
def test_region_code_reads_either_spelling_and_refuses_the_rest(text, code):
    assert region_code(text) == code


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="0123456789. \t-x\n", max_size=16))
def test_the_schemas_pattern_takes_exactly_what_region_code_takes(text):
    # Each code parameter of the schema has this pattern: a generated client (and the contract's
    # fuzzer) may trust it both ways. Python's `$` also matches before a final newline: fullmatch.
    assert (re.fullmatch(SPELLINGS_PATTERN.removeprefix("^").removesuffix("$"), text) is not None) == (
        region_code(text) is not None
    )
    assert (re.fullmatch(PATH_SPELLINGS_PATTERN.removeprefix("^").removesuffix("$"), text) is not None) == (
        region_code(text) is not None and text == text.strip(" \t")
    )


@pytest.mark.parametrize(
    ("text", "prefix"),
    [
        ("1", "1"),
        ("15", "15"),
        ("150", "15.0"),
        ("15080", "15.08.0"),
        ("1508012", "15.08.01.2"),
        ("15.08.0", "15.08.0"),
    ],
)
def test_code_prefix_dots_the_first_digits_of_a_code(text, prefix):
    assert code_prefix(text) == prefix


# --- data ---------------------------------------------------------------------------------


@pytest.fixture
def bungo(regions, actor):
    """Two workers in Kabupaten Bungo, one in Kerinci; a target and a workforce figure for Bungo."""
    for serial, village in ((1, BUNGO_VILLAGE), (2, "15.08.01.1001"), (3, "15.01.01.2001")):
        worker_register(
            actor=actor,
            village=Village.objects.get(code=village),
            nik=f"150101170580{serial:04d}",
            full_name=f"Pekerja {serial}",
            sex="male",
            birth_date=datetime.date(1980, 5, 17),
            institution="pemerintah_desa",
            position="staf",
            term_start=datetime.date(2024, 1, 1),
            wage_basis="siltap",
            monthly_wage=2_000_000,
        )
    Target.objects.create(kind="village_apparatus", year=2025, region_code="15.08", target_pct=60)
    WorkforceFigure.objects.create(
        region_code="15.08", date=datetime.date(2024, 12, 31), potential_workers=1000, active_participants=400
    )


# --- every read that takes a code: the same answer, the same ETag --------------------------

READS = [
    ("/api/v1/provinces/{15}/", {}),
    ("/api/v1/regencies/{15.08}/", {}),
    ("/api/v1/districts/{15.08.01}/", {}),
    ("/api/v1/villages/{15.08.01.2001}/", {}),
    ("/api/v1/regencies/", {"province": "{15}"}),
    ("/api/v1/districts/", {"regency": "{15.08}"}),
    ("/api/v1/villages/", {"regency": "{15.08}"}),
    ("/api/v1/villages/", {"district": "{15.08.01}"}),
    ("/api/v1/branches/", {"regency": "{15.08}"}),
    ("/api/v1/coverage/{15.08}/", {}),
    ("/api/v1/coverage/{15.08.01.2001}/", {}),
    ("/api/v1/coverage/{15.08}/trend/", {"start": "2024-01-01", "end": "2024-12-31"}),
    ("/api/v1/coverage/", {"level": "village", "parent": "{15.08}"}),
    ("/api/v1/coverage/", {"level": "village", "parent": "{15.08}", "format": "csv"}),
    ("/api/v1/coverage/geo/", {"level": "village", "parent": "{15.08.01}"}),
    ("/api/v1/coverage/unprotected-villages/", {"regency": "{15.08}"}),
    (
        "/api/v1/coverage/exports/dhis2/",
        {"level": "village", "parent": "{15.08}", "start": "2024-10-01", "end": "2024-12-31"},
    ),
    ("/api/v1/workers/", {"regency": "{15.08}"}),
    ("/api/v1/workers/", {"district": "{15.08.01}"}),
    ("/api/v1/workers/", {"village": "{15.08.01.2001}"}),
    ("/api/v1/workers/", {"regency": "{15.08}", "format": "csv"}),
    ("/api/v1/targets/", {"region_code": "{15.08}"}),
    ("/api/v1/workforce/", {"region_code": "{15.08}"}),
    ("/api/v1/workforce/{15.08}/", {"as_of": "2025-01-01"}),
    ("/api/v1/audit/events/", {"regency": "{15.08}"}),
]


@pytest.mark.parametrize(("path", "query"), READS, ids=[f"{p}?{'&'.join(q)}" for p, q in READS])
def test_a_read_answers_either_spelling_alike(bungo, admin_client, path, query):
    answers = [
        admin_client.get(spelled(path, undotted), {name: spelled(value, undotted) for name, value in query.items()})
        for undotted in (False, True)
    ]

    assert answers[0].status_code == 200
    assert answers[1].status_code == 200
    body = b"".join(answers[0].streaming_content) if answers[0].streaming else answers[0].content
    assert body == (b"".join(answers[1].streaming_content) if answers[1].streaming else answers[1].content)
    assert b"1508" not in body.replace(b"1508012001", b"")  # answered dotted (a NIK may hold the digits)
    assert answers[0].get("ETag") == answers[1].get("ETag")


def test_the_undotted_spelling_finds_what_the_dotted_one_does(bungo, admin_client):
    # Not vacuous: the filters above match rows, and the answers name the codes dotted.
    workers = admin_client.get("/api/v1/workers/", {"regency": "1508"}).json()
    village = admin_client.get("/api/v1/villages/1508012001/").json()
    rows = admin_client.get("/api/v1/coverage/", {"level": "village", "parent": "1508"}).json()["results"]

    assert workers["count"] == 2
    assert village["code"] == "15.08.01.2001"
    assert village["district"] == "15.08.01"
    assert {row["code"] for row in rows} == {"15.08.01.2001", "15.08.01.1001"}


def test_a_conditional_read_in_the_other_spelling_is_not_modified(bungo, admin_client):
    etag = admin_client.get("/api/v1/coverage/15.08/")["ETag"]

    response = admin_client.get("/api/v1/coverage/1508/", HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304


def test_page_links_give_the_dotted_code(bungo, admin_client):
    body = admin_client.get("/api/v1/workers/", {"regency": "1508", "page_size": 1}).json()

    assert "regency=15.08" in body["next"]
    assert "1508" not in body["next"]


# --- bad spellings: 400 naming the parameter, 404 in a path ----------------------------------

BAD_QUERIES = [
    ("/api/v1/districts/", {}, "regency"),
    ("/api/v1/villages/", {}, "district"),
    ("/api/v1/branches/", {}, "regency"),
    ("/api/v1/coverage/", {"level": "village"}, "parent"),
    ("/api/v1/coverage/geo/", {"level": "village"}, "parent"),
    ("/api/v1/coverage/unprotected-villages/", {}, "regency"),
    ("/api/v1/workers/", {}, "regency"),
    ("/api/v1/workers/", {}, "village"),
    ("/api/v1/targets/", {}, "region_code"),
    ("/api/v1/workforce/", {}, "region_code"),
    ("/api/v1/audit/events/", {}, "regency"),
]


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize(("path", "query", "name"), BAD_QUERIES, ids=[f"{p}{n}" for p, _q, n in BAD_QUERIES])
def test_a_query_parameter_that_is_no_code_is_400_naming_it(regions, admin_client, path, query, name, bad):
    response = admin_client.get(path, {**query, name: bad})

    assert response.status_code == 400
    assert [attr for _code, attr in errors(response)] == [name]


@pytest.mark.parametrize(
    ("path", "query", "name"),
    [
        ("/api/v1/workers/", {"province": "1508"}, "province"),
        ("/api/v1/workers/", {"village": "150801"}, "village"),
        ("/api/v1/districts/", {"regency": "15"}, "regency"),
        ("/api/v1/coverage/unprotected-villages/", {"regency": "150801"}, "regency"),
    ],
)
def test_a_code_of_another_level_is_400_naming_the_parameter(regions, admin_client, path, query, name):
    response = admin_client.get(path, query)

    assert response.status_code == 400
    assert errors(response) == [("wrong_level", name)]


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize(
    "path", ["/api/v1/regencies/{}/", "/api/v1/coverage/{}/", "/api/v1/coverage/{}/trend/", "/api/v1/workforce/{}/"]
)
def test_a_path_code_that_is_no_code_is_404(regions, admin_client, path, bad):
    response = admin_client.get(
        path.format(bad), {"start": "2024-01-01", "end": "2024-12-31"} if "trend" in path else {}
    )

    assert response.status_code == 404
    assert [code for code, _attr in errors(response)] == ["not_found"]


def test_a_bad_spelling_is_named_in_indonesian_by_default(regions, api_client):
    response = api_client.get("/api/v1/districts/", {"regency": "15.8"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["detail"] == (
        "Harus berupa kode wilayah seperti 15.08 atau 1508 (15, 15.08, 15.08.01, 15.08.01.2001)."
    )


# --- writes ---------------------------------------------------------------------------------


def worker_body(village: str) -> dict:
    return {
        "village": village,
        "nik": "1508014508900007",
        "full_name": "Dewi Lestari",
        "sex": "female",
        "birth_date": "1990-08-05",
        "institution": "pemerintah_desa",
        "position": "sekretaris_desa",
        "term_start": "2024-01-01",
        "wage_basis": "siltap",
        "monthly_wage": 2_500_000,
    }


def test_a_worker_registered_with_an_undotted_village_is_answered_dotted(regions, admin_client):
    response = admin_client.post("/api/v1/workers/", worker_body("1508012001"), format="json")

    assert response.status_code == 201
    assert response.json()["village"] == BUNGO_VILLAGE
    assert ApparatusWorker.objects.get().village.code == BUNGO_VILLAGE


def test_a_worker_moved_to_an_undotted_village_is_answered_dotted(regions, admin_client):
    worker = admin_client.post("/api/v1/workers/", worker_body(BUNGO_VILLAGE), format="json").json()

    response = admin_client.patch(
        f"/api/v1/workers/{worker['id']}/", {"village": " 1508011001 "}, format="json", HTTP_IF_MATCH='"1"'
    )

    assert response.status_code == 200
    assert response.json()["village"] == "15.08.01.1001"


@pytest.mark.parametrize("bad", [*BAD, "15.08.01.4001", 1508012001])
def test_a_worker_with_a_village_that_is_no_code_is_400_naming_village(regions, admin_client, bad):
    response = admin_client.post("/api/v1/workers/", worker_body(bad), format="json")

    assert response.status_code == 400
    assert errors(response) == [("not_a_code", "village")]
    assert not ApparatusWorker.objects.exists()


def test_a_target_written_with_an_undotted_code_is_kept_dotted(regions, admin_client):
    response = admin_client.post(
        "/api/v1/targets/", {"kind": "village_apparatus", "year": 2026, "region_code": "1508", "target_pct": 60}
    )

    assert response.status_code == 201
    assert response.json()["region_code"] == "15.08"
    assert Target.objects.get().region_code == "15.08"


def test_a_target_for_a_code_written_twice_in_two_spellings_is_one_target(regions, admin_client):
    body = {"kind": "village_apparatus", "year": 2026, "target_pct": 60}
    admin_client.post("/api/v1/targets/", {**body, "region_code": "15.08"})

    response = admin_client.post("/api/v1/targets/", {**body, "region_code": "1508"})

    assert response.status_code == 400
    assert Target.objects.count() == 1


@pytest.mark.parametrize("bad", BAD)
def test_a_target_with_a_code_that_is_no_code_is_400_naming_region_code(regions, admin_client, bad):
    response = admin_client.post(
        "/api/v1/targets/", {"kind": "village_apparatus", "year": 2026, "region_code": bad, "target_pct": 60}
    )

    assert response.status_code == 400
    assert errors(response) == [("not_a_code", "region_code")]
    assert not Target.objects.exists()


def test_a_workforce_figure_is_written_and_addressed_by_either_spelling(regions, admin_client):
    created = admin_client.post(
        "/api/v1/workforce/",
        {"region_code": "1508", "date": "2024-12-31", "potential_workers": 1000, "active_participants": 400},
    )
    updated = admin_client.patch("/api/v1/workforce/1508/?as_of=2024-12-31", {"active_participants": 450})
    deleted = admin_client.delete("/api/v1/workforce/1508/?as_of=2024-12-31")

    assert created.status_code == 201
    assert created.json()["region_code"] == "15.08"
    assert updated.status_code == 200
    assert (updated.json()["region_code"], updated.json()["active_participants"]) == ("15.08", 450)
    assert deleted.status_code == 204
    assert not WorkforceFigure.objects.exists()


# --- spreadsheets --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "build", "cell"),
    [
        ("aparatur.csv", csv_file, "1508012001"),
        ("aparatur.xlsx", xlsx_file, "1508012001"),
        ("aparatur.xlsx", xlsx_file, 1508012001),  # a number cell, as a spreadsheet keeps digits
        ("aparatur.csv", csv_file, " 15.08.01.2001 "),
    ],
)
def test_an_import_takes_the_village_in_either_spelling(regions, admin_client, name, build, cell):
    data = build([worker_row(1, village_code=cell, nik=nik(1, region="150801"))])

    response = admin_client.post("/api/v1/imports/workers/", {"file": _upload(name, data)}, format="multipart")

    assert response.status_code == 201, response.content[:500]
    assert ApparatusWorker.objects.get().village.code == BUNGO_VILLAGE


@pytest.mark.parametrize("bad", [*BAD, "15.08.01", "15080140011"])
def test_an_import_with_a_village_that_is_no_village_code_names_the_column(regions, admin_client, bad):
    data = csv_file([worker_row(1, village_code=bad, nik=nik(1, region="150801"))])

    response = admin_client.post(
        "/api/v1/imports/workers/", {"file": _upload("aparatur.csv", data)}, format="multipart"
    )

    assert response.status_code == 400
    assert [(error["row"], error["attr"], error["detail"]) for error in response.json()["errors"]] == [
        (2, "village_code", "Isi kode desa seperti 15.08.01.2001 atau 1508012001.")
    ]
    assert not ApparatusWorker.objects.exists()


def _upload(name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


# --- commands ------------------------------------------------------------------------------


def test_import_workers_takes_the_region_and_the_villages_undotted(regions, tmp_path):
    path = tmp_path / "aparatur.csv"
    path.write_bytes(csv_file([worker_row(1, village_code="1508012001", nik=nik(1, region="150801"))]))

    call_command("import_workers", str(path), "--region", "1508", stdout=io.StringIO())

    assert ApparatusWorker.objects.get().village.code == BUNGO_VILLAGE


@pytest.mark.parametrize("bad", BAD)
def test_import_workers_refuses_a_region_that_is_no_code(regions, tmp_path, bad):
    path = tmp_path / "aparatur.csv"
    path.write_bytes(csv_file([worker_row(1, village_code="1508012001", nik=nik(1, region="150801"))]))

    with pytest.raises(CommandError):
        call_command("import_workers", str(path), "--region", bad, stdout=io.StringIO())
    assert not ApparatusWorker.objects.exists()


def test_create_client_takes_an_undotted_regency(regions):
    out = io.StringIO()

    call_command("create_client", "sipd-bungo", "--region", "1508", stdout=out)

    profile = AccessProfile.objects.get(user__username__endswith="sipd-bungo")
    assert profile.regency.code == "15.08"
    assert "region 15.08" in out.getvalue()


@pytest.mark.parametrize("bad", BAD)
def test_create_client_refuses_a_region_that_is_no_code(regions, bad):
    with pytest.raises(CommandError):
        call_command("create_client", "sipd-x", "--region", bad, stdout=io.StringIO())
    assert not AccessProfile.objects.exists()


def test_import_regions_stores_undotted_codes_dotted(db, tmp_path):
    path = tmp_path / "regions.csv"
    path.write_text("code,name\n17,Bengkulu\n1701,Kabupaten Bengkulu Selatan\n170101,Manna\n1701012001,Padang\n")

    call_command("import_regions", str(path), stdout=io.StringIO())

    assert Province.objects.get().code == "17"
    assert Regency.objects.get().code == "17.01"
    assert Village.objects.get().code == "17.01.01.2001"


def test_apply_region_changes_takes_undotted_codes(regions, tmp_path, set_today):
    set_today(datetime.date(2025, 1, 2))
    path = tmp_path / "changes.csv"
    path.write_text("old_code,new_code,new_name\n1508012001,1508012005,Rantau Keloyang Baru\n")

    call_command("apply_region_changes", str(path), stdout=io.StringIO())

    assert Village.objects.get(code="15.08.01.2005").name == "Rantau Keloyang Baru"
    assert Village.objects.get(code=BUNGO_VILLAGE).valid_to is not None


def _box(west: float, south: float, east: float, north: float) -> dict:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_import_boundaries_takes_undotted_codes_and_within(regions, tmp_path):
    features = [
        {"type": "Feature", "id": "1508", "properties": {}, "geometry": _box(101.8, -1.8, 102.6, -1.2)},
        {"type": "Feature", "id": "1501", "properties": {}, "geometry": _box(101.0, -2.3, 101.8, -1.7)},
    ]
    path = tmp_path / "batas.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))

    call_command("import_boundaries", str(path), "--within", "1508", stdout=io.StringIO())

    assert set(Boundary.objects.values_list("code", flat=True)) == {"15.08"}


@pytest.mark.parametrize("bad", BAD)
def test_import_boundaries_refuses_a_within_that_is_no_code(regions, tmp_path, bad):
    path = tmp_path / "batas.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": []}))

    with pytest.raises(CommandError, match="--within"):
        call_command("import_boundaries", str(path), "--within", bad, stdout=io.StringIO())


# --- the portal ----------------------------------------------------------------------------


@pytest.fixture
def browser(bungo) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username="admin"))
    return client


PAGES = [
    ("/cakupan/{15.08}/", {}),
    ("/cakupan/{15.08.01.2001}/", {}),
    ("/cakupan/{15.08}/cetak/", {}),
    ("/pekerja/", {"regency": "{15.08}"}),
    ("/pekerja/", {"village": "{15.08.01.2001}"}),
    ("/daftar/desa-belum-terlindungi/", {"kabupaten": "{15.08}"}),
    ("/daftar/menunggu-aktivasi/", {"kabupaten": "{15.08}"}),
    ("/daftar/jatuh-tempo/", {"kabupaten": "{15.08}"}),
    ("/daftar/masa-jabatan-berakhir/", {"kabupaten": "{15.08}", "desa": "{15.08.01.2001}"}),
]


@pytest.mark.parametrize(("path", "query"), PAGES, ids=[f"{p}?{'&'.join(q)}" for p, q in PAGES])
def test_a_page_addressed_undotted_is_sent_on_to_its_dotted_address(browser, path, query):
    dotted = browser.get(spelled(path, False), {name: spelled(value, False) for name, value in query.items()})
    undotted = browser.get(spelled(path, True), {name: spelled(value, True) for name, value in query.items()})

    assert dotted.status_code == 200
    assert undotted.status_code == 301
    assert undotted["Location"] == dotted.wsgi_request.get_full_path()


@pytest.mark.parametrize("bad", BAD)
def test_a_coverage_page_for_no_code_is_404(browser, bad):
    assert browser.get(f"/cakupan/{bad}/").status_code == 404


@pytest.mark.parametrize("bad", BAD)
def test_the_workers_page_names_a_filter_that_is_no_code(browser, bad):
    response = browser.get("/pekerja/", {"regency": bad})

    # The page's way with any filter it cannot read: shown above an empty list, as a form's error.
    assert response.status_code == 200
    assert "Pekerja 1" not in response.text
    assert "regency: Harus berupa kode wilayah seperti 15.08 atau 1508" in response.text


def test_the_village_picker_finds_villages_by_undotted_first_digits(browser):
    response = browser.get(reverse("portal:village_options"), {"q": "150801"})

    assert response.status_code == 200
    assert "Rantau Keloyang" in response.text
    assert "Lempur Tengah" not in response.text


def test_a_worker_registered_in_the_portal_with_an_undotted_village(browser):
    data = {**worker_body("1508012001"), "phone": "", "term_end": "", "monthly_wage": "2.500.000"}

    response = browser.post(reverse("portal:worker_new"), data)

    worker = ApparatusWorker.objects.get(full_name="Dewi Lestari")
    assert response.status_code == 302
    assert worker.village.code == BUNGO_VILLAGE


def test_the_admin_finds_regions_by_undotted_code(browser):
    # The regency lists, and the pickers of an officer's or a branch office's territory.
    listed = browser.get("/admin/villages/regency/", {"q": "1508"})
    picked = browser.get(
        "/admin/autocomplete/",
        {"term": "1508", "app_label": "access", "model_name": "accessprofile", "field_name": "regency"},
    )

    assert listed.status_code == 200
    assert "Kabupaten Bungo" in listed.text
    assert "Kabupaten Kerinci" not in listed.text
    assert picked.status_code == 200
    assert [row["text"] for row in picked.json()["results"]] == ["15.08 Kabupaten Bungo"]


# --- the schema ----------------------------------------------------------------------------


def test_the_schema_describes_the_spellings(regions, api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()

    detail = schema["paths"]["/api/v1/coverage/{code}/"]["get"]["parameters"]
    code = next(p for p in detail if p["name"] == "code")
    workers = schema["paths"]["/api/v1/workers/"]["get"]["parameters"]
    regency = next(p for p in workers if p["name"] == "regency")
    assert re.fullmatch(code["schema"]["pattern"], "1508")
    assert re.fullmatch(code["schema"]["pattern"], "15.08")
    assert not re.fullmatch(code["schema"]["pattern"], "15.8")
    assert "1508" in code["description"]
    assert re.fullmatch(regency["schema"]["pattern"], "1508")
    assert "`1508`" in regency["description"]


def test_every_region_path_parameter_is_described(regions, api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    region_paths = [
        path
        for path in schema["paths"]
        if path.startswith(("/api/v1/coverage/{code}", "/api/v1/workforce/{code}"))
        or re.match(r"/api/v1/(provinces|regencies|districts|villages)/\{code\}/", path)
    ]

    assert len(region_paths) == 7
    for path in region_paths:
        for operation in schema["paths"][path].values():
            code = next(p for p in operation["parameters"] if p["name"] == "code")
            assert re.fullmatch(code["schema"]["pattern"], "1508012001"), path


def test_spellings_of_villages_in_the_file_are_counted_once(regions, admin_client):
    rows = [worker_row(1, village_code="1508012001", nik=nik(1, region="150801"))]
    rows.append(worker_row(2, village_code="15.08.01.2001", nik=nik(2, region="150801")))
    response = admin_client.post(
        "/api/v1/imports/workers/", {"file": _upload("aparatur.csv", csv_file(rows))}, format="multipart"
    )

    assert response.status_code == 201
    assert set(ApparatusWorker.objects.values_list("village__code", flat=True)) == {BUNGO_VILLAGE}
