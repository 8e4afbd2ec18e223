"""A regency officer downloads a long worklist in a real browser: the list is longer than
`UCJ_EXPORT_JOB_ROWS` (lowered here: a long list need not be 20,000 workers), so its spreadsheet
is made by a background job run by a real worker (`manage.py run_worker`); the page shows the
imports' progress bar while the job waits, then the link to the file, which opens with openpyxl
and holds the list's workers. PostgreSQL: the worker is another process on the test database."""

from __future__ import annotations

import datetime
import io
import urllib.request

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from access.models import AccessLog, AccessProfile
from jobs.models import Job
from tests.enrollment.factories import WorkerFactory, submit, village
from villages.models import Regency

from .conftest import navigate, screenshot
from .test_journeys import BUNGO_VILLAGE, PASSWORD, log_in

pytestmark = [pytest.mark.requires_postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 12


def test_a_long_worklist_is_made_by_a_job_with_a_progress_bar_then_a_link(
    browser, regions, settings, start_worker, today
):
    settings.UCJ_EXPORT_JOB_ROWS = 5
    user = get_user_model().objects.create_user("pmd.bungo", password=PASSWORD)
    AccessProfile.objects.create(user=user, role="regency_officer", regency=Regency.objects.get(code="15.08"))
    waiting = [
        submit(WorkerFactory(village=village(BUNGO_VILLAGE)), effective_date=today - datetime.timedelta(days=n))
        for n in range(WORKERS, 0, -1)
    ]
    log_in(browser, "pmd.bungo")
    browser.get(browser.live_server_url + "/daftar/menunggu-aktivasi/")

    navigate(browser, browser.find_element(By.CSS_SELECTOR, "a.download").click)

    # No worker runs yet: the job waits, and its page shows the bar.
    assert "/unduhan/" in browser.current_url
    assert browser.find_element(By.CSS_SELECTOR, ".job-progress progress.job-bar").is_displayed()
    assert browser.find_element(By.CSS_SELECTOR, ".job-progress").get_attribute("data-state") == "queued"
    screenshot(browser, "export-job-progress")
    assert not browser.find_elements(By.CSS_SELECTOR, "a.job-file")

    start_worker("--no-schedules")
    link = WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "a.job-file"))[0]
    screenshot(browser, "export-job-ready")

    job = Job.objects.get()
    assert (job.state, job.rows_done, job.rows_total) == ("succeeded", WORKERS, WORKERS)
    assert link.get_attribute("href") == f"{browser.live_server_url}/api/v1/jobs/{job.pk}/file/"
    assert "12 pekerja, siap." in browser.find_element(By.CSS_SELECTOR, ".job-count").text
    # The file as the browser downloads it: with its session.
    session = browser.get_cookie("sessionid")["value"]
    request = urllib.request.Request(link.get_attribute("href"), headers={"Cookie": f"sessionid={session}"})
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (the test's own server)
        assert answer.headers["Content-Disposition"].startswith('attachment; filename="menunggu-aktivasi-')
        content = answer.read()
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    assert sheet.title == "Menunggu aktivasi"
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=8)]
    assert [row[0] for row in rows] == [worker.pk for worker in waiting]  # oldest submission first
    assert all(row[1] == worker.nik[:4] + "*" * 12 for row, worker in zip(rows, waiting, strict=True))
    assert sorted(AccessLog.objects.get(kind="export").worker_ids) == sorted(w.pk for w in waiting)
