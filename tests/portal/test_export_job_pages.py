"""A long worklist's spreadsheet as a background job: above `UCJ_EXPORT_JOB_ROWS` workers the
download leads to a page with the imports' progress bar, then the link to the file, the same
workbook the page makes at once, logged and masked as it is; the page and the file are the
requester's alone. The jobs run at once here (the tests' immediate backend);
tests/browser/test_journey_export_job.py runs a real worker."""

import io

import openpyxl
import pytest
from django.urls import reverse

from access.models import AccessLog
from jobs.models import Job, JobFile
from villages.models import BranchOffice, Regency

from .test_pages import make_user
from .test_unprotected_page import client_of
from .test_worklists import QUEUE, queue  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def bungo_officer(regions):
    return make_user("pmd.bungo", "regency_officer", regency=Regency.objects.get(code="15.08"))


def data_rows(content: bytes) -> list[list]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    return [[cell.value for cell in row] for row in sheet.iter_rows(min_row=7)]


def test_a_short_list_still_downloads_at_once(bungo_officer, queue):  # noqa: F811
    response = client_of("pmd.bungo").get(QUEUE, {"unduh": "xlsx"})

    assert response.status_code == 200
    assert not Job.objects.exists()


def test_a_long_list_leads_to_the_job_page_with_the_link_to_the_same_workbook(bungo_officer, queue, settings):  # noqa: F811
    client = client_of("pmd.bungo")
    at_once = b"".join(client.get(QUEUE, {"unduh": "xlsx"}))
    settings.UCJ_EXPORT_JOB_ROWS = 2  # the queue's three workers are a long list now

    response = client.get(QUEUE, {"unduh": "xlsx"})

    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:export-job", args=[job.pk])
    assert job.kind == "export_worklist"
    assert job.state == "succeeded"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert f'href="/api/v1/jobs/{job.pk}/file/"' in page.text
    assert "3 pekerja, siap." in page.text
    assert 'href="/daftar/menunggu-aktivasi/?"' in page.text  # back to the list, without the download
    downloaded = client.get(f"/api/v1/jobs/{job.pk}/file/")
    assert downloaded.status_code == 200
    assert downloaded["Content-Disposition"].startswith('attachment; filename="menunggu-aktivasi-')
    assert data_rows(downloaded.content) == data_rows(at_once)
    assert [row[0] for row in data_rows(downloaded.content)[1:]] == [queue[k].pk for k in ("early", "middle", "late")]
    assert data_rows(downloaded.content)[1][1] == queue["early"].nik[:4] + "*" * 12  # masked, as at once
    logs = list(AccessLog.objects.filter(kind="export").order_by("pk"))
    assert len(logs) == 2  # the download at once, and the job's
    assert sorted(logs[1].worker_ids) == sorted(logs[0].worker_ids)
    assert (logs[1].path, logs[1].query) == (QUEUE, "unduh=xlsx")


def test_the_progress_partial_polls_while_the_job_waits(bungo_officer, queue, settings):  # noqa: F811
    settings.UCJ_EXPORT_JOB_ROWS = 2
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}  # queued, not run
    client = client_of("pmd.bungo")
    client.get(QUEUE, {"unduh": "xlsx"})
    job = Job.objects.get()

    response = client.get(reverse("portal:export-job-progress", args=[job.pk]))

    assert response.status_code == 200
    assert f'hx-get="{reverse("portal:export-job-progress", args=[job.pk])}"' in response.text
    assert 'class="job-bar"' in response.text
    assert "/api/v1/jobs/" not in response.text
    assert not JobFile.objects.exists()


def test_the_job_page_is_404_to_anyone_but_its_requester(bungo_officer, queue, settings):  # noqa: F811
    settings.UCJ_EXPORT_JOB_ROWS = 2
    client_of("pmd.bungo").get(QUEUE, {"unduh": "xlsx"})
    job = Job.objects.get()
    make_user("bpjs.bungo", "branch_officer", branch=BranchOffice.objects.get(code="muara-bungo"))
    other = client_of("bpjs.bungo")

    assert other.get(reverse("portal:export-job", args=[job.pk])).status_code == 404
    assert other.get(f"/api/v1/jobs/{job.pk}/file/").status_code == 404


def test_a_list_too_long_for_any_export_is_refused_before_queuing(bungo_officer, queue, settings):  # noqa: F811
    settings.UCJ_EXPORT_JOB_ROWS = 1
    settings.UCJ_LIST_COUNT_LIMIT = 2

    response = client_of("pmd.bungo").get(QUEUE, {"unduh": "xlsx"}, follow=True)

    assert response.status_code == 200
    assert "paling banyak 2" in response.text
    assert not Job.objects.exists()
    assert not AccessLog.objects.filter(kind="export").exists()


def test_a_long_lists_link_opens_the_job_page_a_short_ones_downloads(bungo_officer, queue, settings):  # noqa: F811
    client = client_of("pmd.bungo")
    short = client.get(QUEUE).text
    settings.UCJ_EXPORT_JOB_ROWS = 2

    long = client.get(QUEUE).text

    assert 'unduh=xlsx" download>' in short
    assert 'unduh=xlsx">' in long
    assert "dibuat di latar belakang" in long
