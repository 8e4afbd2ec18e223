"""A region's coverage for people: the table of the level below as a spreadsheet (an export: the
`export` capability, logged; 404 outside the caller's regions) and the one-page recap a
coordination meeting puts on the screen, with the API's own figures."""

import io
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse

import portal
from access.models import AccessLog
from coverage.models import CoverageSnapshot, Target
from tests.enrollment.factories import OTHER_VILLAGE_SAME_DISTRICT, VILLAGE, WorkerFactory, bring_to, village
from villages.models import Province, Regency

from .test_pages import log_in, make_user

pytestmark = pytest.mark.django_db

MONTHS_ID = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
             "November", "Desember")  # fmt: skip


def coverage_page(code: str) -> str:
    return reverse("portal:coverage", args=[code])


def recap_page(code: str) -> str:
    return reverse("portal:recap", args=[code])


def indonesian(day) -> str:
    return f"{day.day} {MONTHS_ID[day.month - 1]} {day.year}"


@pytest.fixture
def workers(regions, today):
    for code, statuses in ((VILLAGE, ("active", "active", "submitted")), (OTHER_VILLAGE_SAME_DISTRICT, ("active",))):
        for status in statuses:
            bring_to(WorkerFactory(village=village(code)), status)
    bring_to(WorkerFactory(village=village("15.08.01.2001")), "submitted")
    Target.objects.create(kind="village_apparatus", year=today.year, region_code="15", target_pct=Decimal("90"))


def client_of(username: str, role: str, **region) -> Client:
    make_user(username, role, **region)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    log_in(client, username)
    return client


@pytest.fixture
def kerinci(regions) -> Client:
    return client_of("pmd.kerinci", "regency_officer", regency=Regency.objects.get(code="15.01"))


@pytest.fixture
def viewer(regions) -> Client:
    return client_of("viewer.jambi", "viewer", province=Province.objects.get(code="15"))


def opened(response) -> openpyxl.worksheet.worksheet.Worksheet:
    return openpyxl.load_workbook(io.BytesIO(b"".join(response))).worksheets[0]


def api_detail(api_client, admin_user, code: str) -> dict:
    api_client.force_authenticate(admin_user)
    return api_client.get(reverse("coverage-detail", args=[code])).json()


def api_rows(api_client, admin_user, **params) -> list[dict]:
    api_client.force_authenticate(admin_user)
    return api_client.get(reverse("coverage-list"), {**params, "page_size": 500}).json()["results"]


# The coverage table as a spreadsheet


def test_an_officer_downloads_the_districts_of_the_regency_as_a_spreadsheet_for_people(
    kerinci, workers, today, api_client, admin_user
):
    response = kerinci.get(coverage_page("15.01"), {"unduh": "xlsx", "urut": "-unprotected"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert f'filename="cakupan-15.01-{today.isoformat()}.xlsx"' in response["Content-Disposition"]
    sheet = opened(response)
    assert sheet["A1"].value == f"Cakupan kepesertaan Kabupaten Kerinci per kecamatan, {indonesian(today)}"
    details = {sheet.cell(row, 1).value: sheet.cell(row, 2).value for row in range(2, 6)}
    assert details["Wilayah"] == "Kabupaten Kerinci"
    assert details["Per tanggal"] == today.strftime("%d/%m/%Y")
    assert details["Dibuat oleh"] == "pmd.kerinci"
    assert [cell.value for cell in sheet[7]] == [
        "Kode wilayah", "Kecamatan", "Menjabat", "Terlindungi", "Belum terlindungi", "Cakupan kepesertaan",
        "Target tahun ini", "Kekurangan dari target",
    ]  # fmt: skip
    expected = api_rows(api_client, admin_user, level="district", parent="15.01", ordering="-unprotected")
    listed = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=8)]
    assert [row[0] for row in listed] == [r["code"] for r in expected] == ["15.01.01", "15.01.02"]
    gunung_raya = listed[0]
    assert gunung_raya[1:5] == ["Gunung Raya", 4, 3, 1]  # numbers, not text
    assert gunung_raya[5] == pytest.approx(0.75)
    assert gunung_raya[6] == pytest.approx(0.9)  # the province's target, inherited
    assert gunung_raya[7] == expected[0]["gap_to_target"] == 1  # 90% of 4 is 3.6: one more worker
    assert sheet["F8"].number_format == sheet["G8"].number_format == "0.00%"
    assert listed[1][2:6] == [0, 0, 0, None]  # a district without workers: no coverage to show
    assert AccessLog.objects.get(kind="export").rows == 2


def test_the_spreadsheet_holds_the_institution_asked_for(kerinci, workers, regions):
    bring_to(WorkerFactory(village=village(VILLAGE), institution="bpd", position="ketua"), "active")

    sheet = opened(kerinci.get(coverage_page("15.01"), {"unduh": "xlsx", "lembaga": "bpd"}))

    details = {sheet.cell(row, 1).value: sheet.cell(row, 2).value for row in range(2, 7)}
    assert details["Lembaga"] == "Badan Permusyawaratan Desa (BPD)"
    assert sheet["A8"].value == "Kode wilayah"  # one line more in the title block
    listed = {row[0]: row[1:5] for row in sheet.iter_rows(min_row=9, values_only=True)}
    assert listed == {"15.01.01": ("Gunung Raya", 1, 1, 0), "15.01.02": ("Danau Kerinci", 0, 0, 0)}


