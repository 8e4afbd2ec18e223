"""The schema's examples: every operation has a summary and a description, every request body
and every JSON success answer an example; every example is valid against its schema; and every
request example is accepted by the API (sent as the demo admin on the regions it names)."""

from __future__ import annotations

import copy
import csv
import datetime
import io
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator, oas30_format_checker
from openpyxl import Workbook
from referencing import Registry
from referencing.jsonschema import DRAFT4

from coverage.models import Target, WorkforceFigure
from enrollment.api import examples as worker_examples
from enrollment.imports import WORKER_COLUMNS
from tests.helpers import today
from villages.models import BranchOffice, Regency
from villages.services import regions_import

pytestmark = pytest.mark.django_db

DOCUMENT = "urn:ucj-desa:schema"
METHODS = ("get", "put", "post", "delete", "patch")
# The regions the examples name: Jambi, Kabupaten Bungo, Tanah Tumbuh and its village Pedukun (the
# official codes and names, as `load_demo --regions` loads them).
REGIONS = b"""code,name
15,Jambi
15.08,Kabupaten Bungo
15.08.01,Tanah Tumbuh
15.08.01.2001,Pedukun
"""


@pytest.fixture
def schema(api_client) -> dict[str, Any]:
    response = api_client.get(reverse("schema"), {"format": "json"})
    assert response.status_code == 200
    return response.json()


def operations(schema: dict[str, Any]):
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def media_examples(media: dict[str, Any]) -> list[tuple[str, Any]]:
    """(name, value) of each example of a media type object."""
    if "example" in media:
        return [("example", media["example"])]
    return [(name, example["value"]) for name, example in media.get("examples", {}).items()]


def json_successes(operation: dict[str, Any]):
    for status, response in operation["responses"].items():
        if status.startswith("2") and "application/json" in response.get("content", {}):
            yield status, response["content"]["application/json"]


def errors_of(schema: dict[str, Any], sub: dict[str, Any], value: Any, *, direction: str) -> list[str]:
    """Why `value` is not valid against `sub` (a schema whose `$ref`s point into `schema`)."""
    # `sub` is placed in the document, so that its `#/components/...` resolve there too.
    document = {**schema, "x-checked": sub}
    registry = Registry().with_resource(DOCUMENT, DRAFT4.create_resource(document))
    validator_class = OAS30WriteValidator if direction == "request" else OAS30ReadValidator
    validator = validator_class(
        {"$ref": f"{DOCUMENT}#/x-checked"}, registry=registry, format_checker=oas30_format_checker
    )
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(value)]


def test_every_operation_has_a_summary_a_description_and_examples(schema):
    missing = []
    for path, method, operation in operations(schema):
        where = f"{method.upper()} {path}"
        if not operation.get("summary"):
            missing.append(f"{where}: summary")
        if not operation.get("description"):
            missing.append(f"{where}: description")
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
            if not media_examples(media):
                missing.append(f"{where}: request example ({media_type})")
        for status, media in json_successes(operation):
            if not media_examples(media):
                missing.append(f"{where}: {status} example")

    assert missing == []


def test_a_list_example_has_the_shape_of_a_page(schema):
    operation = schema["paths"]["/api/v1/workers/"]["get"]
    (_, page) = media_examples(operation["responses"]["200"]["content"]["application/json"])[0]

    assert list(page) == ["count", "next", "previous", "results"]
    assert page["count"] == 123
    assert page["next"].endswith("/api/v1/workers/?page=3")
    assert page["results"][0]["nik"] == "1508************"
    assert page["results"][0]["birth_date"] is None


def test_every_example_is_valid_against_its_schema(schema):
    checked, invalid = 0, []
    for path, method, operation in operations(schema):
        media_types = [
            ("request", media_type, media)
            for media_type, media in operation.get("requestBody", {}).get("content", {}).items()
        ]
        media_types += [
            ("response", f"{status} {media_type}", media)
            for status, response in operation["responses"].items()
            for media_type, media in response.get("content", {}).items()
        ]
        for direction, where, media in media_types:
            for name, value in media_examples(media):
                checked += 1
                for error in errors_of(schema, media["schema"], value, direction=direction):
                    invalid.append(f"{method.upper()} {path} {where} {name}: {error}")

    # Property examples inside the components (a page's `count`, `next` ...).
    def walk(node: Any, where: str) -> None:
        nonlocal checked
        if isinstance(node, dict):
            if "example" in node and "schema" not in node:
                checked += 1
                sub = {key: value for key, value in node.items() if key != "example"}
                invalid.extend(f"{where}: {e}" for e in errors_of(schema, sub, node["example"], direction="response"))
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}/{index}")

    walk(schema["components"], "components")

    assert invalid == []
    assert checked > 150


def test_an_invalid_example_would_be_found(schema):
    worker = {"$ref": "#/components/schemas/Worker"}
    value = copy.deepcopy(worker_examples.WORKER_EXAMPLES[0].value)

    assert errors_of(schema, worker, value, direction="response") == []
    value["enrollment"]["scheme"] = ""
    value["version"] = "5"
    assert len(errors_of(schema, worker, value, direction="response")) == 2


