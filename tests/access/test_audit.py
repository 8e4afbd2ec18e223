"""Every write is attributable: history events carry the actor (user or client) and the source
(api, admin, system, import); admins filter the trail by actor, region and dates; no one else
reads it."""

from __future__ import annotations

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.urls import reverse

from enrollment import services
from enrollment.models import ApparatusWorker, EnrollmentEvent, WorkerImport

from .conftest import (
    ADMIN,
    ANONYMOUS,
    BRANCH_OFFICER,
    CLIENT_RO,
    CLIENT_RW,
    OTHER,
    OWN,
    PROVINCE_OFFICER,
    REGENCY_OFFICER,
    ROLES,
    SIBLING,
    USERNAME,
    VIEWER,
    VILLAGE,
    activation_payload,
    import_file,
    rows,
    token_client,
    upload,
    worker_payload,
)


def events_of(worker_id: int) -> list[tuple[str, str, str, int | None]]:
    return list(
        EnrollmentEvent.objects.filter(worker_id=worker_id)
        .order_by("id")
        .values_list("kind", "actor_label", "source", "actor_id")
    )


# -- who and from where -------------------------------------------------------------------------


def test_api_writes_record_the_officer_and_source_api(client_for, world):
    client = client_for(REGENCY_OFFICER)
    created = client.post(reverse("worker-list"), worker_payload(VILLAGE[OWN]), format="json").json()
    worker_id = created["id"]
    client.patch(reverse("worker-detail", args=[worker_id]), {"full_name": "Nama Baru", "version": 1}, format="json")
    client.post(reverse("worker-submit", args=[worker_id]), {}, format="json")
    client.post(reverse("worker-end-service", args=[worker_id]), {}, format="json")

    user = USERNAME[REGENCY_OFFICER]
    assert events_of(worker_id) == [
        ("registered", user, "api", client.user.pk),
        ("updated", user, "api", client.user.pk),
        ("submitted", user, "api", client.user.pk),
        ("service_ended", user, "api", client.user.pk),
    ]


def test_enrollment_actions_record_the_branch_officer(client_for, world):
    client = client_for(BRANCH_OFFICER)
    worker = world.new[OWN]
    client.post(reverse("worker-activate", args=[worker.pk]), activation_payload(), format="json")
    paid_until = (services.today() + datetime.timedelta(days=120)).isoformat()
    client.post(reverse("worker-renew", args=[worker.pk]), {"paid_until": paid_until}, format="json")
    client.post(reverse("worker-lapse", args=[worker.pk]), {}, format="json")

    user = USERNAME[BRANCH_OFFICER]
    assert events_of(worker.pk)[1:] == [
        ("activated", user, "api", client.user.pk),
        ("renewed", user, "api", client.user.pk),
        ("lapsed", user, "api", client.user.pk),
    ]


def test_client_writes_record_the_client(client_for, world):
    client = client_for(CLIENT_RW)
    worker_id = client.post(reverse("worker-list"), worker_payload(VILLAGE[OWN]), format="json").json()["id"]

    assert events_of(worker_id) == [("registered", "client:sipd-kerinci", "api", client.user.pk)]


def test_refused_writes_record_nothing(client_for, world):
    before = EnrollmentEvent.objects.count()
    client_for(CLIENT_RO).post(reverse("worker-list"), worker_payload(VILLAGE[OWN]), format="json")
    client_for(REGENCY_OFFICER).post(reverse("worker-submit", args=[world.new[OTHER].pk]), {}, format="json")
    client_for(CLIENT_RW).post(reverse("worker-list"), worker_payload(VILLAGE[SIBLING]), format="json")

    assert EnrollmentEvent.objects.count() == before


@pytest.fixture
def admin_web(client, shared, world):
    user, _token = shared.users[ADMIN]
    client.force_login(user)
    client.user = user
    return client


def admin_form(**overrides) -> dict:
    from villages.models import Village

    data = worker_payload(VILLAGE[OWN])
    data.update(
        {
            "village": Village.objects.get(code=VILLAGE[OWN]).pk,
            "term_end": "",
            "enrollment-TOTAL_FORMS": "0",
            "enrollment-INITIAL_FORMS": "0",
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
        }
    )
    data.update(overrides)
    return data


