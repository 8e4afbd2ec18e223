"""Journey (1), on the demo data: the Bungo PMD officer registers a worker in one of its villages
(found with the searchable village picker) and submits it to BPJS Ketenagakerjaan."""

from __future__ import annotations

import datetime

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from enrollment.models import ApparatusWorker
from seed.demo import DEMO_PASSWORD
from tests.helpers import nik_for

from .conftest import navigate, screenshot
from .test_journeys import log_in

pytestmark = pytest.mark.django_db(transaction=True)

VILLAGE = "15.08.01.2003"  # Teluk Kecimbung, a village of Kabupaten Bungo


def options(driver) -> list[str]:
    # Read in one script: htmx may replace the options between two WebDriver calls.
    return driver.execute_script("return Array.from(document.querySelectorAll('#id_village option'), o => o.value);")


def search_village(driver, text: str, expected: list[str]) -> bool:
    """Type into the picker's search; True once htmx has brought the villages `expected`."""
    box = driver.find_element(By.ID, "desa-cari")
    box.clear()
    box.send_keys(text)
    return WebDriverWait(driver, 10).until(lambda d: options(d) == expected)


def fill(driver, name: str, value: str) -> None:
    element = driver.find_element(By.ID, f"id_{name}")
    if element.tag_name == "select":
        Select(element).select_by_value(value)
    elif element.get_attribute("type") == "date":  # typed dates follow the browser's locale: set it
        driver.execute_script("arguments[0].value = arguments[1];", element, value)
    else:
        element.send_keys(value)


def test_the_bungo_officer_registers_a_worker_and_submits_it(demo, browser):
    birth = datetime.date(1990, 2, 3)
    nik = next(
        n
        for serial in range(9999, 0, -1)
        if not ApparatusWorker.objects.filter(nik=(n := nik_for(birth, "female", serial, "150801"))).exists()
    )
    log_in(browser, "pmd.bungo", DEMO_PASSWORD)

    navigate(browser, browser.find_element(By.CSS_SELECTOR, 'nav.menu a[href="/pekerja/"]').click)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Pekerja"
    navigate(browser, browser.find_element(By.LINK_TEXT, "Daftarkan pekerja").click)

    # The picker offers the officer's villages only: Kerinci's are not found, Bungo's are.
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return !!window.htmx"))
    assert search_village(browser, "Selam Paung", [""])  # Kerinci's (15.01.01.2001): "no village of yours matches"
    assert search_village(browser, "Teluk Kecimbung", [VILLAGE])
    fill(browser, "village", VILLAGE)
    for name, value in (
        ("nik", nik),
        ("full_name", "Dewi Lestari"),
        ("sex", "female"),
        ("birth_date", birth.isoformat()),
        ("institution", "pemerintah_desa"),
        ("position", "sekretaris_desa"),
        ("term_start", "2024-01-01"),
        ("wage_basis", "siltap"),
        ("monthly_wage", "2.500.000"),
    ):
        fill(browser, name, value)
    navigate(browser, browser.find_element(By.CSS_SELECTOR, "form.worker-form button.primary").click)

    assert browser.find_element(By.TAG_NAME, "h1").text == "Dewi Lestari"
    assert "Pekerja Dewi Lestari telah didaftarkan." in browser.find_element(By.CSS_SELECTOR, ".message").text
    assert browser.find_element(By.CSS_SELECTOR, "dd.enrollment-status").text == "Belum terdaftar"
    assert browser.find_element(By.CSS_SELECTOR, "dd.nik").text == nik  # the demo officer has the right

    navigate(browser, browser.find_element(By.CSS_SELECTOR, 'button[value="submit"]').click)

    assert browser.find_element(By.CSS_SELECTOR, "dd.enrollment-status").text == "Diajukan"
    history = browser.find_element(By.CSS_SELECTOR, "ol.history").text
    assert "diajukan untuk kepesertaan oleh pmd.bungo" in history
    assert browser.find_elements(By.CSS_SELECTOR, 'button[value="submit"]') == []  # done: no second submit
    worker = ApparatusWorker.objects.get(nik=nik)
    assert (worker.village.code, worker.enrollment_status) == (VILLAGE, "submitted")
    browser.execute_script("document.querySelector('section.enrollment').scrollIntoView();")
    screenshot(browser, "register-and-submit")
