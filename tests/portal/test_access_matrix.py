"""Every portal page for every kind of caller, with the exact status: login for a visitor, 403 for
an account without the capability, 404 for a region outside the caller's scope, 200 otherwise.
The 403 and 404 pages speak the portal's language, not the browser's."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from access.models import AccessProfile
from villages.models import BranchOffice, Province, Regency

from .test_pages import PASSWORD, log_in

pytestmark = pytest.mark.django_db

CALLERS = ("visitor", "no_profile", "admin", "province_officer", "regency_officer", "branch_officer", "viewer")
# page -> (url, caller -> status); the callers in the order of CALLERS.
PAGES = {
    "home": (reverse("portal:home"), (302, 200, 200, 200, 200, 200, 200)),
    "province": (reverse("portal:coverage", args=["15"]), (302, 403, 200, 200, 404, 404, 200)),
    "kerinci": (reverse("portal:coverage", args=["15.01"]), (302, 403, 200, 200, 200, 404, 200)),
    "bungo": (reverse("portal:coverage", args=["15.08"]), (302, 403, 200, 200, 404, 200, 200)),
    "worklist": (reverse("portal:unprotected"), (302, 403, 200, 200, 200, 200, 200)),
    # Worker worklists need the API's worker-list capability (read_workers): not the viewer's.
    "activation_queue": (reverse("portal:activation_queue"), (302, 403, 200, 200, 200, 200, 403)),
    "renewals": (reverse("portal:renewals") + "?jenis=lewat", (302, 403, 200, 200, 200, 200, 403)),
    "terms_ended": (reverse("portal:terms_ended"), (302, 403, 200, 200, 200, 200, 403)),
    "imports": (reverse("portal:imports"), (302, 403, 200, 200, 200, 403, 403)),
    # No import has this id: the capability is checked first (403), then the import (404).
    "import": (reverse("portal:import", args=[999_999]), (302, 403, 404, 404, 404, 403, 403)),
    # An import running as a background job, and its progress bar: the same (no job has this id).
    "import-job": (reverse("portal:import-job", args=[999_999]), (302, 403, 404, 404, 404, 403, 403)),
    "import-job-progress": (
        reverse("portal:import-job-progress", args=[999_999]),
        (302, 403, 404, 404, 404, 403, 403),
    ),
    "workers": (reverse("portal:workers"), (302, 403, 200, 200, 200, 200, 403)),
    "worker_new": (reverse("portal:worker_new"), (302, 403, 200, 200, 200, 403, 403)),
    "village_options": (reverse("portal:village_options"), (302, 403, 200, 200, 200, 403, 403)),
    "recap-kerinci": (reverse("portal:recap", args=["15.01"]), (302, 403, 200, 200, 200, 404, 200)),
    "recap-bungo": (reverse("portal:recap", args=["15.08"]), (302, 403, 200, 200, 404, 200, 200)),
    "reconciliations": (reverse("portal:reconciliations"), (302, 403, 200, 200, 403, 200, 403)),
    # No reconciliation has this id: the capability is checked first (403), then the record (404).
    "reconciliation": (reverse("portal:reconciliation", args=[999_999]), (302, 403, 404, 404, 403, 404, 403)),
    "coverage-xlsx": (reverse("portal:coverage", args=["15.01"]) + "?unduh=xlsx", (302, 403, 200, 200, 200, 404, 403)),
}


def caller(kind: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if kind == "visitor":
        return client
    if kind == "admin":
        get_user_model().objects.create_superuser(kind, "a@example.id", PASSWORD)
    else:
        user = get_user_model().objects.create_user(kind, password=PASSWORD)
        region = {
            "province_officer": {"province": Province.objects.get(code="15")},
            "viewer": {"province": Province.objects.get(code="15")},
            "regency_officer": {"regency": Regency.objects.get(code="15.01")},
            "branch_officer": {"branch": BranchOffice.objects.get(code="muara-bungo")},
        }.get(kind)
        if region is not None:
            AccessProfile.objects.create(user=user, role=kind, **region)
    log_in(client, kind)
    return client


@pytest.mark.parametrize("kind", CALLERS)
def test_every_page_for_every_caller(regions, kind):
    client = caller(kind)
    expected = {page: statuses[CALLERS.index(kind)] for page, (_url, statuses) in PAGES.items()}

    answered = {page: client.get(url).status_code for page, (url, _statuses) in PAGES.items()}

    assert answered == expected


def test_the_refusal_pages_speak_indonesian(regions):
    officer = caller("regency_officer")
    nobody = caller("no_profile")

    not_found = officer.get(PAGES["bungo"][0])
    not_allowed = nobody.get(PAGES["kerinci"][0])

    assert not_found.status_code == 404
    assert "Tidak ditemukan" in not_found.content.decode()
    assert not_allowed.status_code == 403
    assert "Tidak diizinkan" in not_allowed.content.decode()


def test_pages_count_against_the_users_rate_as_its_api_session_does(regions):
    officer = caller("regency_officer")
    AccessProfile.objects.filter(user__username="regency_officer").update(rate_limit=2)

    statuses = [officer.get(PAGES["home"][0]).status_code for _ in range(3)]
    refused = officer.get(PAGES["kerinci"][0])

    assert statuses == [200, 200, 429]
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert "Terlalu banyak permintaan" in refused.content.decode()


# A worker's pages, for a worker of Kerinci (15.01): url name -> caller -> status (CALLERS' order).
WORKER_PAGES = {
    "worker": (302, 403, 200, 200, 200, 404, 403),
    "worker_edit": (302, 403, 200, 200, 200, 403, 403),
}


@pytest.mark.parametrize("kind", CALLERS)
def test_every_worker_page_for_every_caller(regions, kind):
    from tests.enrollment.factories import WorkerFactory

    worker = WorkerFactory()  # in Kerinci: outside the branch's territory
    client = caller(kind)
    expected = {name: statuses[CALLERS.index(kind)] for name, statuses in WORKER_PAGES.items()}

    answered = {name: client.get(reverse(f"portal:{name}", args=[worker.pk])).status_code for name in WORKER_PAGES}

    assert answered == expected