def test_a_viewer_sees_the_table_but_may_not_download_it(viewer, workers):
    page = viewer.get(coverage_page("15.01"))
    download = viewer.get(coverage_page("15.01"), {"unduh": "xlsx"})

    assert page.status_code == 200
    assert "unduh=xlsx" not in page.text
    assert download.status_code == 403
    assert "Tidak diizinkan" in download.text
    assert not AccessLog.objects.filter(kind="export").exists()


def test_a_region_outside_the_callers_is_not_downloaded(kerinci, workers):
    response = kerinci.get(coverage_page("15.08"), {"unduh": "xlsx"})

    assert response.status_code == 404
    assert not AccessLog.objects.filter(kind="export").exists()


def test_the_coverage_page_links_to_its_download_and_its_recap_with_the_same_query(kerinci, workers, today):
    html = kerinci.get(coverage_page("15.01"), {"urut": "-serving"}).text

    query = f"tanggal={today.isoformat()}&amp;urut=-serving"
    assert f'href="?unduh=xlsx&amp;{query}"' in html
    assert f'href="{recap_page("15.01")}?{query}"' in html


def test_a_village_has_a_recap_but_no_table_to_download(kerinci, workers):
    html = kerinci.get(coverage_page(VILLAGE)).text

    assert f'href="{recap_page(VILLAGE)}?' in html
    assert "unduh=xlsx" not in html


# The printable recap


def test_the_recap_shows_the_regions_figures_target_gap_and_premium_as_the_api_does(
    kerinci, workers, today, api_client, admin_user
):
    response = kerinci.get(recap_page("15.01"))

    detail = api_detail(api_client, admin_user, "15.01")
    html = response.text
    assert response.status_code == 200
    assert "<h1>Kabupaten Kerinci" in html
    assert f"Cakupan kepesertaan aparatur desa per {indonesian(today)}" in html
    assert (detail["serving"], detail["protected"], detail["unprotected"]) == (4, 3, 1)
    assert 'class="serving">4<' in html
    assert 'class="protected">3<' in html
    assert 'class="unprotected">1<' in html
    assert 'class="coverage">75,00%<' in html
    assert 'class="target">90,00%<' in html
    assert f'class="gap">{detail["gap_to_target"]}<' in html
    premium = detail["premium_estimate"]["monthly_premium"]
    assert premium > 0
    assert f'class="premium">Rp {premium:,}<'.replace(",", ".") in html
    assert "Cetak" in html
    assert "pmd.kerinci" in html  # printed by whom


def test_the_recap_table_is_the_level_below_with_bars_and_the_target_marked(kerinci, workers, api_client, admin_user):
    html = kerinci.get(recap_page("15.01"), {"urut": "-protected"}).text

    rows = re.findall(r'<tr data-code="([^"]+)">(.*?)</tr>', html, re.S)
    expected = api_rows(api_client, admin_user, level="district", parent="15.01", ordering="-protected")
    assert [code for code, _cells in rows] == [r["code"] for r in expected]
    gunung_raya = rows[0][1]
    assert 'class="fill" style="width: 75%"' in gunung_raya
    assert 'class="target" style="left: 90%"' in gunung_raya
    assert f'href="{recap_page("15.01.01")}?' in gunung_raya  # one level down, as a recap too
    assert re.search(r'class="gap">1<', gunung_raya)


def test_the_recap_draws_the_trend_with_the_target_line(kerinci, regions, today):
    Target.objects.create(kind="village_apparatus", year=today.year, region_code="15.01", target_pct=Decimal("50"))
    for months_ago, protected in ((2, 10), (1, 30)):
        month = today.month - months_ago
        day = today.replace(year=today.year + (month - 1) // 12, month=(month - 1) % 12 + 1, day=1)
        CoverageSnapshot.objects.create(region_code="15.01", date=day, serving=100, protected=protected)

    html = kerinci.get(recap_page("15.01")).text

    assert len(re.search(r'<polyline [^>]*points="([^"]+)"', html).group(1).split()) == 2
    assert 'class="target-line" x1="0" x2="640" y1="80.0" y2="80.0"' in html  # 50% of 160 high


def test_the_recap_prints_on_one_a4_landscape_page_with_its_print_button_hidden():
    css = (Path(portal.__file__).parent / "static" / "portal" / "recap.css").read_text()
    script = (Path(portal.__file__).parent / "static" / "portal" / "recap.js").read_text()

    assert "@page { size: A4 landscape;" in css
    assert re.search(r"@media print \{\s*\.no-print", css)
    assert "window.print()" in script


def test_the_recap_is_not_shown_outside_the_callers_regions_nor_without_the_capability(kerinci, regions):
    nobody = client_of("nobody", None)

    assert kerinci.get(recap_page("15.08")).status_code == 404
    assert "Tidak ditemukan" in kerinci.get(recap_page("15.08")).text
    assert kerinci.get(recap_page("99.99")).status_code == 404
    assert nobody.get(recap_page("15.01")).status_code == 403


def test_a_past_dates_recap_draws_the_trend_up_to_that_date(kerinci, regions):
    import datetime

    for month, protected in ((1, 10), (6, 20), (12, 40)):
        CoverageSnapshot.objects.create(
            region_code="15.01", date=datetime.date(2020, month, 28), serving=100, protected=protected
        )

    html = kerinci.get(recap_page("15.01"), {"tanggal": "2020-12-31"}).text

    assert "per 31 Desember 2020" in html
    assert len(re.search(r'<polyline [^>]*points="([^"]+)"', html).group(1).split()) == 3
    assert "Januari 2020: 10,00% → Desember 2020: 40,00%" in html