# -- every request example is accepted --------------------------------------------------------


def request_example(schema: dict[str, Any], path: str, method: str, media_type: str = "application/json") -> Any:
    media = schema["paths"][path][method]["requestBody"]["content"][media_type]
    (name, value), *others = media_examples(media)
    assert others == [], f"{method.upper()} {path}: one request example expected"
    return value


def answer_examples(schema: dict[str, Any], path: str, method: str, status: str) -> dict[str, Any]:
    media = schema["paths"][path][method]["responses"][status]["content"]["application/json"]
    return dict(media_examples(media))


@pytest.fixture
def admin_client(api_client):
    """The demo admin (a superuser: every region, every right)."""
    admin = get_user_model().objects.create_superuser("admin", "admin@example.id", "ucj-demo-admin")
    api_client.force_authenticate(admin)
    return api_client


@pytest.fixture
def bungo(db):
    regions_import(data=REGIONS)
    branch = BranchOffice.objects.create(code="muara-bungo", name="BPJS Ketenagakerjaan Cabang Muara Bungo")
    branch.regencies.set(Regency.objects.filter(code="15.08"))


WORKER_STORY = [
    # (path, method, status): in this order, each to the worker the first one registers.
    ("/api/v1/workers/", "post", "201"),
    ("/api/v1/workers/{id}/", "put", "200"),
    ("/api/v1/workers/{id}/", "patch", "200"),
    ("/api/v1/workers/{id}/submit/", "post", "200"),
    ("/api/v1/workers/{id}/activate/", "post", "200"),
    ("/api/v1/workers/{id}/renew/", "post", "200"),
    ("/api/v1/workers/{id}/lapse/", "post", "200"),
    ("/api/v1/workers/{id}/end-service/", "post", "200"),
]
TARGETS = [
    ("/api/v1/targets/", "post", "201"),
    ("/api/v1/targets/{id}/", "put", "200"),
    ("/api/v1/targets/{id}/", "patch", "200"),
]
WORKFORCE = [
    ("/api/v1/workforce/", "post", "201"),
    ("/api/v1/workforce/{code}/", "put", "200"),
    ("/api/v1/workforce/{code}/", "patch", "200"),
]
LOGIN = ("/api/v1/auth/login/", "post", "200")
UPLOAD = ("/api/v1/imports/workers/", "post", "200")
SENT = [*WORKER_STORY, *TARGETS, *WORKFORCE, LOGIN, UPLOAD]


def without_times(worker: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in worker.items() if key not in ("id", "created_at", "updated_at")}


def test_every_request_example_is_sent_here(schema):
    with_body = {(path, method) for path, method, operation in operations(schema) if "requestBody" in operation}

    assert with_body == {(path, method) for path, method, _ in SENT}


def test_worker_request_examples_are_accepted_in_order_and_answer_as_shown(schema, admin_client, bungo):
    worker_id = None
    for path, method, status in WORKER_STORY:
        body = request_example(schema, path, method)
        url = path.format(id=worker_id)

        response = getattr(admin_client, method)(url, body, format="json")

        assert response.status_code == int(status), (method, path, response.json())
        worker_id = response.json()["id"]
        # The admin sees personal data: the answer is the example shown in full.
        shown = answer_examples(schema, path, method, status)
        assert without_times(response.json()) == without_times(shown["Full"]), (method, path)
        assert shown["Masked"]["nik"] == "1508************"


def test_target_request_examples_are_accepted(schema, admin_client, bungo):
    target_id = None
    for path, method, status in TARGETS:
        response = getattr(admin_client, method)(
            path.format(id=target_id), request_example(schema, path, method), format="json"
        )

        assert response.status_code == int(status), (method, path, response.json())
        target_id = response.json()["id"]
    assert Target.objects.filter(pk=target_id).exists()


def test_workforce_request_examples_are_accepted(schema, admin_client, bungo):
    created = None
    for path, method, status in WORKFORCE:
        body = request_example(schema, path, method)
        url = path.format(code=created and created["region_code"])
        if created is not None:
            url += f"?as_of={created['date']}"

        response = getattr(admin_client, method)(url, body, format="json")

        assert response.status_code == int(status), (method, path, response.json())
        created = response.json()
    assert WorkforceFigure.objects.filter(pk=created["id"]).exists()


def test_login_request_example_is_accepted(schema, api_client, db):
    body = request_example(schema, *LOGIN[:2])
    get_user_model().objects.create_user(body["username"], password=body["password"])

    response = api_client.post(LOGIN[0], body, format="json")

    assert response.status_code == 200
    assert set(response.json()) == {"token", "expiry"}


