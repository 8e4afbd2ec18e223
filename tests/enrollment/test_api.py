"""The worker API over HTTP: create, read, optimistic-concurrency edits, enrollment actions,
history, filters, masking of personal data, the error body, and query counts."""

import datetime
import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from enrollment import services, transitions
from enrollment.choices import EnrollmentStatus, EventKind
from enrollment.models import ApparatusWorker, EnrollmentEvent
from tests.helpers import nik_for
from villages.models import Province

from .conftest import worker_data
from .factories import (
    OTHER_REGENCY_VILLAGE,
    OTHER_VILLAGE_SAME_DISTRICT,
    VILLAGE,
    WorkerFactory,
    activate,
    bring_to,
    end_service,
    next_kpj,
    submit,
    village,
)
from .helpers import counter_rows, counters, db_state, error_attrs, error_codes, recounted_rows

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
LIST = reverse("worker-list")


def detail(worker_id: int) -> str:
    return reverse("worker-detail", args=[worker_id])


def action(name: str, worker_id: int) -> str:
    return reverse(f"worker-{name}", args=[worker_id])


def _officer_client(username: str, *, personal_data: bool) -> APIClient:
    """A province officer of Jambi (may read and write workers there), with or without the right
    to see personal data."""
    from access.models import AccessProfile

    user = get_user_model().objects.create_user(username, password="pw-officer-123")
    AccessProfile.objects.create(user=user, role="province_officer", province=Province.objects.get(code="15"))
    if personal_data:
        user.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def officer_client(regions):
    return _officer_client("officer", personal_data=False)


@pytest.fixture
def officer_personal_client(regions):
    return _officer_client("officer-pd", personal_data=True)


@pytest.fixture
def existing(regions):
    """A worker already on record, so counters and history are not empty when a request is refused."""
    return bring_to(WorkerFactory(village=village(OTHER_VILLAGE_SAME_DISTRICT), nik="1501011705800009"), "active")


# --- create -----------------------------------------------------------------------------------


def test_create_returns_201_with_etag_and_record(admin_client, regions, admin_user):
    response = admin_client.post(LIST, worker_data(phone="+62 812-3456-7890"), format="json")

    assert response.status_code == 201, response.json()
    assert response["ETag"] == '"1"'
    body = response.json()
    assert (body["village"], body["district"], body["regency"], body["province"]) == (
        VILLAGE,
        "15.01.01",
        "15.01",
        "15",
    )
    assert (body["nik"], body["birth_date"], body["phone"]) == ("1501011705800001", "1980-05-17", "+62 812-3456-7890")
    assert (body["serving"], body["protected"], body["version"]) == (True, False, 1)
    assert body["enrollment"]["status"] == "not_registered"
    worker = ApparatusWorker.objects.get(pk=body["id"])
    assert worker.full_name == "Budi Santoso"
    event = EnrollmentEvent.objects.get(worker=worker)
    assert (event.kind, event.source, event.actor) == ("registered", "api", admin_user)
    assert counters() == {(VILLAGE, "pemerintah_desa"): (1, 0)}


def test_create_accepts_nik_with_separators(admin_client, regions):
    response = admin_client.post(LIST, worker_data(nik="1501 0117 0580 0001"), format="json")

    assert response.status_code == 201, response.json()
    assert ApparatusWorker.objects.get().nik == "1501011705800001"


def test_create_nik_region_prefix_outside_known_regions_accepted(admin_client, regions):
    response = admin_client.post(LIST, worker_data(nik="9901011705800001"), format="json")

    assert response.status_code == 201, response.json()


MISSING = object()
REQUIRED = ["village", "nik", "full_name", "sex", "birth_date", "institution", "position", "term_start", "wage_basis"]


def _future_birth(today):
    born = today + DAY
    return {"birth_date": born.isoformat(), "nik": nik_for(born, "male", 1), "term_start": (born + DAY).isoformat()}


# (id, overrides of worker_data() or a function of today giving them, the field the error names)
BAD_CREATE = [
    # wrong NIK
    ("nik-day-32", {"nik": "1501013205800001"}, "nik"),
    ("nik-29-feb-2001", {"nik": "1501012902010001", "birth_date": "2001-03-01"}, "nik"),
    ("nik-serial-0000", {"nik": "1501011705800000"}, "nik"),
    ("nik-15-digits", {"nik": "150101170580001"}, "nik"),
    ("nik-17-digits", {"nik": "15010117058000011"}, "nik"),
    ("nik-longer-than-field", {"nik": "1" * 40}, "nik"),
    # letters in numbers
    ("nik-letter-o", {"nik": "15010117O5800001"}, "nik"),
    ("monthly-wage-letters", {"monthly_wage": "25OOOOO"}, "monthly_wage"),
    ("phone-letters", {"phone": "0812-abc-678"}, "phone"),
    # unknown village code
    ("village-unknown", {"village": "15.01.01.2999"}, "village"),
    ("village-code-of-regency", {"village": "15.01"}, "village"),
    ("village-nul-character", {"village": "\x00\xb7\x85"}, "village"),  # PostgreSQL cannot compare it: was a 500
    # dates
    ("birth-date-future", _future_birth, "birth_date"),
    ("birth-date-30-feb", {"birth_date": "1980-02-30"}, "birth_date"),
    ("birth-date-dd-mm-yyyy", {"birth_date": "17-05-1980"}, "birth_date"),
    ("birth-date-not-nik", {"birth_date": "1980-05-18"}, "birth_date"),
    ("term-end-before-start", {"term_end": "2023-12-31"}, "term_end"),
    ("term-start-before-birth", {"term_start": "1979-12-31"}, "term_start"),
    ("term-start-beyond-horizon", lambda today: {"term_start": (today + 40 * DAY).isoformat()}, "term_start"),
    # sex not matching the NIK
    ("sex-female-nik-male", {"sex": "female"}, "sex"),
    ("sex-male-nik-female", {"nik": "1501015705800001"}, "sex"),
    # unknown enum values
    ("sex-unknown", {"sex": "laki-laki"}, "sex"),
    ("institution-unknown", {"institution": "kelurahan"}, "institution"),
    ("position-unknown", {"position": "lurah"}, "position"),
    ("wage-basis-unknown", {"wage_basis": "gaji"}, "wage_basis"),
    ("position-not-in-institution", {"institution": "bpd"}, "position"),
    # missing and empty fields
    *[(f"missing-{field}", {field: MISSING}, field) for field in REQUIRED],
    ("full-name-blank", {"full_name": ""}, "full_name"),
    ("village-null", {"village": None}, "village"),
    ("nik-null", {"nik": None}, "nik"),
    # wrong JSON types
    ("nik-number", {"nik": 1501011705800001}, "nik"),
    ("full-name-number", {"full_name": 12345}, "full_name"),
    ("phone-number", {"phone": 812345678}, "phone"),
    ("monthly-wage-string", {"monthly_wage": "2500000"}, "monthly_wage"),
    ("monthly-wage-fraction", {"monthly_wage": 2500000.5}, "monthly_wage"),
    ("monthly-wage-boolean", {"monthly_wage": True}, "monthly_wage"),
    ("monthly-wage-negative", {"monthly_wage": -1}, "monthly_wage"),
    ("monthly-wage-too-large", {"monthly_wage": 10**12}, "monthly_wage"),
    ("birth-date-number", {"birth_date": 19800517}, "birth_date"),
    ("sex-list", {"sex": ["male"]}, "sex"),
    ("village-object", {"village": {"code": VILLAGE}}, "village"),
    ("village-number", {"village": 1508012001}, "village"),
    ("version-string", {"version": "1"}, "version"),
    # fields the endpoint does not take
    ("unknown-field", {"jabatan": "kepala desa"}, "jabatan"),
    ("read-only-field", {"serving": False}, "serving"),
]


