"""Conditional coverage requests (ETag / If-None-Match → 304) and the per-process answer cache:
an answer is reused only while nothing that could change it has been written."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from access.models import AccessProfile
from core.data_version import data_version
from tests.conftest import REGIONS
from villages.models import Province
from villages.services import regions_import

from .conftest import D

pytestmark = pytest.mark.django_db

PROVINCES = {"level": "province"}


def get(client, name="coverage-list", args=(), etag=None, **params):
    headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
    return client.get(reverse(name, args=args), params, **headers)


def by_code(response) -> dict[str, tuple[int, int]]:
    assert response.status_code == 200, response.content[:300]
    return {row["code"]: (row["serving"], row["protected"]) for row in response.json()["results"]}


def test_coverage_rows_answer_304_while_nothing_changed(admin_client, workers):
    workers.register("15.01.01.2001")
    first = get(admin_client, **PROVINCES)
    etag = first["ETag"]

    again = get(admin_client, etag=etag, **PROVINCES)

    assert first.status_code == 200
    assert etag.startswith('"')
    assert etag.endswith('"')
    assert first["Cache-Control"] == "private, no-cache"
    assert "Authorization" in first["Vary"]
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag


def test_weak_and_listed_etags_match_too(admin_client, workers):
    workers.register("15.01.01.2001")
    etag = get(admin_client, **PROVINCES)["ETag"]

    assert get(admin_client, etag=f'"other", W/{etag}', **PROVINCES).status_code == 304
    assert get(admin_client, etag='"something-else"', **PROVINCES).status_code == 200


def test_a_transition_changes_the_etag_and_the_figures(admin_client, workers, set_today):
    set_today(D(2024, 6, 1))
    worker = workers.register("15.01.01.2001")
    before = get(admin_client, **PROVINCES)

    workers.activate(worker, D(2024, 6, 1))
    after = get(admin_client, etag=before["ETag"], **PROVINCES)

    assert by_code(before)["15"] == (1, 0)
    assert after.status_code == 200
    assert by_code(after)["15"] == (1, 1)
    assert after["ETag"] != before["ETag"]


def test_a_token_request_reads_the_data_version_with_its_token(admin_user, workers, set_today):
    """The version read along with the token (access.authentication) still moves with writes."""
    set_today(D(2024, 6, 1))
    worker = workers.register("15.01.01.2001")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(admin_user)[1]}")
    before = get(client, **PROVINCES)

    again = get(client, etag=before["ETag"], **PROVINCES)
    workers.activate(worker, D(2024, 6, 1))
    after = get(client, etag=before["ETag"], **PROVINCES)

    assert again.status_code == 304
    assert after.status_code == 200
    assert by_code(before)["15"] == (1, 0)
    assert by_code(after)["15"] == (1, 1)


def test_every_kind_of_coverage_write_retires_cached_answers(admin_client, workers, set_today):
    set_today(D(2024, 6, 1))
    worker = workers.register("15.01.01.2001")
    seen = [get(admin_client, **PROVINCES)["ETag"]]

    workers.submit(worker, D(2024, 6, 1))
    seen.append(get(admin_client, **PROVINCES)["ETag"])
    admin_client.post(
        reverse("target-list"),
        {"kind": "village_apparatus", "year": 2024, "region_code": "15", "target_pct": "60.00"},
        format="json",
    )
    response = get(admin_client, **PROVINCES)
    seen.append(response["ETag"])
    regions_import(data=b"code,name\n16,Sumatera Selatan (baru)\n")
    renamed = get(admin_client, **PROVINCES)
    seen.append(renamed["ETag"])

    assert len(set(seen)) == len(seen)
    assert next(r for r in response.json()["results"] if r["code"] == "15")["target_pct"] == 60.0
    assert next(r for r in renamed.json()["results"] if r["code"] == "16")["name"] == "Sumatera Selatan (baru)"


def test_etag_depends_on_who_asks(admin_client, workers):
    workers.register("15.01.01.2001")
    user = get_user_model().objects.create_user("viewer-jambi", password="pw-viewer-123")
    AccessProfile.objects.create(user=user, role="viewer", province=Province.objects.get(code="15"))
    viewer = APIClient()
    viewer.force_authenticate(user)
    admin_etag = get(admin_client, **PROVINCES)["ETag"]

    answer = get(viewer, etag=admin_etag, **PROVINCES)

    assert answer.status_code == 200
    assert set(by_code(answer)) == {"15"}
    assert answer["ETag"] != admin_etag


def test_page_and_query_are_part_of_the_etag(admin_client, workers):
    workers.register("15.01.01.2001")
    etag = get(admin_client, **PROVINCES)["ETag"]

    assert get(admin_client, etag=etag, level="province", page_size=1).status_code == 200
    assert get(admin_client, etag=etag, level="regency").status_code == 200


def test_exports_are_not_conditional(admin_client, workers):
    workers.register("15.01.01.2001")
    response = get(admin_client, level="province", format="csv")

    assert response.status_code == 200
    assert "ETag" not in response
    assert get(admin_client, etag='"x"', level="province", format="csv").status_code == 200


def test_errors_carry_no_etag(admin_client, workers):
    response = get(admin_client, level="province", as_of="2999-01-01")

    assert response.status_code == 400
    assert "ETag" not in response


@pytest.mark.parametrize(
    ("name", "args", "params"),
    [
        ("coverage-detail", ["15.01"], {}),
        ("coverage-trend", ["15"], {"start": "2024-01-01", "end": "2024-03-31"}),
        ("coverage-unprotected-villages", [], {}),
    ],
)
def test_detail_trend_and_unprotected_villages_answer_304(admin_client, workers, name, args, params):
    workers.register("15.01.01.2001")
    first = get(admin_client, name, args, **params)

    assert first.status_code == 200
    assert get(admin_client, name, args, etag=first["ETag"], **params).status_code == 304


def test_a_repeated_request_is_answered_from_the_cache(admin_client, workers):
    for village in ("15.01.01.2001", "15.01.01.2002", "15.08.01.2001"):
        workers.register(village)
    first = by_code(get(admin_client, level="village", parent="15.01"))

    with CaptureQueriesContext(connection) as cold:
        get(admin_client, "coverage-detail", ["15.01"])
    with CaptureQueriesContext(connection) as warm:
        again = by_code(get(admin_client, level="village", parent="15.01"))

    assert again == first
    # Warm: the data version and the rate-limit count; nothing of the figures is recomputed.
    assert len(warm) <= 2 < len(cold)


def test_a_json_answer_is_sent_again_as_it_was_until_the_data_changes(admin_client, workers, set_today):
    set_today(D(2024, 6, 1))
    worker = workers.register("15.01.01.2001")
    workers.register("15.01.01.2002")
    first = get(admin_client, level="village", parent="15.01", page_size=1)

    with CaptureQueriesContext(connection) as warm:
        again = get(admin_client, level="village", parent="15.01", page_size=1)
    second_page = get(admin_client, level="village", parent="15.01", page_size=1, page=2)
    workers.activate(worker, D(2024, 6, 1))
    changed = get(admin_client, level="village", parent="15.01", page_size=1)

    assert again.content == first.content
    assert (again["ETag"], again["Content-Type"]) == (first["ETag"], first["Content-Type"])
    assert again["Cache-Control"] == "private, no-cache"
    assert "Accept" in again["Vary"]
    assert len(warm) <= 2  # the data version and the rate-limit count
    assert second_page.json()["results"][0]["code"] == "15.01.01.2002"
    assert changed.content != first.content
    assert changed.json()["results"][0]["protected"] == 1


def test_a_kept_answer_names_the_host_it_was_asked_on(admin_client, workers):
    for village in ("15.01.01.2001", "15.01.01.2002"):
        workers.register(village)

    testserver = get(admin_client, level="village", parent="15.01", page_size=1).json()["next"]
    localhost = admin_client.get(
        reverse("coverage-list"), {"level": "village", "parent": "15.01", "page_size": 1}, HTTP_HOST="localhost"
    ).json()["next"]

    assert testserver.startswith("http://testserver/")
    assert localhost.startswith("http://localhost/")


def test_etag_depends_on_the_language_asked_for(admin_client, workers):
    workers.register("15.01.01.2001")
    indonesian = admin_client.get(reverse("coverage-list"), PROVINCES, HTTP_ACCEPT_LANGUAGE="id")
    english = admin_client.get(
        reverse("coverage-list"), PROVINCES, HTTP_ACCEPT_LANGUAGE="en", HTTP_IF_NONE_MATCH=indonesian["ETag"]
    )

    assert english.status_code == 200
    assert english["ETag"] != indonesian["ETag"]
    assert english["Content-Language"] == "en"


def test_a_kept_answer_is_not_served_as_a_file_or_to_the_browsable_api(admin_client, workers):
    workers.register("15.01.01.2001")
    get(admin_client, **PROVINCES)

    csv = get(admin_client, level="province", format="csv")
    browsable = admin_client.get(reverse("coverage-list"), PROVINCES, HTTP_ACCEPT="text/html")

    assert csv["Content-Type"].startswith("text/csv")
    assert browsable["Content-Type"].startswith("text/html")


@pytest.mark.django_db(transaction=True)
def test_data_version_moves_on_after_the_write_commits():
    from enrollment.services import Actor, worker_register
    from villages.models import Village

    regions_import(data=REGIONS)
    village = Village.objects.get(code="15.01.01.2001")
    start = data_version()
    with transaction.atomic():
        worker_register(
            actor=Actor.system(),
            village=village,
            nik="1501011705800001",
            full_name="Budi Santoso",
            sex="male",
            birth_date=D(1980, 5, 17),
            institution="pemerintah_desa",
            position="staf",
            term_start=D(2024, 1, 1),
            wage_basis="siltap",
        )
        inside = data_version()
    after = data_version()

    assert inside > start  # a reader of this transaction's own writes sees a new version
    assert after > inside  # and the commit retires whatever was cached under it meanwhile


# --- answers kept per province ----------------------------------------------------------------

REGIONAL_ANSWERS = [
    ("coverage-list", (), {"level": "village", "parent": "15.01"}),
    ("coverage-list", (), {"level": "regency", "parent": "15"}),
    ("coverage-detail", ("15.01",), {}),
    ("coverage-trend", ("15.01",), {"start": "2024-01-01", "end": "2024-06-01", "interval": "month"}),
    ("coverage-geo", (), {"level": "village", "parent": "15.01"}),
]


@pytest.mark.parametrize(("name", "args", "params"), REGIONAL_ANSWERS)
def test_a_write_in_another_province_leaves_a_provinces_answers_good(
    admin_client, workers, set_today, name, args, params
):
    """Jambi's answers are filed under Jambi's version: a transition in Sumatera Selatan leaves
    them good (304 on their ETag); one in Jambi retires them; the country's rows move on with
    either."""
    set_today(D(2024, 6, 1))
    jambi = workers.register("15.01.01.2001")
    elsewhere = workers.register("16.01.01.2001")
    regional = get(admin_client, name, args, **params)
    national = get(admin_client, **PROVINCES)
    assert regional.status_code == 200

    workers.activate(elsewhere, D(2024, 6, 1))

    assert get(admin_client, name, args, etag=regional["ETag"], **params).status_code == 304
    moved = get(admin_client, etag=national["ETag"], **PROVINCES)
    assert moved.status_code == 200
    assert by_code(moved)["16"] == (1, 1)

    workers.activate(jambi, D(2024, 6, 1))

    assert get(admin_client, name, args, etag=regional["ETag"], **params).status_code == 200


def test_a_province_ranked_among_all_is_retired_by_a_write_anywhere(admin_client, workers, set_today):
    """A province's detail ranks it among every province: a write in any of them retires it."""
    set_today(D(2024, 6, 1))
    workers.register("15.01.01.2001")
    elsewhere = workers.register("16.01.01.2001")
    before = get(admin_client, "coverage-detail", ("15",))

    workers.activate(elsewhere, D(2024, 6, 1))
    after = get(admin_client, "coverage-detail", ("15",), etag=before["ETag"])

    assert after.status_code == 200
    assert (before.json()["rank"], after.json()["rank"]) == (1, 2)


