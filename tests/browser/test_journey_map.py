"""The Jambi map, on the demo data: the province officer opens Jambi's coverage page, sees its 11
regencies drawn, each coloured by the class of its coverage as the API states it, reads a
region's figures by pointing at it, switches the map to unprotected workers, and drills into a
regency by clicking its shape."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.test import APIClient
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from portal.maps import coverage_colour

from .conftest import log_in_demo, navigate, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_province_officer_reads_jambis_map_and_drills_into_a_regency(demo, browser, live_server):
    api = APIClient()
    api.force_authenticate(get_user_model().objects.get(username="pmd.jambi"))
    features = json.loads(api.get(reverse("coverage-geo"), {"level": "regency", "parent": "15"}).content)["features"]
    expected = {f["id"]: coverage_colour(f["properties"]["coverage_pct"]) for f in features}
    log_in_demo(browser, "pmd.jambi")

    browser.get(f"{live_server.url}/cakupan/15/")
    shapes = browser.find_elements(By.CSS_SELECTOR, "svg.choropleth path[data-code]")
    drawn = {shape.get_attribute("data-code"): shape.get_attribute("fill") for shape in shapes}

    assert len(expected) == 11
    assert drawn == expected
    assert all(shape.size["width"] > 5 and shape.size["height"] > 5 for shape in shapes)  # visible, not degenerate
    browser.execute_script("document.querySelector('.map').scrollIntoView();")
    bungo = browser.find_element(By.CSS_SELECTOR, 'svg.choropleth a[data-code="15.08"]')
    ActionChains(browser).move_to_element(bungo).perform()
    info = browser.find_element(By.CSS_SELECTOR, ".map-info").text
    assert info.startswith("Kabupaten Bungo:")
    screenshot(browser, "map")

    navigate(browser, browser.find_element(By.CSS_SELECTOR, '.map .measures a[data-measure="belum"]').click)
    assert browser.find_element(By.CSS_SELECTOR, ".map").get_attribute("data-measure") == "unprotected"

    navigate(browser, browser.find_element(By.CSS_SELECTOR, 'svg.choropleth a[data-code="15.08"]').click)
    assert browser.find_element(By.TAG_NAME, "h1").text.endswith("15.08")
    districts = browser.find_elements(By.CSS_SELECTOR, "svg.choropleth path[data-code]")
    assert len(districts) == len(browser.find_elements(By.CSS_SELECTOR, "table.drill tbody tr[data-code]"))
