"""A regency officer imports a spreadsheet in a real browser: from the menu to the dry run's
table of errors, then a corrected file checked, confirmed and written."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from selenium.webdriver.common.by import By

from access.models import AccessProfile
from enrollment.models import ApparatusWorker
from tests.enrollment.test_imports import BUNGO_VILLAGE, csv_file, nik, worker_row
from villages.models import Regency

from .conftest import LAPTOP, PHONE, navigate, screenshot
from .test_journeys import PASSWORD, log_in

pytestmark = pytest.mark.django_db(transaction=True)


def bungo_row(serial: int, **overrides: str) -> dict:
    return worker_row(serial, village_code=BUNGO_VILLAGE, nik=nik(serial, region="150801"), **overrides)


def test_an_officer_checks_a_file_sees_its_errors_then_writes_the_corrected_one(browser, regions, tmp_path):
    user = get_user_model().objects.create_user("pmd.bungo", password=PASSWORD)
    AccessProfile.objects.create(user=user, role="regency_officer", regency=Regency.objects.get(code="15.08"))
    wrong = tmp_path / "aparatur-rantau-keloyang.csv"
    wrong.write_bytes(csv_file([bungo_row(1), bungo_row(2, sex="robot"), bungo_row(3, birth_date="31/02/1980")]))
    right = tmp_path / "aparatur-rantau-keloyang-benar.csv"
    right.write_bytes(csv_file([bungo_row(1), bungo_row(2), bungo_row(3)]))
    log_in(browser, "pmd.bungo")

    navigate(browser, browser.find_element(By.LINK_TEXT, "Impor").click)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Impor lembar kerja"
    browser.find_element(By.ID, "id_berkas").send_keys(str(wrong))
    navigate(browser, browser.find_element(By.CSS_SELECTOR, "form.upload button").click)

    assert browser.find_element(By.CSS_SELECTOR, "dd.created").text == "1"
    assert browser.find_element(By.CSS_SELECTOR, "dd.rejected").text == "2"
    rows = [
        [cell.text for cell in tr.find_elements(By.TAG_NAME, "td")]
        for tr in browser.find_elements(By.CSS_SELECTOR, "table.import-errors tbody tr")
    ]
    assert [row[:2] for row in rows] == [["3", "sex"], ["4", "birth_date"]]
    assert not browser.find_elements(By.CSS_SELECTOR, "button.confirm")
    screenshot(browser, "import-dry-run")
    browser.set_window_size(*PHONE)
    table = browser.find_element(By.CSS_SELECTOR, ".scroll")
    browser.execute_script("arguments[0].scrollIntoView();", table)
    assert table.size["width"] <= PHONE[0]  # the table scrolls inside its wrapper, not the page
    screenshot(browser, "import-dry-run-phone")

    browser.set_window_size(*LAPTOP)
    navigate(browser, browser.find_element(By.LINK_TEXT, "Unggah berkas lain").click)
    browser.find_element(By.ID, "id_berkas").send_keys(str(right))
    navigate(browser, browser.find_element(By.CSS_SELECTOR, "form.upload button").click)
    assert browser.find_element(By.CSS_SELECTOR, "dd.created").text == "3"
    assert ApparatusWorker.objects.count() == 0
    navigate(browser, browser.find_element(By.CSS_SELECTOR, "button.confirm").click)

    assert browser.find_element(By.CSS_SELECTOR, "h1 .status").text == "Ditulis"
    assert browser.find_element(By.CSS_SELECTOR, "dd.created").text == "3"
    assert ApparatusWorker.objects.filter(village__code=BUNGO_VILLAGE).count() == 3
    navigate(browser, browser.find_element(By.LINK_TEXT, "Unggah berkas lain").click)
    assert len(browser.find_elements(By.CSS_SELECTOR, "table.imports tbody tr[data-import]")) == 3
    browser.execute_script("arguments[0].scrollIntoView();", browser.find_element(By.CSS_SELECTOR, "table.imports"))
    screenshot(browser, "import-past-imports")
