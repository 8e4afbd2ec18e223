"""Who may do what, where: every endpoint x every role x an object in / out of the caller's
regions, with the exact status code; no out-of-scope row in any list, count, figure or export;
and every API view declares what it needs (deny by default)."""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable
from dataclasses import dataclass
from xml.etree import ElementTree

import pytest
from django.urls import reverse
from rest_framework.response import Response

from access.api.permissions import PUBLIC, CapabilityRequired, DenyAll
from tests.helpers import today
from tests.routes import api_patterns

from .conftest import (
    ADMIN,
    ADMINISTER,
    ANONYMOUS,
    CAPABILITIES,
    CLIENT_RW,
    COVERAGE,
    COVERS,
    ENROLL,
    EXPORT,
    OTHER,
    OWN,
    PROTECTED,
    READ,
    REGENCY_OFFICER,
    ROLES,
    SERVING,
    SIBLING,
    TARGETS,
    VIEWER,
    VILLAGE,
    WRITE,
    World,
    activation_payload,
    import_file,
    rows,
    upload,
    worker_payload,
)

AUTHENTICATED = "authenticated"


WHERE = {"in": OWN, "out": OTHER}
PROVINCE_OF = {OWN: "15", SIBLING: "15", OTHER: "16"}
BRANCH_OF = {OWN: "sungai-penuh", OTHER: "baturaja"}


def content(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content(response).decode("utf-8-sig"))))


@dataclass(frozen=True)
class Endpoint:
    """One endpoint of the matrix. `url(world, regency)` addresses the object (or filter) of
    the regency; `needs` is PUBLIC, AUTHENTICATED or the capabilities required; `out` is the
    status for a caller that has the capabilities but not the region."""

    name: str
    method: str
    url: Callable[[World, str], str]
    needs: str | frozenset[str]
    ok: int = 200
    out: int = 404
    body: Callable[[World, str], dict] | None = None
    check: Callable[..., None] | None = None
    per_role: bool = False  # url(world, regency, role): the object depends on the caller


def _q(name: str, query: str, **kwargs) -> str:
    return f"{reverse(name, **kwargs)}?{query}"


# -- content checks, run after the status matched -------------------------------------------


def _check_worker_list(response, world, role, regency):
    if response.status_code != 200:
        return
    covered = role == ADMIN or regency in COVERS[role]
    expected = {w.pk for w in world.workers[regency]} if covered else set()
    assert {row["id"] for row in rows(response)} == expected
    assert response.json()["count"] == len(expected)


def _check_changes(response, world, role, regency):
    """The feed of a regency of the caller's names exactly the workers the list shows there."""
    if response.status_code == 200:
        changes = response.json()["results"]
        assert {c["worker_id"] for c in changes if c["worker"]} == {w.pk for w in world.workers[regency]}


def _check_error_field(attr: str):
    def check(response, world, role, regency):
        if response.status_code == 400:
            assert [e["attr"] for e in response.json()["errors"]] == [attr]

    return check


def _check_coverage_villages(response, world, role, regency):
    if response.status_code == 200:
        assert [(r["code"], r["serving"], r["protected"]) for r in rows(response)] == [
            (VILLAGE[regency], SERVING[regency], PROTECTED[regency])
        ]


def _check_dhis2_villages(response, world, role, regency):
    """The regency's village, with its serving workers this month."""
    if response.status_code != 200:
        return
    serving = {v["orgUnit"]: v["value"] for v in response.json()["dataValues"] if v["dataElement"] == "UCJ_SERVING"}
    assert serving == {VILLAGE[regency]: str(SERVING[regency])}


def _check_adx_villages(response, world, role, regency):
    """The regency's village, with its serving workers this month."""
    if response.status_code != 200:
        return
    ns = "{urn:ihe:qrph:adx:2015}"
    groups = ElementTree.fromstring(response.content).findall(f"{ns}group")
    serving = {
        group.get("orgUnit"): value.get("value")
        for group in groups
        for value in group.findall(f"{ns}dataValue")
        if value.get("dataElement") == "UCJ_SERVING"
    }
    assert serving == {VILLAGE[regency]: str(SERVING[regency])}


