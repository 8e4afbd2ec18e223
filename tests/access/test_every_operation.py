"""Every operation of the API schema called once by a caller allowed to, with a request that
succeeds, so that the schema check of tests/contract.py sees an answer of each one (the rest of the
suite leaves some out, and mostly calls them to be refused)."""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.urls import reverse

from access.models import AccessLog
from enrollment.models import EnrollmentEvent
from tests import contract
from tests.helpers import today

from .conftest import (
    ADMIN,
    ANONYMOUS,
    OWN,
    PASSWORD,
    USERNAME,
    VILLAGE,
    World,
    activation_payload,
    import_file,
    worker_payload,
)


@dataclass
class Call:
    """One request: who makes it, what it sends and the status a success answers."""

    method: str
    url: str
    status: int = 200
    role: str = ADMIN
    body: dict | None = None
    headers: dict = field(default_factory=dict)
    multipart: bool = False


def _worker(world: World) -> int:
    return world.new[OWN].pk


def _target_body(world: World, **overrides) -> dict:
    return {"kind": "village_apparatus", "year": today().year + 1, "region_code": OWN, "target_pct": "65", **overrides}


def _figure_body(world: World, **overrides) -> dict:
    return {"region_code": OWN, "date": "2024-10-01", "potential_workers": 100_000, "active_participants": 40_000} | (
        overrides
    )


def _figure_url(world: World) -> str:
    return f"{reverse('workforce-detail', args=[OWN])}?as_of={world.figure_date}"


def _access_log_entry(world: World, client) -> int:
    """An export is logged: make one, and address its entry."""
    assert client.get(reverse("worker-list"), {"format": "csv"}).status_code == 200
    return AccessLog.objects.latest("id").pk


def _job(client) -> int:
    """A background import of the admin's (run at once: the tests' immediate backend)."""
    response = client.post(
        reverse("import-workers"), {"file": _upload_file(), "background": "true"}, format="multipart"
    )
    assert response.status_code == 202, response.content[:500]
    return response.json()["id"]


RECEIVER = "http://127.0.0.1:1/hooks"  # nobody listens: a delivery is refused, and logged


def _subscription(client) -> int:
    response = client.post(reverse("subscription-list"), {"url": RECEIVER}, format="json")
    assert response.status_code == 201, response.content[:500]
    return response.json()["id"]


def _delivery(client) -> tuple[int, int]:
    """A subscription of the admin's and an attempt of its log (the whole feed, sent to no one)."""
    from tests.integrations.receiver import deliver_due

    subscription = _subscription(client)
    assert client.post(reverse("subscription-replay", args=[subscription]), {}, format="json").status_code == 200
    deliver_due()
    from integrations.models import Delivery

    return subscription, Delivery.objects.filter(subscription_id=subscription).latest("id").pk


def _export_job(client) -> int:
    """A background export of the admin's workers (run at once), whose file is kept for it."""
    response = client.get(reverse("worker-list"), {"format": "csv", "background": "true"})
    assert response.status_code == 202, response.content[:500]
    return response.json()["id"]


def _upload_file() -> io.BytesIO:
    file = io.BytesIO(import_file(VILLAGE[OWN]))
    file.name = "workers.csv"
    return file


def _extract(world: World) -> io.BytesIO:
    """A BPJS extract saying the own regency's new worker is active (an activation to apply)."""
    worker = world.new[OWN]
    paid = (today() + datetime.timedelta(days=90)).isoformat()
    text = f"nik,nama,tanggal_lahir,status,program,bayar_sampai\n{worker.nik},{worker.full_name},"
    file = io.BytesIO(f"{text}{worker.birth_date.isoformat()},aktif,jkk jkm,{paid}\n".encode())
    file.name = "bpjs.csv"
    return file


def _reconciliation(world: World, client) -> int:
    response = client.post(reverse("reconciliation-list"), {"file": _extract(world)}, format="multipart")
    assert response.status_code == 201, response.content[:300]
    return response.json()["id"]


def _reconciliation_row(world: World, client) -> tuple[int, int]:
    """A reconciliation and its activation's row (a proposal to reject)."""
    from enrollment.models import ReconciliationRow

    pk = _reconciliation(world, client)
    return pk, ReconciliationRow.objects.get(reconciliation_id=pk, outcome="activate").pk


def _reject(world: World, client) -> Call:
    pk, row = _reconciliation_row(world, client)
    return Call("post", reverse("reconciliation-reject", args=[pk]), body={"rows": [row]})


