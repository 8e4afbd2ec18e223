"""Every endpoint's query parameters are the ones it documents: an unknown one is a 400 naming it
on every route and method (lists, single objects, actions, coverage, writes, login), a parameter
that takes one value is a 400 when sent twice, and what the schema documents is what the API
accepts (core.api.parameters)."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from drf_spectacular.generators import EndpointEnumerator, SchemaGenerator
from knox.models import AuthToken
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from core.api.parameters import known_parameters
from tests.routes import api_patterns

pytestmark = pytest.mark.django_db

UNKNOWN = "no_such_parameter"
# A value for each kind of path parameter, matching its pattern (whether the object exists does
# not matter: parameters are checked before anything is looked up).
PATH_VALUES = {"pk": "1", "code": "15", "delivery_id": "1"}


def _routes() -> list[tuple[str, str, dict[str, str]]]:
    """(URL name, HTTP method, path kwargs) of every method of every API route."""
    found = []
    for _route, pattern in api_patterns():
        view_class = pattern.callback.cls
        actions = getattr(pattern.callback, "actions", None)
        methods = (
            sorted(actions)
            if actions
            else [m for m in ("get", "post", "put", "patch", "delete") if hasattr(view_class, m)]
        )
        kwargs = {name: PATH_VALUES[name] for name in pattern.pattern.regex.groupindex}
        found += [(pattern.name, method, kwargs) for method in methods]
    return found


ROUTES = _routes()


@pytest.fixture
def admin_client(admin_user):
    """The shared superuser with a real token: allowed everywhere, so the parameters are what is judged."""
    client = APIClient()
    client.token = AuthToken.objects.create(admin_user)[1]
    client.credentials(HTTP_AUTHORIZATION=f"Token {client.token}", HTTP_ACCEPT_LANGUAGE="en")
    client.user = admin_user
    return client


def call(client: APIClient, method: str, url: str, params: str):
    if method in ("post", "put", "patch"):
        return getattr(client, method)(f"{url}?{params}", {}, format="json")
    return getattr(client, method)(f"{url}?{params}")


def refused(response, name: str, code: str = "unknown_parameter") -> bool:
    return response.status_code == 400 and any(
        e["attr"] == name and e["code"] == code for e in response.json()["errors"]
    )


def test_the_walk_covers_every_kind_of_endpoint():
    names = {name for name, _method, _kwargs in ROUTES}
    methods = {(name, method) for name, method, _kwargs in ROUTES}

    assert {
        "worker-list",
        "worker-detail",
        "worker-history",
        "worker-activate",
        "coverage-list",
        "coverage-detail",
        "coverage-trend",
        "coverage-unprotected-villages",
        "workforce-detail",
        "auth-login",
        "auth-logout",
        "auth-me",
        "import-workers",
        "import-template",
        "import-file",
    } <= names
    assert {("worker-detail", "patch"), ("target-detail", "delete"), ("workforce-detail", "put")} <= methods


@pytest.mark.parametrize(("url_name", "method", "kwargs"), ROUTES, ids=[f"{m}:{n}" for n, m, _k in ROUTES])
def test_every_endpoint_refuses_an_unknown_parameter_naming_it(admin_client, url_name, method, kwargs):
    response = call(admin_client, method, reverse(url_name, kwargs=kwargs), f"{UNKNOWN}=1")

    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert response.json() == {
        "type": "validation_error",
        "errors": [{"code": "unknown_parameter", "detail": "Unknown parameter.", "attr": UNKNOWN}],
    }


def test_every_unknown_parameter_is_named_at_once_in_indonesian_by_default(admin_client):
    admin_client.credentials(HTTP_AUTHORIZATION=f"Token {admin_client.token}")  # no Accept-Language

    response = admin_client.get(reverse("worker-detail", args=[1]) + "?nik=1&page=2&format=json")

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"code": "unknown_parameter", "detail": "Parameter tidak dikenal.", "attr": "nik"},
        {"code": "unknown_parameter", "detail": "Parameter tidak dikenal.", "attr": "page"},
    ]


def test_a_refused_write_writes_nothing(admin_client):
    logout = admin_client.post(reverse("auth-logout") + f"?all=true&{UNKNOWN}=1")

    assert refused(logout, UNKNOWN)
    assert AuthToken.objects.filter(user=admin_client.user).count() == 1
    assert admin_client.get(reverse("auth-me")).status_code == 200


@pytest.mark.parametrize(("url_name", "kwargs"), [("worker-list", None), ("worker-activate", {"pk": "1"})])
def test_format_is_for_reads_a_write_refuses_it(admin_client, url_name, kwargs):
    response = admin_client.post(reverse(url_name, kwargs=kwargs) + "?format=json", {}, format="json")

    assert refused(response, "format")


@pytest.mark.parametrize(
    ("url_name", "kwargs"),
    [("province-list", None), ("province-detail", {"code": "15"}), ("auth-me", None), ("worker-history", {"pk": "1"})],
)
def test_format_picks_the_browsable_api_or_json_on_every_read(admin_client, url_name, kwargs):
    response = admin_client.get(reverse(url_name, kwargs=kwargs) + "?format=json")

    assert not refused(response, "format")
    assert response["Content-Type"].startswith("application/json")


def test_the_anonymous_are_refused_401_before_their_parameters_are_judged(api_client):
    response = api_client.get(reverse("worker-list") + f"?{UNKNOWN}=1")

    assert response.status_code == 401


def test_login_refuses_unknown_parameters_too(api_client):
    response = api_client.post(
        reverse("auth-login") + "?next=/admin/", {"username": "x", "password": "y"}, format="json"
    )

    assert refused(response, "next")


# -- one value, once ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url_name", "kwargs", "query", "name"),
    [
        ("worker-list", None, "page=1&page=2", "page"),
        ("worker-list", None, "search=a&search=b", "search"),
        ("worker-list", None, "regency=15.01&regency=15.02", "regency"),
        ("worker-history", {"pk": "1"}, "page_size=5&page_size=10", "page_size"),
        ("coverage-list", None, "level=province&level=regency", "level"),
        ("coverage-detail", {"code": "15"}, "as_of=2024-01-01&as_of=2024-02-01", "as_of"),
        ("workforce-detail", {"code": "15"}, "as_of=2024-01-01&as_of=2024-02-01", "as_of"),
        ("import-template", None, "format=csv&format=xlsx", "format"),
    ],
)
def test_a_single_valued_parameter_sent_twice_is_a_400_naming_it(admin_client, url_name, kwargs, query, name):
    response = admin_client.get(reverse(url_name, kwargs=kwargs) + "?" + query)

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"code": "repeated_parameter", "detail": "This parameter takes one value; send it once.", "attr": name}
    ]


def test_a_multiple_choice_filter_may_come_more_than_once(admin_client):
    response = admin_client.get(reverse("worker-list") + "?status=active&status=submitted&institution=pkk")

    assert response.status_code == 200


# -- what the schema documents is what the API takes --------------------------------------------------

# Where the schema and the API still differ, (method, path): the parameters one side has and the
# other does not. Read but not documented: logout's `all` (every token of the caller).
SCHEMA_GAPS: dict[tuple[str, str], set[str]] = {}


def _operations():
    """(method, path, documented query parameters {name: is an array}, known {name: multiple})."""
    generator = SchemaGenerator()
    schema = generator.get_schema(request=None, public=True)
    factory = APIRequestFactory()
    for path, _regex, method, callback in EndpointEnumerator().get_api_endpoints():
        if not path.startswith("/api/v1/"):
            continue
        view = generator.create_view(callback, method)
        request = Request(getattr(factory, method.lower())(path))
        view.request = request
        operation = schema["paths"][generator.coerce_path(path, method, view)][method.lower()]
        documented = {
            p["name"]: p["schema"].get("type") == "array" for p in operation.get("parameters", []) if p["in"] == "query"
        }
        yield method, generator.coerce_path(path, method, view), documented, known_parameters(request, view)


def test_the_api_takes_the_query_parameters_the_schema_documents():
    differences = {}
    for method, path, documented, known in _operations():
        # `format=json` (and `api`) is taken on every read, for the browsable API's own links;
        # the schema documents `format` where a file may be asked for.
        extra = set(known) - set(documented) - ({"format"} if method == "GET" else set())
        missing = set(documented) - set(known)
        if extra | missing:
            differences[(method, path)] = extra | missing
        both = set(documented) & set(known)
        assert {n: documented[n] for n in both} == {n: known[n] for n in both}, (method, path)

    assert differences.keys() <= SCHEMA_GAPS.keys(), {k: v for k, v in differences.items() if k not in SCHEMA_GAPS}
    assert all(differences[k] <= SCHEMA_GAPS[k] for k in differences), differences


def _value(parameter: dict) -> str:
    schema = parameter.get("schema", {})
    if schema.get("enum"):
        return str(schema["enum"][0])
    if schema.get("type") == "array" and schema.get("items", {}).get("enum"):
        return str(schema["items"]["enum"][0])
    return {
        "integer": "1",
        "number": "1",
        "boolean": "true",
    }.get(schema.get("type"), datetime.date(2024, 1, 1).isoformat() if schema.get("format") == "date" else "15")


def test_every_documented_parameter_is_taken(admin_client):
    schema = admin_client.get(reverse("schema"), {"format": "json"}).json()
    refusals = []
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        url = path.replace("{id}", "1").replace("{code}", "15")
        for method, operation in operations.items():
            gaps = SCHEMA_GAPS.get((method.upper(), path), set())
            query = [p for p in operation.get("parameters", []) if p["in"] == "query" and p["name"] not in gaps]
            if not query or method == "delete":
                continue
            params = "&".join(f"{p['name']}={_value(p)}" for p in query if p["name"] != "format")
            response = call(admin_client, method, url, params)
            if response.status_code == 400 and any(
                e["code"] in ("unknown_parameter", "repeated_parameter") for e in response.json().get("errors", [])
            ):
                refusals.append((method, path, response.json()["errors"]))

    assert refusals == []


@pytest.mark.parametrize("method", ["delete", "put", "patch", "post", "trace"])
def test_a_method_the_address_does_not_have_is_a_405_whatever_its_query(api_client, method):
    """The query check ran first: `TRACE /provinces/?page=1` answered 400 naming `page`."""
    response = api_client.generic(method.upper(), reverse("province-list") + "?page=1&foo=2")

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, OPTIONS"


@pytest.mark.parametrize("query", ["format=csv", "format=pdf"])
def test_a_method_the_address_does_not_have_is_a_405_whatever_format_it_asks_for(api_client, query):
    """`TRACE /workers/?format=csv` answered 400 (format) before the 405."""
    response = api_client.generic("TRACE", reverse("worker-list") + "?" + query)

    assert response.status_code == 405
