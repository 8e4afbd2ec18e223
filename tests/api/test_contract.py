"""The schema check of every API answer (tests/contract.py), on a schema of its own: what it
accepts, what it reports and how a failure reads."""

import json
import re

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from tests.contract import Checker, Contract, served_schema

ERROR = {"$ref": "#/components/schemas/Error"}
SCHEMA = {
    "openapi": "3.0.3",
    "paths": {
        "/api/v1/things/": {
            "get": {
                "responses": {
                    "200": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/ThingPage"}},
                            "text/csv": {"schema": {"type": "string", "format": "binary"}},
                        },
                        "headers": {"ETag": {"schema": {"type": "string"}, "required": True}},
                    },
                    "4XX": {"content": {"application/json": {"schema": ERROR}}},
                }
            },
        },
        "/api/v1/things/{id}/": {
            "get": {
                "responses": {
                    "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
                    "410": {"$ref": "#/components/responses/Gone"},
                    "default": {"content": {"application/json": {"schema": ERROR}}},
                }
            },
            "delete": {"responses": {"204": {"description": "gone"}}},
        },
        "/api/v1/things/export/": {
            "get": {"responses": {"200": {"content": {"application/vnd.ms-excel": {}}}}},
        },
        "/api/schema/": {"get": {"responses": {"200": {}}}},
    },
    "components": {
        "responses": {
            "Gone": {
                "content": {"application/json": {"schema": ERROR}},
                "headers": {"Retry-After": {"$ref": "#/components/headers/Retry-After"}},
            }
        },
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "required": True}},
        "schemas": {
            "Thing": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer", "readOnly": True},
                    "name": {"type": "string", "nullable": True},
                    "kind": {"$ref": "#/components/schemas/KindEnum"},
                },
                "required": ["id", "name", "kind"],
            },
            "KindEnum": {"enum": ["small", "large"], "type": "string"},
            "ThingPage": {
                "type": "object",
                "properties": {
                    "count": {"type": "integer"},
                    "results": {"type": "array", "items": {"$ref": "#/components/schemas/Thing"}},
                },
                "required": ["count", "results"],
            },
            "Error": {
                "type": "object",
                "properties": {"type": {"type": "string"}, "errors": {"type": "array", "items": {}}},
                "required": ["type", "errors"],
            },
        },
    },
}
THING = {"id": 1, "name": "Lempur", "kind": "small"}


def answer(body, status: int = 200, content_type: str = "application/json", **headers) -> HttpResponse:
    content = json.dumps(body).encode() if content_type == "application/json" else body
    response = HttpResponse(content, status=status, content_type=content_type)
    for name, value in headers.items():
        response[name] = value
    return response


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract(SCHEMA)


def problems(contract: Contract, method: str, path: str, response) -> list[str]:
    return [f"{m.kind} {m.where}".strip() for m in contract.check(method, path, response)]


def test_a_documented_answer_has_no_mismatch(contract):
    page = {"count": 2, "results": [THING, {**THING, "id": 2, "name": None}]}

    assert problems(contract, "GET", "/api/v1/things/", answer(page, ETag='"7"')) == []
    assert problems(contract, "GET", "/api/v1/things/7/", answer(THING)) == []
    assert problems(contract, "DELETE", "/api/v1/things/7/", HttpResponse(status=204)) == []


def test_a_status_the_operation_does_not_document_is_reported(contract):
    mismatch = contract.check("DELETE", "/api/v1/things/7/", answer({"type": "x", "errors": []}, status=409))

    assert [(m.operation, m.status, m.kind) for m in mismatch] == [
        ("DELETE /api/v1/things/{id}/", 409, "status not documented")
    ]
    assert mismatch[0].message == "documented: 204"


def test_a_status_range_and_default_document_the_statuses_they_cover(contract):
    error = {"type": "client_error", "errors": []}

    assert problems(contract, "GET", "/api/v1/things/", answer(error, status=404)) == []
    assert problems(contract, "GET", "/api/v1/things/7/", answer(error, status=409)) == []
    assert problems(contract, "GET", "/api/v1/things/", answer(error, status=500)) == ["status not documented"]


def test_a_content_type_the_status_does_not_document_is_reported(contract):
    csv = answer(b"id,name\n", content_type="text/csv; charset=utf-8", ETag='"7"')
    html = answer(b"<html></html>", content_type="text/html; charset=utf-8", ETag='"7"')

    assert problems(contract, "GET", "/api/v1/things/", csv) == []
    assert problems(contract, "GET", "/api/v1/things/", html) == ["content type not documented"]


def test_a_body_where_none_is_documented_is_reported(contract):
    assert problems(contract, "DELETE", "/api/v1/things/7/", answer({}, status=204)) == [
        "body where none is documented"
    ]