def _check_coverage_detail(response, world, role, regency):
    if response.status_code == 200:
        data = response.json()
        assert (data["code"], data["serving"], data["protected"]) == (regency, SERVING[regency], PROTECTED[regency])


def _check_unprotected(response, world, role, regency):
    if response.status_code == 200:
        assert [r["code"] for r in rows(response)] == [VILLAGE[regency]]


def _check_csv_villages(response, world, role, regency):
    if response.status_code == 200:
        assert response["Content-Type"].startswith("text/csv")
        assert [(r["code"], r["serving"]) for r in csv_rows(response)] == [(VILLAGE[regency], str(SERVING[regency]))]


def _check_worker_csv(response, world, role, regency):
    if response.status_code != 200:
        return
    covered = role == ADMIN or regency in COVERS[role]
    expected = {w.pk for w in world.workers[regency]} if covered else set()
    assert {int(r["id"]) for r in csv_rows(response)} == expected


def _check_own_imports(response, world, role, regency):
    if response.status_code == 200:
        expected = {i.pk for i in world.imports.values()} if role == ADMIN else {world.imports[role].pk}
        assert {r["id"] for r in rows(response)} == expected


def _import_of(world: World, where: str, role: str) -> int:
    """The caller's own past import (in) or someone else's (out)."""
    return world.imports[role if where == OWN and role in world.imports else "stranger"].pk


def _check_filtered_count(expected_in: int):
    """A list filtered to the regency: `expected_in` rows when covered, none when not."""

    def check(response, world, role, regency):
        if response.status_code != 200:
            return
        covered = role == ADMIN or regency in COVERS[role]
        assert response.json()["count"] == (expected_in if covered else 0)
        assert len(rows(response)) == (expected_in if covered else 0)

    return check


# -- the endpoints ----------------------------------------------------------------------------


def _worker(kind: str) -> Callable[[World, str], int]:
    return lambda world, regency: getattr(world, kind)[regency].pk


