"""A reconciliation asked in the background: 202 with its job, whose result is the synchronous
answer; NIK lookups counted once for a caller without the personal-data right; the capability."""

from __future__ import annotations

import datetime

from access.models import AccessLog
from enrollment.models import Reconciliation
from jobs.models import Job
from jobs.services import job_run
from tests.enrollment.test_reconciliation import BUNGO_VILLAGE, csv_file, line, register
from tests.enrollment.test_reconciliation_api import bungo_branch, client_of, officer, upload  # noqa: F401
from villages.models import Province


def test_a_reconciliation_in_the_background_answers_202_and_its_result_is_the_synchronous_answer(
    bungo_branch,  # noqa: F811
    today,
):
    worker = register(BUNGO_VILLAGE, 1)
    client = client_of(bungo_branch)
    extract = csv_file([line(worker, paid_until=today + datetime.timedelta(days=30))])
    synchronous = upload(client, extract).json()

    response = upload(client, extract, background="true")

    assert response.status_code == 202
    job = client.get(response["Location"]).json()
    assert job["kind"] == "reconcile"
    assert job["state"] == "succeeded"
    assert job["outcome_status"] == 201
    record = Reconciliation.objects.latest("id")
    assert job["result"]["id"] == record.pk
    same = {key: value for key, value in job["result"].items() if key not in ("id", "created_at")}
    assert same == {key: value for key, value in synchronous.items() if key not in ("id", "created_at")}


def test_its_rows_are_counted_as_nik_lookups_once_for_a_caller_without_the_right(regions, today):
    clerk = officer("pmd-jambi", role="province_officer", province=Province.objects.get(code="15"))
    worker = register(BUNGO_VILLAGE, 1)
    client = client_of(clerk)
    response = upload(client, csv_file([line(worker, paid_until=today)]), background="true")
    assert response.status_code == 202
    Job.objects.filter(pk=response.json()["id"]).update(state="queued")  # as if run again

    job_run(response.json()["id"])

    (entry,) = AccessLog.objects.filter(user=clerk, kind="nik_lookup")
    assert entry.rows == 1


def test_the_background_reconciliation_needs_the_same_capability(regions):
    viewer = officer("viewer-jambi", role="viewer", province=Province.objects.get(code="15"))

    response = upload(client_of(viewer), csv_file([]), background="true")

    assert response.status_code == 403
    assert Job.objects.count() == 0
