"""A worker export as a background job: `GET /api/v1/workers/?format=csv|xlsx&background=true` (or
`Prefer: respond-async`) answers 202 with the job; the job makes the file the synchronous export
makes (the same function), with the requester's scope, masking and access log as they are when it
runs; its file is downloaded at `/api/v1/jobs/{id}/file/` by its requester only, until it expires.
The jobs run at once here (the tests' immediate backend); tests/jobs/test_worker.py runs the runner."""

from __future__ import annotations

import datetime
import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from access.models import AccessLog, AccessProfile
from jobs.models import Job, JobFile
from jobs.services import job_files_expire, job_run
from villages.models import Province, Regency

from .test_exports import BUNGO_VILLAGE, FORMATS, XLSX_TYPE, activate

WORKERS = reverse("worker-list")
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX_TYPE}


def make_user(username: str, role: str, *, regency: str | None = "15.01", personal_data: bool = False):
    user = get_user_model().objects.create_user(username, password="pw-officer-123")
    if role == "province_officer":
        AccessProfile.objects.create(user=user, role=role, province=Province.objects.get(code="15"))
    else:
        AccessProfile.objects.create(user=user, role=role, regency=Regency.objects.get(code=regency))
    if personal_data:
        user.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    return user


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def workers(make_worker):
    """Kerinci: three workers (one active, with a phone); Bungo: one."""
    head = make_worker(full_name="Budi Santoso", phone="081234567890")
    staff = make_worker(full_name="Siti Aminah", position="staf")
    clerk = make_worker(full_name="Ahmad Yani", position="kepala_urusan")
    bungo = make_worker(full_name="Rahmat Hidayat", village=BUNGO_VILLAGE)
    activate(head)
    return {"head": head, "staff": staff, "clerk": clerk, "bungo": bungo}


@pytest.fixture
def officer(regions):
    """A province officer of Jambi who may see personal data."""
    return make_user("pmd.jambi", "province_officer", personal_data=True)


def queue(client: APIClient, kind: str, headers: dict[str, str] | None = None, **params: str):
    query = {"format": kind, **params}
    if headers is None:
        query["background"] = "true"
    return client.get(WORKERS, query, headers=headers)


def file_of(client: APIClient, job_id: int):
    return client.get(reverse("job-file", args=[job_id]))


def cells(content: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))


@pytest.mark.parametrize("kind", FORMATS)
def test_an_export_asked_in_the_background_answers_202_with_its_job(officer, workers, kind):
    response = queue(client_of(officer), kind)

    assert response.status_code == 202
    body = response.json()
    assert response["Location"] == f"/api/v1/jobs/{body['id']}/"
    assert response["Content-Type"] == "application/json"
    assert (body["kind"], body["created_by"], body["region_codes"]) == ("export_workers", "pmd.jambi", ["15"])


def test_the_prefer_header_queues_it_too(officer, workers):
    response = queue(client_of(officer), "csv", headers={"Prefer": "respond-async"})

    assert response.status_code == 202
    assert Job.objects.get().kind == "export_workers"