ENDPOINTS = [
    # Regions and branch offices: public reference data.
    Endpoint("provinces", "get", lambda w, r: reverse("province-list"), PUBLIC),
    Endpoint("province", "get", lambda w, r: reverse("province-detail", args=[PROVINCE_OF[r]]), PUBLIC),
    Endpoint("regencies", "get", lambda w, r: _q("regency-list", f"province={PROVINCE_OF[r]}"), PUBLIC),
    Endpoint("regency", "get", lambda w, r: reverse("regency-detail", args=[r]), PUBLIC),
    Endpoint("districts", "get", lambda w, r: _q("district-list", f"regency={r}"), PUBLIC),
    Endpoint("district", "get", lambda w, r: reverse("district-detail", args=[f"{r}.01"]), PUBLIC),
    Endpoint("villages", "get", lambda w, r: _q("village-list", f"regency={r}"), PUBLIC),
    Endpoint("village", "get", lambda w, r: reverse("village-detail", args=[VILLAGE[r]]), PUBLIC),
    Endpoint("branches", "get", lambda w, r: reverse("branch-list"), PUBLIC),
    Endpoint("branch", "get", lambda w, r: reverse("branch-detail", args=[BRANCH_OF[r]]), PUBLIC),
    # Workers.
    Endpoint(
        "workers",
        "get",
        lambda w, r: _q("worker-list", f"regency={r}"),
        frozenset({READ}),
        out=200,
        check=_check_worker_list,
    ),
    Endpoint("worker", "get", lambda w, r: reverse("worker-detail", args=[w.new[r].pk]), frozenset({READ})),
    Endpoint(
        "worker-create",
        "post",
        lambda w, r: reverse("worker-list"),
        frozenset({WRITE}),
        ok=201,
        out=400,
        body=lambda w, r: worker_payload(VILLAGE[r]),
        check=_check_error_field("village"),
    ),
    Endpoint(
        "worker-patch",
        "patch",
        lambda w, r: reverse("worker-detail", args=[w.new[r].pk]),
        frozenset({WRITE}),
        body=lambda w, r: {"full_name": "Nama Baru", "version": w.new[r].version},
    ),
    Endpoint(
        "worker-submit",
        "post",
        lambda w, r: reverse("worker-submit", args=[w.new[r].pk]),
        frozenset({WRITE}),
        body=lambda w, r: {},
    ),
    Endpoint(
        "worker-activate",
        "post",
        lambda w, r: reverse("worker-activate", args=[w.new[r].pk]),
        frozenset({ENROLL}),
        body=lambda w, r: activation_payload(),
    ),
    Endpoint(
        "worker-renew",
        "post",
        lambda w, r: reverse("worker-renew", args=[w.active[r].pk]),
        frozenset({ENROLL}),
        body=lambda w, r: {"paid_until": (today() + datetime.timedelta(days=90)).isoformat()},
    ),
    Endpoint(
        "worker-lapse",
        "post",
        lambda w, r: reverse("worker-lapse", args=[w.active[r].pk]),
        frozenset({ENROLL}),
        body=lambda w, r: {},
    ),
    Endpoint(
        "worker-end-service",
        "post",
        lambda w, r: reverse("worker-end-service", args=[w.new[r].pk]),
        frozenset({WRITE}),
        body=lambda w, r: {},
    ),
    Endpoint("worker-history", "get", lambda w, r: reverse("worker-history", args=[w.new[r].pk]), frozenset({READ})),
    Endpoint(
        "changes",
        "get",
        lambda w, r: _q("changes", f"region={r}&page_size=1000"),
        frozenset({READ}),
        check=_check_changes,
    ),
    Endpoint(
        "workers-csv",
        "get",
        lambda w, r: _q("worker-list", f"regency={r}&format=csv"),
        frozenset({READ, EXPORT}),
        out=200,
        check=_check_worker_csv,
    ),
    # Spreadsheet imports.
    Endpoint(
        "import-upload",
        "upload",
        lambda w, r: reverse("import-workers"),
        frozenset({WRITE}),
        ok=201,
        out=400,
        body=lambda w, r: import_file(VILLAGE[r]),
        check=_check_error_field("village_code"),
    ),
    Endpoint("import-template", "get", lambda w, r: _q("import-template", "format=csv"), frozenset({WRITE}), out=200),
    Endpoint(
        "imports", "get", lambda w, r: reverse("import-list"), frozenset({WRITE}), out=200, check=_check_own_imports
    ),
    Endpoint(
        "import",
        "get",
        lambda w, r, role: reverse("import-detail", args=[_import_of(w, r, role)]),
        frozenset({WRITE}),
        per_role=True,
    ),
    Endpoint(
        "import-file",
        "get",
        lambda w, r, role: reverse("import-file", args=[_import_of(w, r, role)]),
        frozenset({WRITE}),
        per_role=True,
    ),
    # Coverage.
    Endpoint(
        "coverage-rows",
        "get",
        lambda w, r: _q("coverage-list", f"level=village&parent={r}"),
        frozenset({COVERAGE}),
        check=_check_coverage_villages,
    ),
    Endpoint(
        "coverage-detail",
        "get",
        lambda w, r: reverse("coverage-detail", args=[r]),
        frozenset({COVERAGE}),
        check=_check_coverage_detail,
    ),
    Endpoint(
        "coverage-trend",
        "get",
        lambda w, r: _q("coverage-trend", f"start={today() - datetime.timedelta(days=60)}&end={today()}", args=[r]),
        frozenset({COVERAGE}),
    ),
    Endpoint(
        "coverage-geo", "get", lambda w, r: _q("coverage-geo", f"level=village&parent={r}"), frozenset({COVERAGE})
    ),
    Endpoint(
        "coverage-export-dhis2",
        "get",
        lambda w, r: _q("coverage-export-dhis2", f"level=village&parent={r}&start={today()}"),
        frozenset({COVERAGE}),
        check=_check_dhis2_villages,
    ),
    Endpoint(
        "coverage-export-adx",
        "get",
        lambda w, r: _q("coverage-export-adx", f"level=village&parent={r}&start={today()}"),
        frozenset({COVERAGE}),
        check=_check_adx_villages,
    ),
    Endpoint(
        "unprotected-villages",
        "get",
        lambda w, r: _q("coverage-unprotected-villages", f"regency={r}"),
        frozenset({COVERAGE}),
        check=_check_unprotected,
    ),
    Endpoint(
        "unprotected-villages-by-branch",
        "get",
        lambda w, r: _q("coverage-unprotected-villages", f"branch={BRANCH_OF[r]}"),
        frozenset({COVERAGE}),
        check=_check_unprotected,
    ),
    Endpoint(
        "coverage-csv",
        "get",
        lambda w, r: _q("coverage-list", f"level=village&parent={r}&format=csv"),
        frozenset({COVERAGE, EXPORT}),
        check=_check_csv_villages,
    ),
    Endpoint(
        "unprotected-villages-csv",
        "get",
        lambda w, r: _q("coverage-unprotected-villages", f"regency={r}&format=csv"),
        frozenset({COVERAGE, EXPORT}),
        check=_check_csv_villages,
    ),
    # Targets and workforce figures.
    Endpoint(
        "targets",
        "get",
        lambda w, r: _q("target-list", f"region_code={r}"),
        frozenset({COVERAGE}),
        out=200,
        check=_check_filtered_count(1),
    ),
    Endpoint("target", "get", lambda w, r: reverse("target-detail", args=[w.targets[r].pk]), frozenset({COVERAGE})),
    Endpoint(
        "target-create",
        "post",
        lambda w, r: reverse("target-list"),
        frozenset({TARGETS}),
        ok=201,
        out=400,
        body=lambda w, r: {"kind": "village_apparatus", "year": today().year + 1, "region_code": r, "target_pct": "65"},
        check=_check_error_field("region_code"),
    ),
    Endpoint(
        "target-patch",
        "patch",
        lambda w, r: reverse("target-detail", args=[w.targets[r].pk]),
        frozenset({TARGETS}),
        body=lambda w, r: {"target_pct": "66.50"},
    ),
    Endpoint(
        "workforce",
        "get",
        lambda w, r: _q("workforce-list", f"region_code={r}"),
        frozenset({COVERAGE}),
        out=200,
        check=_check_filtered_count(1),
    ),
    Endpoint(
        "workforce-detail",
        "get",
        lambda w, r: _q("workforce-detail", f"as_of={w.figure_date}", args=[r]),
        frozenset({COVERAGE}),
    ),
    Endpoint(
        "workforce-create",
        "post",
        lambda w, r: reverse("workforce-list"),
        frozenset({ADMINISTER}),
        ok=201,
        body=lambda w, r: {
            "region_code": r,
            "date": "2024-10-01",
            "potential_workers": 100_000,
            "active_participants": 40_000,
        },
    ),
    # Audit trail (admins) and the caller itself.
    Endpoint("audit-events", "get", lambda w, r: _q("audit-event-list", f"regency={r}"), frozenset({ADMINISTER})),
    Endpoint("access-log", "get", lambda w, r: reverse("access-log-list"), frozenset({ADMINISTER})),
    Endpoint("me", "get", lambda w, r: reverse("auth-me"), AUTHENTICATED),
]
BY_NAME = {e.name: e for e in ENDPOINTS}