# (method, path template) -> the call, built from the module's world (and the caller's client).
CALLS: dict[tuple[str, str], Callable[..., Call]] = {
    # Regions and branch offices: public.
    ("GET", "/api/v1/provinces/"): lambda w, c: Call("get", reverse("province-list"), role=ANONYMOUS),
    ("GET", "/api/v1/provinces/{code}/"): lambda w, c: Call("get", reverse("province-detail", args=["15"])),
    ("GET", "/api/v1/regencies/"): lambda w, c: Call("get", reverse("regency-list") + "?province=15"),
    ("GET", "/api/v1/regencies/{code}/"): lambda w, c: Call("get", reverse("regency-detail", args=[OWN])),
    ("GET", "/api/v1/districts/"): lambda w, c: Call("get", reverse("district-list") + f"?regency={OWN}"),
    ("GET", "/api/v1/districts/{code}/"): lambda w, c: Call("get", reverse("district-detail", args=[f"{OWN}.01"])),
    ("GET", "/api/v1/villages/"): lambda w, c: Call("get", reverse("village-list") + f"?regency={OWN}"),
    ("GET", "/api/v1/villages/{code}/"): lambda w, c: Call("get", reverse("village-detail", args=[VILLAGE[OWN]])),
    ("GET", "/api/v1/branches/"): lambda w, c: Call("get", reverse("branch-list")),
    ("GET", "/api/v1/branches/{code}/"): lambda w, c: Call("get", reverse("branch-detail", args=["sungai-penuh"])),
    # Signing in and out.
    ("POST", "/api/v1/auth/login/"): lambda w, c: Call(
        "post", reverse("auth-login"), role=ANONYMOUS, body={"username": USERNAME[ADMIN], "password": PASSWORD}
    ),
    ("POST", "/api/v1/auth/logout/"): lambda w, c: Call("post", reverse("auth-logout"), status=204),
    ("GET", "/api/v1/auth/me/"): lambda w, c: Call("get", reverse("auth-me")),
    # Workers and their enrollment.
    ("GET", "/api/v1/workers/"): lambda w, c: Call("get", reverse("worker-list")),
    ("POST", "/api/v1/workers/"): lambda w, c: Call(
        "post", reverse("worker-list"), status=201, body=worker_payload(VILLAGE[OWN])
    ),
    ("GET", "/api/v1/workers/{id}/"): lambda w, c: Call("get", reverse("worker-detail", args=[_worker(w)])),
    ("PUT", "/api/v1/workers/{id}/"): lambda w, c: Call(
        "put",
        reverse("worker-detail", args=[_worker(w)]),
        body=worker_payload(VILLAGE[OWN], version=w.new[OWN].version),
    ),
    ("PATCH", "/api/v1/workers/{id}/"): lambda w, c: Call(
        "patch",
        reverse("worker-detail", args=[_worker(w)]),
        body={"full_name": "Nama Baru"},
        headers={"HTTP_IF_MATCH": f'"{w.new[OWN].version}"'},
    ),
    ("POST", "/api/v1/workers/{id}/submit/"): lambda w, c: Call(
        "post", reverse("worker-submit", args=[_worker(w)]), body={}
    ),
    ("POST", "/api/v1/workers/{id}/activate/"): lambda w, c: Call(
        "post", reverse("worker-activate", args=[_worker(w)]), body=activation_payload()
    ),
    ("POST", "/api/v1/workers/{id}/renew/"): lambda w, c: Call(
        "post",
        reverse("worker-renew", args=[w.active[OWN].pk]),
        body={"paid_until": (today() + datetime.timedelta(days=90)).isoformat()},
    ),
    ("POST", "/api/v1/workers/{id}/lapse/"): lambda w, c: Call(
        "post", reverse("worker-lapse", args=[w.active[OWN].pk]), body={}
    ),
    ("POST", "/api/v1/workers/{id}/end-service/"): lambda w, c: Call(
        "post", reverse("worker-end-service", args=[_worker(w)]), body={}
    ),
    ("GET", "/api/v1/workers/{id}/history/"): lambda w, c: Call("get", reverse("worker-history", args=[_worker(w)])),
    # Reconciliation with BPJS's list.
    ("GET", "/api/v1/reconciliations/"): lambda w, c: Call("get", reverse("reconciliation-list")),
    ("POST", "/api/v1/reconciliations/"): lambda w, c: Call(
        "post", reverse("reconciliation-list"), status=201, body={"file": _extract(w)}, multipart=True
    ),
    ("GET", "/api/v1/reconciliations/{id}/"): lambda w, c: Call(
        "get", reverse("reconciliation-detail", args=[_reconciliation(w, c)])
    ),
    ("GET", "/api/v1/reconciliations/{id}/rows/"): lambda w, c: Call(
        "get", reverse("reconciliation-rows", args=[_reconciliation(w, c)])
    ),
    ("POST", "/api/v1/reconciliations/{id}/apply/"): lambda w, c: Call(
        "post", reverse("reconciliation-apply", args=[_reconciliation(w, c)]), body={"outcomes": ["activate"]}
    ),
    ("GET", "/api/v1/reconciliations/template/"): lambda w, c: Call("get", reverse("reconciliation-template")),
    ("POST", "/api/v1/reconciliations/{id}/reject/"): _reject,
    # Spreadsheet imports.
    ("GET", "/api/v1/imports/"): lambda w, c: Call("get", reverse("import-list")),
    ("GET", "/api/v1/imports/{id}/"): lambda w, c: Call("get", reverse("import-detail", args=[w.imports[ADMIN].pk])),
    ("GET", "/api/v1/imports/{id}/file/"): lambda w, c: Call("get", reverse("import-file", args=[w.imports[ADMIN].pk])),
    ("POST", "/api/v1/imports/workers/"): lambda w, c: Call(
        "post", reverse("import-workers"), status=201, body={"file": _upload_file()}, multipart=True
    ),
    ("GET", "/api/v1/imports/workers/template/"): lambda w, c: Call("get", reverse("import-template")),
    # Background jobs.
    ("GET", "/api/v1/jobs/"): lambda w, c: Call("get", reverse("job-list")),
    ("GET", "/api/v1/jobs/{id}/"): lambda w, c: Call("get", reverse("job-detail", args=[_job(c)])),
    ("GET", "/api/v1/jobs/{id}/file/"): lambda w, c: Call("get", reverse("job-file", args=[_export_job(c)])),
    # Coverage.
    ("GET", "/api/v1/coverage/"): lambda w, c: Call("get", reverse("coverage-list") + f"?level=village&parent={OWN}"),
    ("GET", "/api/v1/coverage/{code}/"): lambda w, c: Call("get", reverse("coverage-detail", args=[OWN])),
    ("GET", "/api/v1/coverage/{code}/trend/"): lambda w, c: Call(
        "get",
        reverse("coverage-trend", args=[OWN]) + f"?start={today() - datetime.timedelta(days=60)}&end={today()}",
    ),
    ("GET", "/api/v1/coverage/unprotected-villages/"): lambda w, c: Call(
        "get", reverse("coverage-unprotected-villages") + f"?regency={OWN}"
    ),
    ("GET", "/api/v1/coverage/geo/"): lambda w, c: Call(
        "get", reverse("coverage-geo") + f"?level=village&parent={OWN}"
    ),
    ("GET", "/api/v1/coverage/exports/dhis2/"): lambda w, c: Call(
        "get", reverse("coverage-export-dhis2") + f"?level=village&parent={OWN}&start={today()}"
    ),
    ("GET", "/api/v1/coverage/exports/adx/"): lambda w, c: Call(
        "get", reverse("coverage-export-adx") + f"?level=village&parent={OWN}&start={today()}"
    ),
    # Targets.
    ("GET", "/api/v1/targets/"): lambda w, c: Call("get", reverse("target-list")),
    ("POST", "/api/v1/targets/"): lambda w, c: Call("post", reverse("target-list"), status=201, body=_target_body(w)),
    ("GET", "/api/v1/targets/{id}/"): lambda w, c: Call("get", reverse("target-detail", args=[w.targets[OWN].pk])),
    ("PUT", "/api/v1/targets/{id}/"): lambda w, c: Call(
        "put",
        reverse("target-detail", args=[w.targets[OWN].pk]),
        body=_target_body(w, year=w.targets[OWN].year, target_pct="70"),
    ),
    ("PATCH", "/api/v1/targets/{id}/"): lambda w, c: Call(
        "patch", reverse("target-detail", args=[w.targets[OWN].pk]), body={"target_pct": "66.50"}
    ),
    ("DELETE", "/api/v1/targets/{id}/"): lambda w, c: Call(
        "delete", reverse("target-detail", args=[w.targets[OWN].pk]), status=204
    ),
    # Workforce figures.
    ("GET", "/api/v1/workforce/"): lambda w, c: Call("get", reverse("workforce-list")),
    ("POST", "/api/v1/workforce/"): lambda w, c: Call(
        "post", reverse("workforce-list"), status=201, body=_figure_body(w)
    ),
    ("GET", "/api/v1/workforce/{code}/"): lambda w, c: Call("get", _figure_url(w)),
    ("PUT", "/api/v1/workforce/{code}/"): lambda w, c: Call(
        "put", _figure_url(w), body=_figure_body(w, date=w.figure_date.isoformat(), potential_workers=120_000)
    ),
    ("PATCH", "/api/v1/workforce/{code}/"): lambda w, c: Call(
        "patch", _figure_url(w), body={"active_participants": 45_000}
    ),
    ("DELETE", "/api/v1/workforce/{code}/"): lambda w, c: Call("delete", _figure_url(w), status=204),
    # The audit trail.
    ("GET", "/api/v1/audit/events/"): lambda w, c: Call("get", reverse("audit-event-list")),
    ("GET", "/api/v1/audit/events/{id}/"): lambda w, c: Call(
        "get", reverse("audit-event-detail", args=[EnrollmentEvent.objects.filter(worker=w.new[OWN]).first().pk])
    ),
    # The change feed, and its webhooks.
    ("GET", "/api/v1/subscriptions/"): lambda w, c: Call("get", reverse("subscription-list")),
    ("POST", "/api/v1/subscriptions/"): lambda w, c: Call(
        "post", reverse("subscription-list"), status=201, body={"url": RECEIVER, "region": OWN}
    ),
    ("GET", "/api/v1/subscriptions/{id}/"): lambda w, c: Call(
        "get", reverse("subscription-detail", args=[_subscription(c)])
    ),
    ("PUT", "/api/v1/subscriptions/{id}/"): lambda w, c: Call(
        "put", reverse("subscription-detail", args=[_subscription(c)]), body={"url": RECEIVER, "types": ["worker"]}
    ),
    ("PATCH", "/api/v1/subscriptions/{id}/"): lambda w, c: Call(
        "patch", reverse("subscription-detail", args=[_subscription(c)]), body={"active": False}
    ),
    ("DELETE", "/api/v1/subscriptions/{id}/"): lambda w, c: Call(
        "delete", reverse("subscription-detail", args=[_subscription(c)]), status=204
    ),
    ("POST", "/api/v1/subscriptions/{id}/rotate-secret/"): lambda w, c: Call(
        "post", reverse("subscription-rotate-secret", args=[_subscription(c)])
    ),
    ("POST", "/api/v1/subscriptions/{id}/replay/"): lambda w, c: Call(
        "post", reverse("subscription-replay", args=[_subscription(c)]), body={}
    ),
    ("GET", "/api/v1/subscriptions/{id}/deliveries/"): lambda w, c: Call(
        "get", reverse("subscription-deliveries", args=[_delivery(c)[0]])
    ),
    ("POST", "/api/v1/subscriptions/{id}/deliveries/{delivery_id}/resend/"): lambda w, c: Call(
        "post", reverse("subscription-resend", args=list(_delivery(c))), status=202
    ),
    # The change feed.
    ("GET", "/api/v1/changes/"): lambda w, c: Call("get", reverse("changes") + f"?region={OWN}&page_size=5"),
    ("GET", "/api/v1/audit/access-log/"): lambda w, c: Call("get", reverse("access-log-list")),
    ("GET", "/api/v1/audit/access-log/{id}/"): lambda w, c: Call(
        "get", reverse("access-log-detail", args=[_access_log_entry(w, c)])
    ),
}


def test_every_operation_of_the_schema_has_a_call():
    operations = contract.Contract(contract.served_schema()).operations

    assert sorted(CALLS) == operations


@pytest.mark.parametrize(("method", "template"), sorted(CALLS), ids=[f"{m} {t}" for m, t in sorted(CALLS)])
def test_operation_succeeds_and_is_checked_against_the_schema(client_for, world, method, template):
    admin = client_for(ADMIN)
    call = CALLS[(method, template)](world, admin)
    client = client_for(call.role)
    checker = contract.checker()
    seen = checker.contract.exercised[(method, template)][call.status] if checker else 0

    send = getattr(client, call.method)
    if call.method == "get":
        response = send(call.url, **call.headers)
    else:
        response = send(call.url, call.body, format="multipart" if call.multipart else "json", **call.headers)

    assert response.status_code == call.status, response.content[:500]
    if checker is not None:
        assert checker.contract.exercised[(method, template)][call.status] == seen + 1