@pytest.mark.parametrize(("overrides", "field"), [pytest.param(o, f, id=i) for i, o, f in BAD_CREATE])
def test_create_bad_input_is_400_naming_field_and_writes_nothing(admin_client, existing, today, overrides, field):
    overrides = overrides(today) if callable(overrides) else overrides
    body = {k: v for k, v in worker_data(**overrides).items() if v is not MISSING}
    before = db_state()

    response = admin_client.post(LIST, body, format="json")

    assert response.status_code == 400, response.json()
    assert field in error_attrs(response)
    assert response.json()["type"] == "validation_error"
    assert db_state() == before


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        pytest.param("{bad json", "parse_error", id="malformed"),
        pytest.param('{"nik": "1501011705800001",}', "parse_error", id="trailing-comma"),
        pytest.param("[1, 2]", "invalid", id="list-not-object"),
        pytest.param('"a string"', "invalid", id="string-not-object"),
        pytest.param("", "required", id="empty-body"),
    ],
)
def test_create_malformed_body_is_400_and_writes_nothing(admin_client, existing, raw, code):
    before = db_state()

    response = admin_client.generic("POST", LIST, raw, content_type="application/json")

    assert response.status_code == 400
    assert code in error_codes(response)
    assert db_state() == before


def test_create_oversized_body_is_413_and_writes_nothing(admin_client, existing, settings):
    body = json.dumps(worker_data(full_name="x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)))
    before = db_state()

    response = admin_client.generic("POST", LIST, body, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["type"] == "client_error"
    assert error_codes(response) == {"request_too_large"}
    assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in response.json()["errors"][0]["detail"]
    assert db_state() == before


def test_create_wrong_type_detail_names_the_type(admin_client, regions):
    response = admin_client.post(LIST, worker_data(nik=1501011705800001), format="json")

    (error,) = response.json()["errors"]
    assert "%(" not in error["detail"]
    assert "int" in error["detail"]


def test_create_nik_serving_elsewhere_is_409_naming_village(admin_client, regions):
    WorkerFactory(nik="1501011705800001")  # serving in 15.01.01.2001
    before = db_state()

    response = admin_client.post(
        LIST, worker_data(village=OTHER_REGENCY_VILLAGE, institution="bpd", position="ketua"), format="json"
    )

    assert response.status_code == 409
    body = response.json()
    assert body["type"] == "client_error"
    (error,) = body["errors"]
    assert (error["code"], error["attr"]) == ("nik_serving_elsewhere", "nik")
    assert VILLAGE in error["detail"]
    assert db_state() == before


def test_create_nik_of_ended_worker_accepted_in_other_village(admin_client, regions):
    end_service(WorkerFactory(nik="1501011705800001"))

    response = admin_client.post(LIST, worker_data(village=OTHER_REGENCY_VILLAGE), format="json")

    assert response.status_code == 201, response.json()
    assert counters() == {(OTHER_REGENCY_VILLAGE, "pemerintah_desa"): (1, 0)}


def test_create_unauthenticated_refused_and_writes_nothing(api_client, regions):
    response = api_client.post(LIST, worker_data(), format="json")

    assert response.status_code == 401
    assert error_codes(response) == {"not_authenticated"}
    assert ApparatusWorker.objects.count() == 0


def test_list_unauthenticated_refused_without_data(api_client, regions):
    WorkerFactory(nik="1501011705800001")

    response = api_client.get(LIST)

    assert response.status_code == 401
    assert "1501011705800001" not in response.content.decode()


# --- read -------------------------------------------------------------------------------------


def test_retrieve_returns_etag_of_current_version(admin_client, regions):
    worker = submit(WorkerFactory())

    response = admin_client.get(detail(worker.pk))

    assert response.status_code == 200
    assert response["ETag"] == '"2"'
    assert response.json()["enrollment"]["status"] == "submitted"


def test_retrieve_unknown_worker_is_404(admin_client, regions):
    response = admin_client.get(detail(999_999))

    assert response.status_code == 404
    assert response.json()["type"] == "client_error"


def test_delete_refused(admin_client, regions):
    worker = WorkerFactory()

    response = admin_client.delete(detail(worker.pk))

    assert response.status_code == 405
    assert ApparatusWorker.objects.filter(pk=worker.pk).exists()


# --- edit with optimistic concurrency ---------------------------------------------------------


def test_patch_with_if_match_updates_and_bumps_version(admin_client, regions):
    worker = WorkerFactory()

    response = admin_client.patch(detail(worker.pk), {"phone": "0812345678"}, format="json", HTTP_IF_MATCH='"1"')

    assert response.status_code == 200, response.json()
    assert response["ETag"] == '"2"'
    assert (response.json()["version"], response.json()["phone"]) == (2, "0812345678")
    event = EnrollmentEvent.objects.filter(worker=worker).latest("id")
    assert (event.kind, event.changes) == ("updated", {"phone": ["", "0812345678"]})


@pytest.mark.parametrize("if_match", ['W/"1"', "1", ' "1" '])
def test_patch_if_match_forms_accepted(admin_client, regions, if_match):
    worker = WorkerFactory()

    response = admin_client.patch(detail(worker.pk), {"phone": "081234567"}, format="json", HTTP_IF_MATCH=if_match)

    assert response.status_code == 200, response.json()
    assert response.json()["version"] == 2


def test_patch_with_version_in_body_updates(admin_client, regions):
    worker = WorkerFactory()

    response = admin_client.patch(detail(worker.pk), {"phone": "081234567", "version": 1}, format="json")

    assert response.status_code == 200, response.json()
    assert ApparatusWorker.objects.get(pk=worker.pk).version == 2


def test_patch_if_match_takes_precedence_over_body_version(admin_client, regions):
    worker = WorkerFactory()

    response = admin_client.patch(
        detail(worker.pk), {"phone": "081234567", "version": 1}, format="json", HTTP_IF_MATCH='"7"'
    )

    assert response.status_code == 412


# HTTP's own precondition (If-Match) failing is a 412; a stale `version` in the body is a conflict.
@pytest.mark.parametrize(("send", "status", "attr"), [("header", 412, "If-Match"), ("body", 409, "version")])
def test_patch_stale_version_is_refused_and_writes_nothing(admin_client, regions, send, status, attr):
    worker = WorkerFactory()
    services.worker_update(
        actor=services.Actor(label="someone else"),
        worker_id=worker.pk,
        changes={"phone": "081111111"},
        expected_version=1,
    )
    before = db_state()
    body, headers = (
        ({"phone": "082222222"}, {"HTTP_IF_MATCH": '"1"'})
        if send == "header"
        else ({"phone": "082222222", "version": 1}, {})
    )

    response = admin_client.patch(detail(worker.pk), body, format="json", **headers)

    assert response.status_code == status
    (error,) = response.json()["errors"]
    assert (error["code"], error["attr"]) == ("stale_version", attr)
    assert db_state() == before


def test_patch_without_version_is_428_and_writes_nothing(admin_client, regions):
    worker = WorkerFactory()
    before = db_state()

    response = admin_client.patch(detail(worker.pk), {"phone": "082222222"}, format="json")

    assert response.status_code == 428
    (error,) = response.json()["errors"]
    assert (error["code"], error["attr"]) == ("version_required", "version")
    assert db_state() == before


def test_put_without_version_is_428(admin_client, regions):
    worker = WorkerFactory(nik="1501011705800001")

    response = admin_client.put(detail(worker.pk), worker_data(full_name="Budi S."), format="json")

    assert response.status_code == 428
    assert ApparatusWorker.objects.get(pk=worker.pk).full_name != "Budi S."


def test_patch_if_match_not_a_version_is_400(admin_client, regions):
    worker = WorkerFactory()

    response = admin_client.patch(detail(worker.pk), {"phone": "082222222"}, format="json", HTTP_IF_MATCH='"abc"')

    assert response.status_code == 400
    assert error_attrs(response) == {"If-Match"}
    assert ApparatusWorker.objects.get(pk=worker.pk).version == 1


def test_put_replaces_whole_record(admin_client, regions):
    worker = WorkerFactory(nik="1501011705800001", phone="081234567")
    body = worker_data(full_name="Budi S.", institution="bpd", position="anggota", version=1)

    response = admin_client.put(detail(worker.pk), body, format="json")

    assert response.status_code == 200, response.json()
    worker = ApparatusWorker.objects.get(pk=worker.pk)
    assert (worker.full_name, worker.institution, worker.phone, worker.version) == ("Budi S.", "bpd", "", 2)
    assert counters() == {(VILLAGE, "bpd"): (1, 0)}


def test_put_missing_field_is_400(admin_client, regions):
    worker = WorkerFactory(nik="1501011705800001")
    body = {k: v for k, v in worker_data(version=1).items() if k != "term_start"}

    response = admin_client.put(detail(worker.pk), body, format="json")

    assert response.status_code == 400
    assert error_attrs(response) == {"term_start"}
    assert ApparatusWorker.objects.get(pk=worker.pk).version == 1


def test_patch_moving_village_moves_counters(admin_client, regions):
    worker = bring_to(WorkerFactory(), "active")

    response = admin_client.patch(
        detail(worker.pk), {"village": OTHER_REGENCY_VILLAGE}, format="json", HTTP_IF_MATCH=f'"{worker.version}"'
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["village"], response.json()["regency"]) == (OTHER_REGENCY_VILLAGE, "15.08")
    assert counters() == {(OTHER_REGENCY_VILLAGE, "pemerintah_desa"): (1, 1)}
    assert counter_rows() == recounted_rows()


BAD_PATCH = [
    ("nik-day-32", {"nik": "1501013205800001"}, "nik"),
    ("nik-letters", {"nik": "15010117058A0001"}, "nik"),
    ("village-unknown", {"village": "15.99.01.2001"}, "village"),
    ("sex-mismatch", {"sex": "female"}, "sex"),
    ("birth-date-mismatch", {"birth_date": "1980-05-18"}, "birth_date"),
    ("term-end-before-start", {"term_end": "2023-01-01"}, "term_end"),
    ("position-not-in-new-institution", {"institution": "posyandu"}, "position"),
    ("institution-unknown", {"institution": "dusun"}, "institution"),
    ("monthly-wage-string", {"monthly_wage": "3000000"}, "monthly_wage"),
    ("full-name-number", {"full_name": 1}, "full_name"),
    ("unknown-field", {"status": "active"}, "status"),
]


@pytest.mark.parametrize(("body", "field"), [pytest.param(b, f, id=i) for i, b, f in BAD_PATCH])
def test_patch_bad_input_is_400_naming_field_and_writes_nothing(admin_client, regions, body, field):
    worker = WorkerFactory(nik="1501011705800001")
    before = db_state()

    response = admin_client.patch(detail(worker.pk), body, format="json", HTTP_IF_MATCH='"1"')

    assert response.status_code == 400, response.json()
    assert field in error_attrs(response)
    assert db_state() == before


def test_patch_ended_worker_is_409(admin_client, regions):
    worker = end_service(WorkerFactory())
    before = db_state()

    response = admin_client.patch(detail(worker.pk), {"phone": "081234567"}, format="json", HTTP_IF_MATCH='"2"')

    assert response.status_code == 409
    assert error_codes(response) == {"service_ended"}
    assert db_state() == before


def test_patch_nik_serving_elsewhere_is_409_naming_village(admin_client, regions):
    WorkerFactory(nik="1501011705800001", village=village(OTHER_REGENCY_VILLAGE))
    worker = WorkerFactory(nik="1501011705800002")

    response = admin_client.patch(detail(worker.pk), {"nik": "1501011705800001"}, format="json", HTTP_IF_MATCH='"1"')

    assert response.status_code == 409
    assert OTHER_REGENCY_VILLAGE in response.json()["errors"][0]["detail"]
    assert ApparatusWorker.objects.get(pk=worker.pk).nik == "1501011705800002"


# --- enrollment actions -----------------------------------------------------------------------


def activation_body(today, **overrides):
    body = {
        "kpj_number": next_kpj(),
        "scheme": "bpu",
        "programs": ["jkk", "jkm"],
        "funding_source": "apbdes",
        "coverage_start": (today - 10 * DAY).isoformat(),
        "paid_until": (today + 60 * DAY).isoformat(),
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not MISSING}


def test_lifecycle_through_api_writes_history_and_counters(admin_client, regions, today):
    worker_id = admin_client.post(LIST, worker_data(), format="json").json()["id"]
    key = (VILLAGE, "pemerintah_desa")
    steps = [
        ("submit", {}, "submitted", (1, 0)),
        ("activate", activation_body(today, kpj_number="12345678901"), "active", (1, 1)),
        ("lapse", {}, "lapsed", (1, 0)),
        ("renew", {"paid_until": (today + 90 * DAY).isoformat()}, "active", (1, 1)),
        ("end-service", {}, "ended", None),
    ]
    for version, (name, body, status, count) in enumerate(steps, start=2):
        response = admin_client.post(action(name, worker_id), body, format="json")
        assert response.status_code == 200, (name, response.json())
        assert response.json()["enrollment"]["status"] == status
        assert response["ETag"] == f'"{version}"'
        assert counters().get(key) == count

    body = admin_client.get(detail(worker_id)).json()
    assert (body["serving"], body["protected"], body["term_end"]) == (False, False, today.isoformat())
    assert body["enrollment"]["kpj_number"] == "12345678901"
    history = admin_client.get(reverse("worker-history", args=[worker_id])).json()["results"]
    assert [event["kind"] for event in history] == [
        "registered",
        "submitted",
        "activated",
        "lapsed",
        "renewed",
        "service_ended",
    ]
    assert counter_rows() == recounted_rows()


def test_activate_pu_with_all_programs(admin_client, regions, today):
    worker = submit(WorkerFactory())

    response = admin_client.post(
        action("activate", worker.pk),
        activation_body(today, scheme="pu", npp="NPP-7788", programs=["jkk", "jkm", "jht", "jp"]),
        format="json",
    )

    assert response.status_code == 200, response.json()
    enrollment = response.json()["enrollment"]
    assert (enrollment["scheme"], enrollment["npp"]) == ("pu", "NPP-7788")
    assert sorted(enrollment["programs"]) == ["jht", "jkk", "jkm", "jp"]
    assert response.json()["protected"] is True


BAD_ACTIVATE = [
    ("kpj-number", {"kpj_number": 12345678901}, "kpj_number"),
    ("kpj-10-digits", {"kpj_number": "1234567890"}, "kpj_number"),
    ("kpj-letters", {"kpj_number": "1234567890A"}, "kpj_number"),
    ("kpj-fullwidth-digits", {"kpj_number": "１２３４５６７８９０１"}, "kpj_number"),
    ("programs-string", {"programs": "jkk,jkm"}, "programs"),
    ("programs-unknown", {"programs": ["jkk", "jkm", "jpk"]}, "programs"),
    ("programs-without-jkm", {"programs": ["jkk"]}, "programs"),
    ("jp-for-bpu", {"programs": ["jkk", "jkm", "jp"]}, "programs"),
    ("pu-without-npp", {"scheme": "pu"}, "npp"),
    ("scheme-unknown", {"scheme": "pbi"}, "scheme"),
    ("funding-unknown", {"funding_source": "apbn"}, "funding_source"),
    ("paid-until-before-start", {"coverage_start": "2026-01-02", "paid_until": "2026-01-01"}, "paid_until"),
    ("paid-until-not-a-date", {"paid_until": "31/12/2026"}, "paid_until"),
    ("coverage-start-missing", {"coverage_start": MISSING}, "coverage_start"),
    ("effective-date-number", {"effective_date": 20260101}, "effective_date"),
    ("unknown-field", {"kpj": "12345678901"}, "kpj"),
    ("version-string", {"version": "2"}, "version"),
]


@pytest.mark.parametrize(("overrides", "field"), [pytest.param(o, f, id=i) for i, o, f in BAD_ACTIVATE])
def test_activate_bad_input_is_400_naming_field_and_writes_nothing(admin_client, regions, today, overrides, field):
    worker = submit(WorkerFactory())
    before = db_state()

    response = admin_client.post(action("activate", worker.pk), activation_body(today, **overrides), format="json")

    assert response.status_code == 400, response.json()
    assert field in error_attrs(response)
    assert db_state() == before


def test_activate_kpj_taken_is_409(admin_client, regions, today):
    activate(WorkerFactory(), kpj_number="12345678901")
    worker = submit(WorkerFactory())
    before = db_state()

    response = admin_client.post(
        action("activate", worker.pk), activation_body(today, kpj_number="12345678901"), format="json"
    )

    assert response.status_code == 409
    assert error_codes(response) == {"kpj_taken"}
    assert db_state() == before


@pytest.mark.django_db(transaction=True)
def test_a_write_through_the_api_takes_no_savepoint(admin_client, regions, today):
    """A transition or an edit through the API, and the access log of its answer, are one
    transaction that an error rolls back whole (core.db.all_or_nothing): the worker's write
    inside it takes no savepoint (a SAVEPOINT and its RELEASE are a round trip each), and a
    refusal met inside it is still named (`test_activate_kpj_taken_is_409`)."""
    worker = submit(WorkerFactory())
    version = ApparatusWorker.objects.get(pk=worker.pk).version

    with CaptureQueriesContext(connection) as activating:
        activated = admin_client.post(
            action("activate", worker.pk), activation_body(today), format="json", HTTP_IF_MATCH=f'"{version}"'
        )
    with CaptureQueriesContext(connection) as editing:
        edited = admin_client.patch(
            f"/api/v1/workers/{worker.pk}/", {"phone": "081234567890"}, format="json", HTTP_IF_MATCH=activated["ETag"]
        )

    assert (activated.status_code, edited.status_code) == (200, 200)
    for queries in (activating, editing):
        statements = [query["sql"].split(" ", 1)[0].upper() for query in queries.captured_queries]
        assert "SAVEPOINT" not in statements, statements
        assert "INSERT" in statements  # the write and its log went through this connection


@pytest.mark.parametrize(
    ("status", "name"),
    [
        ("not_registered", "lapse"),
        ("not_registered", "renew"),
        ("submitted", "submit"),
        ("active", "activate"),
        ("lapsed", "lapse"),
        ("ended", "end-service"),
        ("ended", "submit"),
    ],
)
def test_action_illegal_transition_is_409_and_writes_nothing(admin_client, regions, today, status, name):
    worker = bring_to(WorkerFactory(), status)
    body = {"renew": {"paid_until": (today + 300 * DAY).isoformat()}, "activate": activation_body(today)}.get(name, {})
    before = db_state()

    response = admin_client.post(action(name, worker.pk), body, format="json")

    assert response.status_code == 409
    (error,) = response.json()["errors"]
    assert (error["code"], error["attr"]) == ("illegal_transition", "status")
    assert db_state() == before


# The API action of each transition kind: a row added to `transitions.TABLE` needs one here.
ACTION_NAMES = {
    EventKind.SUBMITTED: "submit",
    EventKind.ACTIVATED: "activate",
    EventKind.RENEWED: "renew",
    EventKind.LAPSED: "lapse",
    EventKind.SERVICE_ENDED: "end-service",
}


def test_action_every_transition_has_an_action():
    assert set(ACTION_NAMES) == set(transitions.TABLE)


@pytest.mark.parametrize(
    ("kind", "status"), [(str(kind), status) for kind in transitions.TABLE for status in EnrollmentStatus.values]
)
def test_action_answers_as_the_transition_table_says(admin_client, regions, today, kind, status):
    """Generated from the table: an allowed transition is a 200 in the table's target status, any
    other a 409 `illegal_transition` that writes nothing."""
    rule = transitions.TABLE[kind]
    worker = bring_to(WorkerFactory(), status)
    body = {
        EventKind.RENEWED: {"paid_until": (today + 300 * DAY).isoformat()},
        EventKind.ACTIVATED: activation_body(today),
    }.get(kind, {})
    before = db_state()

    response = admin_client.post(action(ACTION_NAMES[kind], worker.pk), body, format="json")

    if rule.allows(status):
        assert response.status_code == 200, response.json()
        assert response.json()["enrollment"]["status"] == rule.target(status)
        assert EnrollmentEvent.objects.filter(worker=worker).latest("id").kind == kind
    else:
        assert response.status_code == 409
        (error,) = response.json()["errors"]
        assert (error["code"], error["attr"]) == ("illegal_transition", "status")
        assert db_state() == before


def test_action_stale_if_match_is_412(admin_client, regions):
    worker = submit(WorkerFactory())  # version 2
    before = db_state()

    response = admin_client.post(action("end-service", worker.pk), {}, format="json", HTTP_IF_MATCH='"1"')

    assert response.status_code == 412
    assert error_codes(response) == {"stale_version"}
    assert db_state() == before


def test_action_effective_date_before_last_event_is_400(admin_client, regions):
    worker = WorkerFactory()  # registered effective 2024-01-01

    response = admin_client.post(action("submit", worker.pk), {"effective_date": "2023-12-31"}, format="json")

    assert response.status_code == 400
    assert error_codes(response) == {"before_last_event"}
    assert error_attrs(response) == {"effective_date"}


def test_action_on_unknown_worker_is_404(admin_client, regions):
    response = admin_client.post(action("submit", 999_999), {}, format="json")

    assert response.status_code == 404


def test_end_service_then_register_same_nik_elsewhere(admin_client, regions):
    worker_id = admin_client.post(LIST, worker_data(), format="json").json()["id"]
    assert admin_client.post(action("end-service", worker_id), {}, format="json").status_code == 200

    response = admin_client.post(LIST, worker_data(village=OTHER_REGENCY_VILLAGE), format="json")

    assert response.status_code == 201, response.json()
    assert ApparatusWorker.objects.filter(nik="1501011705800001", serving=True).get().pk == response.json()["id"]


# --- history ----------------------------------------------------------------------------------


def test_history_lists_events_oldest_first(admin_client, regions, admin_user, today):
    worker_id = admin_client.post(LIST, worker_data(), format="json").json()["id"]
    admin_client.post(action("submit", worker_id), {"effective_date": "2024-02-01"}, format="json")
    admin_client.patch(detail(worker_id), {"phone": "081234567"}, format="json", HTTP_IF_MATCH='"2"')

    response = admin_client.get(reverse("worker-history", args=[worker_id]))

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    rows = [(e["kind"], e["from_status"], e["to_status"], e["effective_date"]) for e in body["results"]]
    assert rows == [
        ("registered", None, "not_registered", "2024-01-01"),  # no status before the first
        ("submitted", "not_registered", "submitted", "2024-02-01"),
        ("updated", "submitted", "submitted", today.isoformat()),
    ]
    assert {(e["actor"], e["source"]) for e in body["results"]} == {("admin", "api")}
    assert body["results"][1]["changes"] == {"status": ["not_registered", "submitted"]}
    assert body["results"][2]["changes"] == {"phone": ["", "081234567"]}


def test_history_unknown_worker_is_404(admin_client, regions):
    assert admin_client.get(reverse("worker-history", args=[999_999])).status_code == 404


def test_history_paginates(admin_client, regions):
    worker = WorkerFactory()
    for n in range(4):
        services.worker_update(
            actor=services.Actor(), worker_id=worker.pk, changes={"phone": f"081200{n}"}, expected_version=None
        )

    response = admin_client.get(reverse("worker-history", args=[worker.pk]), {"page_size": 2, "page": 3})

    assert response.status_code == 200
    assert response.json()["count"] == 5
    assert [e["changes"]["phone"][1] for e in response.json()["results"]] == ["0812003"]


# --- filters, search, ordering ----------------------------------------------------------------


@pytest.fixture
def roster(regions):
    """Four workers spread over villages, institutions and statuses."""
    kepala = bring_to(WorkerFactory(full_name="Ahmad Kepala", nik="1501011705800001"), "active")
    ketua = bring_to(
        WorkerFactory(
            full_name="Rudi Ketua",
            village=village(OTHER_VILLAGE_SAME_DISTRICT),
            institution="bpd",
            position="ketua",
            term_start=datetime.date(2023, 6, 1),
        ),
        "submitted",
    )
    kader = WorkerFactory(
        full_name="Siti Aminah",
        sex="female",
        birth_date=datetime.date(1985, 8, 17),
        nik="1508015708850002",
        village=village(OTHER_REGENCY_VILLAGE),
        institution="posyandu",
        position="kader",
    )
    rt = bring_to(WorkerFactory(full_name="Joko RT", institution="rt", position="ketua"), "ended")
    return {"kepala": kepala.pk, "ketua": ketua.pk, "kader": kader.pk, "rt": rt.pk}


FILTERS = [
    ({}, {"kepala", "ketua", "kader", "rt"}),
    ({"province": "15"}, {"kepala", "ketua", "kader", "rt"}),
    ({"province": "16"}, set()),
    ({"regency": "15.08"}, {"kader"}),
    ({"regency": "15.01"}, {"kepala", "ketua", "rt"}),
    ({"district": "15.01.01"}, {"kepala", "ketua", "rt"}),
    ({"village": OTHER_VILLAGE_SAME_DISTRICT}, {"ketua"}),
    ({"institution": "bpd"}, {"ketua"}),
    ({"institution": ["bpd", "posyandu"]}, {"ketua", "kader"}),
    ({"position": "kader"}, {"kader"}),
    ({"position": "ketua"}, {"ketua", "rt"}),
    ({"status": "active"}, {"kepala"}),
    ({"status": ["submitted", "not_registered"]}, {"ketua", "kader"}),
    ({"status": "ended"}, {"rt"}),
    ({"protected": "true"}, {"kepala"}),
    ({"protected": "false"}, {"ketua", "kader", "rt"}),
    ({"serving": "false"}, {"rt"}),
    ({"serving": "true"}, {"kepala", "ketua", "kader"}),
    ({"search": "siti"}, {"kader"}),
    ({"search": "KETUA"}, {"ketua"}),
    ({"search": "  aminah "}, {"kader"}),
    ({"search": "1501011705800001"}, {"kepala"}),
    ({"search": "1501 0117 0580 0001"}, {"kepala"}),
    ({"search": "1501011705"}, set()),  # part of a NIK is not a search key (it would find by birth date)
    ({"search": "tidak ada"}, set()),
    ({"regency": "15.01", "institution": "pemerintah_desa", "status": "active"}, {"kepala"}),
]


@pytest.mark.parametrize(("query", "expected"), FILTERS)
def test_list_filters(admin_client, roster, query, expected):
    response = admin_client.get(LIST, query)

    assert response.status_code == 200, response.json()
    assert {row["id"] for row in response.json()["results"]} == {roster[name] for name in expected}
    assert response.json()["count"] == len(expected)


@pytest.mark.parametrize(
    "query",
    [{"status": "bogus"}, {"institution": "kelurahan"}, {"position": "lurah"}],
    ids=["status", "institution", "position"],
)
def test_list_filter_unknown_value_is_400(admin_client, roster, query):
    response = admin_client.get(LIST, query)

    assert response.status_code == 400
    assert set(query) <= error_attrs(response)


def test_a_refused_filter_is_explained_in_each_callers_language_every_time(admin_client, roster):
    # A valid query string's validated filters are kept (core.api.filtersets); a refusal is not,
    # since its message is in the language asked for.
    answers = [
        admin_client.get(LIST, {"status": "bogus"}, HTTP_ACCEPT_LANGUAGE=language) for language in ("en", "id", "en")
    ]

    assert [r.status_code for r in answers] == [400, 400, 400]
    details = [r.json()["errors"][0]["detail"] for r in answers]
    assert details[0] == details[2]
    assert details[1] != details[0]
    assert "bogus" in details[0]
    assert "bogus" in details[1]


def test_the_same_filters_again_answer_from_the_data_of_now(admin_client, roster):
    # The kept filters are the query's, never its answer: a worker added in between is listed.
    query = {"regency": "1501", "status": "not_registered"}
    before = admin_client.get(LIST, query)
    created = admin_client.post(LIST, worker_data(nik="1501011705800003", full_name="Tambahan"), format="json")
    after = admin_client.get(LIST, query)

    assert before.status_code == 200
    assert created.status_code == 201
    assert after.status_code == 200
    assert after.json()["count"] == before.json()["count"] + 1
    assert created.json()["id"] in {row["id"] for row in after.json()["results"]}


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("full_name", ["kepala", "rt", "ketua", "kader"]),
        ("-full_name", ["kader", "ketua", "rt", "kepala"]),
        ("-id", ["rt", "kader", "ketua", "kepala"]),
    ],
)
def test_list_ordering(admin_client, roster, ordering, expected):
    response = admin_client.get(LIST, {"ordering": ordering})

    assert [row["id"] for row in response.json()["results"]] == [roster[name] for name in expected]


def test_list_ordering_by_term_start(admin_client, roster):
    response = admin_client.get(LIST, {"ordering": "term_start"})

    assert response.json()["results"][0]["id"] == roster["ketua"]  # the only term from 2023


# --- bounded count ----------------------------------------------------------------------------


@pytest.mark.parametrize("ordering", ["full_name", "-full_name", "term_start"])
def test_rows_that_tie_on_the_ordering_come_in_id_order_on_every_page(admin_client, regions, ordering):
    """Ordered by a column that repeats, the rows that tie are ordered by id: paging through them
    shows each once. (Without it PostgreSQL may give ties in the order the rows lie in the table,
    which an edit changes.)"""
    workers = [WorkerFactory(full_name="Sama Nama") for _ in range(5)]
    first = workers[0]
    first.full_name = "Sama Nama"
    first.save()  # its row is written again, after the others

    shown = [
        row["id"]
        for page in (1, 2, 3)
        for row in admin_client.get(LIST, {"ordering": ordering, "page_size": 2, "page": page}).json()["results"]
    ]

    assert shown == sorted(worker.pk for worker in workers)


@pytest.mark.parametrize("ordering", ["id", "-full_name"])
def test_list_over_the_count_limit_has_no_count_but_pages_on(admin_client, roster, settings, ordering):
    """Four workers match and the limit is 3: `count` is null, `count_exceeds` names the limit,
    and the pages still cover every worker once, the last one without a next link."""
    settings.UCJ_LIST_COUNT_LIMIT = 3
    expected = [row["id"] for row in admin_client.get(LIST, {"ordering": ordering, "page_size": 10}).json()["results"]]
    assert len(expected) == 4

    seen, url, params = [], LIST, {"ordering": ordering, "page_size": 3}
    pages = []
    while url:
        body = admin_client.get(url, params).json()
        pages.append(body)
        seen += [row["id"] for row in body["results"]]
        url, params = body["next"], None

    assert seen == expected
    assert [len(page["results"]) for page in pages] == [3, 1]
    assert all(page["count"] is None and page["count_exceeds"] == 3 for page in pages)
    assert pages[1]["previous"] is not None


def test_list_within_the_count_limit_counts_exactly(admin_client, roster, settings):
    settings.UCJ_LIST_COUNT_LIMIT = 4

    body = admin_client.get(LIST, {"page_size": 3}).json()

    assert body["count"] == 4
    assert "count_exceeds" not in body
    assert admin_client.get(LIST, {"page_size": 3, "page": "last"}).json()["results"][0]["id"] == roster["rt"]


def _counts_made(client: APIClient, params: dict) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        body = client.get(LIST, params).json()
    return sum(1 for q in queries.captured_queries if q["sql"].startswith("SELECT COUNT(")), body


def test_a_lists_pages_are_counted_once_per_data_version(admin_client, roster):
    """The count of a list is kept under its filters, its caller and the data version: the next
    pages are not counted again; a write (the data moves on) or other filters are."""
    first = _counts_made(admin_client, {"page_size": 2})
    second = _counts_made(admin_client, {"page_size": 2, "page": 2})
    other_filters = _counts_made(admin_client, {"page_size": 2, "institution": "bpd"})
    assert (first[0], second[0], other_filters[0]) == (1, 0, 1)
    assert second[1]["count"] == first[1]["count"] == 4

    WorkerFactory(village=village(VILLAGE))  # registered: the data version moves on

    after = _counts_made(admin_client, {"page_size": 2, "page": 2})
    assert after[0] == 1
    assert after[1]["count"] == 5


def test_a_kept_count_is_the_callers_own(admin_client, roster, officer_client):
    """Another caller (another scope) asking the same list has it counted for itself."""
    admin_count = _counts_made(admin_client, {"page_size": 2})
    officer_count = _counts_made(officer_client, {"page_size": 2})

    assert (admin_count[0], officer_count[0]) == (1, 1)


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ({"page": 3}, "Halaman tidak valid"),
        ({"page": "last"}, "Lebih dari 3"),
        ({"page": "0"}, "Halaman tidak valid"),
        ({"page": "x"}, "Halaman tidak valid"),
    ],
)
def test_list_over_the_count_limit_refuses_pages_it_cannot_give(admin_client, roster, settings, query, fragment):
    settings.UCJ_LIST_COUNT_LIMIT = 3

    response = admin_client.get(LIST, {"page_size": 2, **query})

    assert response.status_code == 404
    assert fragment in json.dumps(response.json())


