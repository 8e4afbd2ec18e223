"""Journey 4, on the demo data: the Jambi province officer drills down from the province to a
village through the pages' links (regency, district, the village with the most unprotected
workers) and climbs back up to the province; the figures agree from one level to the next."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from .conftest import LAPTOP, log_in_demo, navigate, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def figures(driver) -> dict[str, str]:
    """The region's own figures at the top of its page."""
    return {
        name: driver.find_element(By.CSS_SELECTOR, f"section.card .figures .{name}").text
        for name in ("serving", "protected", "unprotected")
    }


def row_figures(row) -> dict[str, str]:
    cells = row.find_elements(By.TAG_NAME, "td")
    return {"serving": cells[1].text, "protected": cells[2].text, "unprotected": cells[3].text}


def test_the_province_officer_drills_down_to_a_village_and_back(demo, browser):
    log_in_demo(browser, "pmd.jambi")

    navigate(browser, browser.find_element(By.CSS_SELECTOR, '[data-code="15"] h2 a').click)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Jambi 15"
    bungo = browser.find_element(By.CSS_SELECTOR, 'tr[data-code="15.08"]')
    expected = row_figures(bungo)
    navigate(browser, bungo.find_element(By.TAG_NAME, "a").click)
    assert browser.find_element(By.TAG_NAME, "h1").text.endswith("15.08")
    assert figures(browser) == expected

    district = browser.find_element(By.CSS_SELECTOR, "table.drill tbody tr[data-code]")
    district_code, expected = district.get_attribute("data-code"), row_figures(district)
    navigate(browser, district.find_element(By.TAG_NAME, "a").click)
    assert browser.find_element(By.TAG_NAME, "h1").text.endswith(district_code)
    assert figures(browser) == expected

    navigate(browser, browser.find_element(By.CSS_SELECTOR, 'th a[data-sort="unprotected"]').click)
    village = browser.find_element(By.CSS_SELECTOR, "table.drill tbody tr[data-code]")
    village_code, expected = village.get_attribute("data-code"), row_figures(village)
    assert int(expected["unprotected"]) > 0  # the most unprotected first
    assert browser.find_element(By.CSS_SELECTOR, "header.bar").size["width"] >= LAPTOP[0] - 20
    screenshot(browser, "drill-down")
    navigate(browser, village.find_element(By.TAG_NAME, "a").click)
    assert browser.find_element(By.TAG_NAME, "h1").text.endswith(village_code)
    assert figures(browser) == expected
    assert not browser.find_elements(By.CSS_SELECTOR, "table.drill")  # nothing below a village

    for code in (district_code, "15.08", "15"):
        navigate(browser, browser.find_element(By.CSS_SELECTOR, "a.up").click)
        assert browser.find_element(By.TAG_NAME, "h1").text.endswith(f" {code}")
