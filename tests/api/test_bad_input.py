"""Bad input never costs a 500 or an HTML page: deeply nested JSON bodies, malformed ids on every
router detail route, unknown URLs under /api/ all answer a 4xx in the one error shape."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.routes import api_patterns

pytestmark = pytest.mark.django_db

NOT_FOUND = {"type": "client_error", "errors": [{"code": "not_found", "detail": "Not found.", "attr": None}]}
MALFORMED_IDS = [
    "abc",
    "99999999999999999999999",  # beyond any database integer
    "9223372036854775808",  # 2**63
    "-1",
    "1.5",
    "0x1F",
    "1e3",
    "%20",
    "1%00",
    "%C3%A9",  # é
    "15..01",
    "15.01%2F01",
    "999999999",  # well formed, no such row
]


@pytest.fixture
def admin_client(api_client, admin_user):
    """The shared admin, answered in English."""
    api_client.force_authenticate(admin_user)
    api_client.credentials(HTTP_ACCEPT_LANGUAGE="en")
    return api_client


def _router_detail_routes() -> list[tuple[str, str, str]]:
    """(route regex, viewset name, HTTP method) of every viewset route that addresses one object."""
    found = []
    for route, pattern in api_patterns():
        actions = getattr(pattern.callback, "actions", None)
        if actions and "(?P<" in route:
            method = "get" if "get" in actions else sorted(actions)[0]
            found.append((route, pattern.callback.cls.__name__, method))
    return found


ROUTES = _router_detail_routes()


def assert_not_found_shape(response, *, exact: bool = False) -> None:
    """A 404 in the one error shape; `exact`: the generic "Not found." of an unmatched URL (a view
    that looked the object up may say what it did not find, and name the field)."""
    assert response.status_code == 404, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    data = response.json()
    if exact:
        assert data == NOT_FOUND
    assert data["type"] == "client_error"
    assert [set(error) for error in data["errors"]] == [{"code", "detail", "attr"}]
    assert data["errors"][0]["code"] == "not_found"
    assert data["errors"][0]["detail"]


def test_every_viewset_has_detail_routes_in_the_walk():
    viewsets = {name for _route, name, _method in ROUTES}
    assert {
        "ProvinceViewSet",
        "RegencyViewSet",
        "DistrictViewSet",
        "VillageViewSet",
        "BranchOfficeViewSet",
        "WorkerViewSet",
        "WorkerImportViewSet",
        "TargetViewSet",
        "WorkforceViewSet",
        "AuditEventViewSet",
        "AccessLogViewSet",
    } <= viewsets


@pytest.mark.parametrize("bad_id", MALFORMED_IDS)
@pytest.mark.parametrize(("route", "viewset", "method"), ROUTES, ids=[f"{m}:{r}" for r, _v, m in ROUTES])
def test_malformed_id_on_every_detail_route_is_a_json_404(admin_client, route, viewset, method, bad_id):
    url = "/" + re.sub(r"\(\?P<\w+>[^)]*\)", bad_id, route).rstrip("$")
    body = {} if method in ("post", "put", "patch") else None

    response = getattr(admin_client, method)(url, body, format="json") if body is not None else admin_client.get(url)

    assert_not_found_shape(response)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/",
        "/api/v1/no-such-endpoint/",
        "/api/v1/workers/abc/",
        "/api/v1/workers/99999999999999999999999/",
        "/api/v1/workers/1/no-such-action/",
        "/api/v1/coverage/15.01%2A/",
        "/api/v1/coverage/15.01.01.2001.1/trend/",
        "/api/v1/coverage/ab/",
        "/api/v1/villages/15.01.01.2001x/",
        "/api/nothing/",
    ],
)
def test_unmatched_api_url_is_a_json_404(admin_client, path):
    assert_not_found_shape(admin_client.get(path), exact=True)


def test_unmatched_api_url_is_a_json_404_for_anonymous_callers_too(api_client):
    response = api_client.get("/api/v1/workers/abc/", HTTP_ACCEPT_LANGUAGE="id")

    assert response.status_code == 404
    assert response.json() == {
        "type": "client_error",
        "errors": [{"code": "not_found", "detail": "Data tidak ditemukan.", "attr": None}],
    }


def test_unmatched_api_url_is_a_json_404_with_debug_on_too(api_client, settings):
    """`make run` serves with DEBUG on, where a resolver 404 is Django's HTML debug page."""
    settings.DEBUG = True

    response = api_client.get("/api/v1/workers/abc/", HTTP_ACCEPT_LANGUAGE="en")
    unslashed = api_client.get("/api/v1/workers")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert unslashed.status_code == 301  # to "/api/v1/workers/", as before
    assert unslashed["Location"] == "/api/v1/workers/"