def test_admin_site_writes_record_the_admin_and_source_admin(admin_web, world):
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

    form = admin_form()
    response = admin_web.post(reverse("admin:enrollment_apparatusworker_add"), form)
    assert response.status_code == 302
    worker = ApparatusWorker.objects.get(nik=form["nik"])
    admin_web.post(
        reverse("admin:enrollment_apparatusworker_changelist"),
        {"action": "submit_action", ACTION_CHECKBOX_NAME: [worker.pk]},
    )

    assert events_of(worker.pk) == [
        ("registered", "admin", "admin", admin_web.user.pk),
        ("submitted", "admin", "admin", admin_web.user.pk),
    ]


def test_scheduled_expiry_records_source_system(world):
    worker = ApparatusWorker.objects.get(pk=world.new[OWN].pk)
    seed = services.Actor(label="seed")
    services.enrollment_activate(
        actor=seed,
        worker_id=worker.pk,
        kpj_number="30000000001",
        scheme="bpu",
        programs=["jkk", "jkm"],
        funding_source="apbdes",
        coverage_start=datetime.date(2024, 2, 1),
        paid_until=datetime.date(2024, 6, 30),
        effective_date=datetime.date(2024, 2, 1),
    )
    call_command("expire_enrollments", stdout=io.StringIO())

    assert events_of(worker.pk)[-1] == ("lapsed", "system", "system", None)


def test_import_writes_record_the_uploader_and_source_import(client_for, world):
    client = client_for(REGENCY_OFFICER)
    data = import_file(VILLAGE[OWN])
    nik = data.decode().splitlines()[1].split(",")[1]
    response = upload(client, data)

    assert response.status_code == 201, response.content[:500]
    worker = ApparatusWorker.objects.get(nik=nik)
    assert events_of(worker.pk) == [("registered", USERNAME[REGENCY_OFFICER], "import", client.user.pk)]
    record = WorkerImport.objects.get(pk=response.json()["import"])
    assert (record.created_by, record.source, record.file_name) == (client.user, "import", "workers.csv")
    assert EnrollmentEvent.objects.get(worker=worker).import_batch_id == record.pk


def test_every_event_has_a_source_and_an_actor(client_for, world, admin_web):
    client_for(REGENCY_OFFICER).post(reverse("worker-list"), worker_payload(VILLAGE[OWN]), format="json")
    admin_web.post(reverse("admin:enrollment_apparatusworker_add"), admin_form())

    events = list(EnrollmentEvent.objects.values_list("source", "actor_label"))
    assert {source for source, _label in events} == {"system", "api", "admin"}
    assert all(label for _source, label in events)


# -- the audit API ------------------------------------------------------------------------------


@pytest.fixture
def trail(client_for, world):
    """Writes by two officers in two regencies, then an admin client."""
    regency = client_for(REGENCY_OFFICER)
    province = client_for(PROVINCE_OFFICER)
    own = regency.post(reverse("worker-list"), worker_payload(VILLAGE[OWN]), format="json").json()["id"]
    sibling = province.post(reverse("worker-list"), worker_payload(VILLAGE[SIBLING]), format="json").json()["id"]
    province.post(reverse("worker-submit", args=[sibling]), {}, format="json")
    return {"own": own, "sibling": sibling, "admin": client_for(ADMIN)}


def audit(client, **params) -> list[dict]:
    response = client.get(reverse("audit-event-list"), {"page_size": 500, **params})
    assert response.status_code == 200
    return rows(response)


def test_admin_filters_events_by_actor(trail):
    found = audit(trail["admin"], actor=USERNAME[PROVINCE_OFFICER])

    assert [(e["worker"], e["kind"], e["actor"], e["source"]) for e in found] == [
        (trail["sibling"], "submitted", USERNAME[PROVINCE_OFFICER], "api"),
        (trail["sibling"], "registered", USERNAME[PROVINCE_OFFICER], "api"),
    ]


def test_admin_filters_events_by_regency(trail, world):
    found = audit(trail["admin"], regency=SIBLING)

    assert {e["regency"] for e in found} == {SIBLING}
    assert {e["worker"] for e in found} == {w.pk for w in world.workers[SIBLING]} | {trail["sibling"]}


def test_admin_filters_events_by_province(trail, world):
    found = audit(trail["admin"], province="16")

    assert {e["regency"] for e in found} == {OTHER}
    assert {e["worker"] for e in found} == {w.pk for w in world.workers[OTHER]}


