"""The change feed (/api/v1/changes/) through real HTTP: a scripted day of work replayed by an
integrator equals what the worker list shows; scope, masking, the access log, cursors, types."""

from __future__ import annotations

import base64
import datetime
import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from rest_framework.test import APIClient

from access.models import AccessLog, AccessProfile
from enrollment import services
from enrollment.models import EnrollmentEvent
from enrollment.region_changes import region_changes_apply
from tests.access.conftest import worker_payload
from tests.helpers import today
from villages.models import Province, Regency

FEED = reverse("changes")
KERINCI = "15.01"
BUNGO = "15.08"
WORKER_FIELDS = services.WORKER_FIELDS  # what a worker is registered with, and its changes name


def _payload(village: str, serial: int, **overrides) -> dict:
    return worker_payload(village, serial=serial, **overrides)


def _activation(kpj: str) -> dict:
    return {
        "kpj_number": kpj,
        "scheme": "bpu",
        "programs": ["jkk", "jkm"],
        "funding_source": "apbdes",
        "coverage_start": (today() - datetime.timedelta(days=30)).isoformat(),
        "paid_until": (today() + datetime.timedelta(days=60)).isoformat(),
    }


def _user(role: str, *, regency: str | None = None, province=None, personal_data: bool = False) -> APIClient:
    user = get_user_model().objects.create_user(f"{role}-{regency}-{personal_data}", password="x-Passw0rd!")
    AccessProfile.objects.create(
        user=user, role=role, regency=Regency.objects.get(code=regency) if regency else None, province=province
    )
    if personal_data:
        user.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    client = APIClient()
    client.force_authenticate(user)
    client.user = user
    return client


def _post(client: APIClient, url: str, body: dict, status: int = 200) -> dict:
    response = client.post(url, body, format="json")
    assert response.status_code == status, response.content[:500]
    return response.json()


def _patch(client: APIClient, worker: dict, body: dict) -> dict:
    url = reverse("worker-detail", args=[worker["id"]])
    response = client.patch(url, body, format="json", HTTP_IF_MATCH=f'"{worker["version"]}"')
    assert response.status_code == 200, response.content[:500]
    return response.json()


def _action(client: APIClient, worker_id: int, name: str, body: dict | None = None) -> dict:
    return _post(client, reverse(f"worker-{name}", args=[worker_id]), body or {})


def _import(client: APIClient, rows: list[dict]) -> None:
    columns = ["village_code", *[c for c in rows[0] if c != "village"]]
    lines = [",".join(columns)]
    lines += [",".join(str(row["village"] if c == "village_code" else row[c]) for c in columns) for row in rows]
    file = io.BytesIO(("\n".join(lines) + "\n").encode())
    file.name = "workers.csv"
    response = client.post(reverse("import-workers"), {"file": file}, format="multipart")
    assert response.status_code == 201, response.content[:800]
    assert response.json()["created"] == len(rows)


def _day_of_work(client: APIClient) -> dict[str, int]:
    """Register, edit, move, submit, activate, renew, lapse, end, import: a day at the office."""
    a = _post(client, reverse("worker-list"), _payload("15.01.01.2001", 5001), 201)
    b = _post(client, reverse("worker-list"), _payload("15.01.02.2001", 5002), 201)
    c = _post(client, reverse("worker-list"), _payload("15.08.01.2001", 5003), 201)
    a = _patch(client, a, {"full_name": "Siti Aminah Baru", "phone": "081298765432"})
    b = _patch(client, b, {"village": "15.08.01.2001"})  # moved to Bungo
    _action(client, a["id"], "submit")
    _action(client, a["id"], "activate", _activation("24000000001"))
    _action(client, a["id"], "renew", {"paid_until": (today() + datetime.timedelta(days=120)).isoformat()})
    _action(client, a["id"], "lapse")
    _action(client, c["id"], "submit")
    _action(client, c["id"], "activate", _activation("24000000002"))
    _action(client, c["id"], "end-service")
    _import(client, [_payload("15.01.01.2002", 5004), _payload("15.08.01.1001", 5005)])
    return {"a": a["id"], "b": b["id"], "c": c["id"]}


