"""A large file in the portal's import runs as a background job: its page shows a progress bar
that htmx polls, then leads to the import's result; the check's "Confirm and write" runs as a job
too. The same rules as the small files' pages: capability, the caller's own dry runs, scope."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from enrollment.models import ApparatusWorker, WorkerImport
from jobs.models import Job
from villages.models import Regency

from ..enrollment.test_imports import csv_file, worker_row
from .test_import_pages import confirm_url, figures, result_url, signed_in, upload
from .test_pages import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def every_file_in_the_background(settings):
    settings.UCJ_IMPORT_JOB_BYTES = 0


@pytest.fixture
def kerinci(regions):
    return make_user("pmd.kerinci", "regency_officer", regency=Regency.objects.get(code="15.01"))


def job_of(response) -> int:
    assert response.status_code == 302
    match = re.fullmatch(r"/impor/proses/(\d+)/", response["Location"])
    assert match is not None, response["Location"]
    return int(match.group(1))


def test_a_large_file_is_checked_as_a_job_whose_page_leads_to_the_result(kerinci):
    client = signed_in("pmd.kerinci")

    job = job_of(upload(client, csv_file([worker_row(1), worker_row(2)])))
    page = client.get(reverse("portal:import-job", args=[job]))

    record = WorkerImport.objects.get()
    assert page.status_code == 302
    assert page["Location"] == result_url(record.pk)
    result = client.get(result_url(record.pk))
    assert figures(result)["created"] == "2"
    assert b'class="primary confirm"' in result.content  # the caller's own check, waiting to be written
    assert ApparatusWorker.objects.count() == 0


def test_confirming_a_large_check_writes_it_as_a_job(kerinci):
    client = signed_in("pmd.kerinci")
    job = job_of(upload(client, csv_file([worker_row(1), worker_row(2)])))
    checked = WorkerImport.objects.get()
    client.get(reverse("portal:import-job", args=[job]))

    written = job_of(client.post(confirm_url(checked.pk)))
    page = client.get(reverse("portal:import-job", args=[written]))

    record = WorkerImport.objects.exclude(pk=checked.pk).get()
    assert page["Location"] == result_url(record.pk)
    assert record.committed is True
    assert ApparatusWorker.objects.count() == 2
    assert Job.objects.get(pk=written).rows_done == 2


def test_the_progress_bar_shows_rows_done_of_the_total_and_asks_again(kerinci):
    client = signed_in("pmd.kerinci")
    job = job_of(upload(client, csv_file([worker_row(1)])))
    Job.objects.filter(pk=job).update(state="running", phase="check", rows_done=40_000, rows_total=100_000)

    response = client.get(reverse("portal:import-job-progress", args=[job]))

    assert response.status_code == 200
    body = response.content.decode()
    assert '<progress class="job-bar" max="100000" value="40000">40%</progress>' in body
    assert "40.000 dari 100.000 baris diperiksa (40%)" in body  # the portal speaks Indonesian
    assert f'hx-get="{reverse("portal:import-job-progress", args=[job])}"' in body
    assert 'hx-trigger="every 1s"' in body
    page = client.get(reverse("portal:import-job", args=[job]))
    assert page.status_code == 200
    assert b'<progress class="job-bar" max="100000" value="40000">' in page.content


def test_a_finished_job_sends_htmx_to_the_result(kerinci):
    client = signed_in("pmd.kerinci")
    job = job_of(upload(client, csv_file([worker_row(1)])))

    response = client.get(reverse("portal:import-job-progress", args=[job]), headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response["HX-Redirect"] == result_url(WorkerImport.objects.get().pk)


def test_a_file_refused_as_a_whole_says_why_on_the_jobs_page(kerinci):
    client = signed_in("pmd.kerinci")
    job = job_of(upload(client, b"not,a,template\n1,2,3\n"))

    page = client.get(reverse("portal:import-job", args=[job]))

    assert page.status_code == 200
    assert "Berkas tidak dapat diimpor; tidak ada yang ditulis." in page.content.decode()
    assert b"hx-get" not in page.content
    assert Job.objects.get(pk=job).state == "failed"


def test_another_officers_job_is_not_found(kerinci, regions):
    client = signed_in("pmd.kerinci")
    job = job_of(upload(client, csv_file([worker_row(1)])))
    make_user("pmd.kerinci2", "regency_officer", regency=Regency.objects.get(code="15.01"))
    other = signed_in("pmd.kerinci2")

    assert other.get(reverse("portal:import-job", args=[job])).status_code == 404
    assert other.get(reverse("portal:import-job-progress", args=[job])).status_code == 404