def test_upload_request_example_is_accepted_with_a_file_of_the_registered_worker(schema, admin_client, bungo):
    fields = request_example(schema, *UPLOAD[:2], media_type="multipart/form-data")
    row = {**worker_examples.REGISTRATION, "village_code": worker_examples.REGISTRATION["village"]}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(WORKER_COLUMNS)
    writer.writerow([row[column] for column in WORKER_COLUMNS])
    upload = io.BytesIO(buffer.getvalue().encode("utf-8"))
    upload.name = fields["file"]

    response = admin_client.post(UPLOAD[0], {**fields, "file": upload}, format="multipart")

    assert response.status_code == int(UPLOAD[2]), response.json()
    shown = answer_examples(schema, UPLOAD[0], "post", UPLOAD[2])
    assert {k: v for k, v in response.json().items() if k != "import"} == {
        k: v for k, v in next(iter(shown.values())).items() if k != "import"
    }


RECONCILE = ("/api/v1/reconciliations/", "post", "201")
RECONCILE_APPLY = ("/api/v1/reconciliations/{id}/apply/", "post", "200")
SENT.extend([RECONCILE, RECONCILE_APPLY])


def test_reconciliation_request_examples_are_accepted_with_an_extract_of_the_registered_worker(
    schema, admin_client, bungo
):
    path, method, status = WORKER_STORY[0]
    registered = admin_client.post(path, request_example(schema, path, method), format="json")
    assert registered.status_code == 201
    worker = registered.json()
    fields = request_example(schema, *RECONCILE[:2], media_type="multipart/form-data")
    book = Workbook()
    book.active.append(["NIK", "Nama", "Tanggal Lahir", "Status", "Program", "Bayar Sampai"])
    paid = (today() + datetime.timedelta(days=90)).isoformat()
    book.active.append([worker["nik"], worker["full_name"], worker["birth_date"], "aktif", "jkk,jkm", paid])
    upload = io.BytesIO()
    book.save(upload)
    upload.seek(0)
    upload.name = fields["file"]

    response = admin_client.post(RECONCILE[0], {**fields, "file": upload}, format="multipart")

    assert response.status_code == 201, response.json()
    assert response.json()["counts"]["activate"] == 1
    body = request_example(schema, *RECONCILE_APPLY[:2])
    applied = admin_client.post(RECONCILE_APPLY[0].format(id=response.json()["id"]), body, format="json")
    assert applied.status_code == 200, applied.json()
    assert applied.json() == {"activate": 1, "renew": 0, "lapse": 0}


RECONCILE_REJECT = ("/api/v1/reconciliations/{id}/reject/", "post", "200")
SENT.append(RECONCILE_REJECT)


def test_the_reject_example_is_accepted_with_the_row_of_an_extract_and_answers_as_shown(schema, admin_client, bungo):
    from enrollment.models import ReconciliationRow

    path, method, _status = WORKER_STORY[0]
    worker = admin_client.post(path, request_example(schema, path, method), format="json").json()
    paid = (today() + datetime.timedelta(days=90)).isoformat()
    text = f"nik,nama,tanggal_lahir,status,program,bayar_sampai\n{worker['nik']},{worker['full_name']},"
    upload = io.BytesIO(f"{text}{worker['birth_date']},aktif,jkk jkm,{paid}\n".encode())
    upload.name = "bpjs.csv"
    checked = admin_client.post(RECONCILE[0], {"file": upload}, format="multipart").json()
    example = request_example(schema, *RECONCILE_REJECT[:2])
    row = ReconciliationRow.objects.get(reconciliation_id=checked["id"], outcome="activate")
    body = {**example, "rows": [row.pk]}  # the example's shape, with this database's row id

    response = admin_client.post(RECONCILE_REJECT[0].format(id=checked["id"]), body, format="json")

    assert response.status_code == int(RECONCILE_REJECT[2]), response.json()
    assert response.json() == next(iter(answer_examples(schema, *RECONCILE_REJECT).values()))


SUBSCRIPTION_STORY = [
    # (path, method, status): in this order, to the subscription the first one creates.
    ("/api/v1/subscriptions/", "post", "201"),
    ("/api/v1/subscriptions/{id}/", "put", "200"),
    ("/api/v1/subscriptions/{id}/", "patch", "200"),
    ("/api/v1/subscriptions/{id}/replay/", "post", "200"),
]
SENT.extend(SUBSCRIPTION_STORY)


def test_subscription_request_examples_are_accepted_in_order(schema, admin_client, bungo, monkeypatch, settings):
    import socket

    from integrations import addresses

    # The example's receiver, as a public address (the tests have no DNS): the checks run as they would.
    settings.UCJ_WEBHOOK_ALLOW_PRIVATE = False
    monkeypatch.setattr(
        addresses.socket,
        "getaddrinfo",
        lambda host, port, **kw: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("203.0.114.10", port))],
    )
    subscription_id = None
    for path, method, status in SUBSCRIPTION_STORY:
        url = path.format(id=subscription_id)
        response = getattr(admin_client, method)(url, request_example(schema, path, method), format="json")
        assert response.status_code == int(status), response.json()
        subscription_id = subscription_id or response.json()["id"]
        shown = next(iter(answer_examples(schema, path, method, status).values()))
        assert set(response.json()) == set(shown)
        assert response.json()["types"] == shown["types"]
        assert response.json()["region"] == shown["region"]