def _pages(client: APIClient, url: str) -> list[dict]:
    """Every page from `url` on, following `next` until one says up to date."""
    pages: list[dict] = []
    for _ in range(1000):
        response = client.get(url)
        assert response.status_code == 200, response.content[:500]
        pages.append(response.json())
        if pages[-1]["up_to_date"]:
            return pages
        url = pages[-1]["next"]
    raise AssertionError("the feed never said it was up to date")


def _read_feed(client: APIClient, query: str = "", page_size: int = 3) -> tuple[list[dict], dict]:
    """Every change after the beginning, paging on with `next` until up to date."""
    pages = _pages(client, f"{FEED}?page_size={page_size}{query}")
    return [change for page in pages for change in page["results"]], pages[-1]


def _listed(client: APIClient, query: str = "") -> dict[int, dict]:
    response = client.get(f"{reverse('worker-list')}?page_size=100{query}")
    assert response.status_code == 200
    return {row["id"]: row for row in response.json()["results"]}


def _replayed(changes: list[dict]) -> dict[int, dict]:
    """What an integrator keeps: the last state of each worker, and none of those that left."""
    state: dict[int, dict] = {}
    for change in changes:
        if change["worker"] is None:
            state.pop(change["worker_id"], None)
        else:
            state[change["worker_id"]] = change["worker"]
    return state


def _rebuilt_from_history(changes: list[dict]) -> dict[int, dict]:
    """The workers' fields and enrollment status rebuilt from the changes alone (their `[old, new]`
    values and transitions), without reading the `worker` the feed attaches."""
    state: dict[int, dict] = {}
    for change in changes:
        worker = state.setdefault(change["worker_id"], {"term_end": None, "phone": ""})
        if change["kind"] != "registered":
            assert worker["status"] == change["from_status"]
        worker["status"] = change["to_status"]
        for name, (old, new) in change["changes"].items():
            if name in WORKER_FIELDS:
                if change["kind"] != "registered":
                    assert worker.get(name) == old, (change, name)
                worker[name] = new
    return state


def test_replay_from_the_beginning_equals_the_worker_list(regions, admin_client):
    _day_of_work(admin_client)

    changes, _last = _read_feed(admin_client)

    listed = _listed(admin_client)
    assert len(listed) == 5
    assert _replayed(changes) == listed
    rebuilt = _rebuilt_from_history(changes)
    assert sorted(rebuilt) == sorted(listed)
    for worker_id, row in listed.items():
        assert {name: rebuilt[worker_id][name] for name in WORKER_FIELDS} == {name: row[name] for name in WORKER_FIELDS}
        assert rebuilt[worker_id]["status"] == row["enrollment"]["status"]
    # Every change once, in order: 3 registered, 2 edits, 4 + 3 transitions, 2 imported.
    assert len(changes) == 14
    assert len({change["cursor"] for change in changes}) == 14


def test_replay_of_one_regency_follows_a_worker_that_moved_out(regions, admin_client):
    ids = _day_of_work(admin_client)
    officer = _user("regency_officer", regency=KERINCI)

    changes, _last = _read_feed(officer)

    # Worker b was registered in Kerinci and moved to Bungo: the officer sees the move (its
    # worker null: forget it) and none of b's earlier changes (b is not theirs any more).
    of_b = [change for change in changes if change["worker_id"] == ids["b"]]
    assert [(c["kind"], c["worker"]) for c in of_b] == [("updated", None)]
    assert of_b[0]["changes"] == {"village": ["15.01.02.2001", "15.08.01.2001"]}
    assert of_b[0]["regions"] == ["15.01.02.2001", "15.01.02", KERINCI]  # theirs only: not Bungo, not Jambi
    assert {change["worker_id"] for change in changes} == {ids["a"], ids["b"], *_listed(officer)}
    assert _replayed(changes) == _listed(officer)