def expected_status(endpoint: Endpoint, role: str, where: str) -> int:
    """The status the specification demands (written out, not computed from the code under test)."""
    if endpoint.needs == PUBLIC:
        return endpoint.ok
    if role == ANONYMOUS:
        return 401
    if endpoint.needs == AUTHENTICATED:
        return endpoint.ok
    if not endpoint.needs <= CAPABILITIES[role]:
        return 403
    if role != ADMIN and WHERE[where] not in COVERS[role]:
        return endpoint.out
    return endpoint.ok


def _cells():
    for endpoint in ENDPOINTS:
        for role in ROLES:
            for where in ("in", "out"):
                yield pytest.param(endpoint.name, role, where, id=f"{endpoint.name}-{role}-{where}")


@pytest.mark.parametrize(("endpoint_name", "role", "where"), list(_cells()))
def test_status_matches_spec_for_every_endpoint_role_and_region(client_for, world, endpoint_name, role, where):
    endpoint = BY_NAME[endpoint_name]
    regency = WHERE[where]
    client = client_for(role)
    url = endpoint.url(world, regency, role) if endpoint.per_role else endpoint.url(world, regency)
    if endpoint.method == "upload":
        response = upload(client, endpoint.body(world, regency))
    elif endpoint.body is not None:
        response = getattr(client, endpoint.method)(url, endpoint.body(world, regency), format="json")
    else:
        response = getattr(client, endpoint.method)(url)

    assert response.status_code == expected_status(endpoint, role, where), response.content[:400]
    if endpoint.check is not None:
        endpoint.check(response, world, role, regency)


