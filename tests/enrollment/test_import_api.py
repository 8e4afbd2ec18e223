"""The spreadsheet import API: template, upload (dry run, all or nothing, per-row errors in
Indonesian and English), hostile files, and the record of past imports."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import os
import zipfile
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook
from rest_framework.test import APIClient

from access.models import AccessProfile
from coverage.models import VillageCoverage
from enrollment import services
from enrollment.imports import COLUMNS
from enrollment.models import ApparatusWorker, EnrollmentEvent, WorkerImport
from tests.helpers import token_client
from villages.models import Province, Regency

from .test_imports import (
    BUNGO_VILLAGE,
    OTHER_VILLAGE,
    assert_counters_match_recount,
    csv_file,
    db_counts,
    kpj,
    membership,
    nik,
    typed,
    worker_row,
    xlsx_file,
)

pytestmark = pytest.mark.usefixtures("regions")

UPLOAD = reverse("import-workers")
TEMPLATE = reverse("import-template")
IMPORTS = reverse("import-list")
WORKERS = reverse("worker-list")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def post(client: APIClient, data: bytes, name: str = "aparatur.csv", language: str | None = None, **fields: Any):
    payload = {"file": SimpleUploadedFile(name, data), **{k: str(v).lower() for k, v in fields.items()}}
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    return client.post(UPLOAD, payload, format="multipart", **headers)


def row_errors(response) -> list[tuple[int, str | None, str]]:
    return [(e["row"], e["attr"], e["detail"]) for e in response.json()["errors"]]


def file_error(response) -> tuple[str, str | None, str]:
    body = response.json()
    assert body["type"] in ("validation_error", "client_error")
    (error,) = body["errors"]
    return error["code"], error["attr"], error["detail"]


def streamed(response) -> bytes:
    return b"".join(response.streaming_content)


def export_csv(client: APIClient, **params: str) -> list[dict[str, str]]:
    response = client.get(WORKERS, {"format": "csv", **params})
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(streamed(response).decode("utf-8-sig"))))


def export_xlsx(client: APIClient) -> list[dict[str, Any]]:
    response = client.get(WORKERS, {"format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(streamed(response))).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(header, row, strict=True)) for row in rows]


def make_user(username: str, role: str = "regency_officer") -> Any:
    """A regency officer of Kabupaten Kerinci (15.01), or a viewer of Jambi province (15)."""
    user = get_user_model().objects.create_user(username, password="pw-officer-123")
    if role == "regency_officer":
        AccessProfile.objects.create(user=user, role=role, regency=Regency.objects.get(code="15.01"))
    else:
        AccessProfile.objects.create(user=user, role=role, province=Province.objects.get(code="15"))
    return user


@pytest.fixture
def officer(regions):
    """A regency officer of Kabupaten Kerinci (15.01), without the right to see personal data."""
    return make_user("kerinci")


@pytest.fixture
def officer_client(officer):
    return token_client(officer)


def coverage_totals() -> list[tuple]:
    return sorted(VillageCoverage.objects.values_list("village_id", "institution", "serving", "protected"))


# --- template ---------------------------------------------------------------------------------


def test_template_xlsx_has_headers_and_indonesian_allowed_values(admin_client):
    response = admin_client.get(TEMPLATE, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_TYPE
    assert 'filename="ucj-desa-template.xlsx"' in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["aparatur", "nilai"]
    assert [cell.value for cell in workbook["aparatur"][1]] == COLUMNS
    allowed = {(c, v): label for c, v, label in workbook["nilai"].iter_rows(min_row=2, values_only=True) if v}
    assert allowed[("sex", "female")] == "Perempuan"
    assert allowed[("institution", "posyandu")] == "Pos Pelayanan Terpadu (Posyandu)"
    assert allowed[("funding_source", "self_paid")] == "Mandiri (dibayar sendiri)"
    assert {v for c, v in allowed if c == "programs"} == {"jkk", "jkm", "jht", "jp"}


def test_template_xlsx_explains_columns_in_indonesian(admin_client):
    workbook = load_workbook(io.BytesIO(admin_client.get(TEMPLATE).content))
    header, *rows = list(workbook["nilai"].iter_rows(values_only=True))
    help_texts = {column: meaning for column, value, meaning in rows if not value}

    assert header[0] != "column"
    assert help_texts["nik"] != "16-digit NIK, entered as text"


def test_template_csv_has_headers_and_an_example_row_that_imports(admin_client):
    response = admin_client.get(TEMPLATE, {"format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    header, example = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert header == COLUMNS
    assert example[COLUMNS.index("village_code")] == BUNGO_VILLAGE

    checked = post(admin_client, response.content, "ucj-desa-template.csv", dry_run=True)

    assert checked.status_code == 200
    assert (checked.json()["created"], checked.json()["rejected"]) == (1, 0)


def test_template_needs_write_workers(regions, api_client):
    viewer = make_user("viewer", role="viewer")
    api_client.force_authenticate(viewer)

    assert api_client.get(TEMPLATE).status_code == 403


# --- round trip -------------------------------------------------------------------------------


def test_round_trip_template_import_export_and_reimport_changes_nothing(admin_client):
    workbook = load_workbook(io.BytesIO(admin_client.get(TEMPLATE).content))
    sheet = workbook["aparatur"]
    woman = nik(2, female=True)
    rows = [
        typed(worker_row(1, phone="081234567890")),
        typed(worker_row(2, full_name="Siti Aminah", sex="female", nik=woman)),
        typed(worker_row(3, institution="posyandu", position="kader", **membership(3))),
    ]
    for number, row in enumerate(rows, start=2):  # the example row 2 is overwritten
        for index, column in enumerate(COLUMNS, start=1):
            sheet.cell(row=number, column=index, value=None if row[column] == "" else row[column])
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()

    response = post(admin_client, data, "aparatur.xlsx")

    assert response.status_code == 201
    body = response.json()
    assert (body["rows"], body["created"], body["updated"], body["rejected"], body["committed"]) == (3, 3, 0, 0, True)
    exported = {row["nik"]: row for row in export_csv(admin_client)}
    assert set(exported) == {nik(1), woman, nik(3)}
    assert (exported[woman]["full_name"], exported[woman]["sex"]) == ("Siti Aminah", "female")
    assert exported[nik(1)]["phone"] == "081234567890"
    assert (exported[nik(3)]["status"], exported[nik(3)]["kpj_number"]) == ("active", kpj(3))
    assert {row["nik"]: row["institution"] for row in export_xlsx(admin_client)} == {
        nik(1): "pemerintah_desa",
        woman: "pemerintah_desa",
        nik(3): "posyandu",
    }
    before = db_counts()

    again = post(admin_client, data, "aparatur.xlsx")

    assert again.status_code == 201
    assert {k: again.json()[k] for k in ("created", "updated", "unchanged", "rejected")} == {
        "created": 0,
        "updated": 0,
        "unchanged": 3,
        "rejected": 0,
    }
    assert db_counts() == before


def test_upload_semicolon_csv_with_bom_is_imported(admin_client):
    data = csv_file([worker_row(1), worker_row(2)], delimiter=";", bom=True)

    response = post(admin_client, data)

    assert response.status_code == 201
    assert response.json()["created"] == 2
    assert ApparatusWorker.objects.count() == 2


def test_upload_label_instead_of_code_is_accepted(admin_client):
    data = csv_file([worker_row(1, institution="Posyandu", position="Kader", sex="Laki-laki", wage_basis="Honorarium")])

    response = post(admin_client, data)

    assert response.status_code == 201
    worker = ApparatusWorker.objects.get()
    assert (worker.institution, worker.position, worker.sex, worker.wage_basis) == (
        "posyandu",
        "kader",
        "male",
        "honorarium",
    )


# --- dry run and all-or-nothing -------------------------------------------------------------------


def test_dry_run_reports_but_writes_nothing(admin_client, make_worker):
    make_worker(full_name="Pekerja 1", position="staf")
    before, counters = db_counts(), coverage_totals()
    data = csv_file([worker_row(1, full_name="Nama Baru"), worker_row(2, **membership(2)), worker_row(3, nik="12")])

    response = post(admin_client, data, dry_run=True)

    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("rows", "created", "updated", "unchanged", "rejected", "committed", "dry_run")} == {
        "rows": 3,
        "created": 1,
        "updated": 1,
        "unchanged": 0,
        "rejected": 1,
        "committed": False,
        "dry_run": True,
    }
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(4, "nik")]
    assert db_counts() == before
    assert coverage_totals() == counters
    assert ApparatusWorker.objects.get(nik=nik(1)).full_name == "Pekerja 1"
    record = WorkerImport.objects.get(pk=body["import"])
    assert (record.dry_run, record.committed, record.summary["created"]) == (True, False, 1)


def test_all_or_nothing_one_bad_row_is_400_with_row_errors_and_writes_nothing(admin_client):
    before = db_counts()
    data = csv_file([worker_row(1), worker_row(2), worker_row(3, birth_date="31/02/1980"), worker_row(4)])

    response = post(admin_client, data)

    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert [(e["row"], e["attr"], e["code"]) for e in body["errors"]] == [(4, "birth_date", "invalid_row")]
    assert (body["created"], body["rejected"], body["committed"]) == (3, 1, False)
    assert db_counts() == before
    assert WorkerImport.objects.get(pk=body["import"]).committed is False


def test_all_or_nothing_false_writes_the_good_rows_only(admin_client):
    data = csv_file([worker_row(1), worker_row(2, nik="1501011705800000"), worker_row(3)])

    response = post(admin_client, data, all_or_nothing=False)

    assert response.status_code == 201
    body = response.json()
    assert (body["created"], body["rejected"], body["committed"]) == (2, 1, True)
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, "nik")]
    assert set(ApparatusWorker.objects.values_list("nik", flat=True)) == {nik(1), nik(3)}
    assert_counters_match_recount()


def test_upload_row_numbers_follow_the_file_with_blank_lines(admin_client):
    data = csv_file([worker_row(1), ["", ""], ["", ""], worker_row(2, sex="female")])

    response = post(admin_client, data)

    assert response.status_code == 400
    assert [(row, attr) for row, attr, _detail in row_errors(response)] == [(5, "sex")]


def test_upload_needs_write_workers(regions, api_client):
    api_client.force_authenticate(make_user("viewer", role="viewer"))

    response = post(api_client, csv_file([worker_row(1)]))

    assert response.status_code == 403
    assert WorkerImport.objects.count() == 0


def test_upload_anonymous_is_401(regions, api_client):
    assert post(api_client, csv_file([worker_row(1)])).status_code == 401


def test_upload_without_file_is_400(admin_client):
    response = admin_client.post(UPLOAD, {"dry_run": "true"}, format="multipart")

    assert response.status_code == 400
    assert "file" in {e["attr"] for e in response.json()["errors"]}


# --- per-row messages -----------------------------------------------------------------------------


@dataclass
class Case:
    rows: list[dict[str, Any]]
    row: int
    columns: list[str]
    english: str
    indonesian: str | None  # None: no translation yet, the message must just not be English
    name: str = "aparatur.csv"
    worker: dict[str, Any] | None = None  # registered (and activated with `kpj`) first
    kpj: str | None = None
    as_officer: bool = False
    contains: list[str] = field(default_factory=list)


def _number_nik_xlsx() -> list[dict[str, Any]]:
    return [typed(worker_row(1, nik=int(nik(1))))]


CASES = {
    "nik_length": Case(
        [worker_row(1, nik="150101170580001")],
        2,
        ["nik"],
        "NIK must have 16 digits, not 15.",
        "NIK harus terdiri dari 16 angka, bukan 15.",
    ),
    "nik_birth_date_mismatch": Case(
        [worker_row(1), worker_row(2, birth_date="1981-05-17")],
        3,
        ["birth_date"],
        "The birth date does not agree with the NIK (digits 7-12 read 17-05-80).",
        "Tanggal lahir tidak sesuai dengan NIK (angka ke-7 sampai ke-12 NIK menunjukkan 17-05-80).",
    ),
    "unknown_village": Case(
        [worker_row(1, village_code="15.01.01.2999")],
        2,
        ["village_code"],
        "No village with this code in your region.",
        "Tidak ada desa dengan kode ini di wilayah kewenangan Anda.",
    ),
    "village_outside_regency": Case(
        [worker_row(1), worker_row(2, village_code=BUNGO_VILLAGE, nik=nik(2, region="150801"))],
        3,
        ["village_code"],
        "No village with this code in your region.",
        "Tidak ada desa dengan kode ini di wilayah kewenangan Anda.",
        as_officer=True,
    ),
    "duplicate_nik_in_file": Case(
        [worker_row(1), worker_row(2), worker_row(1, full_name="Orang Lain")],
        4,
        ["nik"],
        "The same NIK is on row 2 of this file.",
        None,
        contains=["2"],
    ),
    "nik_serving_elsewhere": Case(
        [worker_row(1)],
        2,
        ["nik"],
        "This NIK already serves in village 15.01.01.2002 Lempur Mudik.",
        None,
        worker={"village": OTHER_VILLAGE},
        contains=["15.01.01.2002", "Lempur Mudik"],
    ),
    "kpj_taken": Case(
        [worker_row(2, **membership(7))],
        2,
        ["kpj_number"],
        "The KPJ number is already recorded for another worker.",
        "Nomor KPJ ini sudah tercatat untuk aparatur lain.",
        worker={},
        kpj=kpj(7),
    ),
    "required_value_missing": Case(
        [worker_row(1, full_name="  ")],
        2,
        ["full_name"],
        "This column must be filled in.",
        None,
    ),
    "membership_partly_filled": Case(
        [worker_row(1, kpj_number=kpj(1), scheme="bpu")],
        2,
        ["programs", "funding_source", "coverage_start", "paid_until"],
        "Fill in every membership column, or none of them.",
        None,
    ),
    "nik_as_number_in_xlsx": Case(
        _number_nik_xlsx(),
        2,
        ["nik"],
        "Enter this number as text: a spreadsheet rounds long numbers.",
        None,
        name="aparatur.xlsx",
    ),
    "bad_date": Case(
        [worker_row(1, term_start="2024/13/01")],
        2,
        ["term_start"],
        "Enter a date as YYYY-MM-DD or DD/MM/YYYY.",
        None,
    ),
    "unknown_enum": Case(
        [worker_row(1, institution="kantor desa")],
        2,
        ["institution"],
        "Unknown value 'kantor desa'; allowed: pemerintah_desa, bpd, rt, rw, pkk, karang_taruna, posyandu, lpm, "
        "lembaga_adat, linmas, other.",
        None,
        contains=["kantor desa"],
    ),
    "formula_in_xlsx": Case(
        [worker_row(1, full_name="=1+1")],
        2,
        ["full_name"],
        "Formulas are not accepted; enter the value itself.",
        None,
        name="aparatur.xlsx",
    ),
}


def _case_params():
    for name in CASES:
        yield pytest.param(name, "en", id=f"{name}-en")
        yield pytest.param(name, "id", id=f"{name}-id")


@pytest.mark.parametrize(("case_name", "language"), list(_case_params()))
def test_row_error_message_names_row_column_and_problem(case_name, language, admin_client, make_worker):
    case = CASES[case_name]
    if case.worker is not None:
        worker = make_worker(**case.worker)
        if case.kpj:
            services.enrollment_activate(
                actor=services.Actor(label="test"),
                worker_id=worker.pk,
                kpj_number=case.kpj,
                scheme="bpu",
                programs=["jkk", "jkm"],
                funding_source="apbdes",
                coverage_start=services.today() - datetime.timedelta(days=30),
                paid_until=services.today() + datetime.timedelta(days=60),
            )
    client = admin_client
    if case.as_officer:
        client = token_client(make_user("kerinci"))
    data = xlsx_file(case.rows) if case.name.endswith(".xlsx") else csv_file(case.rows)
    before = db_counts()

    # Indonesian is the default: no Accept-Language header at all
    response = post(client, data, case.name, language="en" if language == "en" else None)

    assert response.status_code == 400
    errors = row_errors(response)
    assert [(row, attr) for row, attr, _detail in errors] == [(case.row, column) for column in case.columns]
    detail = errors[0][2]
    if language == "en":
        assert detail == case.english
    elif case.indonesian is not None:
        assert detail == case.indonesian
    else:
        assert detail != case.english
        assert all(part in detail for part in case.contains)
    assert db_counts() == before


def test_row_error_village_in_officers_regency_is_accepted(officer_client):
    data = csv_file([worker_row(1), worker_row(2, village_code=OTHER_VILLAGE)])

    response = post(officer_client, data)

    assert response.status_code == 201
    assert response.json()["created"] == 2
    assert EnrollmentEvent.objects.filter(actor__username="kerinci", source="import").count() == 2


# --- hostile files -------------------------------------------------------------------------------


def zip_archive(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


WORKBOOK_PARTS = {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}


def assert_refused(response, status: int, code: str, *fragments: str) -> None:
    assert response.status_code == status, response.content
    error_code, attr, detail = file_error(response)
    assert (error_code, attr) == (code, "file")
    for fragment in fragments:
        assert fragment in detail, detail
    assert WorkerImport.objects.count() == 0
    assert ApparatusWorker.objects.count() == 0


@pytest.mark.parametrize("excess", [1, 200_000])
def test_hostile_upload_larger_than_limit_is_413(admin_client, settings, excess):
    settings.UCJ_IMPORT_MAX_BYTES = 2_000
    data = csv_file([worker_row(1)]) + b"#" * (2_000 + excess)

    response = post(admin_client, data, language="en")

    assert_refused(response, 413, "file_too_large", "larger than 2000 bytes")


def test_hostile_more_rows_than_limit_is_400(admin_client, settings):
    settings.UCJ_IMPORT_MAX_ROWS = 3

    response = post(admin_client, csv_file([worker_row(n) for n in range(1, 5)]), language="en")

    assert_refused(response, 400, "too_many_rows", "more than 3 rows")


def test_hostile_xlsx_that_is_really_text(admin_client):
    response = post(admin_client, csv_file([worker_row(1)]), "aparatur.xlsx", language="en")

    assert_refused(response, 400, "not_xlsx", ".xlsx", "not an Excel workbook")


def test_hostile_csv_that_is_really_a_zip(admin_client):
    response = post(admin_client, xlsx_file([worker_row(1)]), "aparatur.csv", language="en")

    assert_refused(response, 400, "not_csv", ".csv", "not a text file")


def test_hostile_zip_bomb_over_unpacked_limit(admin_client, settings):
    settings.UCJ_IMPORT_MAX_UNPACKED_BYTES = 1024 * 1024
    data = zip_archive({**WORKBOOK_PARTS, "xl/worksheets/sheet1.xml": os.urandom(2 * 1024 * 1024)})

    response = post(admin_client, data, "aparatur.xlsx", language="en")

    assert_refused(response, 400, "zip_bomb", "zip bomb", f"unpacks to {2 * 1024 * 1024 + 19} bytes")


def test_hostile_zip_bomb_by_compression_ratio(admin_client):
    """5 MB of zeros packs into a few kilobytes: refused by its ratio, under the size limit."""
    data = zip_archive({**WORKBOOK_PARTS, "xl/worksheets/sheet1.xml": b"\0" * (5 * 1024 * 1024)})
    assert len(data) < 20_000

    response = post(admin_client, data, "aparatur.xlsx", language="en")

    assert_refused(response, 400, "zip_bomb", "zip bomb")


def test_hostile_zip_that_is_not_a_workbook(admin_client):
    data = zip_archive({"hello.txt": b"hello", "docs/readme.md": b"# readme"})

    response = post(admin_client, data, "aparatur.xlsx", language="en")

    assert_refused(response, 400, "not_xlsx", "not an Excel workbook")


def test_hostile_damaged_zip(admin_client):
    response = post(admin_client, b"PK\x03\x04" + b"\x01" * 500, "aparatur.xlsx", language="en")

    assert_refused(response, 400, "bad_xlsx", "damaged")


def test_hostile_latin1_csv_names_the_line(admin_client):
    data = csv_file([worker_row(1), worker_row(2), worker_row(3, full_name="José Ramírez")], encoding="latin-1")

    response = post(admin_client, data, language="en")

    assert_refused(response, 400, "encoding", "line 4", "UTF-8")


@pytest.mark.parametrize(
    ("header", "code", "fragment"),
    [
        ([c for c in COLUMNS if c != "nik"], "missing_columns", "Missing columns: nik."),
        (["nama" if c == "full_name" else c for c in COLUMNS], "unknown_columns", "Unknown columns: nama."),
        ([*COLUMNS, "catatan"], "unknown_columns", "Unknown columns: catatan."),
        ([*COLUMNS, "nik"], "duplicate_columns", "Columns appear twice: nik."),
    ],
    ids=["missing", "renamed", "extra", "duplicated"],
)
def test_hostile_header_problems_are_refused(admin_client, header, code, fragment):
    rows = [[worker_row(1).get(c, "x") for c in header]]

    response = post(admin_client, csv_file(rows, header=header), language="en")

    assert_refused(response, 400, code, fragment)


@pytest.mark.parametrize(
    ("data", "code", "fragment"),
    [
        (b"", "empty", "empty"),
        (b" \r\n\r\n", "empty", "empty"),
        (b"\xef\xbb\xbf\r\n,,,\r\n", "empty", "empty"),
        (csv_file([]), "no_rows", "header but no rows"),
        (csv_file([["", ""], ["", ""]]), "no_rows", "header but no rows"),
    ],
    ids=["empty", "blank", "bom-and-empty-cells", "header-only", "header-and-blank-rows"],
)
def test_hostile_empty_files_are_refused(admin_client, data, code, fragment):
    response = post(admin_client, data, language="en")

    assert_refused(response, 400, code, fragment)


def test_hostile_empty_workbook_is_refused(admin_client):
    response = post(admin_client, xlsx_file([], header=[]), "aparatur.xlsx", language="en")

    assert_refused(response, 400, "empty", "empty")


def test_hostile_unsupported_extension(admin_client):
    response = post(admin_client, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "aparatur.pdf", language="en")

    assert_refused(response, 400, "unsupported_type", ".csv or .xlsx")


def test_hostile_file_error_is_indonesian_by_default(admin_client):
    response = post(admin_client, b"%PDF-1.4\n", "aparatur.pdf")

    assert response.status_code == 400
    _code, _attr, detail = file_error(response)
    assert detail != "Upload a .csv or .xlsx file."


def test_hostile_formula_rejects_the_row_not_the_file(admin_client):
    data = xlsx_file([worker_row(1), worker_row(2, full_name='=HYPERLINK("http://x.example","klik")')])

    response = post(admin_client, data, "aparatur.xlsx", all_or_nothing=False, language="en")

    assert response.status_code == 201
    body = response.json()
    assert (body["created"], body["rejected"]) == (1, 1)
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, "full_name")]
    assert list(ApparatusWorker.objects.values_list("full_name", flat=True)) == ["Pekerja 1"]


def first_sheet_stored_second(rows: list[dict[str, Any]]) -> bytes:
    """A workbook whose first sheet (in the workbook's order) is stored as sheet2.xml, as Excel
    leaves it after sheets are reordered."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "aparatur"
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append([None if row[c] == "" else row[c] for c in COLUMNS])
    workbook.create_sheet("nilai").append(["column", "value", "meaning"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    source = zipfile.ZipFile(buffer)
    parts = {
        "xl/worksheets/sheet1.xml": "xl/worksheets/sheet2.xml",
        "xl/worksheets/sheet2.xml": "xl/worksheets/sheet1.xml",
    }
    members = {}
    for name in source.namelist():
        content = source.read(name)
        if name == "xl/_rels/workbook.xml.rels":
            content = (
                content.replace(b"sheet1.xml", b"@").replace(b"sheet2.xml", b"sheet1.xml").replace(b"@", b"sheet2.xml")
            )
        members[parts.get(name, name)] = content
    data = zip_archive(members)
    assert load_workbook(io.BytesIO(data)).worksheets[0].title == "aparatur"
    return data


def test_hostile_formula_is_rejected_whatever_the_sheet_part_name(admin_client):
    data = first_sheet_stored_second([worker_row(1, phone="=1+1")])

    response = post(admin_client, data, "aparatur.xlsx", language="en")

    assert response.status_code == 400
    assert row_errors(response) == [(2, "phone", "Formulas are not accepted; enter the value itself.")]
    assert ApparatusWorker.objects.count() == 0


def test_hostile_nul_character_in_csv_refuses_the_file(admin_client):
    """A NUL byte means the file is not text: refused whole (never a server error)."""
    response = post(admin_client, csv_file([worker_row(1, full_name="Bu\x00di")]), language="en")

    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert (error["attr"], error["code"]) == ("file", "not_csv")
    assert ApparatusWorker.objects.count() == 0


def test_hostile_escaped_nul_in_xlsx_never_reaches_the_database(admin_client):
    """`_x0000_` is how XLSX spells NUL: the reader decodes it, so the row is refused like a raw NUL."""
    response = post(admin_client, xlsx_file([worker_row(1, full_name="Bu_x0000_di")]), "aparatur.xlsx", language="en")

    assert response.status_code == 400
    assert row_errors(response) == [(2, "full_name", "The cell contains a NUL character, which is not allowed.")]
    assert ApparatusWorker.objects.count() == 0


FORMULA_LIKE = ["=1+1", "+1+1", "-1+1", "@SUM(A1:A9)", "\t=1+1", "\r=1+1", "  =1+1"]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
@pytest.mark.parametrize("text", FORMULA_LIKE, ids=["=", "+", "-", "@", "tab", "cr", "spaces"])
def test_hostile_formula_like_text_is_refused_in_csv_and_xlsx_alike(admin_client, kind, text):
    """A spreadsheet opening the file, or a later export, would run it: refused in both formats
    with the same message, whatever starts it."""
    rows = [worker_row(1, full_name=text), worker_row(2)]
    data = csv_file(rows) if kind == "csv" else xlsx_file(rows)

    response = post(admin_client, data, f"aparatur.{kind}", language="en")

    assert response.status_code == 400
    # A CSV record holding a line break is numbered by the line it ends on.
    row = 3 if kind == "csv" and "\r" in text else 2
    assert row_errors(response) == [(row, "full_name", "Formulas are not accepted; enter the value itself.")]
    assert ApparatusWorker.objects.count() == 0


@pytest.mark.parametrize("column", ["npp", "village_code", "monthly_wage"])
def test_hostile_formula_like_text_is_refused_in_any_column_of_a_csv(admin_client, column):
    row = {**worker_row(1), **membership(1, scheme="pu", npp="12345678"), column: "=cmd|' /C calc'!A0"}

    response = post(admin_client, csv_file([row]), language="en")

    assert response.status_code == 400
    assert row_errors(response) == [(2, column, "Formulas are not accepted; enter the value itself.")]
    assert ApparatusWorker.objects.count() == 0


@pytest.mark.parametrize(
    ("wage", "message"),
    [
        ("Infinity", "Enter a whole number of rupiah."),
        ("1e30", "The monthly wage cannot exceed 1000000000 rupiah."),
        ("1000000001", "The monthly wage cannot exceed 1000000000 rupiah."),
    ],
)
def test_hostile_wage_beyond_what_can_be_stored_is_a_row_error(admin_client, wage, message):
    """Infinity made int() fail, 1e30 overflowed the database column: both were server errors."""
    response = post(admin_client, csv_file([worker_row(1, monthly_wage=wage)]), language="en")

    assert response.status_code == 400
    assert row_errors(response) == [(2, "monthly_wage", message)]
    assert ApparatusWorker.objects.count() == 0


def test_wage_at_the_limit_is_accepted(admin_client):
    response = post(admin_client, csv_file([worker_row(1, monthly_wage="1000000000")]))

    assert response.status_code == 201
    assert ApparatusWorker.objects.get().monthly_wage == 1_000_000_000


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
@pytest.mark.parametrize("phone", ["+62 812-3456-7890", "+6281234567890"])
def test_phone_starting_with_plus_is_accepted(admin_client, kind, phone):
    """A phone number may start with + (the one formula-like start allowed, for a phone only)."""
    data = csv_file([worker_row(1, phone=phone)]) if kind == "csv" else xlsx_file([worker_row(1, phone=phone)])

    response = post(admin_client, data, f"aparatur.{kind}")

    assert response.status_code == 201
    assert ApparatusWorker.objects.get().phone == phone


@pytest.mark.parametrize("phone", ["+1+cmd|' /C calc'!A0", "=6281234567890", "-62812345678"])
def test_hostile_formula_like_phone_is_refused(admin_client, phone):
    response = post(admin_client, csv_file([worker_row(1, phone=phone)]), language="en")

    assert response.status_code == 400
    assert row_errors(response) == [(2, "phone", "Formulas are not accepted; enter the value itself.")]
    assert ApparatusWorker.objects.count() == 0


# --- idempotency and matching on NIK --------------------------------------------------------------


def test_reupload_with_one_name_changed_updates_that_worker_only(admin_client):
    rows = [worker_row(1), worker_row(2), worker_row(3)]
    post(admin_client, csv_file(rows))
    rows[1] = worker_row(2, full_name="Rahmat Hidayat")

    response = post(admin_client, csv_file(rows))

    assert response.status_code == 201
    body = response.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 1, 2)
    event = EnrollmentEvent.objects.get(kind="updated")
    assert (event.worker.nik, event.source, event.import_batch_id) == (nik(2), "import", body["import"])
    assert event.changes == {"full_name": ["Pekerja 2", "Rahmat Hidayat"]}
    assert ApparatusWorker.objects.get(nik=nik(2)).full_name == "Rahmat Hidayat"


def test_reupload_with_membership_activates_existing_worker(admin_client):
    post(admin_client, csv_file([worker_row(1), worker_row(2)]))

    response = post(admin_client, csv_file([worker_row(1, **membership(1)), worker_row(2)]))

    assert response.status_code == 201
    assert (response.json()["updated"], response.json()["unchanged"]) == (1, 1)
    worker = ApparatusWorker.objects.get(nik=nik(1))
    assert (worker.enrollment.status, worker.enrollment.kpj_number) == ("active", kpj(1))
    event = worker.events.get(kind="activated")
    assert (event.source, event.import_batch_id) == ("import", response.json()["import"])
    assert_counters_match_recount()


def test_import_events_carry_the_uploader_and_batch(admin_client, admin_user):
    response = post(admin_client, csv_file([worker_row(1, **membership(1)), worker_row(2)]))

    batch = response.json()["import"]
    assert sorted(EnrollmentEvent.objects.values_list("kind", "source", "import_batch_id", "actor_id")) == [
        ("activated", "import", batch, admin_user.pk),
        ("registered", "import", batch, admin_user.pk),
        ("registered", "import", batch, admin_user.pk),
    ]
    assert_counters_match_recount()


# --- import records -------------------------------------------------------------------------------


def test_import_list_shows_who_when_file_checksum_and_summary(admin_client):
    data = csv_file([worker_row(1)])
    post(admin_client, data, "desa-lempur.csv")

    response = admin_client.get(IMPORTS)

    assert response.status_code == 200
    (record,) = response.json()["results"]
    assert record["created_by"] == "admin"
    assert record["file_name"] == "desa-lempur.csv"
    assert record["size"] == len(data)
    assert record["checksum"] == hashlib.sha256(data).hexdigest()
    assert (record["dry_run"], record["all_or_nothing"], record["committed"]) == (False, True, True)
    assert record["summary"]["created"] == 1
    assert abs(datetime.datetime.fromisoformat(record["created_at"]) - timezone.now()) < datetime.timedelta(minutes=1)
    assert "data" not in record


def test_import_list_non_admin_sees_own_imports_only(admin_client, officer_client):
    post(admin_client, csv_file([worker_row(1)]), "admin.csv")
    post(officer_client, csv_file([worker_row(2)]), "kerinci.csv", dry_run=True)

    own = officer_client.get(IMPORTS).json()["results"]
    everything = admin_client.get(IMPORTS).json()["results"]

    assert [r["file_name"] for r in own] == ["kerinci.csv"]
    assert [r["file_name"] for r in everything] == ["kerinci.csv", "admin.csv"]


def test_import_detail_of_someone_elses_import_is_404(admin_client, officer_client):
    theirs = post(admin_client, csv_file([worker_row(1)])).json()["import"]
    mine = post(officer_client, csv_file([worker_row(2)])).json()["import"]

    assert officer_client.get(reverse("import-detail", args=[mine])).status_code == 200
    assert officer_client.get(reverse("import-detail", args=[theirs])).status_code == 404
    assert officer_client.get(reverse("import-file", args=[theirs])).status_code == 404


@pytest.mark.parametrize("name", ["aparatur.csv", "aparatur.xlsx"])
def test_import_file_downloads_byte_identical(admin_client, name):
    data = xlsx_file([worker_row(1)]) if name.endswith(".xlsx") else csv_file([worker_row(1)], bom=True)
    record = post(admin_client, data, name).json()["import"]

    response = admin_client.get(reverse("import-file", args=[record]))

    assert response.status_code == 200
    assert response.content == data
    assert hashlib.sha256(response.content).hexdigest() == WorkerImport.objects.get(pk=record).checksum
    assert f'filename="{name}"' in response["Content-Disposition"]


@pytest.mark.parametrize(
    ("name", "header"),
    [
        ('daftar "lama".csv', 'attachment; filename="daftar \\"lama\\".csv"'),
        ("aparatur\u2013desa.csv", "attachment; filename*=utf-8''aparatur%E2%80%93desa.csv"),
    ],
    ids=["quote", "non-ascii"],
)
def test_import_file_download_name_is_quoted(admin_client, name, header):
    record = post(admin_client, csv_file([worker_row(1)]), name).json()["import"]

    response = admin_client.get(reverse("import-file", args=[record]))

    assert response["Content-Disposition"] == header


def test_import_records_need_write_workers(regions, api_client):
    api_client.force_authenticate(make_user("viewer", role="viewer"))

    assert api_client.get(IMPORTS).status_code == 403