def test_a_worker_moving_between_provinces_retires_both(admin_client, workers, set_today):
    from enrollment import services
    from villages.models import Village

    set_today(D(2024, 6, 1))
    worker = workers.register("15.01.01.2001")
    jambi = get(admin_client, level="village", parent="15.01")
    sumsel = get(admin_client, level="village", parent="16.01")

    services.worker_update(
        actor=services.Actor(),
        worker_id=worker.pk,
        changes={"village": Village.objects.get(code="16.01.01.2001")},
        expected_version=None,
    )

    assert get(admin_client, etag=jambi["ETag"], level="village", parent="15.01").status_code == 200
    assert by_code(get(admin_client, etag=sumsel["ETag"], level="village", parent="16.01"))["16.01.01.2001"] == (1, 0)


def test_a_change_of_regions_targets_or_branches_retires_every_provinces_answers(admin_client, workers, set_today):
    set_today(D(2024, 6, 1))
    workers.register("15.01.01.2001")
    before = get(admin_client, level="village", parent="15.01")

    admin_client.post(
        reverse("target-list"),
        {"kind": "village_apparatus", "year": 2024, "region_code": "16", "target_pct": "60.00"},
        format="json",
    )

    assert get(admin_client, etag=before["ETag"], level="village", parent="15.01").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_region_versions_move_after_the_commit_and_only_for_the_provinces_written(workers, set_today):
    """Outside a test's transaction: the versions move when the write commits, the written
    province's and the country's, not the others'; a rolled-back write moves nothing."""
    from core.data_version import versions

    set_today(D(2024, 6, 1))
    jambi = workers.register("15.01.01.2001")
    elsewhere = workers.register("16.01.01.2001")
    before = versions()

    workers.activate(elsewhere, D(2024, 6, 1))
    after = versions()

    assert after.data > before.data
    assert after.of("16.01") != before.of("16.01")
    assert after.of("15.01") == before.of("15.01")

    def rolled_back() -> None:
        with transaction.atomic():
            workers.activate(jambi, D(2024, 6, 1))
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        rolled_back()
    assert versions().of("15.01") == after.of("15.01")