def test_matrix_covers_every_role_and_every_capability():
    assert set(ROLES) == set(CAPABILITIES) == set(COVERS)
    needed = set().union(*(e.needs for e in ENDPOINTS if isinstance(e.needs, frozenset)))
    assert needed == {READ, WRITE, ENROLL, EXPORT, COVERAGE, TARGETS, ADMINISTER}


# -- a sibling regency (same province) is covered by province-wide roles only -----------------


@pytest.mark.parametrize("role", [r for r in ROLES if r != ANONYMOUS])
def test_sibling_regency_visible_only_to_province_wide_roles(client_for, world, role):
    client = client_for(role)
    worker = client.get(reverse("worker-detail", args=[world.new[SIBLING].pk]))
    figures = client.get(reverse("coverage-detail", args=[SIBLING]))

    covered = SIBLING in COVERS[role]
    assert worker.status_code == (403 if READ not in CAPABILITIES[role] else 200 if covered else 404)
    assert figures.status_code == (200 if covered else 404)


# -- no out-of-scope row in any list, count, figure or export --------------------------------

READERS = [r for r in ROLES if READ in CAPABILITIES[r]]
COVERAGE_READERS = [r for r in ROLES if COVERAGE in CAPABILITIES[r]]
EXPORTERS = [r for r in ROLES if EXPORT in CAPABILITIES[r]]


def covered_provinces(role: str) -> set[str]:
    """Provinces whose every regency the role covers (only those get a province row)."""
    return {p for p in ("15", "16") if all(r in COVERS[role] for r, prov in PROVINCE_OF.items() if prov == p)}


@pytest.mark.parametrize("role", READERS)
def test_worker_list_holds_only_covered_workers(client_for, world, role):
    response = client_for(role).get(reverse("worker-list"), {"page_size": 100})

    assert response.status_code == 200
    assert {row["id"] for row in rows(response)} == world.worker_ids(COVERS[role])
    assert response.json()["count"] == sum(SERVING[r] for r in COVERS[role])
    assert {row["regency"] for row in rows(response)} == COVERS[role]


@pytest.mark.parametrize("role", READERS)
def test_worker_filter_by_uncovered_province_is_empty(client_for, world, role):
    response = client_for(role).get(reverse("worker-list"), {"province": "16"})

    assert response.status_code == 200
    assert response.json()["count"] == (SERVING[OTHER] if role == ADMIN else 0)


@pytest.mark.parametrize("role", COVERAGE_READERS)
@pytest.mark.parametrize("level", ["province", "regency", "village"])
def test_coverage_rows_hold_only_covered_regions(client_for, world, role, level):
    response = client_for(role).get(reverse("coverage-list"), {"level": level})

    assert response.status_code == 200
    expected = {
        "province": {p: sum(SERVING[r] for r in COVERS[role] if PROVINCE_OF[r] == p) for p in covered_provinces(role)},
        "regency": {r: SERVING[r] for r in COVERS[role]},
        "village": {VILLAGE[r]: SERVING[r] for r in COVERS[role]},
    }[level]
    assert {row["code"]: row["serving"] for row in rows(response)} == expected
    assert response.json()["count"] == len(expected)


