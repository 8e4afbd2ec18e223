"""The portal in a real browser (chromium), on a live server: what a person does, end to end."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from selenium.webdriver.common.by import By

from access.models import AccessProfile
from tests.enrollment.factories import WorkerFactory, bring_to, village
from villages.models import Regency

from .conftest import PHONE, navigate, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pw-browser-123"
BUNGO_VILLAGE = "15.08.01.2001"


@pytest.fixture
def bungo_officer(regions):
    user = get_user_model().objects.create_user("pmd.bungo", password=PASSWORD)
    AccessProfile.objects.create(user=user, role="regency_officer", regency=Regency.objects.get(code="15.08"))
    for status in ("active", "submitted"):
        bring_to(WorkerFactory(village=village(BUNGO_VILLAGE)), status)
    return user


def log_in(driver, username: str, password: str = PASSWORD) -> None:
    driver.get(driver.live_server_url + "/")
    driver.find_element(By.ID, "id_username").send_keys(username)
    driver.find_element(By.ID, "id_password").send_keys(password)
    navigate(driver, driver.find_element(By.CSS_SELECTOR, "button.primary").click)


def test_an_officer_logs_in_in_indonesian_sees_the_region_and_switches_to_english(browser, bungo_officer):
    browser.get(browser.live_server_url + "/")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Masuk"  # the browser asked for English

    log_in(browser, "pmd.bungo", "not-the-password")
    assert "Nama pengguna atau kata sandi salah" in browser.find_element(By.CSS_SELECTOR, ".errors").text

    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    navigate(browser, browser.find_element(By.CSS_SELECTOR, "button.primary").click)
    region = browser.find_element(By.CSS_SELECTOR, '[data-code="15.08"]')
    assert browser.find_element(By.TAG_NAME, "h1").text == "Cakupan hari ini"
    assert region.find_element(By.CSS_SELECTOR, ".serving").text == "2"
    assert region.find_element(By.CSS_SELECTOR, ".protected").text == "1"
    screenshot(browser, "home-regency-officer")

    navigate(browser, browser.find_element(By.CSS_SELECTOR, 'button[name="language"][value="en"]').click)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Coverage today"

    browser.set_window_size(*PHONE)
    navigate(browser, browser.refresh)
    figures = browser.find_element(By.CSS_SELECTOR, '[data-code="15.08"] .figures')
    assert figures.size["width"] <= PHONE[0]  # nothing wider than the phone's screen
    screenshot(browser, "home-phone")

    navigate(browser, browser.find_element(By.XPATH, '//button[text()="Log out"]').click)
    assert "You have logged out." in browser.find_element(By.TAG_NAME, "h1").text
