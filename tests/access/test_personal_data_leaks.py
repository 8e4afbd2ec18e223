"""Ways personal data could leak past the masks to a caller without the personal-data right:
the browsable API's forms, the "NIK already serving" conflict, exact-NIK lookups (search,
registration, import), edits that compare a guess with a stored value, and exports whose
access log did not say whose data left."""

from __future__ import annotations

import csv
import datetime
import io
import json

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from rest_framework.throttling import SimpleRateThrottle

from access.models import AccessLog
from enrollment.models import ApparatusWorker, EnrollmentEvent, WorkerImport
from tests.helpers import today

from .conftest import (
    ADMIN,
    BRANCH_OFFICER,
    CLIENT_RW,
    OTHER,
    OWN,
    REGENCY_OFFICER,
    VILLAGE,
    import_file,
    upload,
    worker_payload,
)

BIRTH = "1980-05-17"  # of the world's workers
PHONE = "081277778888"  # of world.new[...]


@pytest.fixture
def nik_rate(settings, monkeypatch):
    """nik_rate("3/day"): lower UCJ_RATE_NIK_LOOKUP for this test (DRF reads rates at class
    level, so the class attribute is patched too)."""

    def apply(rate: str) -> None:
        new = {**django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "nik_lookup": rate}
        settings.REST_FRAMEWORK = {**django_settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": new}
        monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", new)

    return apply


def lookups() -> list[AccessLog]:
    return list(AccessLog.objects.filter(kind="nik_lookup").order_by("id"))


def text(response) -> str:
    return response.content.decode()


# -- 1. the browsable API shows no more than the JSON ------------------------------------------


@pytest.mark.parametrize("role", [CLIENT_RW, REGENCY_OFFICER])
@pytest.mark.parametrize("how", ["format", "accept"])
def test_browsable_worker_pages_show_no_personal_data_without_the_right(client_for, world, role, how):
    client = client_for(role)
    worker = world.new[OWN]
    kwargs = {"HTTP_ACCEPT": "text/html"} if how == "accept" else {}
    params = {"format": "api"} if how == "format" else {}

    pages = [
        client.get(reverse("worker-detail", args=[worker.pk]), params, **kwargs),
        client.get(reverse("worker-list"), params, **kwargs),
        client.get(reverse("worker-history", args=[worker.pk]), params, **kwargs),
    ]

    for page in pages:
        assert page.status_code == 200
        assert page["Content-Type"].startswith("text/html")
        assert worker.nik not in text(page)
        assert BIRTH not in text(page)
        assert PHONE not in text(page)
    # The page does show the worker, masked, as the JSON does; and, for a writer, an edit form
    # (the raw JSON one: bodies are JSON only), which DRF used to fill from the stored worker.
    assert worker.full_name in text(pages[0])
    assert worker.nik[:4] + "*" * 12 in text(pages[0])
    assert 'name="_content"' in text(pages[0])


def test_browsable_worker_page_with_personal_data_is_logged(client_for, world):
    client = client_for(REGENCY_OFFICER, personal_data=True)
    worker = world.new[OWN]

    page = client.get(reverse("worker-detail", args=[worker.pk]), {"format": "api"})

    assert page.status_code == 200
    assert worker.nik in text(page)
    entries = list(AccessLog.objects.all())
    assert [(e.kind, e.worker_ids) for e in entries] == [("personal_data", [worker.pk])]


# -- 2. "NIK already serving" names the place only inside the caller's scope ---------------------


def test_registering_a_nik_serving_outside_scope_does_not_say_where(client_for, world):
    other = world.workers[OTHER][0]
    payload = worker_payload(VILLAGE[OWN], nik=other.nik, sex=other.sex, birth_date=other.birth_date.isoformat())

    response = client_for(CLIENT_RW).post(reverse("worker-list"), payload, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 409
    error = response.json()["errors"][0]
    assert (error["code"], error["attr"]) == ("nik_serving_elsewhere", "nik")
    assert error["detail"] == "This NIK is already registered as serving in a village outside your region."
    body = text(response)
    for leaked in (other.village.code, other.village.name, str(other.pk), other.full_name):
        assert leaked not in body
    assert ApparatusWorker.objects.filter(nik=other.nik).count() == 1


def test_registering_a_nik_serving_inside_scope_says_where(client_for, world):
    own = world.workers[OWN][0]
    payload = worker_payload(VILLAGE[OWN], nik=own.nik, sex=own.sex, birth_date=own.birth_date.isoformat())

    response = client_for(CLIENT_RW).post(reverse("worker-list"), payload, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 409
    assert response.json()["errors"][0]["detail"] == (
        f"This NIK already serves in village {own.village.code} {own.village.name} (worker {own.pk})."
    )


@pytest.mark.parametrize("dry_run", [True, False])
def test_import_row_with_a_nik_serving_outside_scope_does_not_say_where(client_for, world, dry_run):
    others = world.workers[OTHER]
    header = "village_code,nik,full_name,sex,birth_date,phone,institution,position,term_start,wage_basis,monthly_wage"
    lines = [header] + [
        f"{VILLAGE[OWN]},{w.nik},Nama {i},{w.sex},{w.birth_date.isoformat()},,pkk,ketua,2024-03-01,honorarium,0"
        for i, w in enumerate(others)
    ]

    response = upload(client_for(CLIENT_RW), ("\n".join(lines) + "\n").encode(), dry_run=str(dry_run).lower())

    # Without the personal-data right the answer counts the rows and names no place.
    assert response.status_code == (200 if dry_run else 400)
    body = response.json()
    errors = [(e["row"], e["attr"], e["detail"]) for e in body["errors"]] if not dry_run else []
    errors = errors or [(e["row"], e["column"], e["message"]) for e in body["errors"]]
    assert [(row, attr) for row, attr, _detail in errors] == [(i + 2, "nik") for i in range(len(others))]
    assert {detail for _row, _attr, detail in errors} == {
        "NIK ini sudah tercatat menjabat di sebuah desa di luar wilayah Anda."  # Indonesian by default
    }
    dumped = json.dumps(body) + json.dumps(WorkerImport.objects.get(pk=body["import"]).summary)
    for other in others:
        assert other.village.code not in dumped
        assert other.village.name not in dumped


# -- 3. the mask, and exact-NIK lookups ------------------------------------------------------------


def candidate_niks(shown_nik: str, shown_birth_date: str | None, *, today: datetime.date) -> int:
    """How many NIKs agree with what a caller is shown of one worker, for an attacker who also
    knows the district of first registration (the worker's own) and that serials are small (1-9).
    Birth dates range over apparatus ages 17 to 75 unless the answer narrows them."""
    if shown_nik[6:12].isdigit() or (shown_birth_date and len(shown_birth_date) == 10):  # a whole date
        dates = 1
    elif shown_birth_date:  # a year
        dates = 366
    else:
        dates = (today.replace(year=today.year - 17) - today.replace(year=today.year - 75)).days
    serials = 1 if shown_nik[12:].isdigit() else 9
    return dates * serials


@pytest.mark.parametrize("role", [CLIENT_RW, REGENCY_OFFICER])
def test_what_is_shown_leaves_over_100000_candidate_niks(client_for, world, role):
    worker = world.new[OWN]
    data = client_for(role).get(reverse("worker-detail", args=[worker.pk])).json()

    assert data["nik"] == worker.nik[:4] + "*" * 12
    assert data["birth_date"] is None
    assert candidate_niks(data["nik"], data["birth_date"], today=today()) > 100_000
    # The mask of the past (region and serial shown, the birth year beside it) left 366.
    assert candidate_niks(worker.nik[:6] + "*" * 6 + worker.nik[12:], "1980", today=today()) == 366


def test_search_by_full_nik_is_logged_and_limited_without_the_right(client_for, world, nik_rate):
    nik_rate("3/day")
    client = client_for(CLIENT_RW)
    worker = world.new[OWN]

    found = [client.get(reverse("worker-list"), {"search": worker.nik}) for _ in range(3)]
    refused = client.get(reverse("worker-list"), {"search": worker.nik})
    by_name = client.get(reverse("worker-list"), {"search": worker.full_name})

    assert [r.status_code for r in found] == [200, 200, 200]
    assert [r.json()["count"] for r in found] == [1, 1, 1]
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 86400
    error = refused.json()["errors"][0]
    assert (error["code"], error["attr"]) == ("nik_lookups_throttled", "search")
    assert worker.nik not in text(refused)
    assert by_name.status_code == 200  # a search by name is no NIK lookup
    logged = lookups()
    assert [(e.user, e.rows, e.path) for e in logged] == [(client.user, 1, reverse("worker-list"))] * 3
    assert all(f"search={worker.nik}" in e.query for e in logged)


def test_export_filtered_by_full_nik_counts_as_a_lookup(client_for, world, nik_rate):
    nik_rate("1/day")
    client = client_for(CLIENT_RW)
    worker = world.new[OWN]

    first = client.get(reverse("worker-list"), {"search": worker.nik, "format": "csv"})
    second = client.get(reverse("worker-list"), {"search": worker.nik, "format": "csv"})

    assert first.status_code == 200
    assert second.status_code == 429
    assert second["Content-Type"] == "application/json"


@pytest.mark.parametrize("role", [ADMIN, BRANCH_OFFICER])
def test_lookups_by_callers_with_the_right_are_neither_counted_nor_logged(client_for, world, nik_rate, role):
    nik_rate("1/day")
    client = client_for(role)
    worker = world.new[OWN]

    statuses = [client.get(reverse("worker-list"), {"search": worker.nik}).status_code for _ in range(3)]

    assert statuses == [200, 200, 200]
    assert lookups() == []


def test_registration_is_a_lookup_and_is_refused_beyond_the_rate(client_for, world, nik_rate):
    nik_rate("1/day")
    client = client_for(CLIENT_RW)
    before = ApparatusWorker.objects.count()

    first = client.post(reverse("worker-list"), worker_payload(VILLAGE[OWN]), format="json")
    second = client.post(reverse("worker-list"), worker_payload(VILLAGE[OWN]), format="json")

    assert first.status_code == 201
    assert second.status_code == 429
    assert second.json()["errors"][0]["attr"] == "nik"
    assert ApparatusWorker.objects.count() == before + 1
    assert [e.rows for e in lookups()] == [1]


@pytest.mark.parametrize("dry_run", [True, False])
def test_import_rows_are_lookups_counted_before_anything_is_matched(client_for, world, nik_rate, dry_run):
    nik_rate("2/day")
    client = client_for(CLIENT_RW)
    header = "village_code,nik,full_name,sex,birth_date,phone,institution,position,term_start,wage_basis,monthly_wage"
    rows = [
        f"{VILLAGE[OWN]},15010117058{serial:05d},Nama {serial},male,1980-05-17,,pkk,ketua,2024-03-01,honorarium,0"
        for serial in (901, 902, 903)
    ]
    three = ("\n".join([header, *rows]) + "\n").encode()
    workers, imports = ApparatusWorker.objects.count(), WorkerImport.objects.count()

    refused = upload(client, three, dry_run=str(dry_run).lower())
    accepted = upload(client, import_file(VILLAGE[OWN]), dry_run=str(dry_run).lower())

    assert refused.status_code == 429
    assert refused.json()["errors"][0]["attr"] == "file"
    assert accepted.status_code == (200 if dry_run else 201)
    assert ApparatusWorker.objects.count() == workers + (0 if dry_run else 1)
    assert WorkerImport.objects.count() == imports + 1  # the refused file was not even recorded
    assert [e.rows for e in lookups()] == [1]  # a dry run's lookups are logged too


def test_birth_date_cannot_be_guessed_through_edits_without_the_right(client_for, world):
    client = client_for(CLIENT_RW)
    worker = world.new[OWN]
    url = reverse("worker-detail", args=[worker.pk])

    # One date against the stored NIK, answered "agrees" or "does not": 21,000 tries would read it.
    guesses = [
        client.patch(url, {"birth_date": guess, "version": worker.version}, format="json")
        for guess in (BIRTH, "1980-05-18")
    ]
    new_nik_alone = client.patch(url, {"nik": worker.nik, "version": worker.version}, format="json")

    assert [g.status_code for g in guesses] == [400, 400]
    assert [g.json()["errors"][0]["attr"] for g in guesses] == ["nik", "nik"]
    assert guesses[0].json() == guesses[1].json()  # the same answer, right or wrong
    assert new_nik_alone.status_code == 400
    assert new_nik_alone.json()["errors"][0]["attr"] == "birth_date"
    assert EnrollmentEvent.objects.filter(worker=worker, kind="updated").count() == 0


def test_birth_date_cannot_be_read_by_moving_the_term_start_without_the_right(client_for, world):
    client = client_for(CLIENT_RW)
    worker = world.new[OWN]  # born 1980-05-17, term from 2024-01-01
    url = reverse("worker-detail", args=[worker.pk])

    # Before the birth date or after it, an earlier term start gets one answer: a binary search
    # over the dates would otherwise read the birth date in some fifteen edits.
    earlier = [
        client.patch(url, {"term_start": date, "version": worker.version}, format="json")
        for date in ("1980-05-16", "1980-05-18", "2023-12-31")
    ]
    later = client.patch(url, {"term_start": "2024-02-01", "version": worker.version}, format="json")

    assert [r.status_code for r in earlier] == [400, 400, 400]
    assert earlier[0].json() == earlier[1].json() == earlier[2].json()
    assert earlier[0].json()["errors"][0]["code"] == "earlier_term_start_needs_birth_date"
    assert later.status_code == 200
    assert ApparatusWorker.objects.get(pk=worker.pk).term_start == datetime.date(2024, 2, 1)


def test_earlier_term_start_with_nik_and_birth_date_is_accepted_without_the_right(client_for, world):
    client = client_for(CLIENT_RW)
    worker = world.new[OWN]

    response = client.patch(
        reverse("worker-detail", args=[worker.pk]),
        {"term_start": "2023-06-01", "nik": worker.nik, "birth_date": BIRTH, "version": worker.version},
        format="json",
    )

    assert response.status_code == 200
    assert ApparatusWorker.objects.get(pk=worker.pk).term_start == datetime.date(2023, 6, 1)


def test_nik_and_birth_date_sent_together_are_changed_without_the_right(client_for, world):
    client = client_for(CLIENT_RW)
    worker = world.new[OWN]
    new_nik = worker.nik[:6] + "580581" + worker.nik[12:]  # a woman born 1981-05-18

    response = client.patch(
        reverse("worker-detail", args=[worker.pk]),
        {"nik": new_nik, "birth_date": "1981-05-18", "version": worker.version},
        format="json",
    )

    assert response.status_code == 200
    stored = ApparatusWorker.objects.get(pk=worker.pk)  # the module's world object stays as it was
    assert (stored.nik, stored.birth_date) == (new_nik, datetime.date(1981, 5, 18))
    assert response.json()["birth_date"] is None


@pytest.mark.parametrize("guess", [PHONE, "081299990000"])
def test_a_phone_guess_gets_the_same_answer_right_or_wrong_without_the_right(client_for, world, guess):
    client = client_for(CLIENT_RW)
    worker = world.new[OWN]

    response = client.patch(
        reverse("worker-detail", args=[worker.pk]), {"phone": guess, "version": worker.version}, format="json"
    )

    # Written either way: an unchanged version would have said "that was the number".
    assert response.status_code == 200
    assert response.json()["version"] == worker.version + 1
    assert EnrollmentEvent.objects.filter(worker=worker, kind="updated").count() == 1


def test_an_unchanged_phone_is_not_written_for_a_caller_with_the_right(client_for, world):
    client = client_for(REGENCY_OFFICER, personal_data=True)
    worker = world.new[OWN]

    response = client.patch(
        reverse("worker-detail", args=[worker.pk]), {"phone": PHONE, "version": worker.version}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["version"] == worker.version


def test_registration_and_import_lookups_say_what_was_looked_up(client_for, world):
    import hashlib

    client = client_for(CLIENT_RW)
    payload = worker_payload(VILLAGE[OWN])
    data = import_file(VILLAGE[OWN])

    assert client.post(reverse("worker-list"), payload, format="json").status_code == 201
    assert upload(client, data, dry_run="true").status_code == 200

    logged = lookups()
    assert [(e.path, e.query, e.rows) for e in logged] == [
        (reverse("worker-list"), f"nik={payload['nik']}", 1),
        (reverse("import-workers"), f"file_sha256={hashlib.sha256(data).hexdigest()}", 1),
    ]
    assert WorkerImport.objects.filter(checksum=hashlib.sha256(data).hexdigest()).count() == 1


def test_birth_date_alone_is_checked_against_the_nik_for_a_caller_with_the_right(client_for, world):
    client = client_for(REGENCY_OFFICER, personal_data=True)
    worker = world.new[OWN]

    response = client.patch(
        reverse("worker-detail", args=[worker.pk]),
        {"birth_date": "1980-05-18", "version": worker.version},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    # Refused by the NIK it can see: the message may quote the NIK's digits to this caller.
    assert response.status_code == 400
    assert response.json()["errors"][0]["detail"] == (
        "The birth date does not agree with the NIK (digits 7-12 read 17-05-80)."
    )


# -- 10. exports name the workers they held ----------------------------------------------------


@pytest.mark.parametrize("personal_data", [False, True])
def test_export_log_names_every_exported_worker_in_order(client_for, world, personal_data):
    client = client_for(REGENCY_OFFICER, personal_data=personal_data)

    response = client.get(reverse("worker-list"), {"format": "csv", "ordering": "-full_name"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")

    assert response.status_code == 200
    exported = [int(row["id"]) for row in csv.DictReader(io.StringIO(body))]
    assert sorted(exported) == sorted(w.pk for w in world.workers[OWN])
    entry = AccessLog.objects.get(kind="export")
    assert entry.worker_ids == exported
    assert entry.rows == len(exported)


# -- who sees personal data by default ----------------------------------------------------------


def test_branch_officer_sees_personal_data_by_role_without_the_permission(client_for, world):
    """A BPJS branch enrols people in BPJS's own system by NIK and birth date."""
    client = client_for(BRANCH_OFFICER)
    worker = world.new[OWN]

    assert not client.user.has_perm("enrollment.view_personal_data")
    data = client.get(reverse("worker-detail", args=[worker.pk])).json()
    me = client.get(reverse("auth-me")).json()

    assert (data["nik"], data["birth_date"], data["phone"]) == (worker.nik, BIRTH, PHONE)
    assert me["view_personal_data"] is True
    assert [(e.kind, e.worker_ids) for e in AccessLog.objects.all()] == [("personal_data", [worker.pk])]


def test_branch_officer_signed_in_by_session_sees_personal_data_too(shared, world):
    from rest_framework.test import APIClient

    user = shared.users[BRANCH_OFFICER][0]
    client = APIClient()
    client.force_login(user)
    data = client.get(reverse("worker-detail", args=[world.new[OWN].pk])).json()

    assert data["nik"] == world.new[OWN].nik


def test_access_log_masks_searched_niks_for_an_admin_without_the_right(client_for, world):
    from django.contrib.auth import get_user_model
    from knox.models import AuthToken

    from access.models import AccessProfile

    from .conftest import token_client

    profile_admin = get_user_model().objects.create_user("kepala-dinas", password="x-Passw0rd!")
    AccessProfile.objects.create(user=profile_admin, role="admin")
    worker = world.new[OWN]
    client_for(CLIENT_RW).get(reverse("worker-list"), {"search": worker.nik, "ordering": "id"})

    full = client_for(ADMIN).get(reverse("access-log-list")).json()["results"]
    masked = token_client(AuthToken.objects.create(profile_admin)[1]).get(reverse("access-log-list"))

    assert [e["query"] for e in full] == [f"search={worker.nik}&ordering=id"]
    assert masked.status_code == 200
    assert [e["query"] for e in masked.json()["results"]] == ["search=1501************&ordering=id"]
    assert worker.nik not in masked.content.decode()


def test_admin_access_log_pages_mask_looked_up_niks_without_the_right(client_for, world):
    from django.contrib.auth import get_user_model
    from django.test import Client

    from access.models import AccessProfile

    profile_admin = get_user_model().objects.create_user("kepala-dinas", password="x-Passw0rd!", is_staff=True)
    AccessProfile.objects.create(user=profile_admin, role="admin")
    worker = world.new[OWN]
    client_for(CLIENT_RW).get(reverse("worker-list"), {"search": worker.nik})
    entry = AccessLog.objects.get(kind="nik_lookup")
    web = Client()
    web.force_login(profile_admin)

    page = web.get(reverse("admin:access_accesslog_change", args=[entry.pk]))
    filtered = web.get(reverse("admin:access_accesslog_changelist"), {"query__contains": worker.nik[6:12]})

    assert page.status_code == 200
    assert worker.nik not in page.content.decode()
    assert "search=1501************" in page.content.decode()
    assert filtered.status_code == 400


# -- odd input on paths this change touched ----------------------------------------------------


@pytest.mark.parametrize("header", ['"²"', '"99999999999999999999999"'])
def test_if_match_that_is_no_version_is_a_400(client_for, world, header):
    worker = world.new[OWN]

    response = client_for(CLIENT_RW).patch(
        reverse("worker-detail", args=[worker.pk]), {"full_name": "Nama"}, format="json", HTTP_IF_MATCH=header
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "If-Match"


def test_a_page_beyond_any_offset_of_an_uncounted_list_is_a_404(client_for, world, settings):
    settings.UCJ_LIST_COUNT_LIMIT = 1  # the list is no longer counted: its pages are open-ended

    response = client_for(ADMIN).get(reverse("worker-list"), {"page": "99999999999999999999999"})

    assert response.status_code == 404
    assert response.json()["type"] == "client_error"


def test_an_export_larger_than_the_list_limit_is_refused_before_anything_is_logged(client_for, world, settings):
    settings.UCJ_LIST_COUNT_LIMIT = 1

    response = client_for(ADMIN).get(reverse("worker-list"), {"format": "csv"}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "export_too_large"
    assert not AccessLog.objects.exists()


def test_an_admin_by_role_without_the_right_lists_only_its_own_imports(world):
    from django.contrib.auth import get_user_model
    from knox.models import AuthToken

    from access.models import AccessProfile

    from .conftest import token_client

    profile_admin = get_user_model().objects.create_user("kepala-dinas", password="x-Passw0rd!")
    AccessProfile.objects.create(user=profile_admin, role="admin")
    client = token_client(AuthToken.objects.create(profile_admin)[1])

    listed = client.get(reverse("import-list"))
    other = client.get(reverse("import-detail", args=[world.imports["stranger"].pk]))

    assert listed.status_code == 200
    assert listed.json()["results"] == []
    assert other.status_code == 404


# -- OPTIONS tells a caller what it may do --------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status", "writes"),
    [(CLIENT_RW, 200, ["POST"]), (REGENCY_OFFICER, 200, ["POST"]), (BRANCH_OFFICER, 200, []), ("viewer", 403, None)],
)
def test_options_on_the_worker_list_says_what_the_caller_may_do(client_for, world, role, status, writes):
    response = client_for(role).options(reverse("worker-list"))

    assert response.status_code == status
    if writes is not None:
        assert sorted(response.json().get("actions", {})) == writes


def test_options_anonymously_is_a_401(client_for, world):
    assert client_for("anonymous").options(reverse("worker-list")).status_code == 401


# -- a list's parameters are the ones it has ------------------------------------------------------


def test_an_unknown_list_parameter_is_a_400_naming_it(client_for, world):
    """`?nik=` is no filter (`search=` is): it answered every worker in scope."""
    client = client_for(REGENCY_OFFICER, personal_data=True)

    refused = client.get(reverse("worker-list"), {"nik": world.new[OWN].nik, "regency": OWN})
    known = client.get(reverse("worker-list"), {"search": world.new[OWN].nik, "regency": OWN, "page_size": 5})

    assert refused.status_code == 400
    assert [(e["attr"], e["code"]) for e in refused.json()["errors"]] == [("nik", "unknown_parameter")]
    assert known.status_code == 200
    assert [row["id"] for row in known.json()["results"]] == [world.new[OWN].pk]


@pytest.mark.parametrize("url_name", ["province-list", "regency-list", "village-list", "import-list", "target-list"])
def test_unknown_parameters_are_refused_on_every_list(client_for, world, url_name):
    response = client_for(ADMIN).get(reverse(url_name), {"no_such_filter": "1"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "no_such_filter"
