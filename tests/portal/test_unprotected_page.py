"""The worklist of villages with unprotected workers: the caller's regions only (a branch's
territory), most unprotected first, as the API lists them, counted and paged."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.enrollment.factories import OTHER_REGENCY_VILLAGE, VILLAGE, WorkerFactory, bring_to, village
from villages.models import BranchOffice

from .test_pages import log_in, make_user

pytestmark = pytest.mark.django_db

URL = reverse("portal:unprotected")


@pytest.fixture
def workers(regions):
    for code, statuses in ((VILLAGE, ("submitted", "active")), (OTHER_REGENCY_VILLAGE, ("submitted", "submitted"))):
        for status in statuses:
            bring_to(WorkerFactory(village=village(code)), status)


def codes(html: str) -> list[str]:
    return re.findall(r'<tr data-code="([^"]+)">', html)


def client_of(username: str) -> Client:
    client = Client()
    log_in(client, username)
    return client


def test_a_branch_clerk_sees_its_territory_most_unprotected_first(regions, workers, admin_client):
    make_user("bpjs.bungo", "branch_officer", branch=BranchOffice.objects.get(code="muara-bungo"))

    response = client_of("bpjs.bungo").get(URL)
    api = admin_client.get(reverse("coverage-unprotected-villages"), {"branch": "muara-bungo"}).json()

    assert response.status_code == 200
    assert codes(response.text) == [row["code"] for row in api["results"]] == [OTHER_REGENCY_VILLAGE]
    assert "1 desa dengan pekerja belum terlindungi" in response.text


def test_an_administrator_sees_every_village_in_order_and_can_narrow_to_a_regency(regions, workers, admin_user):
    client = Client()
    log_in(client, "admin", "pw-admin-123")

    everything = client.get(URL)
    kerinci = client.get(URL, {"kabupaten": "15.01"})

    assert everything.status_code == kerinci.status_code == 200
    assert codes(everything.text) == [OTHER_REGENCY_VILLAGE, VILLAGE]  # 2 unprotected, then 1
    assert codes(kerinci.text) == [VILLAGE]


def test_a_regency_outside_the_callers_scope_is_ignored_not_shown(regions, workers):
    from villages.models import Regency

    make_user("pmd.kerinci", "regency_officer", regency=Regency.objects.get(code="15.01"))

    response = client_of("pmd.kerinci").get(URL, {"kabupaten": "15.08"})

    assert response.status_code == 200
    assert codes(response.text) == [VILLAGE]


def test_the_list_is_paged_by_fifty(regions, admin_user, monkeypatch):
    import portal.views.worklists

    monkeypatch.setattr(portal.views.worklists, "PAGE_SIZE", 1)
    for code in (VILLAGE, OTHER_REGENCY_VILLAGE):
        WorkerFactory(village=village(code))
    client = Client()
    log_in(client, "admin", "pw-admin-123")

    first, second = client.get(URL), client.get(URL, {"halaman": 2})

    assert first.status_code == second.status_code == 200
    assert len(codes(first.text)) == len(codes(second.text)) == 1
    assert codes(first.text) != codes(second.text)
    assert 'rel="next"' in first.text
    assert 'rel="prev"' in second.text
