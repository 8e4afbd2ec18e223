"""Rejecting a reconciliation's proposals (reconcile_services.reconciliation_rows_reject): only the
decision changes, all or nothing, never a row already applied, another territory's rows not
found; and through the API (`POST /api/v1/reconciliations/{id}/reject/`)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from core.errors import ConflictError, NotFoundError, ServiceError
from enrollment import reconcile_services
from enrollment.models import ApparatusWorker, EnrollmentEvent, ReconciliationRow
from tests.enrollment.test_reconciliation import branch_actor, branch_user, csv_file, extract_rows, world

__all__ = ["branch_actor", "branch_user", "world"]  # fixtures


@pytest.fixture
def record(world, branch_actor, today):
    return reconcile_services.reconciliation_record(
        actor=branch_actor, file_name="bpjs.csv", data=csv_file(extract_rows(world, today))
    )


def row(record, outcome: str) -> ReconciliationRow:
    return ReconciliationRow.objects.filter(reconciliation=record, outcome=outcome).order_by("id").first()


def test_rejecting_marks_the_rows_and_writes_nothing_else(record, branch_actor, world):
    activation, probable = row(record, "activate"), row(record, "probable_match")
    events = EnrollmentEvent.objects.count()

    rejected = reconcile_services.reconciliation_rows_reject(
        actor=branch_actor, reconciliation=record, row_ids=[activation.pk, probable.pk]
    )
    again = reconcile_services.reconciliation_rows_reject(
        actor=branch_actor, reconciliation=record, row_ids=[activation.pk]
    )

    assert rejected == 2
    assert again == 0
    assert set(
        ReconciliationRow.objects.filter(pk__in=[activation.pk, probable.pk]).values_list("decision", flat=True)
    ) == {"rejected"}
    assert EnrollmentEvent.objects.count() == events
    assert ApparatusWorker.objects.get(pk=world["new"].pk).enrollment_status == "not_registered"


def test_rows_proposing_nothing_refuse_the_whole(record, branch_actor):
    activation, same = row(record, "activate"), row(record, "same")

    with pytest.raises(ServiceError) as refused:
        reconcile_services.reconciliation_rows_reject(
            actor=branch_actor, reconciliation=record, row_ids=[activation.pk, same.pk]
        )

    assert refused.value.code == "not_rejectable"
    assert ReconciliationRow.objects.get(pk=activation.pk).decision == "pending"


def test_a_row_already_applied_cannot_be_rejected(record, branch_actor):
    activation = row(record, "activate")
    reconcile_services.reconciliation_apply(actor=branch_actor, reconciliation=record, row_ids=[activation.pk])

    with pytest.raises(ConflictError):
        reconcile_services.reconciliation_rows_reject(
            actor=branch_actor, reconciliation=record, row_ids=[activation.pk]
        )

    assert ReconciliationRow.objects.get(pk=activation.pk).decision == "accepted"


def test_rows_of_another_reconciliation_or_none_are_refused(record, branch_actor, world, today):
    other = reconcile_services.reconciliation_record(
        actor=branch_actor, file_name="lagi.csv", data=csv_file(extract_rows(world, today))
    )

    with pytest.raises(NotFoundError):
        reconcile_services.reconciliation_rows_reject(
            actor=branch_actor, reconciliation=record, row_ids=[row(other, "activate").pk]
        )
    with pytest.raises(ServiceError):
        reconcile_services.reconciliation_rows_reject(actor=branch_actor, reconciliation=record, row_ids=[])


def test_the_api_rejects_for_a_branch_clerk_only(record, branch_user, regions):
    from django.contrib.auth import get_user_model

    from access.models import AccessProfile
    from villages.models import Province

    activation = row(record, "activate")
    url = reverse("reconciliation-reject", args=[record.pk])
    clerk, province = APIClient(), APIClient()
    clerk.force_authenticate(branch_user)
    officer = get_user_model().objects.create_user("pmd-jambi", password="x-Passw0rd!")
    AccessProfile.objects.create(user=officer, role="province_officer", province=Province.objects.get(code="15"))
    province.force_authenticate(officer)

    refused = province.post(url, {"rows": [activation.pk]}, format="json")
    empty = clerk.post(url, {"rows": []}, format="json")
    done = clerk.post(url, {"rows": [activation.pk]}, format="json")

    assert refused.status_code == 403
    assert empty.status_code == 400
    assert done.status_code == 200
    assert done.json() == {"rejected": 1}
    assert ReconciliationRow.objects.get(pk=activation.pk).decision == "rejected"


def test_applying_a_whole_outcome_leaves_its_rejected_rows_alone(record, branch_actor, world):
    lapses = list(ReconciliationRow.objects.filter(reconciliation=record, outcome="lapse").order_by("id"))
    rejected, other = lapses  # the world has two: one inactive at BPJS, one not listed
    reconcile_services.reconciliation_rows_reject(actor=branch_actor, reconciliation=record, row_ids=[rejected.pk])

    applied = reconcile_services.reconciliation_apply(actor=branch_actor, reconciliation=record, outcomes=["lapse"])

    rejected.refresh_from_db()
    assert applied["lapse"] == 1
    assert rejected.decision == "rejected"
    assert ApparatusWorker.objects.get(pk=rejected.worker_id).enrollment_status == "active"
    assert ApparatusWorker.objects.get(pk=other.worker_id).enrollment_status == "lapsed"
