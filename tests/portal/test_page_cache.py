"""The portal's figures come from the same process cache as the API's answers, under the same
data version: asked again, a page computes nothing; after a write it shows the new figures; and
one caller's regions never answer for another's."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.enrollment.factories import OTHER_REGENCY_VILLAGE, VILLAGE, WorkerFactory, bring_to, village
from villages.models import Province, Regency

from .test_pages import make_user
from .test_unprotected_page import client_of

pytestmark = pytest.mark.django_db


def protected(html: str, code: str) -> str:
    section = html.split(f'data-code="{code}"', 1)[1]
    return re.search(r'class="protected">([^<]*)<', section).group(1)


@pytest.fixture
def officers(regions):
    make_user("pmd.kerinci", "regency_officer", regency=Regency.objects.get(code="15.01"))
    make_user("pmd.bungo", "regency_officer", regency=Regency.objects.get(code="15.08"))
    bring_to(WorkerFactory(village=village(VILLAGE)), "active")
    for _ in range(2):
        bring_to(WorkerFactory(village=village(OTHER_REGENCY_VILLAGE)), "active")


@pytest.mark.parametrize("url", [reverse("portal:home"), reverse("portal:coverage", args=["15.01"])])
def test_asked_again_a_page_reads_its_figures_from_the_cache(officers, url):
    client = client_of("pmd.kerinci")
    client.get(url)

    with CaptureQueriesContext(connection) as first_again:
        again = client.get(url)
    from django.core.cache import caches

    caches["coverage"].clear()
    with CaptureQueriesContext(connection) as computed:
        fresh = client.get(url)

    assert again.status_code == fresh.status_code == 200
    assert len(first_again) < len(computed)
    versions = [q["sql"] for q in first_again if "data_version" in q["sql"] or "dataversion" in q["sql"]]
    figures = [q["sql"] for q in first_again if "coverage" in q["sql"] and q["sql"] not in versions]
    assert figures == []
    assert len(versions) == 1  # read once, before anything else of the request


def test_after_a_write_the_home_page_shows_the_new_figures(officers):
    client = client_of("pmd.kerinci")
    before = protected(client.get(reverse("portal:home")).text, "15.01")

    bring_to(WorkerFactory(village=village(VILLAGE)), "active")
    after = protected(client.get(reverse("portal:home")).text, "15.01")

    assert (before, after) == ("1", "2")


def test_one_callers_cached_figures_never_answer_for_another(officers):
    kerinci = client_of("pmd.kerinci").get(reverse("portal:home")).text
    bungo = client_of("pmd.bungo").get(reverse("portal:home")).text

    assert 'data-code="15.08"' not in kerinci
    assert 'data-code="15.01"' not in bungo
    assert protected(kerinci, "15.01") == "1"
    assert protected(bungo, "15.08") == "2"


def test_after_a_write_the_drill_down_shows_the_new_figures(officers):
    client = client_of("pmd.kerinci")
    url = reverse("portal:coverage", args=["15.01"])
    district = VILLAGE.rsplit(".", 1)[0]

    def row_protected() -> str:
        html = client.get(url).text
        row = html.split(f'<tr data-code="{district}">', 1)[1].split("</tr>", 1)[0]
        return re.findall(r"<td>(?:<a [^>]*>)?([^<]*)(?:</a>)?</td>", row)[1]  # a number may link to workers

    before = row_protected()
    bring_to(WorkerFactory(village=village(VILLAGE)), "active")
    after = row_protected()

    assert (before, after) == ("1", "2")


@pytest.mark.parametrize("seconds", [0])
def test_with_the_cache_off_nothing_is_kept(officers, settings, seconds):
    settings.CACHES = {**settings.CACHES, "coverage": {**settings.CACHES["coverage"], "TIMEOUT": seconds}}
    from django.core.cache import caches

    client = client_of("pmd.kerinci")
    client.get(reverse("portal:coverage", args=["15.01"]))

    cache = caches["coverage"]
    stored = [key.split(":", 2)[2] for key in cache._cache]  # noqa: SLF001 (the local-memory cache's own store)
    # Figures, rows, trend and the page are not even offered to it; a template's {% cache %}
    # offers its part, which is not kept.
    assert [key.split(".")[:2] for key in stored] == [["template", "cache"]]
    assert [cache.get(key) for key in stored] == [None] * len(stored)


def test_a_callers_regions_are_read_once_and_a_branchs_new_territory_applies_at_once(regions):
    from villages.models import BranchOffice

    branch = BranchOffice.objects.get(code="muara-bungo")
    make_user("bpjs.bungo", "branch_officer", branch=branch)
    bring_to(WorkerFactory(village=village(VILLAGE)), "submitted")  # Kerinci: not the branch's
    client = client_of("bpjs.bungo")
    url = reverse("portal:unprotected")
    client.get(url)

    with CaptureQueriesContext(connection) as again:
        before = client.get(url).text
    branch.regencies.add(Regency.objects.get(code="15.01"))
    after = client.get(url).text

    assert not [q for q in again if "villages_branchoffice" in q["sql"]]  # the territory, kept
    assert f'data-code="{VILLAGE}"' not in before
    assert f'data-code="{VILLAGE}"' in after


def test_a_kept_page_is_its_callers_with_its_own_working_csrf_token(officers):
    from django.test import Client

    from .test_pages import PASSWORD

    client = Client(enforce_csrf_checks=True)
    client.get(reverse("portal:login"))
    login = {"username": "pmd.kerinci", "password": PASSWORD, "csrfmiddlewaretoken": client.cookies["csrftoken"].value}
    client.post(reverse("portal:login"), login)
    first = client.get(reverse("portal:home")).text
    kept = client.get(reverse("portal:home")).text
    other = client_of("pmd.bungo").get(reverse("portal:home")).text
    tokens = [re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1) for page in (first, kept)]

    switched = client.post(reverse("portal:language"), {"language": "en", "csrfmiddlewaretoken": tokens[1]})

    assert tokens[0] != tokens[1]  # each answer its own (masked) token
    assert "\x00" not in kept
    assert switched.status_code == 302  # the kept page's token is accepted
    assert ">pmd.kerinci<" in kept
    assert ">pmd.bungo<" in other


def test_a_page_with_a_message_is_not_answered_from_a_kept_one(officers):
    from django.contrib import messages
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.http import HttpResponse
    from django.test import RequestFactory

    client = client_of("pmd.kerinci")
    client.get(reverse("portal:home"))
    storage = CookieStorage(RequestFactory().get("/"))
    storage.add(messages.INFO, "Pesan untuk petugas")
    carrier = HttpResponse()
    storage.update(carrier)
    client.cookies["messages"] = carrier.cookies["messages"].value

    shown = client.get(reverse("portal:home")).text

    assert "Pesan untuk petugas" in shown


@pytest.mark.parametrize(
    ("username", "url", "kept"),
    [
        # A regency officer's pages are about its province's regions: kept through a write elsewhere.
        ("pmd.kerinci", reverse("portal:home"), True),
        ("pmd.kerinci", reverse("portal:coverage", args=["15.01"]), True),
        ("pmd.kerinci", reverse("portal:coverage", args=["15.01.01"]), True),
        # A province's page ranks it among every province: any write retires it.
        ("pmd.jambi", reverse("portal:coverage", args=["15"]), False),
        ("pmd.jambi", reverse("portal:home"), False),
    ],
)
def test_a_write_in_another_province_leaves_a_page_about_one_province_kept(officers, username, url, kept):
    """A page's figures are kept under its province's version when it is about one province's
    regions (coverage.caching.page_about): a write in Sumatera Selatan does not retire them, a
    write in Jambi does."""
    make_user("pmd.jambi", "province_officer", province=Province.objects.get(code="15"))
    client = client_of(username)
    client.get(url)

    bring_to(WorkerFactory(village=village("16.01.01.2001")), "active")
    with CaptureQueriesContext(connection) as after_elsewhere:
        elsewhere = client.get(url)
    bring_to(WorkerFactory(village=village(VILLAGE)), "active")
    with CaptureQueriesContext(connection) as after_here:
        here = client.get(url)

    assert elsewhere.status_code == here.status_code == 200
    assert (len(after_elsewhere) < len(after_here)) == kept
    assert len(after_here) > 2  # computed again: the figures moved
