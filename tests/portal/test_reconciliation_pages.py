"""The reconciliation pages: upload an extract (the counts by outcome), the rows of one outcome,
NIK masked as the API masks it for a caller without the personal-data right, accepting an outcome
(after a confirmation) changing the registry and the village's coverage as the API reports it,
a second acceptance refused with the API's message, CSRF, 403 for a viewer, 404 for another
branch's reconciliation, the accept buttons hidden from those who may not apply."""

from __future__ import annotations

import datetime
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from access.choices import AccessKind
from access.models import AccessLog
from enrollment.models import ApparatusWorker, Reconciliation, ReconciliationRow
from tests.enrollment.test_reconciliation import (
    BUNGO_VILLAGE,
    branch_actor,
    branch_user,
    csv_file,
    line,
    register,
    world,
)
from villages.models import BranchOffice, Province, Regency

from .test_pages import log_in, make_user

__all__ = ["branch_actor", "branch_user", "world"]  # fixtures

pytestmark = pytest.mark.django_db

LIST = reverse("portal:reconciliations")


def detail_url(pk: int) -> str:
    return reverse("portal:reconciliation", args=[pk])


def apply_url(pk: int) -> str:
    return reverse("portal:reconciliation_apply", args=[pk])


def signed_in(username: str, *, csrf: bool = False) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en", enforce_csrf_checks=csrf)
    if csrf:
        client.force_login(get_user_model().objects.get(username=username))
    else:
        log_in(client, username)
    return client


def named(data: bytes, name: str = "sanding.csv") -> io.BytesIO:
    file = io.BytesIO(data)
    file.name = name
    return file


def upload(client: Client, data: bytes) -> int:
    response = client.post(LIST, {"berkas": named(data)})
    assert response.status_code == 302
    match = re.fullmatch(r"/rekonsiliasi/(\d+)/", response["Location"])
    assert match is not None
    return int(match.group(1))


@pytest.fixture
def branch(regions):
    return make_user("bpjs.bungo", "branch_officer", branch=BranchOffice.objects.get(code="muara-bungo"))


@pytest.fixture
def workers(regions):
    """Three workers of a Bungo village, none protected yet."""
    return [register(BUNGO_VILLAGE, serial) for serial in (1, 2, 3)]


@pytest.fixture
def extract(workers, today) -> bytes:
    """Two activations, one person the registry does not know, one bad row."""
    paid = today + datetime.timedelta(days=60)
    stranger = line(workers[0], paid_until=paid, name="Orang Lain", nik="1508015505800099", sex="P")
    stranger[2] = "1980-05-15"
    bad = line(workers[2], status="ditangguhkan", paid_until=paid)
    return csv_file([line(workers[0], paid_until=paid), line(workers[1], paid_until=paid), stranger, bad])


def village_protected(username: str) -> int:
    api = APIClient()
    api.force_authenticate(make_user(username, "province_officer", province=Province.objects.get(code="15")))
    response = api.get(reverse("coverage-detail", args=[BUNGO_VILLAGE]))
    assert response.status_code == 200
    return int(response.json()["protected"])


def test_the_upload_shows_the_counts_by_outcome_and_the_list_names_it(branch, extract):
    client = signed_in("bpjs.bungo")

    pk = upload(client, extract)
    page = client.get(detail_url(pk))
    listed = client.get(LIST)

    assert page.status_code == 200
    counts = dict(re.findall(r'data-outcome="(\w+)"[^>]*>[^<]*<span class="count">(\d+)<', page.text))
    assert counts == {
        "activate": "2",
        "lapse": "0",
        "renew": "0",
        "probable_match": "0",
        "not_in_registry": "1",
        "bad_row": "1",
        "same": "0",
    }
    assert listed.status_code == 200
    assert f'data-reconciliation="{pk}"' in listed.text
    assert 'class="count-activate">2<' in listed.text
    assert reverse("reconciliation-template") in listed.text


