"""Journey 3, on the demo data: the Muara Bungo branch clerk downloads the unprotected-villages
worklist from the page, and the file the browser saved opens as a report for people: Indonesian
headers, every one of the branch's villages (320 in the demo today), a title naming the branch
and the date."""

from __future__ import annotations

import time
from pathlib import Path

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.utils import formats, translation
from selenium.webdriver.common.by import By

from access.context import scope_for
from core.clock import today
from coverage.selectors.unprotected import unprotected_villages
from villages.models import BranchOffice

from .conftest import log_in_demo, navigate, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

# What the Jambi demo holds for the Muara Bungo branch today (the number).
DEMO_UNPROTECTED_VILLAGES = 320


def downloaded(directory: Path, timeout: float = 60) -> Path:
    """The one file the browser finished saving in `directory` (chromium writes *.crdownload first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = [path for path in directory.iterdir() if not path.name.endswith(".crdownload")]
        if files:
            return files[0]
        time.sleep(0.1)
    raise AssertionError(f"nothing downloaded into {directory} in {timeout} s")


def test_the_branch_clerk_downloads_the_unprotected_villages_report(demo, browser, tmp_path):
    clerk = get_user_model().objects.get(username="bpjs.muarabungo")
    villages = unprotected_villages(scope=scope_for(clerk)).count()
    assert villages == DEMO_UNPROTECTED_VILLAGES
    branch = BranchOffice.objects.get(code="muara-bungo").name
    with translation.override("id"):
        day = formats.date_format(today(), "j F Y")
    browser.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})

    log_in_demo(browser, "bpjs.muarabungo")
    navigate(browser, browser.find_element(By.LINK_TEXT, "Desa belum terlindungi").click)
    assert browser.find_element(By.CSS_SELECTOR, "p.count").text.startswith(f"{villages} desa")
    screenshot(browser, "unprotected-report")
    browser.find_element(By.CSS_SELECTOR, "a.download").click()

    path = downloaded(tmp_path)
    assert path.name == f"desa-belum-terlindungi-{today().isoformat()}.xlsx"
    sheet = openpyxl.load_workbook(path).worksheets[0]
    assert sheet["A1"].value == f"Desa dengan pekerja belum terlindungi — {branch}, {day}"
    assert [cell.value for cell in sheet[7]] == [
        "Kode desa", "Desa/kelurahan", "Kecamatan", "Kabupaten/kota", "Menjabat", "Terlindungi", "Belum terlindungi",
        "Cakupan kepesertaan",
    ]  # fmt: skip
    data = list(sheet.iter_rows(min_row=8, values_only=True))
    assert len(data) == DEMO_UNPROTECTED_VILLAGES
    assert all(isinstance(row[6], int) and row[6] > 0 for row in data)  # each one has unprotected workers
