"""A BPJS branch clerk reconciles the registry with the demo branch's extract in a real browser:
from the menu to the upload, the outcomes with their counts, the activations accepted (after a
confirmation), then the coverage page of a district where some were accepted shows that many
more protected."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.management import call_command
from selenium.webdriver.common.by import By

from enrollment.models import ApparatusWorker, ReconciliationRow

from .conftest import log_in_demo, navigate, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def number(text: str) -> int:
    return int(text.replace(".", "").replace(",", ""))


def district_protected(browser, code: str) -> int:
    browser.get(f"{browser.live_server_url}/cakupan/{code}/")
    return number(browser.find_element(By.CSS_SELECTOR, "section.card .figures .protected").text)


def test_a_branch_clerk_uploads_the_extract_accepts_the_activations_and_the_district_moves(browser, demo, tmp_path):
    extract = tmp_path / "sanding-data-muara-bungo.csv"
    call_command("demo_bpjs_extract", "--branch", "muara-bungo", "--out", str(extract), stdout=io.StringIO())
    log_in_demo(browser, "bpjs.muarabungo")

    navigate(browser, browser.find_element(By.LINK_TEXT, "Rekonsiliasi").click)
    browser.find_element(By.ID, "id_berkas").send_keys(str(extract))
    navigate(browser, browser.find_element(By.CSS_SELECTOR, "form.upload button").click)

    counts = {
        tab.get_attribute("data-outcome"): number(tab.find_element(By.CSS_SELECTOR, ".count").text)
        for tab in browser.find_elements(By.CSS_SELECTOR, "nav.outcomes a")
    }
    assert set(counts) == {"same", "activate", "lapse", "renew", "not_in_registry", "probable_match", "bad_row"}
    assert all(count > 0 for count in counts.values())
    shown = browser.find_elements(By.CSS_SELECTOR, "table.reconciliation-rows tbody tr[data-row]")
    assert len(shown) == counts["activate"]  # the activations first, fewer than a page
    screenshot(browser, "reconcile")
    # Where the activations fall: the district with the most of them (counted as its counters count).
    workers = ReconciliationRow.objects.filter(outcome="activate").values_list("worker_id", flat=True)
    by_district = Counter(
        ApparatusWorker.objects.filter(pk__in=list(workers), term_started=True)
        .select_related("district")
        .values_list("district__code", flat=True)
    )
    district, accepted_there = by_district.most_common(1)[0]
    page = browser.current_url
    before = district_protected(browser, district)

    browser.get(page)
    navigate(browser, browser.find_element(By.CSS_SELECTOR, "form.accept-all button").click)
    assert str(counts["activate"]) in browser.find_element(By.CSS_SELECTOR, ".confirm-count").text
    navigate(browser, browser.find_element(By.CSS_SELECTOR, "button.confirm").click)

    assert "success" in browser.find_element(By.CSS_SELECTOR, "p.message").get_attribute("class")
    decisions = {cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "table.reconciliation-rows td.decision")}
    assert decisions == {"Diterima"}
    assert not browser.find_elements(By.CSS_SELECTOR, "form.accept-all")
    assert district_protected(browser, district) == before + accepted_there
    activated = ApparatusWorker.objects.filter(pk__in=list(workers), enrollment_status="active")
    assert activated.count() == counts["activate"]