def test_a_reader_that_kept_its_cursor_learns_of_the_move_out(regions, admin_client):
    worker = _post(admin_client, reverse("worker-list"), _payload("15.01.01.2001", 5001), 201)
    officer = _user("regency_officer", regency=KERINCI)
    seen, first = _read_feed(officer)
    assert _replayed(seen) == _listed(officer)
    assert len(_listed(officer)) == 1

    _patch(admin_client, worker, {"village": "15.08.01.2001"})
    later, _last = _read_feed(officer, f"&after={first['cursor']}")

    assert [(c["kind"], c["worker_id"], c["worker"]) for c in later] == [("updated", worker["id"], None)]
    assert _replayed(seen + later) == _listed(officer) == {}


def test_a_region_outside_the_callers_is_not_found(regions, admin_client):
    _day_of_work(admin_client)
    officer = _user("regency_officer", regency=KERINCI)

    response = officer.get(f"{FEED}?region={BUNGO}")

    assert response.status_code == 404
    assert response.json()["errors"][0]["attr"] == "region"


def test_a_region_narrows_the_feed_to_its_workers(regions, admin_client):
    ids = _day_of_work(admin_client)

    changes, _last = _read_feed(admin_client, f"&region={BUNGO}")

    assert _replayed(changes) == _listed(admin_client, f"&regency={BUNGO}")
    undotted, _last = _read_feed(admin_client, "&region=1508")  # the code as other systems write it
    assert undotted == changes
    # b's move into Bungo brings b whole: the worker as it is now.
    move = next(c for c in changes if c["worker_id"] == ids["b"] and c["kind"] == "updated")
    assert move["worker"]["village"] == "15.08.01.2001"
    assert move["worker"]["full_name"] == "Siti Aminah 5002"


def test_personal_data_is_masked_without_the_right_and_nothing_logged(regions, admin_client):
    ids = _day_of_work(admin_client)
    officer = _user("regency_officer", regency=KERINCI)
    logged = AccessLog.objects.count()

    changes, _last = _read_feed(officer)

    registered = next(c for c in changes if c["worker_id"] == ids["a"] and c["kind"] == "registered")
    assert registered["changes"]["nik"] == [None, "***"]
    assert registered["changes"]["birth_date"] == [None, "***"]
    assert registered["changes"]["phone"] == [None, "***"]
    assert registered["changes"]["full_name"] == [None, "Siti Aminah 5001"]
    edited = next(c for c in changes if c["worker_id"] == ids["a"] and c["kind"] == "updated")
    assert edited["changes"]["phone"] == ["***", "***"]
    assert registered["worker"]["nik"] != _payload("", 5001)["nik"]
    assert registered["worker"]["nik"] == _listed(officer)[ids["a"]]["nik"]  # masked as the list masks it
    assert registered["worker"]["birth_date"] == _listed(officer)[ids["a"]]["birth_date"]
    body = str(changes)
    assert _payload("", 5001)["nik"] not in body
    assert "081298765432" not in body
    assert AccessLog.objects.count() == logged


def test_personal_data_in_full_is_written_to_the_access_log(regions, admin_client):
    ids = _day_of_work(admin_client)
    officer = _user("regency_officer", regency=KERINCI, personal_data=True)

    response = officer.get(f"{FEED}?page_size=2")

    assert response.status_code == 200
    first = response.json()["results"]
    assert first[0]["changes"]["nik"] == [None, _payload("", 5001)["nik"]]
    assert first[0]["worker"]["nik"] == _payload("", 5001)["nik"]
    entry = AccessLog.objects.latest("id")
    assert entry.user == officer.user
    assert entry.kind == "personal_data"
    assert entry.path == FEED
    assert sorted(entry.worker_ids) == sorted({c["worker_id"] for c in first})
    assert ids["a"] in entry.worker_ids


