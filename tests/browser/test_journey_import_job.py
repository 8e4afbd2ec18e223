"""A regency officer imports a large file in a real browser: it is checked, then written, as
background jobs run by a real worker (`manage.py run_worker`), each page showing a progress bar
that moves as the rows are checked, then the import's result. PostgreSQL: the worker is another
process on the test database.

UCJ_BROWSER_IMPORT_ROWS sets the file's size (default 40,000 rows; README's figure: 100,000)."""

from __future__ import annotations

import datetime
import os
import time

import pytest
from django.contrib.auth import get_user_model
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By

from access.models import AccessProfile
from enrollment.models import ApparatusWorker, WorkerImport
from jobs.models import Job
from tests.enrollment.test_imports import BIRTH, BUNGO_VILLAGE, csv_file, nik, worker_row
from villages.models import Regency

from .conftest import navigate, screenshot
from .test_journeys import PASSWORD, log_in

pytestmark = [pytest.mark.requires_postgres, pytest.mark.django_db(transaction=True)]

ROWS = int(os.environ.get("UCJ_BROWSER_IMPORT_ROWS", "40000"))

# What the page shows, asked by script (no element kept across htmx's swaps and the redirects).
WATCH = """
const bar = document.querySelector('progress.job-bar');
return [location.pathname, bar ? bar.getAttribute('value') : null, bar ? bar.getAttribute('max') : null,
        document.querySelector('.job-count') ? document.querySelector('.job-count').textContent : null];
"""


def bungo_rows(count: int) -> bytes:
    rows = []
    for serial in range(count):
        birth = BIRTH + datetime.timedelta(days=serial // 9_999)
        rows.append(
            worker_row(
                serial,
                village_code=BUNGO_VILLAGE,
                nik=nik(serial % 9_999 + 1, birth=birth, region="150801"),
                birth_date=birth.isoformat(),
            )
        )
    return csv_file(rows)


def watch_until_result(browser, timeout: float = 120.0) -> tuple[list[tuple[int, int]], float]:
    """The progress bar's (value, max) seen on a job's page until the page becomes the import's
    result; and how long that took."""
    seen: list[tuple[int, int]] = []
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            path, value, maximum, _text = browser.execute_script(WATCH)
        except WebDriverException:  # between two pages
            time.sleep(0.05)
            continue
        if "/proses/" not in path:
            return seen, time.monotonic() - started
        if value is not None and maximum is not None:
            seen.append((int(value), int(maximum)))
        time.sleep(0.1)
    raise AssertionError(f"no result within {timeout} s: {list(Job.objects.values('state', 'result', 'rows_done'))}")


def test_a_large_file_is_checked_and_written_as_jobs_with_a_moving_progress_bar(
    browser,
    regions,
    settings,
    start_worker,
    tmp_path,
    monkeypatch,
):
    settings.UCJ_IMPORT_JOB_BYTES = 100_000  # a file above 100 kB runs as a job
    user = get_user_model().objects.create_user("pmd.bungo", password=PASSWORD)
    AccessProfile.objects.create(user=user, role="regency_officer", regency=Regency.objects.get(code="15.08"))
    big = tmp_path / "aparatur-bungo.csv"
    big.write_bytes(bungo_rows(ROWS))
    # Each row is a NIK looked up by an officer without the personal-data right: more than a day's default.
    monkeypatch.setenv("UCJ_RATE_NIK_LOOKUP", f"{2 * ROWS}/day")
    start_worker("--no-schedules")
    log_in(browser, "pmd.bungo")

    navigate(browser, browser.find_element(By.LINK_TEXT, "Impor").click)
    browser.find_element(By.ID, "id_berkas").send_keys(str(big))
    navigate(browser, browser.find_element(By.CSS_SELECTOR, "form.upload button").click)
    assert "/impor/proses/" in browser.current_url
    assert browser.find_element(By.TAG_NAME, "h1").text == "aparatur-bungo.csv"
    screenshot(browser, "import-job-progress")
    checking, checked_in = watch_until_result(browser)

    assert browser.find_element(By.CSS_SELECTOR, "dd.created").text == f"{ROWS:,}".replace(",", ".")
    assert ApparatusWorker.objects.count() == 0
    navigate(browser, browser.find_element(By.CSS_SELECTOR, "button.confirm").click)
    assert "/impor/proses/" in browser.current_url
    writing, written_in = watch_until_result(browser)

    assert browser.find_element(By.CSS_SELECTOR, "dd.created").text == f"{ROWS:,}".replace(",", ".")
    assert browser.find_element(By.CSS_SELECTOR, ".status.written")
    screenshot(browser, "import-job-written")
    assert ApparatusWorker.objects.count() == ROWS
    assert WorkerImport.objects.filter(committed=True).count() == 1
    # The bar moved: some rows of the total checked, then more, while the jobs ran.
    between = sorted({value for value, maximum in checking + writing if maximum == ROWS and 0 < value < ROWS})
    assert between, (checking, writing)
    assert all(job.rows_done == ROWS for job in Job.objects.all())
    print(f"\n{ROWS} rows: checked in {checked_in:.1f} s, written in {written_in:.1f} s (job page to result)")