def test_list_count_stops_at_the_limit(admin_client, roster, settings):
    """The count reads at most limit + 1 rows, in no particular order."""
    settings.UCJ_LIST_COUNT_LIMIT = 2
    with CaptureQueriesContext(connection) as queries:
        admin_client.get(LIST, {"ordering": "full_name"})

    counts = [q["sql"] for q in queries if q["sql"].startswith("SELECT COUNT(*)")]
    assert len(counts) == 1
    assert "LIMIT 3" in counts[0]
    assert "ORDER BY" not in counts[0]


# --- masking of personal data -----------------------------------------------------------------


def test_officer_without_personal_data_right_sees_masked_worker(officer_client, regions):
    worker = WorkerFactory(nik="1501011705800001", phone="081234567890")

    body = officer_client.get(detail(worker.pk)).json()

    assert body["nik"] == "1501************"
    assert body["birth_date"] is None
    assert body["phone"] == "************"
    assert body["full_name"] == worker.full_name  # the rest is not personal data


def test_officer_without_personal_data_right_sees_masked_list_and_history(officer_client, regions):
    worker = WorkerFactory(nik="1501011705800001", phone="0812345678")

    listed = officer_client.get(LIST).json()["results"]
    history = officer_client.get(reverse("worker-history", args=[worker.pk])).json()["results"]

    assert [row["nik"] for row in listed] == ["1501************"]
    assert [row["birth_date"] for row in listed] == [None]
    changes = history[0]["changes"]
    assert (changes["nik"], changes["birth_date"], changes["phone"]) == ([None, "***"], [None, "***"], [None, "***"])
    assert changes["full_name"] == [None, worker.full_name]
    content = json.dumps([listed, history])
    assert "1501011705800001" not in content
    assert "1980-05-17" not in content
    assert "0812345678" not in content


