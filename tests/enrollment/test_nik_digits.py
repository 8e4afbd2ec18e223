"""One rule for the digits of a NIK on every path that takes one (API create and update,
spreadsheet import, admin form): separators are dropped, and any digit other than ASCII 0-9
(full-width, Arabic-Indic, mathematical) is refused with the same message, never stored as ASCII
by one path and refused by another."""

from __future__ import annotations

import pytest
from django.urls import reverse

from enrollment.models import ApparatusWorker, EnrollmentEvent
from villages.models import Village

from .conftest import worker_data
from .factories import WorkerFactory
from .test_admin import form_data
from .test_import_api import post, row_errors
from .test_imports import csv_file, worker_row, xlsx_file

pytestmark = pytest.mark.django_db

NIK = "1501011705800001"
MESSAGE = "NIK must contain digits only."
OTHER_DIGITS = {
    "full-width": "".join(chr(ord("\uff10") + int(d)) for d in NIK),
    "full-width-in-part": "１５０１" + NIK[4:],
    "arabic-indic": "".join(chr(0x0660 + int(d)) for d in NIK),
    "devanagari": "".join(chr(0x0966 + int(d)) for d in NIK),
    "mathematical-bold": "".join(chr(0x1D7CE + int(d)) for d in NIK),
}
CASES = pytest.mark.parametrize("nik", OTHER_DIGITS.values(), ids=OTHER_DIGITS.keys())


def assert_refused_nik(response) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["type"] == "validation_error"
    assert [(e["code"], e["attr"], e["detail"]) for e in body["errors"]] == [("nik_not_digits", "nik", MESSAGE)]


@CASES
def test_api_create_refuses_nik_with_other_digits(admin_client, regions, nik):
    response = admin_client.post(reverse("worker-list"), worker_data(nik=nik), format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert_refused_nik(response)
    assert ApparatusWorker.objects.count() == 0
    assert EnrollmentEvent.objects.count() == 0


@CASES
def test_api_update_refuses_nik_with_other_digits(admin_client, regions, nik):
    worker = WorkerFactory()
    before = worker.nik

    response = admin_client.patch(
        reverse("worker-detail", args=[worker.pk]),
        {"nik": nik},
        format="json",
        HTTP_IF_MATCH='"1"',
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert_refused_nik(response)
    worker.refresh_from_db()
    assert (worker.nik, worker.version) == (before, 1)


def test_api_create_still_drops_separators(admin_client, regions):
    response = admin_client.post(reverse("worker-list"), worker_data(nik="1501 0117-0580.0001"), format="json")

    assert response.status_code == 201, response.json()
    assert ApparatusWorker.objects.get().nik == NIK


@CASES
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_import_refuses_nik_with_other_digits_with_the_same_message(admin_client, regions, nik, kind):
    rows = [worker_row(1, nik=nik)]
    data = csv_file(rows) if kind == "csv" else xlsx_file(rows)

    response = post(admin_client, data, f"aparatur.{kind}", language="en")

    assert response.status_code == 400
    assert row_errors(response) == [(2, "nik", MESSAGE)]
    assert ApparatusWorker.objects.count() == 0


def test_import_still_drops_separators(admin_client, regions):
    response = post(admin_client, csv_file([worker_row(1, nik="1501 0117-0580.0001")]))

    assert response.status_code == 201
    assert ApparatusWorker.objects.get().nik == NIK


@CASES
def test_admin_form_refuses_nik_with_other_digits_with_the_same_message(client, admin_user, regions, nik):
    client.force_login(admin_user)
    village = Village.objects.get(code="15.01.01.2001")

    response = client.post(
        reverse("admin:enrollment_apparatusworker_add"),
        form_data(village, nik=nik[:16], sex="male", birth_date="1980-05-17"),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["nik"] == [MESSAGE]
    assert ApparatusWorker.objects.count() == 0


def test_admin_form_drops_separators_like_the_api(client, admin_user, regions):
    client.force_login(admin_user)
    village = Village.objects.get(code="15.01.01.2001")

    response = client.post(
        reverse("admin:enrollment_apparatusworker_add"),
        form_data(village, nik="1501 0117-0580.0001", sex="male", birth_date="1980-05-17"),
    )

    assert response.status_code == 302
    assert ApparatusWorker.objects.get().nik == NIK
