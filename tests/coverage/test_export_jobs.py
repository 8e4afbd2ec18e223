"""A coverage export as a background job: `GET /api/v1/coverage/?format=csv|xlsx&background=true`
answers 202 with the job, whose file (`/api/v1/jobs/{id}/file/`, its requester's alone) is the
file the export answers at once, logged as that export is. The jobs run at once here."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from rest_framework.test import APIClient

from access.models import AccessLog
from jobs.models import Job, JobFile
from villages.models import Regency, Village

from .test_api import day_one, user_with_role  # noqa: F401  (a fixture)

COVERAGE = reverse("coverage-list")


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_coverage_export_in_the_background_makes_the_file_the_export_makes_at_once(admin_client, day_one, kind):  # noqa: F811
    query = {"level": "village", "parent": "15.01", "format": kind, "ordering": "-unprotected"}
    at_once = admin_client.get(COVERAGE, query)

    queued = admin_client.get(COVERAGE, {**query, "background": "true"})

    assert queued.status_code == 202
    job = queued.json()
    assert (job["kind"], queued["Location"]) == ("export_coverage", f"/api/v1/jobs/{job['id']}/")
    done = admin_client.get(queued["Location"]).json()
    assert (done["state"], done["result"]["rows"], done["result"]["file"]) == (
        "succeeded",
        3,
        f"/api/v1/jobs/{job['id']}/file/",
    )
    downloaded = admin_client.get(done["result"]["file"])
    assert downloaded.status_code == 200
    assert downloaded["Content-Type"] == at_once["Content-Type"]
    assert downloaded["Content-Disposition"] == f'attachment; filename="coverage.{kind}"'
    if kind == "csv":
        assert downloaded.content == at_once.content
    else:
        cells = [list(r) for r in load_workbook(io.BytesIO(downloaded.content)).active.iter_rows(values_only=True)]
        assert cells == [list(r) for r in load_workbook(io.BytesIO(at_once.content)).active.iter_rows(values_only=True)]
    logs = list(AccessLog.objects.filter(kind="export").order_by("pk").values_list("rows", "path", "worker_ids"))
    assert logs == [(3, COVERAGE, []), (3, COVERAGE, [])]


def test_the_job_computes_with_its_requesters_scope(day_one):  # noqa: F811
    officer = user_with_role("regency_officer", regency=Regency.objects.get(code="15.08"))
    client = APIClient()
    client.force_authenticate(officer)

    queued = client.get(COVERAGE, {"level": "village", "format": "csv", "background": "true"})

    assert queued.status_code == 202
    content = client.get(f"/api/v1/jobs/{queued.json()['id']}/file/").content.decode("utf-8-sig")
    codes = [line.split(",")[0] for line in content.splitlines()[1:]]
    assert codes == sorted(Village.objects.filter(regency__code="15.08").values_list("code", flat=True))


def test_background_on_a_json_answer_is_refused_naming_it(admin_client, day_one):  # noqa: F811
    response = admin_client.get(COVERAGE, {"level": "province", "background": "true"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "background"
    assert not Job.objects.exists()


def test_a_viewer_may_not_export_in_the_background_either(day_one):  # noqa: F811
    from villages.models import Province

    viewer = user_with_role("viewer", province=Province.objects.get(code="15"))
    client = APIClient()
    client.force_authenticate(viewer)

    response = client.get(COVERAGE, {"level": "province", "format": "csv", "background": "true"})

    assert response.status_code == 403
    assert not JobFile.objects.exists()