def test_unmatched_url_outside_the_api_keeps_the_html_page(api_client):
    response = api_client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [33, 5_000, 100_000])
def test_deeply_nested_json_on_the_login_endpoint_is_a_400(api_client, depth):
    body = '{"username": ' + nested(depth) + ', "password": "x"}'

    response = api_client.post(reverse("auth-login"), body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "type": "client_error",
        "errors": [
            {"code": "parse_error", "detail": "Isi JSON bersarang lebih dari 32 tingkat.", "attr": None},
        ],
    }


def test_deeply_nested_json_on_an_authenticated_write_is_a_400(admin_client):
    body = '{"full_name": ' + nested(50_000) + "}"

    response = admin_client.post(reverse("worker-list"), body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"code": "parse_error", "detail": "The JSON body is nested more than 32 levels deep.", "attr": None}
    ]


def test_json_nested_within_the_bound_still_parses(api_client):
    body = '{"username": "nobody", "password": ' + nested(31) + "}"

    response = api_client.post(reverse("auth-login"), body, content_type="application/json")

    assert response.status_code == 400
    assert [e["attr"] for e in response.json()["errors"]] == ["password"]


@pytest.mark.parametrize("method", ["delete", "post", "put", "patch"])
def test_unmatched_api_url_is_a_json_404_for_a_session_write_without_csrf_token(method):
    """A signed-in browser (session cookie, no CSRF token) writing to an address that matches no
    route got Django's CSRF page: a 403 in HTML, not the API's shape."""
    from django.test import Client

    get_user_model().objects.create_superuser("admin", "admin@example.id", "pw-admin-123")
    browser = Client(enforce_csrf_checks=True)
    browser.login(username="admin", password="pw-admin-123")

    response = getattr(browser, method)("/api/v1/targets/%C2%84/", HTTP_ACCEPT_LANGUAGE="en")

    assert_not_found_shape(response, exact=True)


@pytest.mark.parametrize("value", ["null", "yes", "maybe", ""])
def test_a_boolean_filter_refuses_a_value_it_cannot_read(admin_client, value):
    """`serving=null` listed every worker, as if the filter had not been sent."""
    response = admin_client.get(reverse("worker-list"), {"serving": value} if value else {"protected": "tru"})

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["attr"] == ("serving" if value else "protected")
    assert error["detail"] == "Use true or false."


@pytest.mark.parametrize("value", ["0", "000", "-1", "abc", "1.5", " ", "²"])
def test_a_page_size_that_is_not_a_whole_number_from_1_is_a_400(admin_client, value):
    """An unreadable page size answered the default page, as if none had been asked for."""
    response = admin_client.get(reverse("village-list"), {"page_size": value})

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"code": "invalid", "detail": "A page size is a whole number from 1 up.", "attr": "page_size"}
    ]


@pytest.mark.parametrize(
    ("url_name", "fmt", "formats"),
    [
        ("import-template", "AAA", "json, csv, xlsx"),
        ("worker-list", "pdf", "json, csv, xlsx"),
        ("village-list", "csv", "json"),
    ],
)
def test_a_format_the_address_does_not_produce_is_a_400_naming_those_it_does(admin_client, url_name, fmt, formats):
    """It was a 404, as if the address did not exist."""
    response = admin_client.get(reverse(url_name), {"format": fmt})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["errors"] == [
        {"code": "invalid", "detail": f"This address answers in: {formats}.", "attr": "format"}
    ]


def test_an_empty_page_size_is_the_default_page_as_any_empty_parameter_is_one_not_sent(admin_client):
    response = admin_client.get(reverse("village-list"), {"page_size": ""})

    assert response.status_code == 200


def test_a_year_filter_that_is_not_a_whole_number_is_a_400(admin_client):
    """`year=0.5` answered an empty list, as if it were a year with no target."""
    response = admin_client.get(reverse("target-list"), {"year": "0.5"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "year"


@pytest.mark.parametrize("value", ["501", "1005830548", "9" * 5000])
def test_a_page_size_above_the_maximum_counts_as_the_maximum_however_long(admin_client, value):
    """As the schema says; ten digits and more were a 400."""
    response = admin_client.get(reverse("village-list"), {"page_size": value})

    assert response.status_code == 200
