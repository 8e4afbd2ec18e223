"""Worker exports: `GET /api/v1/workers/?format=csv|xlsx`, streamed, filtered like the list,
masked as the caller's rights require, formula-safe, and written to the access log."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.http import StreamingHttpResponse
from django.urls import reverse
from openpyxl import load_workbook
from rest_framework.test import APIClient

from access.models import AccessLog, AccessProfile
from core.api.renderers import neutralise
from enrollment import services
from enrollment.spreadsheets import EXPORT_COLUMNS
from villages.models import Province, Regency

WORKERS = reverse("worker-list")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KERINCI_VILLAGE = "15.01.01.2001"
BUNGO_VILLAGE = "15.08.01.2001"
FORMATS = ["csv", "xlsx"]


def rows_of(response) -> list[dict[str, Any]]:
    """The exported rows as dicts, from a streamed CSV or XLSX response."""
    content = b"".join(response.streaming_content)
    if response["Content-Type"].startswith("text/csv"):
        assert content.startswith(b"\xef\xbb\xbf")
        reader = csv.reader(io.StringIO(content.decode("utf-8-sig")))
        header, *rows = list(reader)
    else:
        sheet = load_workbook(io.BytesIO(content)).active
        header, *rows = [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]
    assert list(header) == EXPORT_COLUMNS
    return [dict(zip(header, row, strict=True)) for row in rows]


def export(client: APIClient, kind: str, **params: str):
    return client.get(WORKERS, {"format": kind, **params})


def activate(worker) -> None:
    services.enrollment_activate(
        actor=services.Actor(label="test"),
        worker_id=worker.pk,
        kpj_number=f"{30_000_000_000 + worker.pk:011d}",
        scheme="bpu",
        programs=["jkk", "jkm"],
        funding_source="apbdes",
        coverage_start=services.today() - datetime.timedelta(days=30),
        paid_until=services.today() + datetime.timedelta(days=60),
    )


def user_client(username: str, role: str, *, personal_data: bool = False) -> APIClient:
    user = get_user_model().objects.create_user(username, password="pw-officer-123")
    if role == "regency_officer":
        AccessProfile.objects.create(user=user, role=role, regency=Regency.objects.get(code="15.01"))
    else:
        AccessProfile.objects.create(user=user, role=role, province=Province.objects.get(code="15"))
    if personal_data:
        user.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def officer_client(regions):
    """A regency officer of Kabupaten Kerinci without the right to see personal data."""
    return user_client("kerinci", "regency_officer")


@pytest.fixture
def workers(make_worker):
    """Kerinci: an active head with a phone, a not-registered staff member; Bungo: an active head."""
    head = make_worker(full_name="Budi Santoso", phone="081234567890")
    staff = make_worker(full_name="Siti Aminah", position="staf")
    bungo = make_worker(full_name="Rahmat Hidayat", village=BUNGO_VILLAGE)
    activate(head)
    activate(bungo)
    return {"head": head, "staff": staff, "bungo": bungo}


@pytest.mark.parametrize("kind", FORMATS)
def test_export_streams_every_worker_with_full_data_for_admin(admin_client, workers, kind):
    response = export(admin_client, kind)

    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response.streaming is True
    assert response["Content-Type"] == ("text/csv; charset=utf-8" if kind == "csv" else XLSX_TYPE)
    assert response["Content-Disposition"] == f'attachment; filename="workers.{kind}"'
    rows = {row["full_name"]: row for row in rows_of(response)}
    assert set(rows) == {"Budi Santoso", "Siti Aminah", "Rahmat Hidayat"}
    head = rows["Budi Santoso"]
    assert (str(head["nik"]), str(head["birth_date"]), str(head["phone"])) == (
        workers["head"].nik,
        "1980-05-17",
        "081234567890",
    )
    assert (head["village_code"], head["village_name"], head["regency_code"]) == (
        KERINCI_VILLAGE,
        "Lempur Tengah",
        "15.01",
    )
    assert (head["status"], str(head["protected"])) == ("active", "True")
    assert (rows["Siti Aminah"]["status"], str(rows["Siti Aminah"]["protected"])) == ("not_registered", "False")
    assert str(head["monthly_wage"]) == "2500000"


@pytest.mark.parametrize("kind", FORMATS)
def test_export_applies_the_list_filters(admin_client, workers, kind):
    response = export(admin_client, kind, regency="15.01", status="active")

    assert [row["full_name"] for row in rows_of(response)] == ["Budi Santoso"]


@pytest.mark.parametrize("kind", FORMATS)
def test_export_with_no_matching_worker_has_the_header_only(admin_client, workers, kind):
    response = export(admin_client, kind, regency="15.08", status="not_registered")

    assert rows_of(response) == []


@pytest.mark.parametrize("kind", FORMATS)
def test_export_neutralises_formula_like_text(admin_client, make_worker, kind):
    names = ['=HYPERLINK("http://evil.example","klik")', "+1", "-2", "@x", "Budi =Santoso"]
    for name in names:
        make_worker(full_name=name)

    response = export(admin_client, kind)

    assert sorted(row["full_name"] for row in rows_of(response)) == sorted(
        ['\'=HYPERLINK("http://evil.example","klik")', "'+1", "'-2", "'@x", "Budi =Santoso"]
    )


SEPARATED = {
    "Budi;=cmd|' /C calc'!A0": "Budi;'=cmd|' /C calc'!A0",
    "Budi,=1+1": "Budi,'=1+1",
    "Budi; +1": "Budi; '+1",
    "Budi;-2;@x": "Budi;'-2;'@x",
    "Budi =Santoso": "Budi =Santoso",
}


def test_export_csv_neutralises_formulas_after_any_list_separator(admin_client, make_worker):
    """Excel opens a CSV with the reader's list separator (";" in an Indonesian locale): no
    fragment of a line, split on any separator, may start a formula."""
    for name in SEPARATED:
        make_worker(full_name=name)

    response = export(admin_client, "csv")
    content = b"".join(response.streaming_content).decode("utf-8-sig")

    for line in content.splitlines()[1:]:
        for separator in (",", ";", "\t"):
            for fragment in line.split(separator):
                assert not fragment.lstrip(' "').startswith(("=", "+", "-", "@")), (separator, line)
    names = [row["full_name"] for row in csv.DictReader(io.StringIO(content))]
    assert sorted(names) == sorted(SEPARATED.values())


def test_export_xlsx_keeps_separators_inside_a_cell(admin_client, make_worker):
    """A cell is never split: only its start matters."""
    for name in SEPARATED:
        make_worker(full_name=name)

    names = [row["full_name"] for row in rows_of(export(admin_client, "xlsx"))]

    assert sorted(names) == sorted(SEPARATED)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("  @x", "  '@x"),
        ("a\t\t=x", "a\t'\t'=x"),
        ("a\r\n-1", "a\r\n'-1"),
        ("Siti-Aminah, S.Pd", "Siti-Aminah, S.Pd"),
        (12, 12),
    ],
)
def test_neutralise_csv_field(value, expected):
    assert neutralise(value) == expected


def test_export_xlsx_formula_like_text_is_a_text_cell(admin_client, make_worker):
    make_worker(full_name="=1+1")

    content = b"".join(export(admin_client, "xlsx").streaming_content)

    sheet = load_workbook(io.BytesIO(content)).active
    cell = sheet.cell(row=2, column=EXPORT_COLUMNS.index("full_name") + 1)
    assert (cell.value, cell.data_type) == ("'=1+1", "s")


@pytest.mark.parametrize("kind", FORMATS)
def test_export_masks_personal_data_without_permission(officer_client, workers, kind):
    rows = {row["full_name"]: row for row in rows_of(export(officer_client, kind))}

    head, staff = rows["Budi Santoso"], rows["Siti Aminah"]
    nik = workers["head"].nik
    assert head["nik"] == f"{nik[:4]}************"
    assert head["birth_date"] == ""
    assert head["phone"] == "*" * len("081234567890")
    assert staff["phone"] == ""
    assert staff["nik"] == "1501************"


@pytest.mark.parametrize("kind", FORMATS)
def test_export_officer_with_permission_sees_full_data(regions, workers, kind):
    client = user_client("kerinci-pd", "regency_officer", personal_data=True)

    rows = {row["full_name"]: row for row in rows_of(export(client, kind))}

    assert (rows["Budi Santoso"]["nik"], rows["Budi Santoso"]["phone"]) == (workers["head"].nik, "081234567890")
    assert str(rows["Budi Santoso"]["birth_date"]) == "1980-05-17"


@pytest.mark.parametrize("kind", FORMATS)
def test_export_officer_gets_own_regency_only(officer_client, workers, kind):
    rows = rows_of(export(officer_client, kind))

    assert sorted(row["full_name"] for row in rows) == ["Budi Santoso", "Siti Aminah"]
    assert {row["regency_code"] for row in rows} == {"15.01"}


@pytest.mark.parametrize("kind", FORMATS)
def test_export_writes_an_access_log_entry(admin_client, admin_user, workers, kind):
    response = export(admin_client, kind, regency="15.01")
    b"".join(response.streaming_content)

    entry = AccessLog.objects.get()
    assert (entry.user, entry.kind, entry.rows, entry.path) == (admin_user, "export", 2, WORKERS)
    assert f"format={kind}" in entry.query
    assert "regency=15.01" in entry.query


@pytest.mark.parametrize("kind", FORMATS)
def test_export_viewer_without_export_capability_is_403(regions, workers, kind):
    client = user_client("viewer", "viewer")

    response = export(client, kind)

    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["errors"][0]["code"] == "permission_denied"
    assert AccessLog.objects.count() == 0


def test_export_anonymous_is_401(regions, api_client):
    response = export(api_client, "csv")

    assert response.status_code == 401
    assert AccessLog.objects.count() == 0


def test_export_csv_is_produced_row_by_row(admin_client, make_worker):
    for _ in range(3):
        make_worker()

    response = export(admin_client, "csv")

    chunks = list(response.streaming_content)
    assert len(chunks) == 4  # the header, then one chunk per worker
    assert chunks[0].startswith(b"\xef\xbb\xbfid,village_code,")