def test_officer_without_personal_data_right_gets_masked_answer_to_own_create(officer_client, regions):
    response = officer_client.post(LIST, worker_data(), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["nik"] == "1501************"
    assert ApparatusWorker.objects.get().nik == "1501011705800001"


@pytest.mark.parametrize("who", ["officer_personal_client", "admin_client"])
def test_personal_data_right_or_superuser_sees_full_data(request, regions, who):
    client = request.getfixturevalue(who)
    worker = WorkerFactory(nik="1501011705800001", phone="0812345678")

    body = client.get(detail(worker.pk)).json()
    history = client.get(reverse("worker-history", args=[worker.pk])).json()["results"]

    assert (body["nik"], body["birth_date"], body["phone"]) == ("1501011705800001", "1980-05-17", "0812345678")
    assert history[0]["changes"]["nik"] == [None, "1501011705800001"]


def test_user_without_role_sees_no_worker_data(regions):
    worker = WorkerFactory(nik="1501011705800001")
    client = APIClient()
    client.force_authenticate(get_user_model().objects.create_user("plain", password="pw-plain-123"))

    responses = [client.get(LIST), client.get(detail(worker.pk))]

    for response in responses:
        assert response.status_code == 403
        assert "1501011705800001" not in response.content.decode()
        assert "1501************" not in response.content.decode()


# --- query counts -----------------------------------------------------------------------------


def _add_workers(count: int) -> None:
    """Workers over three villages and institutions, every other one active."""
    for n in range(count):
        worker = WorkerFactory(
            institution=["pemerintah_desa", "bpd", "posyandu"][n % 3],
            village=village([VILLAGE, OTHER_VILLAGE_SAME_DISTRICT, OTHER_REGENCY_VILLAGE][n % 3]),
            phone="0812345678",
        )
        if n % 2:
            activate(worker)


def _list_queries(username: str, rows: int) -> int:
    """Queries of one list request by a freshly loaded user (no per-user caches carried over, nor
    the process's memo of regions, which writes of workers leave as it is)."""
    from access.scope import regions_forget

    regions_forget()
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username=username))
    with CaptureQueriesContext(connection) as context:
        response = client.get(LIST)
    assert response.status_code == 200
    assert len(response.json()["results"]) == rows
    return len(context.captured_queries)


