"""NIK, birth date and phone: masked without `enrollment.view_personal_data`, full with it; every
response that shows them in full, and every export, leaves an access-log entry."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from access.models import AccessLog

from .conftest import (
    ADMIN,
    BRANCH_OFFICER,
    CLIENT_RO,
    OTHER,
    OWN,
    PROVINCE_OFFICER,
    REGENCY_OFFICER,
    SERVING,
    VILLAGE,
    activation_payload,
    rows,
    worker_payload,
)

BIRTH = "1980-05-17"  # of world.new[...] (a woman: NIK day 57)
PHONE = "081277778888"


def masked(nik: str) -> str:
    return nik[:4] + "*" * 12


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def masked_client(client_for):
    """A regency officer without the personal-data right."""
    return client_for(REGENCY_OFFICER)


@pytest.fixture
def full_client(client_for):
    """A regency officer with the personal-data right."""
    return client_for(REGENCY_OFFICER, personal_data=True)


# -- masking ------------------------------------------------------------------------------------


def test_list_masks_personal_data_without_permission(masked_client, world):
    worker = world.new[OWN]
    response = masked_client.get(reverse("worker-list"))

    row = next(r for r in rows(response) if r["id"] == worker.pk)
    assert row["nik"] == masked(worker.nik)
    assert row["nik"] == "1501************"
    assert row["birth_date"] is None
    assert row["phone"] == "*" * len(PHONE)
    assert worker.nik not in text(response)
    assert BIRTH not in text(response)
    assert PHONE not in text(response)


def test_list_shows_personal_data_with_permission(full_client, world):
    worker = world.new[OWN]
    response = full_client.get(reverse("worker-list"))

    row = next(r for r in rows(response) if r["id"] == worker.pk)
    assert (row["nik"], row["birth_date"], row["phone"]) == (worker.nik, BIRTH, PHONE)


def test_detail_masks_personal_data_without_permission(masked_client, world):
    worker = world.new[OWN]
    data = masked_client.get(reverse("worker-detail", args=[worker.pk])).json()

    assert (data["nik"], data["birth_date"], data["phone"]) == (masked(worker.nik), None, "*" * len(PHONE))


def test_detail_shows_personal_data_with_permission(full_client, world):
    worker = world.new[OWN]
    data = full_client.get(reverse("worker-detail", args=[worker.pk])).json()

    assert (data["nik"], data["birth_date"], data["phone"]) == (worker.nik, BIRTH, PHONE)


def test_history_masks_personal_data_without_permission(masked_client, world):
    worker = world.new[OWN]
    response = masked_client.get(reverse("worker-history", args=[worker.pk]))

    assert response.status_code == 200
    registered = rows(response)[0]["changes"]
    assert {"nik", "birth_date", "phone"} <= set(registered)
    assert worker.nik not in text(response)
    assert BIRTH not in text(response)
    assert PHONE not in text(response)
    assert worker.full_name in text(response)  # the rest of the history is still there


def test_history_shows_personal_data_with_permission(full_client, world):
    worker = world.new[OWN]
    registered = rows(full_client.get(reverse("worker-history", args=[worker.pk])))[0]["changes"]

    assert registered["nik"] == [None, worker.nik]
    assert registered["birth_date"] == [None, BIRTH]
    assert registered["phone"] == [None, PHONE]


def test_write_responses_mask_personal_data_without_permission(masked_client, world):
    payload = worker_payload(VILLAGE[OWN])
    created = masked_client.post(reverse("worker-list"), payload, format="json")
    submitted = masked_client.post(reverse("worker-submit", args=[created.json()["id"]]), {}, format="json")

    assert created.status_code == 201
    assert submitted.status_code == 200
    for response in (created, submitted):
        assert response.json()["nik"] == masked(payload["nik"])
        assert payload["nik"] not in text(response)
        assert payload["phone"] not in text(response)
        assert response.json()["birth_date"] is None


def test_superuser_sees_personal_data(client_for, world):
    worker = world.new[OWN]
    data = client_for(ADMIN).get(reverse("worker-detail", args=[worker.pk])).json()

    assert (data["nik"], data["birth_date"], data["phone"]) == (worker.nik, BIRTH, PHONE)


def test_client_created_with_personal_data_sees_it(client_for, world):
    worker = world.new[OWN]
    data = client_for(CLIENT_RO, personal_data=True).get(reverse("worker-detail", args=[worker.pk])).json()

    assert data["nik"] == worker.nik


def test_client_created_without_personal_data_gets_masked_values(client_for, world):
    worker = world.new[OWN]
    data = client_for(CLIENT_RO).get(reverse("worker-detail", args=[worker.pk])).json()

    assert data["nik"] == masked(worker.nik)


def test_me_reports_personal_data_right(client_for, world):
    assert client_for(REGENCY_OFFICER).get(reverse("auth-me")).json()["view_personal_data"] is False
    assert client_for(PROVINCE_OFFICER, personal_data=True).get(reverse("auth-me")).json()["view_personal_data"]


# -- search by full NIK -------------------------------------------------------------------------


@pytest.mark.parametrize("personal_data", [False, True])
def test_search_by_full_nik_finds_the_worker(client_for, world, personal_data):
    worker = world.new[OWN]
    response = client_for(REGENCY_OFFICER, personal_data=personal_data).get(
        reverse("worker-list"), {"search": worker.nik}
    )

    assert [r["id"] for r in rows(response)] == [worker.pk]
    assert response.json()["count"] == 1


def test_search_by_nik_with_separators_finds_the_worker(masked_client, world):
    worker = world.new[OWN]
    spaced = f"{worker.nik[:6]} {worker.nik[6:12]} {worker.nik[12:]}"

    assert [r["id"] for r in rows(masked_client.get(reverse("worker-list"), {"search": spaced}))] == [worker.pk]


def test_search_by_nik_outside_scope_finds_nothing(masked_client, world):
    from .conftest import OTHER

    response = masked_client.get(reverse("worker-list"), {"search": world.new[OTHER].nik})

    assert response.json()["count"] == 0


def test_search_by_partial_nik_does_not_match_nik(masked_client, world):
    worker = world.new[OWN]

    assert masked_client.get(reverse("worker-list"), {"search": worker.nik[:12]}).json()["count"] == 0


# -- the access log -----------------------------------------------------------------------------


def only_log() -> AccessLog:
    entries = list(AccessLog.objects.all())
    assert len(entries) == 1, entries
    return entries[0]


def test_full_list_is_logged_with_every_worker_shown(full_client, world):
    response = full_client.get(reverse("worker-list"), {"page_size": 1})

    entry = only_log()
    assert entry.user == full_client.user
    assert entry.kind == "personal_data"
    assert entry.path == reverse("worker-list")
    assert entry.query == "page_size=1"
    assert entry.worker_ids == [r["id"] for r in rows(response)]
    assert entry.rows == 1


def test_full_detail_is_logged(full_client, world):
    worker = world.new[OWN]
    full_client.get(reverse("worker-detail", args=[worker.pk]))

    entry = only_log()
    assert (entry.user, entry.kind, entry.worker_ids, entry.path) == (
        full_client.user,
        "personal_data",
        [worker.pk],
        reverse("worker-detail", args=[worker.pk]),
    )


@pytest.mark.parametrize("where", ["outside", "missing"])
def test_a_detail_not_shown_logs_nothing(full_client, world, where):
    """The detail's read and its log go together (one round trip on PostgreSQL): a worker outside
    the caller's regions, or none, is the same 404, and the log writes no row of it."""
    worker_id = world.new[OTHER].pk if where == "outside" else max(w.pk for w in world.new.values()) + 1000
    response = full_client.get(reverse("worker-detail", args=[worker_id]))

    assert response.status_code == 404
    assert not AccessLog.objects.exists()