def test_body_errors_name_where_the_body_breaks_the_schema(contract):
    page = {"count": 2, "results": [THING, {"id": 2, "name": 5}, {"id": 3, "name": "x", "kind": "huge"}]}

    assert sorted(problems(contract, "GET", "/api/v1/things/", answer(page, ETag='"7"'))) == [
        "body invalid (enum) $.results[2].kind",
        "body invalid (required) $.results[1]",
        "body invalid (type) $.results[1].name",
    ]


def test_a_property_the_schema_does_not_list_is_reported(contract):
    (mismatch,) = contract.check("GET", "/api/v1/things/7/", answer({**THING, "colour": "red"}))

    assert (mismatch.kind, mismatch.where, mismatch.message) == (
        "body invalid (undocumented)",
        "$",
        "undocumented properties: 'colour'",
    )


def test_a_required_header_that_is_missing_is_reported(contract):
    assert problems(contract, "GET", "/api/v1/things/", answer({"count": 0, "results": []})) == [
        "required header missing ETag"
    ]


def test_a_response_and_a_header_kept_in_components_are_followed(contract):
    gone = {"type": "client_error", "errors": []}

    assert problems(contract, "GET", "/api/v1/things/7/", answer(gone, status=410, **{"Retry-After": "60"})) == []
    assert problems(contract, "GET", "/api/v1/things/7/", answer({"type": 1}, status=410)) == [
        "required header missing Retry-After",
        "body invalid (type) $.type",
        "body invalid (required) $",
    ]


def test_a_header_that_is_not_of_its_documented_type_is_reported(contract):
    (mismatch,) = contract.check(
        "GET", "/api/v1/things/7/", answer({"type": "x", "errors": []}, 410, **{"Retry-After": "soon"})
    )

    assert (mismatch.kind, mismatch.where, mismatch.message) == (
        "header invalid",
        "Retry-After",
        "'soon' is not {'type': 'integer'}",
    )


def test_a_file_is_checked_by_its_content_type_only(contract):
    sheet = answer(b"PK\x03\x04 not json", content_type="application/vnd.ms-excel")

    assert problems(contract, "GET", "/api/v1/things/export/", sheet) == []


def test_a_request_the_schema_has_no_operation_for_is_not_checked(contract):
    assert contract.check("POST", "/api/v1/things/", answer({}, status=405)) is None
    assert contract.check("GET", "/api/v1/nothing/", answer({}, status=404)) is None
    assert contract.check("GET", "/api/schema/", answer({})) is None


def test_a_literal_address_is_matched_before_a_parameter(contract):
    assert contract.operation("GET", "/api/v1/things/export/")[0] == "/api/v1/things/export/"
    assert contract.operation("GET", "/api/v1/things/export-2/")[0] == "/api/v1/things/{id}/"


def test_exercised_operations_are_counted_by_status():
    contract = Contract(SCHEMA)

    contract.check("GET", "/api/v1/things/7/", answer(THING))
    contract.check("GET", "/api/v1/things/8/", answer({"type": "x", "errors": []}, status=404))
    contract.check("GET", "/api/v1/things/9/", answer(THING))

    assert dict(contract.exercised) == {("GET", "/api/v1/things/{id}/"): {200: 2, 404: 1}}


def checked_answer(body, path: str, status: int = 200) -> HttpResponse:
    response = answer(body, status=status)
    response.wsgi_request = RequestFactory().get(path)
    return response


def test_fail_mode_raises_in_the_test_naming_operation_status_and_path():
    checker = Checker("fail")
    checker._contract = Contract(SCHEMA)

    with pytest.raises(AssertionError) as failure:
        checker.observe(checked_answer({**THING, "kind": "huge"}, "/api/v1/things/7/"))

    assert str(failure.value) == (
        "the answer does not match the API schema:\n"
        "  GET /api/v1/things/{id}/ answered 200 application/json: body invalid (enum) at $.kind: "
        "'huge' is not one of ['small', 'large']"
    )


def test_report_mode_keeps_each_mismatch_once_with_a_test_that_shows_it():
    checker = Checker("report")
    checker._contract = Contract(SCHEMA)
    checker.test = "tests/test_things.py::test_one"

    for page in (1, 2):
        checker.observe(checked_answer({"type": "x", "errors": []}, f"/api/v1/things/?page={page}", status=500))
    checker.observe(checked_answer(THING, "/api/v1/elsewhere/"))

    assert checker.checked == 2
    assert checker.report() == [
        "GET /api/v1/things/ answered 500 application/json: status not documented: documented: 200, 4XX"
        "  [2x; e.g. tests/test_things.py::test_one]"
    ]
    assert re.fullmatch(
        r"API schema check \(report\): 1/4 operations exercised, 2 answers checked in \d+\.\d s, 1 distinct mismatches",
        checker.summary()[0],
    )


@pytest.mark.django_db
def test_the_check_uses_the_schema_the_api_serves(api_client):
    served = api_client.get(reverse("schema"), {"format": "json"}).json()

    assert served_schema() == served