@pytest.mark.parametrize("username", ["admin", "officer"])
def test_list_query_count_does_not_grow_with_rows(admin_user, officer_client, username):
    _add_workers(3)
    few = _list_queries(username, 3)
    _add_workers(27)
    many = _list_queries(username, 30)

    assert many == few


def test_history_query_count_does_not_grow_with_events(admin_client, regions):
    worker = WorkerFactory()
    url = reverse("worker-history", args=[worker.pk])
    with CaptureQueriesContext(connection) as few:
        admin_client.get(url)
    for n in range(20):
        services.worker_update(
            actor=services.Actor(), worker_id=worker.pk, changes={"phone": f"08120{n:02d}"}, expected_version=None
        )
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(url)

    assert response.json()["count"] == 21
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.parametrize(("kind", "worker_reads"), [("activate", 1), ("lapse", 1), ("update", 2)])
def test_a_write_reads_the_worker_once_or_twice_and_no_history(admin_client, regions, today, kind, worker_reads):
    """A transition reads the worker once, locked (the caller's scope is the service's check); the
    date of its last change, its open period and its regions' codes, which the response shows,
    come with the enrollment. An update reads it first for the caller's scope (with its regions,
    which serve the response), then locked."""
    worker = submit(WorkerFactory())
    if kind == "lapse":
        worker = activate(worker)
    requests = {
        "activate": lambda: admin_client.post(action("activate", worker.pk), activation_body(today), format="json"),
        "lapse": lambda: admin_client.post(action("lapse", worker.pk), {}, format="json"),
        "update": lambda: admin_client.patch(
            reverse("worker-detail", args=[worker.pk]),
            {"phone": "081299990000", "version": worker.version},
            format="json",
        ),
    }

    with CaptureQueriesContext(connection) as queries:
        response = requests[kind]()

    assert response.status_code == 200, response.json()
    reads = [q["sql"] for q in queries if q["sql"].startswith("SELECT")]
    assert len([sql for sql in reads if 'FROM "enrollment_apparatusworker"' in sql]) == worker_reads
    if kind != "update":  # an update reads the village it names
        assert not [sql for sql in reads if sql.startswith('SELECT "villages_')]
    assert not [sql for sql in reads if sql.startswith('SELECT "enrollment_enrollmentevent"')]
    assert not [sql for sql in reads if sql.startswith('SELECT "enrollment_workerperiod"')]
    assert (response.json()["village"], response.json()["regency"]) == (worker.village.code, worker.regency.code)