def test_every_full_detail_is_logged_once(full_client, client_for, world):
    admin = client_for(ADMIN)
    shown = [world.new[OWN], world.new[OWN], world.new[OTHER]]

    answers = [full_client.get(reverse("worker-detail", args=[w.pk])) for w in shown[:2]]
    answers.append(admin.get(reverse("worker-detail", args=[shown[2].pk])))

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [(e.user, e.worker_ids) for e in AccessLog.objects.order_by("id")] == [
        (full_client.user, [shown[0].pk]),
        (full_client.user, [shown[1].pk]),
        (admin.user, [shown[2].pk]),
    ]


def test_full_history_is_logged(full_client, world):
    worker = world.new[OWN]
    full_client.get(reverse("worker-history", args=[worker.pk]))

    entry = only_log()
    assert (entry.kind, entry.worker_ids, entry.path) == (
        "personal_data",
        [worker.pk],
        reverse("worker-history", args=[worker.pk]),
    )


def test_full_create_response_is_logged(full_client, world):
    response = full_client.post(reverse("worker-list"), worker_payload(VILLAGE[OWN]), format="json")

    assert response.status_code == 201
    entry = only_log()
    assert (entry.kind, entry.worker_ids) == ("personal_data", [response.json()["id"]])


def test_full_update_and_transition_responses_are_logged(full_client, world):
    worker = world.new[OWN]
    patched = full_client.patch(
        reverse("worker-detail", args=[worker.pk]), {"full_name": "Nama Baru", "version": worker.version}, format="json"
    )
    submitted = full_client.post(reverse("worker-submit", args=[worker.pk]), {}, format="json")

    assert (patched.status_code, submitted.status_code) == (200, 200)
    entries = list(AccessLog.objects.order_by("id"))
    assert [(e.kind, e.worker_ids, e.path) for e in entries] == [
        ("personal_data", [worker.pk], reverse("worker-detail", args=[worker.pk])),
        ("personal_data", [worker.pk], reverse("worker-submit", args=[worker.pk])),
    ]


