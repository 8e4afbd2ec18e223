"""The printable recap of a regency on the demo data: on the screen with its Print button, and
printed (chromium's own PDF printing) on exactly one A4 landscape page without that button."""

from __future__ import annotations

import base64
import re

import pytest
from selenium.webdriver.common.by import By

from .conftest import log_in_demo, navigate, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

A4_LANDSCAPE_POINTS = (842, 595)


def test_a_regencys_recap_prints_on_one_a4_landscape_page(demo, browser):
    log_in_demo(browser, "pmd.jambi")
    browser.get(browser.live_server_url + "/cakupan/15.08/")
    navigate(browser, browser.find_element(By.CSS_SELECTOR, "a.recap").click)

    districts = browser.find_elements(By.CSS_SELECTOR, "table.recap-table tbody tr[data-code]")
    assert len(districts) >= 10
    assert browser.find_element(By.CSS_SELECTOR, "button.print").is_displayed()
    screenshot(browser, "recap")
    pdf = base64.b64decode(browser.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True})["data"])

    pages = re.findall(rb"/Type\s*/Page[^s]", pdf)
    assert len(pages) == 1
    width, height = (round(float(n)) for n in re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)", pdf).groups())
    assert (width, height) == A4_LANDSCAPE_POINTS