def test_admin_filters_events_by_source(trail):
    assert {e["source"] for e in audit(trail["admin"], source="api")} == {"api"}
    assert {e["actor"] for e in audit(trail["admin"], source="system")} == {"seed"}


def test_admin_filters_events_by_date_range(trail):
    old = EnrollmentEvent.objects.filter(worker_id=trail["own"])
    recorded = datetime.datetime(2025, 3, 10, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
    # History is append-only for the app; the test backdates through the base manager.
    EnrollmentEvent._base_manager.filter(pk__in=old.values("pk")).update(recorded_at=recorded)

    within = audit(trail["admin"], start="2025-03-01", end="2025-03-31")
    before = audit(trail["admin"], end="2025-03-09")
    after = audit(trail["admin"], start="2025-03-11")

    assert [e["worker"] for e in within] == [trail["own"]]
    assert before == []
    assert trail["own"] not in {e["worker"] for e in after}
    assert len(after) == EnrollmentEvent.objects.count() - 1


def test_admin_combines_filters(trail):
    found = audit(trail["admin"], actor=USERNAME[PROVINCE_OFFICER], regency=OWN)

    assert found == []


def test_audit_event_shows_who_when_and_what(trail):
    event = audit(trail["admin"], actor=USERNAME[REGENCY_OFFICER])[0]

    assert set(event) >= {"worker", "regency", "kind", "recorded_at", "actor", "source", "changes"}
    assert (event["worker"], event["regency"], event["kind"]) == (trail["own"], OWN, "registered")


def test_access_log_filters_by_user_and_kind(client_for, world):
    officer = client_for(REGENCY_OFFICER, personal_data=True)
    officer.get(reverse("worker-detail", args=[world.new[OWN].pk]))
    officer.get(reverse("coverage-list"), {"level": "village", "format": "csv"})
    admin = client_for(ADMIN)

    by_user = rows(admin.get(reverse("access-log-list"), {"user": officer.user.username}))
    exports = rows(admin.get(reverse("access-log-list"), {"kind": "export"}))
    nobody = rows(admin.get(reverse("access-log-list"), {"user": USERNAME[REGENCY_OFFICER]}))

    assert [e["kind"] for e in by_user] == ["export", "personal_data"]
    assert [(e["user"], e["path"]) for e in exports] == [(officer.user.username, reverse("coverage-list"))]
    assert nobody == []


@pytest.mark.parametrize("role", [r for r in ROLES if r not in (ADMIN, ANONYMOUS)])
@pytest.mark.parametrize("url_name", ["audit-event-list", "access-log-list"])
def test_non_admins_cannot_read_the_audit_trail(client_for, world, role, url_name):
    assert client_for(role).get(reverse(url_name)).status_code == 403


@pytest.mark.parametrize("url_name", ["audit-event-list", "access-log-list"])
def test_anonymous_cannot_read_the_audit_trail(api_client, world, url_name):
    assert api_client.get(reverse(url_name)).status_code == 401


@pytest.mark.parametrize("role", [REGENCY_OFFICER, VIEWER])
def test_non_admin_cannot_read_one_audit_event(client_for, world, role):
    event = EnrollmentEvent.objects.first()

    assert client_for(role).get(reverse("audit-event-detail", args=[event.pk])).status_code == 403


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_audit_trail_cannot_be_written_through_the_api(client_for, world, method):
    admin = client_for(ADMIN)
    event = EnrollmentEvent.objects.first()
    collection = getattr(admin, method)(reverse("audit-event-list"), {}, format="json")
    item = getattr(admin, method)(reverse("audit-event-detail", args=[event.pk]), {}, format="json")

    assert collection.status_code == 405
    assert item.status_code == 405
    assert EnrollmentEvent.objects.filter(pk=event.pk).exists()


def test_token_user_is_the_actor_not_a_session(shared, world):
    user, token = shared.users[PROVINCE_OFFICER]
    response = token_client(token).post(reverse("worker-list"), worker_payload(VILLAGE[SIBLING]), format="json")

    event = EnrollmentEvent.objects.get(worker_id=response.json()["id"])
    assert (event.actor_id, event.actor_label) == (user.pk, USERNAME[PROVINCE_OFFICER])