def test_full_enrollment_action_by_branch_officer_is_logged(client_for, world):
    worker = world.new[OWN]
    client = client_for(BRANCH_OFFICER, personal_data=True)
    response = client.post(reverse("worker-activate", args=[worker.pk]), activation_payload(), format="json")

    assert response.status_code == 200
    entry = only_log()
    assert (entry.user, entry.worker_ids) == (client.user, [worker.pk])


def test_masked_responses_are_not_logged(masked_client, world):
    worker = world.new[OWN]
    masked_client.get(reverse("worker-list"))
    masked_client.get(reverse("worker-detail", args=[worker.pk]))
    masked_client.get(reverse("worker-history", args=[worker.pk]))
    masked_client.patch(
        reverse("worker-detail", args=[worker.pk]), {"full_name": "Nama Baru", "version": worker.version}, format="json"
    )
    masked_client.post(reverse("worker-list"), worker_payload(VILLAGE[OWN]), format="json")

    # The registration looked its NIK up: that is logged, as a lookup (see the NIK lookup tests).
    assert list(AccessLog.objects.values_list("kind", flat=True)) == ["nik_lookup"]


def test_refused_and_empty_responses_are_not_logged(full_client, world):
    from .conftest import OTHER

    assert full_client.get(reverse("worker-detail", args=[world.new[OTHER].pk])).status_code == 404
    assert full_client.get(reverse("worker-list"), {"province": "16"}).json()["count"] == 0
    assert full_client.get(reverse("coverage-list"), {"level": "village"}).status_code == 200  # JSON: no export

    assert not AccessLog.objects.exists()