def test_an_empty_page_says_up_to_date_and_keeps_the_cursor(regions, admin_client):
    _day_of_work(admin_client)
    changes, last = _read_feed(admin_client, page_size=100)
    assert len(changes) == 14
    assert last["up_to_date"] is True

    response = admin_client.get(last["next"])

    assert response.status_code == 200
    page = response.json()
    assert page["results"] == []
    assert page["up_to_date"] is True
    assert page["next"].endswith(f"after={page['cursor']}") or "after=" in page["next"]
    # The same position (the stamp aside): a change made now comes next.
    worker = _post(admin_client, reverse("worker-list"), _payload("15.01.01.2001", 5009), 201)
    response = admin_client.get(page["next"])
    assert response.status_code == 200
    assert [(c["kind"], c["worker_id"]) for c in response.json()["results"]] == [("registered", worker["id"])]


def test_a_full_page_is_not_up_to_date_and_next_goes_on(regions, admin_client):
    _day_of_work(admin_client)

    response = admin_client.get(f"{FEED}?page_size=14")

    assert response.status_code == 200
    page = response.json()
    assert len(page["results"]) == 14
    assert page["up_to_date"] is False
    assert page["cursor"] == page["results"][-1]["cursor"]
    assert "page_size=14" in page["next"]
    response = admin_client.get(page["next"])
    assert response.status_code == 200
    assert response.json() | {"cursor": None, "next": None} == {
        "results": [],
        "cursor": None,
        "next": None,
        "up_to_date": True,
    }


def test_the_same_cursor_gives_the_same_page(regions, admin_client):
    _day_of_work(admin_client)
    first = admin_client.get(f"{FEED}?page_size=4").json()

    again = admin_client.get(f"{FEED}?page_size=5&after={first['results'][1]['cursor']}")
    once_more = admin_client.get(f"{FEED}?page_size=5&after={first['results'][1]['cursor']}")

    assert again.status_code == 200
    assert again.json()["results"] == once_more.json()["results"]
    assert again.json()["results"][:2] == first["results"][2:]


@pytest.mark.parametrize(
    "after",
    [
        "not-a-cursor",
        base64.urlsafe_b64encode(b"c1.1.2").decode(),
        base64.urlsafe_b64encode(b"c9.1.2.3").decode(),
        base64.urlsafe_b64encode(b"c1.-1.2.3").decode(),
        base64.urlsafe_b64encode(b"c1.99999999999999999999.2.3").decode(),
    ],
)
def test_a_bad_cursor_is_refused_naming_after(regions, admin_client, after):
    response = admin_client.get(f"{FEED}?after={after}")

    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [("after", "invalid_cursor")]


def test_bad_types_and_page_sizes_are_refused_naming_them(regions, admin_client):
    assert admin_client.get(f"{FEED}?after=%00").json()["errors"][0]["attr"] == "after"
    assert admin_client.get(f"{FEED}?types=worker,gossip").json()["errors"][0]["attr"] == "types"
    assert admin_client.get(f"{FEED}?types=gossip").status_code == 400
    assert admin_client.get(f"{FEED}?types=,").status_code == 400
    assert admin_client.get(f"{FEED}?types=worker&types=enrollment").json()["errors"][0]["attr"] == "types"
    assert admin_client.get(f"{FEED}?page_size=1001").status_code == 400
    assert admin_client.get(f"{FEED}?page_size=0").json()["errors"][0]["attr"] == "page_size"
    assert admin_client.get(f"{FEED}?region=99.99").status_code == 404
    assert admin_client.get(f"{FEED}?region=15.8").json()["errors"][0]["attr"] == "region"
    assert admin_client.get(f"{FEED}?since=2024-01-01").status_code == 400


