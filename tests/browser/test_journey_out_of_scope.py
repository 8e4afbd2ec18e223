"""Journey 5, on the demo data: the Bungo PMD officer types the address of a Kerinci page by hand
(a region's, a worker's) and gets the portal's own 404 page, in Indonesian, with a way back home;
nothing of Kerinci shows."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from .conftest import log_in_demo, navigate, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_region_outside_the_officers_regency_typed_by_hand_is_not_found(demo, browser):
    log_in_demo(browser, "pmd.bungo")

    browser.get(browser.live_server_url + "/cakupan/15.01/")

    assert browser.find_element(By.TAG_NAME, "h1").text == "Tidak ditemukan"
    assert "di luar wilayah Anda" in browser.find_element(By.CSS_SELECTOR, "main").text
    assert "Kerinci" not in browser.page_source
    screenshot(browser, "out-of-scope")
    navigate(browser, browser.find_element(By.CSS_SELECTOR, "main a").click)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Cakupan hari ini"
    assert browser.find_elements(By.CSS_SELECTOR, '[data-code="15.08"]')  # back home, in Bungo


def test_a_worker_outside_the_officers_regency_typed_by_hand_is_not_found(demo, browser):
    from django.urls import NoReverseMatch, reverse

    from enrollment.models import ApparatusWorker

    kerinci = ApparatusWorker.objects.filter(regency__code="15.01").order_by("pk").first()
    assert kerinci is not None
    try:
        path = reverse("portal:worker", args=[kerinci.pk])
    except NoReverseMatch:
        pytest.skip("the worker pages (/pekerja/<id>/, branch h/workers) are not on this branch yet")
    log_in_demo(browser, "pmd.bungo")

    browser.get(browser.live_server_url + path)

    assert browser.find_element(By.TAG_NAME, "h1").text == "Tidak ditemukan"
    assert kerinci.full_name not in browser.page_source
    navigate(browser, browser.find_element(By.CSS_SELECTOR, "main a").click)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Cakupan hari ini"