def test_a_membership_not_yet_recorded_is_null_not_empty(admin_client, regions):
    """A generated client's enums have no "": what a worker never activated lacks is null."""
    worker = WorkerFactory()

    enrollment = admin_client.get(detail(worker.pk)).json()["enrollment"]

    assert {key: enrollment[key] for key in ("kpj_number", "scheme", "npp", "funding_source")} == {
        "kpj_number": None,
        "scheme": None,
        "npp": None,
        "funding_source": None,
    }


def test_a_registration_lists_every_field_problem_at_once_the_nik_included(admin_client, regions):
    """A person fixing a form learns of every mistake in one answer, not one round at a time."""
    response = admin_client.post(LIST, {"nik": "123"}, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    errors = {error["attr"]: (error["code"], error["detail"]) for error in response.json()["errors"]}
    assert errors["nik"] == ("nik_length", "NIK must have 16 digits, not 3.")
    assert {"village", "full_name", "sex", "birth_date", "institution", "position", "term_start"} <= set(errors)
    assert ApparatusWorker.objects.count() == 0


def test_one_workers_read_compiles_no_statement(admin_client, regions, monkeypatch):
    """A worker's detail (and the read before each write) is read by the list's kept statement
    with its id as the one parameter, its scope asked of the row: after the first read nothing is
    compiled (compiling the id's and scope's filter cost more than running it)."""
    from django.db.models.sql import compiler

    first, second = WorkerFactory(), WorkerFactory()
    assert admin_client.get(f"/api/v1/workers/{first.pk}/").status_code == 200
    compiled = []
    as_sql = compiler.SQLCompiler.as_sql
    monkeypatch.setattr(
        compiler.SQLCompiler, "as_sql", lambda self, *a, **k: compiled.append(self) or as_sql(self, *a, **k)
    )

    response = admin_client.get(f"/api/v1/workers/{second.pk}/")

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["nik"]) == (second.pk, second.nik)
    assert compiled == []