@pytest.mark.parametrize("role", COVERAGE_READERS)
def test_coverage_rows_under_own_province_hold_only_covered_regencies(client_for, world, role):
    response = client_for(role).get(reverse("coverage-list"), {"level": "regency", "parent": "15"})

    assert response.status_code == 200
    assert {row["code"]: (row["serving"], row["protected"]) for row in rows(response)} == {
        r: (SERVING[r], PROTECTED[r]) for r in COVERS[role] if PROVINCE_OF[r] == "15"
    }


@pytest.mark.parametrize("role", COVERAGE_READERS)
def test_coverage_detail_ranks_only_among_covered_siblings(client_for, world, role):
    response = client_for(role).get(reverse("coverage-detail", args=[OWN]))

    assert response.status_code == 200
    data = response.json()
    assert (data["serving"], data["protected"]) == (SERVING[OWN], PROTECTED[OWN])
    assert data["ranked_siblings"] == len([r for r in COVERS[role] if PROVINCE_OF[r] == "15"])
    assert sum(row["serving"] for row in data["by_institution"]) == SERVING[OWN]


@pytest.mark.parametrize("role", [r for r in COVERAGE_READERS if covered_provinces(r)])
def test_coverage_detail_of_province_sums_only_its_regencies(client_for, world, role):
    response = client_for(role).get(reverse("coverage-detail", args=["15"]))

    assert response.status_code == 200
    assert response.json()["serving"] == SERVING[OWN] + SERVING[SIBLING]
    assert response.json()["protected"] == PROTECTED[OWN] + PROTECTED[SIBLING]
    assert response.json()["ranked_siblings"] == len(covered_provinces(role))


@pytest.mark.parametrize("role", [r for r in COVERAGE_READERS if not covered_provinces(r)])
def test_coverage_detail_of_partly_covered_province_is_not_found(client_for, world, role):
    assert client_for(role).get(reverse("coverage-detail", args=["15"])).status_code == 404


@pytest.mark.parametrize("role", COVERAGE_READERS)
def test_unprotected_villages_hold_only_covered_villages(client_for, world, role):
    response = client_for(role).get(reverse("coverage-unprotected-villages"))

    assert response.status_code == 200
    assert {row["code"]: row["unprotected"] for row in rows(response)} == {
        VILLAGE[r]: SERVING[r] - PROTECTED[r] for r in COVERS[role]
    }


@pytest.mark.parametrize("role", EXPORTERS)
@pytest.mark.parametrize("url_name", ["coverage-list", "coverage-unprotected-villages"])
def test_csv_export_holds_only_covered_villages(client_for, world, role, url_name):
    params = {"format": "csv", **({"level": "village"} if url_name == "coverage-list" else {})}
    response = client_for(role).get(reverse(url_name), params)

    assert response.status_code == 200
    assert {row["code"]: row["serving"] for row in csv_rows(response)} == {
        VILLAGE[r]: str(SERVING[r]) for r in COVERS[role]
    }
    assert "attachment" in response["Content-Disposition"]


@pytest.mark.parametrize("role", EXPORTERS)
def test_xlsx_export_holds_only_covered_villages(client_for, world, role):
    from openpyxl import load_workbook

    response = client_for(role).get(reverse("coverage-list"), {"level": "village", "format": "xlsx"})

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    header, *data = list(sheet.iter_rows(values_only=True))
    codes = {row[header.index("code")] for row in data}
    assert codes == {VILLAGE[r] for r in COVERS[role]}


@pytest.mark.parametrize("role", COVERAGE_READERS)
def test_workforce_list_holds_only_covered_regions(client_for, world, role):
    response = client_for(role).get(reverse("workforce-list"))

    assert response.status_code == 200
    expected = covered_provinces(role) | ({OWN, OTHER} & COVERS[role])
    assert {row["region_code"] for row in rows(response)} == expected
    assert response.json()["count"] == len(expected)


@pytest.mark.parametrize("role", COVERAGE_READERS)
def test_target_list_holds_only_covered_regions(client_for, world, role):
    response = client_for(role).get(reverse("target-list"))

    assert response.status_code == 200
    assert {row["region_code"] for row in rows(response)} == COVERS[role]
    assert response.json()["count"] == len(COVERS[role])


