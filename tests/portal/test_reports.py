"""Spreadsheets for people: the unprotected-villages worklist as an XLSX that opens with a title
block naming whose list it is and when, Indonesian headers, real numbers and percentages, a bold
frozen header with an autofilter; an export as the API's are (the `export` capability, logged)."""

import datetime
import io

import openpyxl
import pytest
from django.urls import reverse

from access.models import AccessLog
from tests.enrollment.factories import OTHER_REGENCY_VILLAGE, VILLAGE, WorkerFactory, bring_to, village
from villages.models import BranchOffice, Province

from .test_pages import make_user
from .test_unprotected_page import client_of

pytestmark = pytest.mark.django_db

URL = reverse("portal:unprotected")


@pytest.fixture
def workers(regions):
    for code, statuses in ((VILLAGE, ("submitted", "active")), (OTHER_REGENCY_VILLAGE, ("submitted", "submitted"))):
        for status in statuses:
            bring_to(WorkerFactory(village=village(code)), status)


def opened(response) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(b"".join(response)))


def test_a_branch_clerk_downloads_its_territory_as_a_spreadsheet_for_people(regions, workers, today):
    branch = BranchOffice.objects.get(code="muara-bungo")
    make_user("bpjs.bungo", "branch_officer", branch=branch)

    response = client_of("bpjs.bungo").get(URL, {"unduh": "xlsx"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = opened(response).worksheets[0]
    assert sheet.title == "Desa belum terlindungi"
    title = sheet["A1"]
    assert title.value.startswith("Desa dengan pekerja belum terlindungi — " + branch.name)
    assert title.font.bold
    details = {sheet.cell(row, 1).value: sheet.cell(row, 2).value for row in range(2, 6)}
    assert details["Wilayah"] == branch.name
    assert details["Per tanggal"] == today.strftime("%d/%m/%Y")
    assert details["Dibuat oleh"] == "bpjs.bungo"
    header = [cell.value for cell in sheet[7]]
    assert header == [
        "Kode desa", "Desa/kelurahan", "Kecamatan", "Kabupaten/kota", "Menjabat", "Terlindungi", "Belum terlindungi",
        "Cakupan kepesertaan",
    ]  # fmt: skip
    assert all(cell.font.bold for cell in sheet[7])
    assert sheet.freeze_panes == "A8"
    assert sheet.auto_filter.ref == "A7:H8"
    row = [cell for cell in sheet[8]]
    assert row[0].value == OTHER_REGENCY_VILLAGE
    assert (row[4].value, row[5].value, row[6].value) == (2, 0, 2)  # numbers, not text
    assert row[7].value == 0
    assert row[7].number_format == "0.00%"
    assert sheet.max_row == 8  # the one village of the territory with unprotected workers
    assert AccessLog.objects.get(kind="export").rows == 1


def test_percentages_and_every_row_not_a_page(regions, workers, admin_user, monkeypatch):
    import portal.views.worklists

    monkeypatch.setattr(portal.views.worklists, "PAGE_SIZE", 1)
    make_user("pmd.jambi", "province_officer", province=Province.objects.get(code="15"))

    sheet = opened(client_of("pmd.jambi").get(URL, {"unduh": "xlsx"})).worksheets[0]

    assert [sheet.cell(row, 1).value for row in (8, 9)] == [OTHER_REGENCY_VILLAGE, VILLAGE]
    assert sheet.cell(9, 8).value == pytest.approx(0.5)  # 1 of 2 protected: 50.00%
    assert sheet.cell(2, 2).value == "Jambi"


def test_a_viewer_reads_the_worklist_but_may_not_export_it(regions, workers):
    make_user("viewer.jambi", "viewer", province=Province.objects.get(code="15"))
    client = client_of("viewer.jambi")

    page = client.get(URL)
    export = client.get(URL, {"unduh": "xlsx"})

    assert page.status_code == 200
    assert "unduh=xlsx" not in page.text
    assert export.status_code == 403
    assert not AccessLog.objects.filter(kind="export").exists()


def test_report_dates_are_dates():
    from portal.reports import Column, Report

    content = Report(title="t", details=[], columns=[Column("d", "date"), Column("n", "money")], sheet="s").workbook(
        [(datetime.date(2026, 3, 1), 150000)]
    )
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]

    assert sheet["A4"].value.date() == datetime.date(2026, 3, 1)  # a date cell (read back as a datetime)
    assert sheet["A4"].number_format == "dd/mm/yyyy"
    assert sheet["B4"].value == 150000