@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
@pytest.mark.parametrize(
    ("url_name", "params", "expected_rows"),
    [
        ("coverage-list", {"level": "village"}, 1),
        ("coverage-list", {"level": "regency", "parent": "15"}, 1),
        ("coverage-unprotected-villages", {}, 1),
    ],
)
def test_export_is_logged(masked_client, world, export_format, url_name, params, expected_rows):
    response = masked_client.get(reverse(url_name), {**params, "format": export_format})

    assert response.status_code == 200
    entry = only_log()
    assert entry.user == masked_client.user
    assert entry.kind == "export"
    assert entry.path == reverse(url_name)
    assert f"format={export_format}" in entry.query
    assert entry.rows == expected_rows


def test_refused_export_is_not_logged(client_for, world):
    from .conftest import VIEWER

    response = client_for(VIEWER).get(reverse("coverage-list"), {"level": "village", "format": "csv"})

    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert not AccessLog.objects.exists()


def test_access_log_api_shows_entries_to_admin(client_for, full_client, world):
    full_client.get(reverse("worker-detail", args=[world.new[OWN].pk]))
    response = client_for(ADMIN).get(reverse("access-log-list"), {"user": full_client.user.username})

    assert response.status_code == 200
    assert [(r["user"], r["kind"], r["worker_ids"]) for r in rows(response)] == [
        (full_client.user.username, "personal_data", [world.new[OWN].pk])
    ]


def test_admin_full_list_is_logged_with_every_worker(client_for, world):
    admin = client_for(ADMIN)
    response = admin.get(reverse("worker-list"), {"page_size": 500})

    assert response.json()["count"] == sum(SERVING.values())
    assert only_log().worker_ids == [r["id"] for r in rows(response)]


# -- the audit trail holds personal data too ----------------------------------------------------


@pytest.fixture
def profile_admin(world):
    """An admin by access profile (not a superuser) without the personal-data right."""
    from django.contrib.auth import get_user_model
    from knox.models import AuthToken

    from access.models import AccessProfile

    from .conftest import token_client

    user = get_user_model().objects.create_user("kepala-dinas", password="x-Passw0rd!")
    AccessProfile.objects.create(user=user, role="admin")
    client = token_client(AuthToken.objects.create(user)[1])
    client.user = user
    return client


def test_audit_events_mask_personal_data_without_permission(profile_admin, world):
    worker = world.new[OWN]
    response = profile_admin.get(reverse("audit-event-list"), {"page_size": 500})

    assert response.status_code == 200
    assert any(r["worker"] == worker.pk and "nik" in r["changes"] for r in rows(response))
    body = json.dumps(response.json())
    assert worker.nik not in body
    assert PHONE not in body
    assert BIRTH not in body
    assert not AccessLog.objects.exists()


def test_audit_events_with_personal_data_are_logged(client_for, world):
    worker = world.new[OWN]
    response = client_for(ADMIN).get(reverse("audit-event-list"), {"regency": OWN})

    shown = [r for r in rows(response) if r["worker"] == worker.pk and "nik" in r["changes"]]
    assert shown[0]["changes"]["nik"] == [None, worker.nik]
    entry = only_log()
    assert entry.kind == "personal_data"
    assert entry.path == reverse("audit-event-list")
    assert sorted(entry.worker_ids) == sorted({r["worker"] for r in rows(response) if "nik" in r["changes"]})
    assert sorted(entry.worker_ids) == sorted(w.pk for w in world.workers[OWN])


def test_audit_event_detail_with_personal_data_is_logged(client_for, world):
    from enrollment.models import EnrollmentEvent

    worker = world.new[OWN]
    event = EnrollmentEvent.objects.get(worker=worker, kind="registered")
    response = client_for(ADMIN).get(reverse("audit-event-detail", args=[event.pk]))

    assert response.json()["changes"]["phone"] == [None, PHONE]
    assert (only_log().worker_ids, only_log().path) == ([worker.pk], reverse("audit-event-detail", args=[event.pk]))