@pytest.mark.parametrize(
    ("url_name", "query"),
    [
        ("coverage-unprotected-villages", {"branch": "baturaja"}),
        ("coverage-unprotected-villages", {"regency": "99.99"}),
        ("coverage-list", {"level": "district", "parent": "16.01"}),
    ],
)
@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_export_without_the_right_is_forbidden_before_the_region_is_looked_up(
    client_for, world, url_name, query, export_format
):
    response = client_for(VIEWER).get(reverse(url_name), {**query, "format": export_format})

    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["type"] == "client_error"
    assert [e["code"] for e in response.json()["errors"]] == ["permission_denied"]


@pytest.mark.parametrize("role", [r for r in COVERAGE_READERS if r != ADMIN])
def test_unprotected_villages_of_uncovered_branch_are_not_found(client_for, world, role):
    response = client_for(role).get(reverse("coverage-unprotected-villages"), {"branch": "baturaja"})

    assert response.status_code == 404


@pytest.mark.parametrize("role", [r for r in COVERAGE_READERS if r != ADMIN])
def test_coverage_rows_under_uncovered_province_are_not_found(client_for, world, role):
    response = client_for(role).get(reverse("coverage-list"), {"level": "regency", "parent": "16"})

    assert response.status_code == 404


def test_admin_profile_without_superuser_has_the_admin_scope(client_for, world):
    from django.contrib.auth import get_user_model
    from knox.models import AuthToken

    from access.models import AccessProfile

    from .conftest import token_client

    user = get_user_model().objects.create_user("kepala-dinas", password="x-Passw0rd!")
    AccessProfile.objects.create(user=user, role="admin")
    client = token_client(AuthToken.objects.create(user)[1])

    assert client.get(reverse("audit-event-list")).status_code == 200
    assert client.get(reverse("worker-detail", args=[world.new[OTHER].pk])).status_code == 200
    assert client.get(reverse("auth-me")).json()["role"] == "admin"


def test_user_without_profile_may_do_nothing(world):
    from django.contrib.auth import get_user_model
    from knox.models import AuthToken

    from .conftest import token_client

    user = get_user_model().objects.create_user("no-profile", password="x-Passw0rd!")
    client = token_client(AuthToken.objects.create(user)[1])

    assert client.get(reverse("worker-list")).status_code == 403
    assert client.get(reverse("coverage-list"), {"level": "province"}).status_code == 403
    assert client.get(reverse("auth-me")).json()["capabilities"] == []


# -- deny by default: every API view declares what each of its actions needs -------------------


def _api_views():
    """(route, view class, actions) for every URL pattern under /api/v1/."""
    found = {}
    for route, pattern in api_patterns():
        view_class = getattr(pattern.callback, "cls", None)
        actions = getattr(pattern.callback, "actions", None)
        found.setdefault((view_class, tuple(sorted((actions or {}).items()))), route)
    return [(route, view_class, dict(actions)) for (view_class, actions), route in found.items()]


def _view_params():
    for route, view_class, actions in _api_views():
        name = getattr(view_class, "__name__", "function")
        yield pytest.param(view_class, actions, id=f"{name}:{route}")


def test_api_has_the_expected_views():
    names = {getattr(view, "__name__", None) for _route, view, _actions in _api_views()}
    assert {
        "ProvinceViewSet",
        "RegencyViewSet",
        "DistrictViewSet",
        "VillageViewSet",
        "BranchOfficeViewSet",
        "WorkerViewSet",
        "WorkerImportUploadView",
        "WorkerImportTemplateView",
        "WorkerImportViewSet",
        "CoverageRowsView",
        "CoverageDetailView",
        "CoverageTrendView",
        "UnprotectedVillagesView",
        "TargetViewSet",
        "WorkforceViewSet",
        "AuditEventViewSet",
        "AccessLogViewSet",
        "LoginView",
        "LogoutView",
        "MeView",
        "JobViewSet",
    } <= names


