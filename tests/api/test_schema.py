"""The OpenAPI 3 schema and the documentation pages, served without any CDN."""

import re

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse
from drf_spectacular.drainage import GENERATOR_STATS

pytestmark = pytest.mark.django_db

SCRIPT_SRC = re.compile(r"<script[^>]*\ssrc=[\"']([^\"']+)[\"']", re.IGNORECASE)
CDN_HOSTS = ("cdn.jsdelivr", "unpkg", "cdnjs", "googleapis", "gstatic")


def test_schema_is_openapi_3_yaml_with_region_paths(api_client):
    response = api_client.get(reverse("schema"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "UCJ Desa API"
    assert {"/api/v1/regencies/", "/api/v1/regencies/{code}/", "/api/v1/villages/{code}/"} <= set(schema["paths"])


def test_schema_as_json_documents_region_lookup_and_filters(api_client):
    response = api_client.get(reverse("schema"), {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    detail = schema["paths"]["/api/v1/regencies/{code}/"]["get"]
    assert [(p["name"], p["in"]) for p in detail["parameters"]] == [("code", "path")]
    assert detail["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Regency"
    }
    filters = {p["name"] for p in schema["paths"]["/api/v1/villages/"]["get"]["parameters"]}
    assert {"district", "regency", "province", "kind", "search", "page", "page_size"} <= filters


def test_schema_documents_standard_404_and_400_of_region_endpoints(api_client):
    schema = api_client.get(reverse("schema"), {"format": "json"}).json()

    assert "404" in schema["paths"]["/api/v1/regencies/{code}/"]["get"]["responses"]
    assert "400" in schema["paths"]["/api/v1/regencies/"]["get"]["responses"]


def test_schema_generates_valid_without_warnings(tmp_path):
    # Warnings are counted process-wide; count only this generation's.
    GENERATOR_STATS.reset()
    target = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    assert yaml.safe_load(target.read_text())["openapi"].startswith("3.")


@pytest.mark.parametrize(
    ("url_name", "local_script"),
    [
        ("swagger-ui", "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"),
        ("redoc", "/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"),
    ],
)
def test_docs_page_loads_scripts_from_own_static_files(client, url_name, local_script):
    response = client.get(reverse(url_name))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    scripts = SCRIPT_SRC.findall(html)
    assert local_script in scripts
    assert [src for src in scripts if not src.startswith("/static/")] == []
    assert [host for host in ("cdn.jsdelivr", "unpkg", "cdnjs") if host in html] == []


@pytest.mark.parametrize("url_name", ["swagger-ui", "redoc"])
def test_docs_page_references_no_outside_host(client, url_name):
    html = client.get(reverse(url_name)).content.decode()

    assert [host for host in CDN_HOSTS if host in html] == []
    assert re.findall(r"(?:src|href)=[\"'](?:https?:)?//", html) == []


def test_schema_says_which_membership_and_history_values_may_be_null(api_client):
    """Every worker never activated answers null for these: a client generated from the schema
    must accept it (it crashed on "" before, which the enums did not list)."""
    schemas = api_client.get(reverse("schema"), {"format": "json"}).json()["components"]["schemas"]

    nullable = {
        (name, field)
        for name in ("Enrollment", "EnrollmentEvent")
        for field, spec in schemas[name]["properties"].items()
        if spec.get("nullable")
    }

    assert {
        ("Enrollment", "kpj_number"),
        ("Enrollment", "scheme"),
        ("Enrollment", "npp"),
        ("Enrollment", "funding_source"),
        ("EnrollmentEvent", "from_status"),
    } <= nullable
    assert "" not in schemas["SchemeEnum"]["enum"]


def test_json_endpoints_take_json_bodies_only_and_the_upload_multipart(api_client):
    """A client generated from the schema sends the first body type offered: multipart made it
    send numbers as text, which the API refuses."""
    paths = api_client.get(reverse("schema"), {"format": "json"}).json()["paths"]

    bodies = {
        (path, method): sorted(operation["requestBody"]["content"])
        for path, operations in paths.items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and "requestBody" in operation
    }

    assert bodies[("/api/v1/workers/", "post")] == ["application/json"]
    assert bodies[("/api/v1/workers/{id}/", "patch")] == ["application/json"]
    assert bodies[("/api/v1/imports/workers/", "post")] == ["multipart/form-data"]
    assert bodies[("/api/v1/reconciliations/", "post")] == ["multipart/form-data"]
    uploads = {("/api/v1/imports/workers/", "post"), ("/api/v1/reconciliations/", "post")}
    assert all(types == ["application/json"] for key, types in bodies.items() if key not in uploads)


def test_a_form_body_on_a_json_endpoint_is_a_415(api_client):
    response = api_client.post(reverse("auth-login"), {"username": "x", "password": "y"}, format="multipart")

    assert response.status_code == 415


def _operations(api_client):
    paths = api_client.get(reverse("schema"), {"format": "json"}).json()["paths"]
    return {(path, method): op for path, ops in paths.items() for method, op in ops.items()}


def test_search_and_ordering_are_documented_only_where_a_list_reads_them(api_client):
    """Every documented parameter is read: the audit lists have no `search` (a 400 if sent)."""
    operations = _operations(api_client)

    def names(path):
        return {p["name"] for p in operations[(path, "get")].get("parameters", [])}

    assert "search" not in names("/api/v1/audit/access-log/")
    assert "search" not in names("/api/v1/coverage/")
    assert "search" in names("/api/v1/workers/")
    assert "search" in names("/api/v1/villages/")
    assert api_client.get(reverse("village-list"), {"search": "x"}).status_code == 200


def test_each_operation_documents_its_own_error_statuses_with_the_error_body(api_client):
    operations = _operations(api_client)

    def statuses(path, method):
        return sorted(operations[(path, method)]["responses"])

    assert statuses("/api/v1/workers/{id}/", "patch") == [
        "200", "400", "401", "403", "404", "406", "409", "412", "413", "415", "428", "429"
    ]  # fmt: skip
    assert statuses("/api/v1/workers/{id}/submit/", "post") == [
        "200", "400", "401", "403", "404", "406", "409", "412", "413", "415", "429"
    ]  # fmt: skip
    assert statuses("/api/v1/regencies/", "get") == ["200", "400", "401", "404", "406", "429"]
    assert statuses("/api/v1/auth/login/", "post") == ["200", "400", "401", "406", "413", "415", "429"]
    assert statuses("/api/v1/coverage/{code}/", "get") == ["200", "304", "400", "401", "403", "404", "406", "429"]
    error = {"$ref": "#/components/schemas/ErrorResponse"}
    for (path, method), operation in operations.items():
        for status, response in operation["responses"].items():
            if status >= "400":
                assert response["content"]["application/json"]["schema"] == error or path.startswith(
                    "/api/v1/imports/workers/"
                ), (path, method, status)
                assert response["description"]


def test_public_operations_need_no_token_and_the_others_do(api_client):
    operations = _operations(api_client)

    public = sorted(f"{m.upper()} {p}" for (p, m), op in operations.items() if op.get("security") == [])

    assert public == [
        "GET /api/v1/branches/",
        "GET /api/v1/branches/{code}/",
        "GET /api/v1/districts/",
        "GET /api/v1/districts/{code}/",
        "GET /api/v1/provinces/",
        "GET /api/v1/provinces/{code}/",
        "GET /api/v1/regencies/",
        "GET /api/v1/regencies/{code}/",
        "GET /api/v1/villages/",
        "GET /api/v1/villages/{code}/",
        "POST /api/v1/auth/login/",
    ]
    assert api_client.get(reverse("regency-list")).status_code == 200
    assert api_client.get(reverse("auth-me")).status_code == 401


def test_files_are_documented_as_files_and_writes_as_json_only(api_client):
    operations = _operations(api_client)

    template = operations[("/api/v1/imports/workers/template/", "get")]["responses"]["200"]
    export = operations[("/api/v1/workers/", "get")]["responses"]["200"]
    patch = operations[("/api/v1/workers/{id}/", "patch")]

    assert {media: c["schema"] for media, c in template["content"].items()} == {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"type": "string", "format": "binary"},
        "text/csv": {"type": "string", "format": "binary"},
    }
    assert export["content"]["text/csv"]["schema"] == {"type": "string", "format": "binary"}
    assert "Content-Disposition" in export["headers"]
    assert list(patch["responses"]["200"]["content"]) == ["application/json"]
    assert patch["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Worker"}
    assert patch["responses"]["200"]["headers"]["ETag"]["required"] is True
    assert "If-Match" in {p["name"] for p in patch["parameters"]}
    assert "format" not in {p["name"] for p in patch["parameters"]}


def test_every_answer_documents_the_rate_limit_headers_sent_to_counted_callers(api_client):
    schema = api_client.get(reverse("schema"), {"format": "json"}).json()
    names = ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"]

    missing = [
        (path, method, status)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        if [name for name in names if name not in response.get("headers", {})]
    ]

    assert sorted(schema["components"]["headers"]) == names
    assert missing == []