def test_a_transitions_fields_are_built_once_and_each_serializer_binds_its_own(today, monkeypatch):
    """Transition and worker-edit serializers build their fields once per class
    (core.api.fields.KeptFieldsMixin): later ones copy them shallowly, and each binds its own
    copies, so two serializers never see each other's data or errors, and refusals still come in
    each caller's language."""
    from django.utils import translation
    from rest_framework.fields import Field

    from enrollment.api.serializers import ActivateSerializer

    assert ActivateSerializer(data={}).fields  # built (and kept) once
    deep_copies = []
    monkeypatch.setattr(Field, "__deepcopy__", lambda self, memo: deep_copies.append(self))
    body = activation_body(today)
    good = ActivateSerializer(data=body)
    bad = ActivateSerializer(data=activation_body(today, kpj_number="123", scheme="nope"))

    assert good.fields["kpj_number"] is not bad.fields["kpj_number"]
    assert (good.fields["kpj_number"].parent, bad.fields["kpj_number"].parent) == (good, bad)
    assert good.is_valid(), good.errors
    assert not bad.is_valid()
    assert set(bad.errors) == {"kpj_number", "scheme"}
    assert good.validated_data["kpj_number"] == body["kpj_number"]
    assert deep_copies == []
    for language, word in (("id", "pilihan"), ("en", "choice"), ("id", "pilihan")):
        with translation.override(language):
            refused = ActivateSerializer(data=activation_body(today, scheme="nope"))
            assert not refused.is_valid()
            assert word in str(refused.errors["scheme"][0])
