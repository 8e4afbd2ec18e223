"""The worker's answer is written out by hand (`WorkerSerializer.to_representation`, for speed)
beside the fields it declares, which the schema is built from: the two must agree, key for key
and, for a caller who may see personal data, value for value (nested enrollment included)."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from enrollment.api.serializers import EnrollmentSerializer, WorkerSerializer
from enrollment.masking import HIDDEN
from enrollment.models import ApparatusWorker
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