def test_the_rows_of_one_outcome_are_shown_bad_rows_with_column_and_message(branch, extract, workers):
    client = signed_in("bpjs.bungo")
    pk = upload(client, extract)

    activations = client.get(detail_url(pk), {"hasil": "activate"})
    bad = client.get(detail_url(pk), {"hasil": "bad_row"})

    assert activations.status_code == 200
    assert activations.text.count("<tr data-row=") == 2
    assert workers[0].nik in activations.text  # a branch officer sees personal data by its role
    assert workers[1].full_name in activations.text
    assert "Orang Lain" not in activations.text
    assert bad.status_code == 200
    assert bad.text.count("<tr data-row=") == 1
    assert "ditangguhkan" in bad.text
    assert "<td>status</td>" in bad.text
    # Full personal data shown is logged, as the API's rows are.
    logged = AccessLog.objects.filter(kind=AccessKind.PERSONAL_DATA, path=detail_url(pk))
    assert sorted(logged.values_list("worker_ids", flat=True)[0]) == sorted([workers[0].pk, workers[1].pk])


def test_a_caller_without_the_personal_data_right_sees_niks_masked(branch, extract, workers):
    make_user("pmd.jambi", "province_officer", province=Province.objects.get(code="15"))
    client = signed_in("pmd.jambi")
    pk = upload(client, extract)

    page = client.get(detail_url(pk), {"hasil": "activate"})

    assert page.status_code == 200
    assert workers[0].nik not in page.text
    assert workers[0].nik[:4] + "************" in page.text
    assert not AccessLog.objects.filter(kind=AccessKind.PERSONAL_DATA).exists()


def test_accepting_an_outcome_asks_first_then_changes_the_registry_and_the_village(branch, extract, workers):
    client = signed_in("bpjs.bungo")
    pk = upload(client, extract)
    before = village_protected("pmd.a")

    asked = client.post(apply_url(pk), {"hasil": "activate"})
    unchanged = ApparatusWorker.objects.get(pk=workers[0].pk).enrollment_status
    done = client.post(apply_url(pk), {"hasil": "activate", "yakin": "1"}, follow=True)
    again = client.post(apply_url(pk), {"hasil": "activate", "yakin": "1"}, follow=True)

    assert asked.status_code == 200
    assert "2 baris dengan hasil" in asked.text
    assert unchanged == "not_registered"
    assert done.status_code == 200
    assert ApparatusWorker.objects.get(pk=workers[0].pk).enrollment_status == "active"
    assert ApparatusWorker.objects.get(pk=workers[1].pk).enrollment_status == "active"
    assert ApparatusWorker.objects.get(pk=workers[2].pk).enrollment_status == "not_registered"
    assert Reconciliation.objects.get(pk=pk).state == "applied"
    assert village_protected("pmd.b") == before + 2
    assert again.status_code == 200
    assert 'class="message error"' in again.text  # already applied: the service's 409, said
    assert ReconciliationRow.objects.filter(reconciliation_id=pk, decision="accepted").count() == 2


def test_accepting_chosen_rows_applies_only_those(branch, extract, workers):
    client = signed_in("bpjs.bungo")
    pk = upload(client, extract)
    first = ReconciliationRow.objects.get(reconciliation_id=pk, worker=workers[0])

    confirm = client.post(apply_url(pk), {"hasil": "activate", "baris": [first.pk]})
    done = client.post(apply_url(pk), {"hasil": "activate", "baris": [first.pk], "yakin": "1"})

    assert confirm.status_code == 200
    assert f'name="baris" value="{first.pk}"' in confirm.text
    assert done.status_code == 302
    assert ApparatusWorker.objects.get(pk=workers[0].pk).enrollment_status == "active"
    assert ApparatusWorker.objects.get(pk=workers[1].pk).enrollment_status == "not_registered"


def test_a_province_officer_may_upload_but_not_accept(regions, extract, workers):
    make_user("pmd.jambi", "province_officer", province=Province.objects.get(code="15"))
    client = signed_in("pmd.jambi")
    pk = upload(client, extract)

    page = client.get(detail_url(pk), {"hasil": "activate"})
    refused = client.post(apply_url(pk), {"hasil": "activate", "yakin": "1"})

    assert page.status_code == 200
    assert apply_url(pk) not in page.text
    assert 'name="baris"' not in page.text
    assert refused.status_code == 403
    assert ApparatusWorker.objects.get(pk=workers[0].pk).enrollment_status == "not_registered"


def test_writes_need_the_csrf_token(branch, extract, workers):
    client = signed_in("bpjs.bungo", csrf=True)
    upload_refused = client.post(LIST, {"berkas": named(extract)})
    pk = upload(signed_in("bpjs.bungo"), extract)

    apply_refused = client.post(apply_url(pk), {"hasil": "activate", "yakin": "1"})

    assert upload_refused.status_code == 403
    assert not Reconciliation.objects.exclude(pk=pk).exists()
    assert apply_refused.status_code == 403
    assert ApparatusWorker.objects.get(pk=workers[0].pk).enrollment_status == "not_registered"