def test_audit_events_without_personal_fields_are_not_logged(client_for, world):
    response = client_for(ADMIN).get(reverse("audit-event-list"), {"kind": "submitted"})

    assert response.json()["count"] == 3
    assert not AccessLog.objects.exists()


# -- worker exports and imported files ----------------------------------------------------------


def export_rows(response) -> list[dict]:
    import csv
    import io

    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_worker_csv_export_masks_personal_data_without_permission(masked_client, world):
    worker = world.new[OWN]
    response = masked_client.get(reverse("worker-list"), {"format": "csv"})

    assert response.status_code == 200
    row = next(r for r in export_rows(response) if int(r["id"]) == worker.pk)
    assert (row["nik"], row["birth_date"], row["phone"]) == (masked(worker.nik), "", "*" * len(PHONE))
    assert {int(r["id"]) for r in export_rows(masked_client.get(reverse("worker-list"), {"format": "csv"}))} == {
        w.pk for w in world.workers[OWN]
    }


def test_worker_csv_export_shows_personal_data_with_permission(full_client, world):
    worker = world.new[OWN]
    row = next(
        r for r in export_rows(full_client.get(reverse("worker-list"), {"format": "csv"})) if int(r["id"]) == worker.pk
    )

    assert (row["nik"], row["birth_date"], row["phone"]) == (worker.nik, BIRTH, PHONE)


@pytest.mark.parametrize("personal_data", [False, True])
def test_worker_xlsx_export_masks_as_the_right_requires(client_for, world, personal_data):
    import io

    from openpyxl import load_workbook

    worker = world.new[OWN]
    response = client_for(REGENCY_OFFICER, personal_data=personal_data).get(reverse("worker-list"), {"format": "xlsx"})
    body = b"".join(response.streaming_content) if response.streaming else response.content
    header, *data = list(load_workbook(io.BytesIO(body), read_only=True).active.iter_rows(values_only=True))
    row = dict(zip(header, next(r for r in data if int(r[header.index("id")]) == worker.pk), strict=True))

    assert row["nik"] == (worker.nik if personal_data else masked(worker.nik))
    assert str(row["phone"]) == (PHONE if personal_data else "*" * len(PHONE))
    assert {int(r[header.index("id")]) for r in data} == {w.pk for w in world.workers[OWN]}


@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_worker_export_is_logged(masked_client, world, export_format):
    response = masked_client.get(reverse("worker-list"), {"format": export_format, "regency": OWN})
    body = b"".join(response.streaming_content) if response.streaming else response.content

    assert response.status_code == 200
    assert body

    entry = only_log()
    assert (entry.user, entry.kind, entry.path) == (masked_client.user, "export", reverse("worker-list"))
    assert entry.rows == SERVING[OWN]
    assert f"format={export_format}" in entry.query


def test_worker_export_refused_to_viewer_is_not_logged(client_for, world):
    from .conftest import VIEWER

    assert client_for(VIEWER).get(reverse("worker-list"), {"format": "csv"}).status_code == 403
    assert not AccessLog.objects.exists()


def test_import_file_download_is_logged(client_for, world):
    record = world.imports["stranger"]
    response = client_for(ADMIN).get(reverse("import-file", args=[record.pk]))

    assert response.status_code == 200
    entry = only_log()
    assert (entry.kind, entry.path) == ("personal_data", reverse("import-file", args=[record.pk]))


def test_import_file_withholds_personal_data_without_permission(profile_admin, world):
    record = world.imports["stranger"]
    full_nik = bytes(record.data).decode().splitlines()[1].split(",")[1]
    response = profile_admin.get(reverse("import-file", args=[record.pk]))

    assert len(full_nik) == 16
    # Without the personal-data right an admin sees only its own imports: another's is not found.
    assert response.status_code == 404
    assert [error["code"] for error in response.json()["errors"]] == ["not_found"]
    assert full_nik.encode() not in response.content