def test_a_cursor_older_than_what_is_kept_is_gone(regions, admin_client, settings):
    _day_of_work(admin_client)
    first = admin_client.get(f"{FEED}?page_size=2").json()
    assert admin_client.get(first["next"]).status_code == 200  # nothing is pruned by default

    settings.UCJ_CHANGE_FEED_RETENTION_DAYS = 30
    old = base64.urlsafe_b64encode(b"c1.0.1.1000000000").decode().rstrip("=")
    response = admin_client.get(f"{FEED}?after={old}", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 410
    error = response.json()["errors"][0]
    assert (error["attr"], error["code"]) == ("after", "cursor_expired")
    assert "without `after`" in error["detail"]
    assert admin_client.get(first["next"]).status_code == 200  # a cursor of today is kept


def test_types_filter_the_changes(regions, admin_client):
    _day_of_work(admin_client)

    enrollment, _ = _read_feed(admin_client, "&types=enrollment", page_size=50)
    worker, _ = _read_feed(admin_client, "&types=worker", page_size=50)
    coverage, _ = _read_feed(admin_client, "&types=coverage", page_size=50)
    both, _ = _read_feed(admin_client, "&types=worker,enrollment", page_size=50)

    assert [c["kind"] for c in enrollment] == [
        "registered",
        "registered",
        "registered",
        "submitted",
        "activated",
        "renewed",
        "lapsed",
        "submitted",
        "activated",
        "service_ended",
        "registered",
        "registered",
    ]
    assert all("enrollment" in c["types"] for c in enrollment)
    assert [c["kind"] for c in worker].count("updated") == 2
    assert {c["kind"] for c in worker} == {"registered", "updated", "service_ended"}
    # Renaming a worker moves no coverage figure; moving one does.
    assert [c["changes"] for c in coverage if c["kind"] == "updated"] == [
        {"village": ["15.01.02.2001", "15.08.01.2001"]}
    ]
    assert len(both) == 14


def test_coverage_changes_name_the_regions_to_read_again(regions, admin_client):
    ids = _day_of_work(admin_client)

    coverage, _ = _read_feed(admin_client, "&types=coverage", page_size=50)

    lapse = next(c for c in coverage if c["kind"] == "lapsed")
    assert lapse["worker_id"] == ids["a"]
    assert lapse["regions"] == ["15.01.01.2001", "15.01.01", KERINCI, "15"]
    move = next(c for c in coverage if c["kind"] == "updated")
    assert move["regions"] == ["15.01.02.2001", "15.01.02", KERINCI, "15", "15.08.01.2001", "15.08.01", BUNGO]


def test_a_move_by_decree_is_a_region_change(regions, admin_client):
    worker = _post(admin_client, reverse("worker-list"), _payload("15.01.01.2002", 5001), 201)
    _patch(admin_client, worker, {"full_name": "Nama Lain"})
    region_changes_apply(data=b"old_code,new_code,new_name\n15.01.01.2002,15.01.01.2003,Lempur Mudik\n")

    changes, _ = _read_feed(admin_client, "&types=region")

    assert [(c["kind"], c["source"], c["changes"]) for c in changes] == [
        ("updated", "system", {"village": ["15.01.01.2002", "15.01.01.2003"]})
    ]
    assert changes[0]["types"] == ["worker", "region", "coverage"]
    assert changes[0]["worker"]["village"] == "15.01.01.2003"


def test_the_feed_needs_the_right_to_read_workers(regions, admin_client):
    viewer = _user("viewer", province=Regency.objects.get(code=KERINCI).province)

    assert viewer.get(FEED).status_code == 403
    assert APIClient().get(FEED).status_code == 401


def test_the_feed_reads_a_fixed_number_of_statements(regions, admin_client, django_assert_max_num_queries):
    _day_of_work(admin_client)
    few = admin_client.get(f"{FEED}?page_size=2")
    assert few.status_code == 200

    with django_assert_max_num_queries(12) as queries:
        many = admin_client.get(f"{FEED}?page_size=14")
    assert many.status_code == 200
    with django_assert_max_num_queries(len(queries.captured_queries)):
        assert admin_client.get(f"{FEED}?page_size=3").status_code == 200


def test_a_narrow_reader_pages_a_window_at_a_time_and_misses_nothing(regions, admin_client, monkeypatch):
    # A reader of one type across the country has no lane of its own: it pages through the whole
    # feed a window at a time.
    from integrations import selectors

    _day_of_work(admin_client)
    whole, _last = _read_feed(admin_client, "&types=worker", page_size=100)
    total = EnrollmentEvent.objects.count()

    monkeypatch.setattr(selectors, "WINDOW", 2)  # each page looks through 2 events of the whole feed
    pages = _pages(admin_client, f"{FEED}?page_size=3&types=worker")
    windowed = [change for page in pages for change in page["results"]]

    assert windowed == whole
    assert any(page["results"] == [] and page["up_to_date"] is False for page in pages)
    assert len(pages) == total // 2 + 1  # the whole feed, 2 at a time, and the last look


def test_a_regions_reader_pages_its_own_changes_only(regions, admin_client, monkeypatch):
    # A regency's reader walks its regency's events (and the moves out of it) by their own index:
    # its pages are full, whatever the rest of the country wrote, and nothing is missed.
    from integrations import selectors

    _day_of_work(admin_client)
    for serial in range(6):  # the rest of the country keeps writing
        _post(admin_client, reverse("worker-list"), _payload("15.01.01.2001", 5100 + serial), 201)
    officer = _user("regency_officer", regency=BUNGO)
    whole, _last = _read_feed(officer, page_size=100)
    monkeypatch.setattr(selectors, "WINDOW", 1)  # a window would show here as empty pages

    pages = _pages(officer, f"{FEED}?page_size=2")
    paged = [change for page in pages for change in page["results"]]

    assert paged == whole
    assert _replayed(paged) == _listed(officer)
    assert all(page["results"] for page in pages[:-1])
    assert len(pages) == len(whole) // 2 + 1


def test_a_worker_that_moved_in_comes_with_its_move_not_its_history_elsewhere(regions, admin_client):
    ids = _day_of_work(admin_client)
    bungo, _ = _read_feed(_user("regency_officer", regency=BUNGO), page_size=100)
    kerinci, _ = _read_feed(_user("regency_officer", regency=KERINCI), page_size=100)

    arrived = [c for c in bungo if c["worker_id"] == ids["b"]]
    left = [c for c in kerinci if c["worker_id"] == ids["b"]]
    assert [(c["kind"], c["changes"].get("village")) for c in arrived] == [
        ("updated", ["15.01.02.2001", "15.08.01.2001"])
    ]
    assert arrived[0]["worker"]["village"] == "15.08.01.2001"
    assert [(c["kind"], c["worker"]) for c in left] == [("updated", None)]  # its registration there is not shown


def test_every_writer_records_where_the_worker_was(regions, admin_client):
    ids = _day_of_work(admin_client)
    located = EnrollmentEvent.objects.values_list(
        "worker_id", "worker_regency_id", "worker_province_id", "kind", "changes"
    )
    regencies = dict(Regency.objects.values_list("pk", "code"))
    provinces = dict(Province.objects.values_list("pk", "code"))

    where = {}
    for worker_id, regency_id, province_id, kind, changes in located.order_by("id"):
        where.setdefault(worker_id, []).append((kind, regencies[regency_id], provinces[province_id]))
        if kind == "updated" and "village" in changes:
            assert changes["village"][1].startswith(regencies[regency_id] + ".")  # the move's new place

    assert len(where) == 5  # three by the API, two by an import
    assert where[ids["b"]] == [("registered", KERINCI, "15"), ("updated", BUNGO, "15")]
    assert {regency for _kind, regency, _province in where[ids["c"]]} == {BUNGO}
