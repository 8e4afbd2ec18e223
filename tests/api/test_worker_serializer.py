"""The worker's answer is written out by hand (`WorkerSerializer.to_representation`, for speed)
beside the fields it declares, which the schema is built from: the two must agree, key for key
and, for a caller who may see personal data, value for value (nested enrollment included)."""

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from enrollment.api.serializers import EnrollmentSerializer, WorkerSerializer, worker_row_data
from enrollment.masking import HIDDEN
from enrollment.models import ApparatusWorker
from enrollment.selectors import WorkerRow, page_rows, worker_rows
from enrollment.services import PERSONAL_FIELDS
from tests.enrollment.factories import WorkerFactory, bring_to

pytestmark = pytest.mark.django_db


def as_declared(worker: ApparatusWorker, context: dict) -> dict:
    """The answer the declared fields give (DRF's own rendering)."""
    serializer = WorkerSerializer(worker, context=context)
    return serializers.ModelSerializer.to_representation(serializer, worker)


def schema_properties(name: str) -> set[str]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return set(schema["components"]["schemas"][name]["properties"])


def request_of(user):
    request = APIRequestFactory().get("/api/v1/workers/")
    request.user = user
    return request


@pytest.mark.parametrize("status", ["not_registered", "active", "ended"])
def test_the_written_answer_is_what_the_declared_fields_give(regions, admin_user, status):
    worker = ApparatusWorker.objects.select_related("enrollment", "village", "district", "regency", "province").get(
        pk=bring_to(WorkerFactory(phone="0812345678"), status).pk
    )
    context = {"request": request_of(admin_user)}  # a superuser: personal data in full

    written = WorkerSerializer(worker, context=context).data

    assert written == as_declared(worker, context)
    assert set(written) == schema_properties("Worker")
    assert set(written["enrollment"]) == set(EnrollmentSerializer().fields) == schema_properties("Enrollment")


def test_a_masked_answer_has_the_same_keys_and_hides_only_personal_data(regions, django_user_model):
    worker = bring_to(WorkerFactory(phone="0812345678"), "active")
    worker = ApparatusWorker.objects.select_related("enrollment", "village", "district", "regency", "province").get(
        pk=worker.pk
    )
    viewer = django_user_model.objects.create_user("viewer", password="pw-viewer-123")
    context = {"request": request_of(viewer)}

    written = WorkerSerializer(worker, context=context).data
    declared = as_declared(worker, context)

    assert set(written) == set(declared)
    differing = {key for key in written if written[key] != declared[key]}
    assert differing <= set(PERSONAL_FIELDS)
    assert written["phone"] == HIDDEN or written["phone"].startswith("*")
    assert written["nik"] != worker.nik


@pytest.mark.parametrize("status", ["not_registered", "submitted", "active", "lapsed", "ended"])
@pytest.mark.parametrize("zone", ["Asia/Jakarta", "UTC", "America/St_Johns"])
def test_a_row_as_a_list_or_detail_reads_it_gives_the_declared_answer(regions, admin_user, status, zone):
    """A list's page and one worker read are represented from rows (`worker_rows`, `page_rows`),
    not instances: the same answer, times in the current zone included (`Z` for UTC, as DRF)."""
    worker = bring_to(WorkerFactory(phone="0812345678", monthly_wage=None), status)
    instance = ApparatusWorker.objects.select_related("enrollment", "village", "district", "regency", "province").get(
        pk=worker.pk
    )
    context = {"request": request_of(admin_user)}
    with timezone.override(zone):
        declared = as_declared(instance, context)
        [row] = worker_rows(ApparatusWorker.objects.filter(pk=worker.pk))
        [page_row] = page_rows(ApparatusWorker.objects.filter(pk=worker.pk).values_list("pk", flat=True)[:1], ["id"])

        assert worker_row_data(row, full=True) == declared
        assert worker_row_data(page_row, full=True) == declared
        assert row == page_row == WorkerRow.of(instance)
    assert declared["created_at"].endswith("Z") == (zone == "UTC")


def test_a_page_of_rows_keeps_the_lists_order(regions):
    """The page's ids are chosen in the list's order, and its rows read again in that order."""
    names = ["Citra", "Ani", "Budi", "Ani", "Dewi"]
    ids = [WorkerFactory(full_name=name).pk for name in names]
    workers = ApparatusWorker.objects.filter(pk__in=ids)

    for ordering in (["-full_name", "pk"], ["full_name", "-id"], ["-id"]):
        expected = list(workers.order_by(*ordering).values_list("pk", flat=True))
        page = workers.order_by(*ordering).values_list("pk", flat=True)
        assert [row.id for row in page_rows(page[1:4], ordering)] == expected[1:4]
    assert page_rows(workers.values_list("pk", flat=True)[0:0], ["id"]) == []
    assert [row.id for row in page_rows([ids[2], ids[0]], ["id"])] == sorted([ids[2], ids[0]])