def test_regions_and_targets_are_read_again_only_when_they_change(admin_client, workers, set_today):
    """A worker's write moves the figures, not the regions or targets: the next answer reads the
    figures alone (coverage.selectors.kept); a change of a target reads them again."""
    set_today(D(2024, 6, 1))
    worker = workers.register("15.01.01.2001")
    get(admin_client, level="village", parent="15.01")

    def tables_read() -> set[str]:
        with CaptureQueriesContext(connection) as queries:
            assert get(admin_client, level="village", parent="15.01").status_code == 200
        sql = " ".join(q["sql"] for q in queries.captured_queries)
        return {table for table in ("villages_village", "coverage_target", "coverage_villagetotals") if table in sql}

    workers.activate(worker, D(2024, 6, 1))
    after_a_write = tables_read()
    admin_client.post(
        reverse("target-list"),
        {"kind": "village_apparatus", "year": 2024, "region_code": "15.01", "target_pct": "60.00"},
        format="json",
    )
    after_a_target = tables_read()

    assert after_a_write == {"coverage_villagetotals"}
    assert after_a_target == {"villages_village", "coverage_target", "coverage_villagetotals"}


@pytest.mark.parametrize("as_token", [False, True])
def test_with_the_answer_cache_off_each_page_of_villages_shows_the_last_write(
    admin_client, admin_user, workers, set_today, monkeypatch, as_token
):
    """With nothing kept (`UCJ_COVERAGE_CACHE_SECONDS=0`) the figures are read on every request,
    and the page's text, kept while they read the same (coverage.selectors.rows.RegionRows.kept),
    is written again once a write changed them: never the page before the write."""
    from django.core.cache import caches

    monkeypatch.setattr(caches["coverage"], "default_timeout", 0)
    set_today(D(2024, 6, 1))
    client = admin_client
    if as_token:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(admin_user)[1]}")
    worker = workers.register("15.01.01.2001")
    villages = {"level": "village", "parent": "15.01"}

    before = get(client, **villages)
    again = get(client, **villages)
    workers.activate(worker, D(2024, 6, 1))
    after = get(client, **villages)
    workers.register("15.01.01.2002")
    last = get(client, **villages)

    assert by_code(before)["15.01.01.2001"] == (1, 0)
    assert again.content == before.content
    assert by_code(after)["15.01.01.2001"] == (1, 1)
    assert by_code(last)["15.01.01.2001"] == (1, 1)
    assert by_code(last)["15.01.01.2002"] == (1, 0)
