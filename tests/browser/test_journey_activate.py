"""Journey (2) on the demo data: the Muara Bungo branch clerk opens the activation queue, narrows it
to Bungo, activates the oldest submitted worker there with the form in its row (in place: the page
is not reloaded), and the village's figures show one more protected worker."""

from __future__ import annotations

import datetime

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from access.context import scope_for
from core.clock import today as clock_today
from enrollment import selectors
from enrollment.models import ApparatusWorker, Enrollment
from seed.demo import DEMO_PASSWORD

from .conftest import navigate, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(driver, username: str) -> None:
    driver.get(driver.live_server_url + "/")
    driver.find_element(By.ID, "id_username").send_keys(username)
    driver.find_element(By.ID, "id_password").send_keys(DEMO_PASSWORD)
    navigate(driver, driver.find_element(By.CSS_SELECTOR, "button.primary").click)


def protected_in(driver, district: str, village: str) -> int:
    """The village's protected workers on its district's coverage page."""
    driver.get(f"{driver.live_server_url}/cakupan/{district}/")
    row = driver.find_element(By.CSS_SELECTOR, f'tr[data-code="{village}"]')
    return int(row.find_elements(By.TAG_NAME, "td")[2].text.replace(".", ""))


def free_kpj() -> str:
    number = 90_000_000_001
    while Enrollment.objects.filter(kpj_number=f"{number:011d}").exists():
        number += 1
    return f"{number:011d}"


def test_the_branch_clerk_activates_the_oldest_submission_from_the_queue(demo, browser):
    from django.contrib.auth import get_user_model

    clerk = get_user_model().objects.get(username="bpjs.muarabungo")
    # The branch serves Merangin and Bungo: the oldest submission of Bungo, as its queue shows it.
    first = scope_for(clerk).filter(selectors.activation_queue()).filter(regency__code="15.08").first()
    assert first is not None, "the demo has submitted workers in Bungo"
    worker = ApparatusWorker.objects.select_related("village", "district").get(pk=first.pk)
    kpj = free_kpj()
    today = clock_today()

    log_in(browser, "bpjs.muarabungo")
    before = protected_in(browser, worker.district.code, worker.village.code)
    browser.get(browser.live_server_url + "/")
    navigate(browser, browser.find_element(By.CSS_SELECTOR, 'nav.menu a[href="/daftar/menunggu-aktivasi/"]').click)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Pekerja menunggu aktivasi"
    Select(browser.find_element(By.ID, "kabupaten")).select_by_value("15.08")
    navigate(browser, browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click)
    row = browser.find_element(By.CSS_SELECTOR, "tr[data-id]")
    assert int(row.get_attribute("data-id")) == worker.pk  # the oldest submission first

    browser.execute_script("window.ucjSamePage = true;")  # gone if the page were reloaded
    row.find_element(By.CSS_SELECTOR, "td.activate summary").click()
    form = row.find_element(By.CSS_SELECTOR, f"#activate-{worker.pk}")
    form.find_element(By.NAME, "kpj_number").send_keys("123")  # too short: refused next to the field
    Select(form.find_element(By.NAME, "scheme")).select_by_value("bpu")
    Select(form.find_element(By.NAME, "funding_source")).select_by_value("apbdes")
    for name, value in (("coverage_start", today), ("paid_until", today + datetime.timedelta(days=90))):
        browser.execute_script(
            "arguments[0].value = arguments[1];", form.find_element(By.NAME, name), value.isoformat()
        )
    form.find_element(By.CSS_SELECTOR, 'button[type="submit"]').click()
    error = WebDriverWait(browser, 10).until(
        lambda d: d.find_element(By.CSS_SELECTOR, f'#activate-{worker.pk} [data-field="kpj_number"] .errors')
    )
    assert "11" in error.text
    assert browser.execute_script("return window.ucjSamePage === true;")

    form = browser.find_element(By.CSS_SELECTOR, f"#activate-{worker.pk}")
    kpj_input = form.find_element(By.NAME, "kpj_number")
    kpj_input.clear()
    kpj_input.send_keys(kpj)
    form.find_element(By.CSS_SELECTOR, 'button[type="submit"]').click()
    done = WebDriverWait(browser, 10).until(
        lambda d: d.find_element(By.CSS_SELECTOR, f"tr[data-id='{worker.pk}'] .activate-done")
    )
    assert kpj in done.text
    assert browser.execute_script("return window.ucjSamePage === true;")  # in place, no reload
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", done)
    screenshot(browser, "activate-from-queue")

    worker.refresh_from_db()
    assert worker.enrollment_status == "active"
    assert worker.enrollment.kpj_number == kpj
    assert protected_in(browser, worker.district.code, worker.village.code) == before + 1
