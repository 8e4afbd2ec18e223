"""Background jobs through the API: an import run as a job (202, its address, its result the
synchronous answer), progress, and who may see a job. The jobs run at once here (the tests'
immediate backend); tests/jobs/test_worker.py runs them in real workers."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from enrollment.models import ApparatusWorker, WorkerImport
from jobs.models import Job
from tests.enrollment.test_import_api import make_user, token_client
from tests.enrollment.test_imports import csv_file, worker_row

pytestmark = pytest.mark.usefixtures("regions")

UPLOAD = reverse("import-workers")
JOBS = reverse("job-list")


def job_url(pk: int) -> str:
    return reverse("job-detail", args=[pk])


def post(client: APIClient, data: bytes, headers: dict[str, str] | None = None, **fields: Any):
    payload = {"file": SimpleUploadedFile("aparatur.csv", data), **{k: str(v).lower() for k, v in fields.items()}}
    return client.post(UPLOAD, payload, format="multipart", headers=headers)


@pytest.fixture
def officer():
    return make_user("kerinci")


@pytest.fixture
def officer_client(officer):
    return token_client(officer)


def test_an_import_asked_in_the_background_answers_202_with_its_job(officer_client):
    response = post(officer_client, csv_file([worker_row(1), worker_row(2)]), background=True)

    assert response.status_code == 202
    body = response.json()
    assert response["Location"] == job_url(body["id"])
    assert body["kind"] == "import_workers"
    assert body["created_by"] == "kerinci"
    assert body["everywhere"] is False
    assert body["region_codes"] == ["15.01"]


def test_the_jobs_result_is_the_synchronous_answer_and_its_progress_reached_the_total(officer_client):
    job = post(officer_client, csv_file([worker_row(1), worker_row(2)]), background=True).json()

    response = officer_client.get(job_url(job["id"]))

    assert response.status_code == 200
    body = response.json()
    record = WorkerImport.objects.get()
    assert body["state"] == "succeeded"
    assert body["outcome_status"] == 201
    assert body["result"] == {
        "import": record.pk,
        "rows": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "committed": True,
        "dry_run": False,
        "errors": [],
        "errors_omitted": 0,
    }
    assert (body["rows_done"], body["rows_total"], body["percent"]) == (2, 2, 100)
    assert body["attempts"] == 1
    assert ApparatusWorker.objects.count() == 2


def test_prefer_respond_async_runs_the_import_as_a_job(officer_client):
    response = post(officer_client, csv_file([worker_row(1)]), headers={"Prefer": "respond-async"})

    assert response.status_code == 202
    assert Job.objects.get().state == "succeeded"


def test_a_refused_row_fails_the_job_with_the_synchronous_error_body_and_writes_nothing(officer_client):
    rows = [worker_row(1), worker_row(2, nik="12345")]  # a NIK of five digits
    synchronous = post(officer_client, csv_file(rows))
    job = post(officer_client, csv_file(rows), background=True).json()

    body = officer_client.get(job_url(job["id"])).json()

    assert synchronous.status_code == 400
    assert body["state"] == "failed"
    assert body["outcome_status"] == 400
    expected = {**synchronous.json(), "import": body["result"]["import"]}
    assert body["result"] == expected
    assert body["result"]["errors"][0]["row"] == 3
    assert ApparatusWorker.objects.count() == 0


def test_a_file_refused_as_a_whole_fails_the_job_naming_the_field(officer_client):
    job = post(officer_client, b"not,a,template\n1,2,3\n", background=True).json()

    body = officer_client.get(job_url(job["id"])).json()

    assert body["state"] == "failed"
    assert body["outcome_status"] == 400
    assert body["result"]["type"] == "validation_error"
    assert body["result"]["errors"][0]["attr"] == "file"
    assert WorkerImport.objects.count() == 0


def test_a_dry_run_in_the_background_writes_nothing(officer_client):
    job = post(officer_client, csv_file([worker_row(1)]), background=True, dry_run=True).json()

    body = officer_client.get(job_url(job["id"])).json()

    assert body["outcome_status"] == 200
    assert body["result"]["dry_run"] is True
    assert body["result"]["created"] == 1
    assert ApparatusWorker.objects.count() == 0


def test_the_background_import_needs_the_same_capability(api_client):
    viewer = make_user("viewer", role="viewer")
    response = post(token_client(viewer), csv_file([worker_row(1)]), background=True)

    assert response.status_code == 403
    assert Job.objects.count() == 0


def test_another_users_job_is_not_found_and_not_listed(officer_client):
    job = post(officer_client, csv_file([worker_row(1)]), background=True).json()
    other = token_client(make_user("kerinci2"))

    assert other.get(job_url(job["id"])).status_code == 404
    listed = other.get(JOBS)
    assert listed.status_code == 200
    assert listed.json()["results"] == []


def test_the_list_holds_the_callers_jobs_newest_first(officer_client):
    first = post(officer_client, csv_file([worker_row(1)]), background=True).json()
    second = post(officer_client, csv_file([worker_row(2)]), background=True).json()

    response = officer_client.get(JOBS)

    assert response.status_code == 200
    assert [job["id"] for job in response.json()["results"]] == [second["id"], first["id"]]


def test_an_admin_who_may_see_personal_data_sees_every_job(officer_client, admin_client):
    job = post(officer_client, csv_file([worker_row(1)]), background=True).json()

    assert admin_client.get(job_url(job["id"])).status_code == 200


def test_jobs_need_a_signed_in_caller(officer_client, api_client):
    job = post(officer_client, csv_file([worker_row(1)]), background=True).json()

    assert api_client.get(job_url(job["id"])).status_code == 401


def test_the_background_import_counts_its_rows_as_nik_lookups_once(officer_client, officer):
    from access.models import AccessLog
    from jobs.services import job_run

    job = post(officer_client, csv_file([worker_row(1), worker_row(2)]), background=True).json()
    # As if its worker died after counting: the job runs again and counts nothing more.
    Job.objects.filter(pk=job["id"]).update(state="queued")
    job_run(job["id"])

    (entry,) = AccessLog.objects.filter(user=officer, kind="nik_lookup")
    assert entry.rows == 2
    assert entry.path == UPLOAD
    assert "file_sha256=" in entry.query