def test_background_without_a_file_format_is_refused_naming_it(officer, workers):
    response = client_of(officer).get(WORKERS, {"background": "true"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "background"
    assert not Job.objects.exists()


@pytest.mark.parametrize(("path", "query"), [(WORKERS, {}), ("/api/v1/coverage/", {"level": "province"})])
@pytest.mark.parametrize("kind", [*FORMATS, "json"])
def test_a_background_value_that_is_no_boolean_is_refused_naming_it(officer, workers, path, query, kind):
    """Only a request naming `background` has it checked (jobs.api.background), and then always."""
    response = client_of(officer).get(path, {**query, "background": "perhaps", "format": kind})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "background"
    assert not Job.objects.exists()


@pytest.mark.parametrize("kind", FORMATS)
def test_the_job_succeeds_its_progress_at_the_total_and_its_result_names_the_file(officer, workers, kind):
    client = client_of(officer)
    job_id = queue(client, kind).json()["id"]

    body = client.get(reverse("job-detail", args=[job_id])).json()

    assert body["state"] == "succeeded"
    assert body["outcome_status"] == 200
    assert (body["rows_done"], body["rows_total"], body["percent"], body["phase"]) == (4, 4, 100, "export")
    stored = JobFile.objects.get(job_id=job_id)
    assert body["result"] == {
        "file": f"/api/v1/jobs/{job_id}/file/",
        "file_name": f"workers.{kind}",
        "content_type": CONTENT_TYPES[kind],
        "size": stored.size,
        "rows": 4,
        "expires_at": stored.expires_at.isoformat(),
    }
    hours = (stored.expires_at - stored.created_at).total_seconds() / 3600
    assert round(hours) == 24


def test_the_csv_file_is_byte_for_byte_the_synchronous_export_of_the_same_request(officer, workers):
    client = client_of(officer)
    query = {"format": "csv", "regency": "1501", "ordering": "-full_name"}
    synchronous = b"".join(client.get(WORKERS, query).streaming_content)
    job_id = client.get(WORKERS, {**query, "background": "true"}).json()["id"]

    response = file_of(client, job_id)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="workers.csv"'
    assert response.content == synchronous
    names = [line.split(",")[6] for line in response.content.decode("utf-8-sig").splitlines()[1:]]
    assert names == ["Siti Aminah", "Budi Santoso", "Ahmad Yani"]


def test_the_xlsx_file_holds_the_cells_of_the_synchronous_export_of_the_same_request(officer, workers):
    client = client_of(officer)
    query = {"format": "xlsx", "status": "not_registered"}
    synchronous = b"".join(client.get(WORKERS, query).streaming_content)
    job_id = client.get(WORKERS, {**query, "background": "true"}).json()["id"]

    response = file_of(client, job_id)

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_TYPE
    assert response["Content-Disposition"] == 'attachment; filename="workers.xlsx"'
    assert cells(response.content) == cells(synchronous)
    assert len(cells(response.content)) == 1 + 3  # the header, the three not registered


def test_every_exported_worker_is_in_the_access_log_as_the_synchronous_export_writes_it(officer, workers):
    client = client_of(officer)
    client.get(WORKERS, {"format": "csv", "regency": "15.01"})
    synchronous = AccessLog.objects.get()
    AccessLog.objects.all().delete()

    client.get(WORKERS, {"format": "csv", "regency": "15.01", "background": "true"})

    logged = AccessLog.objects.get()
    expected = sorted(w.pk for w in (workers["head"], workers["staff"], workers["clerk"]))
    assert (logged.user, logged.kind, sorted(logged.worker_ids), logged.rows) == (officer, "export", expected, 3)
    assert (logged.kind, logged.path, sorted(logged.worker_ids)) == (
        synchronous.kind,
        synchronous.path,
        sorted(synchronous.worker_ids),
    )
    assert logged.query == synchronous.query + "&background=true"


def test_downloading_the_file_writes_no_second_log(officer, workers):
    client = client_of(officer)
    job_id = queue(client, "csv").json()["id"]

    assert file_of(client, job_id).status_code == 200
    assert AccessLog.objects.count() == 1


@pytest.mark.parametrize("kind", FORMATS)
def test_an_owner_without_the_personal_data_right_gets_a_masked_file(workers, kind):
    officer = make_user("pmd.kerinci", "regency_officer")
    client = client_of(officer)
    job_id = queue(client, kind).json()["id"]

    response = file_of(client, job_id)

    assert response.status_code == 200
    head = workers["head"]
    if kind == "csv":
        assert head.nik.encode() not in response.content
        assert b"081234567890" not in response.content
        assert b"1980-05-17" not in response.content
    values = {str(v) for row in cells(response.content) for v in row} if kind == "xlsx" else set()
    assert head.nik not in values
    assert JobFile.objects.get().personal_data is False
    # Its scope too: the regency's three workers, not Bungo's.
    assert Job.objects.get().result["rows"] == 3


def test_another_caller_even_an_admin_gets_404_for_the_file(officer, workers, admin_client):
    job_id = queue(client_of(officer), "csv").json()["id"]
    colleague = make_user("pmd.jambi.2", "province_officer", personal_data=True)

    assert file_of(client_of(colleague), job_id).status_code == 404
    assert file_of(admin_client, job_id).status_code == 404
    assert file_of(APIClient(), job_id).status_code == 401


def test_the_file_is_404_once_expired_and_the_upkeep_deletes_it(officer, workers):
    client = client_of(officer)
    job_id = queue(client, "csv").json()["id"]
    JobFile.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    assert file_of(client, job_id).status_code == 404
    assert job_files_expire() == 1
    assert not JobFile.objects.exists()
    assert Job.objects.get(pk=job_id).state == "succeeded"  # the job stays, its file is gone


def test_the_upkeep_leaves_a_file_before_its_time(officer, workers):
    queue(client_of(officer), "csv")

    assert job_files_expire() == 0
    assert job_files_expire(now=timezone.now() + datetime.timedelta(hours=25)) == 1


def test_a_file_with_personal_data_is_refused_once_its_owner_lost_the_right(officer, workers):
    client = client_of(officer)
    job_id = queue(client, "csv").json()["id"]
    officer.user_permissions.clear()

    response = file_of(client_of(get_user_model().objects.get(pk=officer.pk)), job_id)

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "permission_denied"


def test_the_file_is_404_once_its_owners_regions_no_longer_hold_the_export(officer, workers):
    client = client_of(officer)
    job_id = queue(client, "csv").json()["id"]
    AccessProfile.objects.filter(user=officer).update(role="regency_officer", province=None, regency=_regency("15.08"))

    assert file_of(client_of(get_user_model().objects.get(pk=officer.pk)), job_id).status_code == 404


def _regency(code: str) -> Regency:
    return Regency.objects.get(code=code)


def test_an_export_too_large_is_refused_at_the_request_and_nothing_is_queued(officer, workers, settings):
    settings.UCJ_LIST_COUNT_LIMIT = 3

    response = queue(client_of(officer), "csv")

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "export_too_large"
    assert not Job.objects.exists()
    assert not AccessLog.objects.exists()


def test_a_caller_without_the_export_capability_is_refused_before_queuing(workers):
    viewer = get_user_model().objects.create_user("viewer.jambi", password="pw-officer-123")
    AccessProfile.objects.create(user=viewer, role="viewer", province=Province.objects.get(code="15"))

    response = queue(client_of(viewer), "csv")

    assert response.status_code == 403
    assert not Job.objects.exists()


def test_a_job_whose_owner_lost_the_capability_before_it_ran_fails_with_403_and_exports_nothing(
    officer, workers, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}  # queued, not run
    job_id = queue(client_of(officer), "csv").json()["id"]
    AccessProfile.objects.filter(user=officer).update(role="viewer")

    assert job_run(job_id) == "failed"

    job = Job.objects.get(pk=job_id)
    assert job.outcome_status == 403
    assert job.result["errors"][0]["code"] == "permission_denied"
    assert not JobFile.objects.exists()
    assert not AccessLog.objects.exists()


def test_the_job_reads_with_its_owners_scope_when_it_runs_never_wider(workers, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    officer = make_user("pmd.jambi.x", "province_officer", personal_data=True)
    job_id = queue(client_of(officer), "csv").json()["id"]
    AccessProfile.objects.filter(user=officer).update(role="regency_officer", province=None, regency=_regency("15.08"))

    assert job_run(job_id) == "succeeded"

    assert Job.objects.get(pk=job_id).result["rows"] == 1  # Bungo's worker only
    assert AccessLog.objects.get().worker_ids == [workers["bungo"].pk]


def test_a_job_run_again_keeps_one_file_with_the_same_rows(officer, workers):
    client = client_of(officer)
    job_id = queue(client, "csv").json()["id"]
    first = bytes(JobFile.objects.get(job_id=job_id).data)
    # As `jobs_recover` queues again a job whose worker was thought dead.
    Job.objects.filter(pk=job_id).update(state="queued")

    assert job_run(job_id) == "succeeded"

    assert JobFile.objects.filter(job_id=job_id).count() == 1
    assert bytes(JobFile.objects.get(job_id=job_id).data) == first
    assert Job.objects.get(pk=job_id).attempts == 2
    assert file_of(client, job_id).content == first