@pytest.mark.parametrize(("view_class", "actions"), list(_view_params()))
def test_every_api_view_declares_capabilities_for_each_action(view_class, actions):
    assert view_class is not None, "a plain function view under /api/v1/ escapes the permission checks"
    permissions = list(getattr(view_class, "permission_classes", []))
    assert permissions, "no permission_classes"
    assert DenyAll not in permissions
    assert CapabilityRequired in permissions
    required = getattr(view_class, "required_capabilities", None)
    assert required, "no required_capabilities"
    if actions:  # a viewset route: every action it maps
        keys = set(actions.values())
    else:
        keys = {m for m in view_class.http_method_names if m not in ("options", "head") and hasattr(view_class, m)}
    assert keys, "the view answers no method"
    assert keys <= set(required), f"undeclared: {sorted(keys - set(required))}"


PUBLIC_VIEWS = {
    "ProvinceViewSet",
    "RegencyViewSet",
    "DistrictViewSet",
    "VillageViewSet",
    "BranchOfficeViewSet",
    "LoginView",
    "MeView",  # checks authentication itself
    "JobViewSet",  # signed-in callers only (IsAuthenticated), each its own jobs
}


def test_only_reference_data_login_and_me_are_public():
    public = {
        view.__name__
        for _route, view, _actions in _api_views()
        if view is not None and PUBLIC in getattr(view, "required_capabilities", {}).values()
    }
    assert public == PUBLIC_VIEWS


def test_default_permission_denies_everyone():
    from rest_framework.settings import api_settings

    assert [DenyAll] == api_settings.DEFAULT_PERMISSION_CLASSES
    assert DenyAll().has_permission(None, None) is False


@pytest.mark.parametrize(
    ("method", "url_name", "args"),
    [
        ("delete", "worker-detail", "worker"),
        ("put", "coverage-list", None),
        ("post", "province-list", None),
        ("delete", "auth-me", None),
    ],
)
def test_method_a_view_does_not_implement_answers_405(client_for, world, method, url_name, args):
    url = reverse(url_name, args=[world.new[OWN].pk] if args else None)
    response = getattr(client_for(ADMIN), method)(url, {}, format="json")

    assert response.status_code == 405


@pytest.mark.parametrize("role", [ADMIN, REGENCY_OFFICER])
def test_implemented_but_undeclared_method_is_denied(shared, world, role):
    from rest_framework.test import APIRequestFactory, force_authenticate
    from rest_framework.views import APIView

    from access.api.permissions import CapabilityRequired

    class Undeclared(APIView):
        permission_classes = [CapabilityRequired]
        required_capabilities = {"get": READ}

        def get(self, request):
            return Response({})

        def post(self, request):  # implemented, but no capability says who may
            return Response({})

    request = APIRequestFactory().post("/", {}, format="json")
    force_authenticate(request, user=shared.users[role][0])

    assert Undeclared.as_view()(request).status_code == 403


# -- the spreadsheet import must not bypass capabilities ------------------------------------------


def _membership_columns() -> dict:
    return {
        "kpj_number": "40000000001",
        "scheme": "bpu",
        "programs": "jkk;jkm",
        "funding_source": "apbdes",
        "coverage_start": (today() - datetime.timedelta(days=10)).isoformat(),
        "paid_until": (today() + datetime.timedelta(days=60)).isoformat(),
    }


def test_admin_import_may_record_memberships(client_for, world):
    from enrollment.models import ApparatusWorker

    data = import_file(VILLAGE[OWN], **_membership_columns())
    response = upload(client_for(ADMIN), data)

    assert response.status_code == 201, response.content[:400]
    nik = data.decode().splitlines()[1].split(",")[1]
    assert ApparatusWorker.objects.get(nik=nik).enrollment.status == "active"


@pytest.mark.parametrize("role", [REGENCY_OFFICER, CLIENT_RW])
def test_import_cannot_activate_memberships_without_manage_enrollment(client_for, world, role):
    from enrollment.models import ApparatusWorker

    data = import_file(VILLAGE[OWN], **_membership_columns())
    response = upload(client_for(role), data)

    nik = data.decode().splitlines()[1].split(",")[1]
    assert response.status_code == 400
    assert [(error["row"], error["attr"]) for error in response.json()["errors"]] == [(2, "kpj_number")]
    assert not ApparatusWorker.objects.filter(nik=nik, enrollment__status="active").exists()