def test_a_viewer_is_refused_and_another_branch_finds_nothing(branch, extract):
    pk = upload(signed_in("bpjs.bungo"), extract)
    make_user("viewer", "viewer", province=Province.objects.get(code="15"))
    other = BranchOffice.objects.create(code="sungai-penuh", name="Cabang Sungai Penuh")
    other.regencies.set(Regency.objects.filter(code="15.01"))
    make_user("bpjs.kerinci", "branch_officer", branch=other)
    viewer = signed_in("viewer")
    kerinci = signed_in("bpjs.kerinci")

    assert viewer.get(LIST).status_code == 403
    assert viewer.get(detail_url(pk)).status_code == 403
    assert kerinci.get(detail_url(pk)).status_code == 404
    assert kerinci.post(apply_url(pk), {"hasil": "activate", "yakin": "1"}).status_code == 404
    assert f'data-reconciliation="{pk}"' not in kerinci.get(LIST).text


def test_a_file_refused_is_said_next_to_the_field(branch):
    client = signed_in("bpjs.bungo")

    response = client.post(LIST, {"berkas": named(b"nik,foo\n1,2\n")})

    assert response.status_code == 200
    assert 'id="berkas-errors"' in response.text
    assert not Reconciliation.objects.exists()


def test_the_menu_names_the_page_for_those_who_reconcile(branch, regions):
    make_user("viewer", "viewer", province=Province.objects.get(code="15"))

    clerk = signed_in("bpjs.bungo").get(reverse("portal:home"))
    viewer = signed_in("viewer").get(reverse("portal:home"))

    assert f'href="{LIST}"' in clerk.text
    assert f'href="{LIST}"' not in viewer.text


def test_a_rejected_row_stays_rejected_when_its_outcome_is_accepted(branch, extract, workers):
    client = signed_in("bpjs.bungo")
    pk = upload(client, extract)
    first = ReconciliationRow.objects.get(reconciliation_id=pk, worker=workers[0])
    reject_url = reverse("portal:reconciliation_reject", args=[pk])

    rejected = client.post(reject_url, {"hasil": "activate", "baris": [first.pk]})
    page = client.get(detail_url(pk), {"hasil": "activate"})
    done = client.post(apply_url(pk), {"hasil": "activate", "yakin": "1"})

    assert rejected.status_code == 302
    assert "Terima semua 1 baris" in page.text  # the rejected row is not counted
    assert done.status_code == 302
    assert ReconciliationRow.objects.get(pk=first.pk).decision == "rejected"
    assert ApparatusWorker.objects.get(pk=workers[0].pk).enrollment_status == "not_registered"
    assert ApparatusWorker.objects.get(pk=workers[1].pk).enrollment_status == "active"


def test_rejecting_needs_the_right_to_apply(regions, extract, workers):
    make_user("pmd.jambi", "province_officer", province=Province.objects.get(code="15"))
    client = signed_in("pmd.jambi")
    pk = upload(client, extract)
    first = ReconciliationRow.objects.get(reconciliation_id=pk, worker=workers[0])

    refused = client.post(reverse("portal:reconciliation_reject", args=[pk]), {"baris": [first.pk]})

    assert refused.status_code == 403
    assert ReconciliationRow.objects.get(pk=first.pk).decision == "pending"


def test_a_membership_confirmed_by_a_reconciliation_shows_its_evidence_on_the_worker_page(world, branch_actor, today):
    from django.test import Client

    from enrollment import reconcile_services
    from tests.enrollment.test_reconciliation import extract_rows

    record = reconcile_services.reconciliation_record(
        actor=branch_actor, file_name="bpjs.csv", data=csv_file(extract_rows(world, today))
    )
    reconcile_services.reconciliation_apply(actor=branch_actor, reconciliation=record, outcomes=["activate"])
    client = Client()
    client.force_login(branch_actor.user)

    page = client.get(reverse("portal:worker", args=[world["new"].pk]))

    assert page.status_code == 200
    assert f"Status dikonfirmasi BPJS Ketenagakerjaan dalam rekonsiliasi #{record.pk}" in page.text
