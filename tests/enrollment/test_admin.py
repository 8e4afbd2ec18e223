"""The admin writes through the same services as the API: history, counters, rules."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from coverage.models import VillageCoverage
from enrollment.models import ApparatusWorker, EnrollmentEvent
from villages.models import Village

pytestmark = pytest.mark.django_db

# The admin's activation form, filled as a branch officer would.
ACTIVATION_FORM = {
    "apply": "1",
    "kpj_number": "98765432101",
    "scheme": "bpu",
    "programs": ["jkk", "jkm"],
    "funding_source": "apbdes",
    "coverage_start": "2024-06-01",
    "paid_until": "2026-12-31",
}


@pytest.fixture
def admin_web(client, admin_user):
    client.force_login(admin_user)
    return client


def form_data(village, **overrides):
    data = {
        "village": village.pk,
        "nik": "1501015708850002",
        "full_name": "Siti Aminah",
        "sex": "female",
        "birth_date": "1985-08-17",
        "phone": "",
        "institution": "pkk",
        "position": "ketua",
        "term_start": "2024-03-01",
        "term_end": "",
        "wage_basis": "honorarium",
        "monthly_wage": "500000",
        "enrollment-TOTAL_FORMS": "0",
        "enrollment-INITIAL_FORMS": "0",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_admin_add_registers_through_service(admin_web, regions):
    village = Village.objects.get(code="15.01.01.2001")
    response = admin_web.post(reverse("admin:enrollment_apparatusworker_add"), form_data(village))
    assert response.status_code == 302, response.context["adminform"].form.errors
    worker = ApparatusWorker.objects.get()
    assert worker.enrollment.status == "not_registered"
    assert list(worker.events.values_list("kind", "source")) == [("registered", "admin")]
    assert VillageCoverage.objects.get(village=village, institution="pkk").serving == 1


def test_admin_add_shows_service_errors_and_writes_nothing(admin_web, regions):
    village = Village.objects.get(code="15.01.01.2001")
    response = admin_web.post(
        reverse("admin:enrollment_apparatusworker_add"), form_data(village, sex="male", position="kepala_desa")
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "sex" in errors
    assert "position" in errors
    assert ApparatusWorker.objects.count() == 0
    assert EnrollmentEvent.objects.count() == 0
    assert VillageCoverage.objects.count() == 0


def test_admin_actions_submit_and_activate_through_service(admin_web, make_worker):
    worker = make_worker()
    url = reverse("admin:enrollment_apparatusworker_changelist")
    response = admin_web.post(url, {"action": "submit_action", ACTION_CHECKBOX_NAME: [worker.pk]})
    assert response.status_code == 302
    response = admin_web.post(
        url,
        {"action": "activate_action", ACTION_CHECKBOX_NAME: [worker.pk], **ACTIVATION_FORM},
    )
    assert response.status_code == 302
    worker.refresh_from_db()
    assert worker.enrollment.status == "active"
    assert worker.enrollment.kpj_number == "98765432101"
    assert list(worker.events.values_list("kind", flat=True)) == ["registered", "submitted", "activated"]
    assert VillageCoverage.objects.get(village=worker.village, institution=worker.institution).protected == 1


def test_admin_search_by_nik_and_name(admin_web, make_worker):
    worker = make_worker(full_name="Ahmad Yani")
    make_worker(full_name="Budi Lain")
    url = reverse("admin:enrollment_apparatusworker_changelist")
    by_nik = admin_web.get(url, {"q": worker.nik})
    assert [w.pk for w in by_nik.context["cl"].result_list] == [worker.pk]
    by_name = admin_web.get(url, {"q": "ahmad"})
    assert [w.pk for w in by_name.context["cl"].result_list] == [worker.pk]


def test_admin_change_moves_counters_and_records_update(admin_web, make_worker):
    worker = make_worker()
    other = Village.objects.get(code="15.08.01.2001")
    data = form_data(
        other,
        nik=worker.nik,
        full_name=worker.full_name,
        sex=worker.sex,
        birth_date=worker.birth_date.isoformat(),
        institution=worker.institution,
        position=worker.position,
        term_start=worker.term_start.isoformat(),
        wage_basis=worker.wage_basis,
        monthly_wage=str(worker.monthly_wage),
        version=str(worker.version),
    )
    data.update({"enrollment-TOTAL_FORMS": "1", "enrollment-INITIAL_FORMS": "1", "enrollment-0-worker": worker.pk})
    response = admin_web.post(reverse("admin:enrollment_apparatusworker_change", args=[worker.pk]), data)
    assert response.status_code == 302
    worker.refresh_from_db()
    assert worker.village == other
    assert worker.regency.code == "15.08"
    assert worker.version == 2
    update = worker.events.get(kind="updated")
    assert update.changes == {"village": ["15.01.01.2001", "15.08.01.2001"]}
    counts = dict(VillageCoverage.objects.values_list("village__code", "serving"))
    assert counts == {"15.01.01.2001": 0, "15.08.01.2001": 1}


# -- optimistic concurrency -------------------------------------------------------------------


def change_form(worker, **overrides):
    data = form_data(
        worker.village,
        nik=worker.nik,
        full_name=worker.full_name,
        sex=worker.sex,
        birth_date=worker.birth_date.isoformat(),
        institution=worker.institution,
        position=worker.position,
        term_start=worker.term_start.isoformat(),
        wage_basis=worker.wage_basis,
        monthly_wage=str(worker.monthly_wage),
        version=str(worker.version),
        **{"enrollment-TOTAL_FORMS": "1", "enrollment-INITIAL_FORMS": "1", "enrollment-0-worker": worker.pk},
    )
    data.update(overrides)
    return data


def test_admin_change_form_carries_the_version_it_was_opened_at(admin_web, make_worker):
    worker = make_worker()
    response = admin_web.get(reverse("admin:enrollment_apparatusworker_change", args=[worker.pk]))

    assert response.status_code == 200
    assert response.context["adminform"].form["version"].value() == 1
    assert '<input type="hidden" name="version" value="1"' in response.content.decode()


def test_admin_stale_save_is_refused_with_a_form_error_and_overwrites_nothing(admin_web, make_worker, actor):
    from enrollment import services

    worker = make_worker()
    data = change_form(worker, full_name="Nama Dari Admin")  # opened at version 1
    services.worker_update(actor=actor, worker_id=worker.pk, changes={"full_name": "Nama Lain"}, expected_version=1)

    response = admin_web.post(reverse("admin:enrollment_apparatusworker_change", args=[worker.pk]), data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert errors == [
        "Data aparatur ini sudah diubah oleh orang lain setelah halaman ini Anda buka, jadi tidak ada yang "
        "disimpan. Muat ulang halaman untuk melihat perubahannya, lalu ulangi perubahan Anda."
    ]
    assert "Muat ulang halaman" in response.content.decode()
    worker.refresh_from_db()
    assert (worker.full_name, worker.version) == ("Nama Lain", 2)
    assert list(worker.events.values_list("kind", flat=True)) == ["registered", "updated"]


def test_admin_save_without_a_version_is_refused(admin_web, make_worker):
    worker = make_worker()
    data = change_form(worker, full_name="Nama Baru")
    del data["version"]

    response = admin_web.post(reverse("admin:enrollment_apparatusworker_change", args=[worker.pk]), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "Halaman ini sudah kedaluwarsa, jadi tidak ada yang disimpan. Muat ulang, lalu ulangi perubahan Anda."
    ]
    worker.refresh_from_db()
    assert (worker.full_name, worker.version) == ("Budi Santoso", 1)


# -- the demo's officers ------------------------------------------------------------------------


@pytest.fixture
def demo_users(regions):
    """The demo's officers; `regions` holds the Muara Bungo branch the branch officer works at."""
    from seed.demo import DEMO_PASSWORD, demo_users_load

    demo_users_load()
    return DEMO_PASSWORD


def test_demo_regency_officer_picks_villages_of_his_regency_only(client, demo_users):
    assert client.login(username="pmd.bungo", password=demo_users)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "enrollment", "model_name": "apparatusworker", "field_name": "village", "term": ""},
    )

    assert response.status_code == 200
    assert [row["text"] for row in response.json()["results"]] == [
        "15.08.01.1001 Kelurahan Pelepat",
        "15.08.01.2001 Rantau Keloyang",
    ]


def test_demo_regency_officer_registers_a_worker_in_the_admin(client, demo_users):
    assert client.login(username="pmd.bungo", password=demo_users)
    village = Village.objects.get(code="15.08.01.2001")
    response = client.post(reverse("admin:enrollment_apparatusworker_add"), form_data(village))

    assert response.status_code == 302
    worker = ApparatusWorker.objects.get()
    assert list(worker.events.values_list("kind", "source", "actor__username")) == [
        ("registered", "admin", "pmd.bungo")
    ]


def test_demo_regency_officer_history_pages_hold_his_regency_only(client, demo_users, make_worker):
    mine = make_worker(village="15.08.01.2001")
    other = make_worker(village="15.01.01.2001")
    assert client.login(username="pmd.bungo", password=demo_users)
    events_url = reverse("admin:enrollment_enrollmentevent_changelist")

    listed = client.get(events_url)
    by_nik = client.get(events_url, {"q": other.nik})
    other_event = other.events.get()

    assert {event.worker_id for event in listed.context["cl"].result_list} == {mine.pk}
    assert list(by_nik.context["cl"].result_list) == []
    assert client.get(reverse("admin:enrollment_enrollmentevent_change", args=[other_event.pk])).status_code == 404
    assert client.get(reverse("admin:enrollment_apparatusworker_change", args=[other.pk])).status_code == 404


def test_demo_regency_officer_neither_sees_nor_runs_membership_actions(client, demo_users, make_worker):
    worker = make_worker(village="15.08.01.2001")
    assert client.login(username="pmd.bungo", password=demo_users)
    url = reverse("admin:enrollment_apparatusworker_changelist")

    page = client.get(url)
    offered = {name for name, _label in page.context["action_form"].fields["action"].choices if name}
    response = client.post(
        url,
        {"action": "activate_action", ACTION_CHECKBOX_NAME: [worker.pk], **ACTIVATION_FORM},
    )

    assert offered == {"submit_action", "end_service_action"}
    assert response.status_code == 403
    worker.refresh_from_db()
    assert worker.enrollment.status == "not_registered"
    assert list(worker.events.values_list("kind", flat=True)) == ["registered"]


def test_demo_branch_officer_activates_memberships_in_the_admin(client, demo_users, make_worker):
    from enrollment import services

    worker = make_worker(village="15.08.01.2001")
    services.enrollment_submit(actor=services.Actor(label="seed"), worker_id=worker.pk)
    assert client.login(username="bpjs.muarabungo", password=demo_users)

    response = client.post(
        reverse("admin:enrollment_apparatusworker_changelist"),
        {"action": "activate_action", ACTION_CHECKBOX_NAME: [worker.pk], **ACTIVATION_FORM},
    )

    assert response.status_code == 302
    assert list(worker.events.values_list("kind", "actor__username")) == [
        ("registered", "admin"),
        ("submitted", None),
        ("activated", "bpjs.muarabungo"),
    ]


def test_admin_page_of_an_ended_service_is_read_only(admin_web, make_worker, actor):
    from enrollment import services

    worker = make_worker()
    services.worker_end_service(actor=actor, worker_id=worker.pk)
    url = reverse("admin:enrollment_apparatusworker_change", args=[worker.pk])

    page = admin_web.get(url)
    response = admin_web.post(url, change_form(worker, full_name="Nama Baru", version="2"))

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert 'name="version"' not in page.content.decode()
    assert response.status_code == 403
    worker.refresh_from_db()
    assert worker.full_name == "Budi Santoso"


def test_admin_change_made_between_check_and_save_is_not_overwritten(admin_web, make_worker, actor, monkeypatch):
    from enrollment import services
    from enrollment.admin import ApparatusWorkerAdmin

    worker = make_worker()
    check_and_save = ApparatusWorkerAdmin._save_through_service
    runs = []

    def racing(model_admin, request, form, change):
        runs.append(1)
        if len(runs) == 2:  # after the form's trial run, before the real one: someone else saves
            changes = {"full_name": "Nama Lain"}
            services.worker_update(actor=actor, worker_id=worker.pk, changes=changes, expected_version=1)
        return check_and_save(model_admin, request, form, change)

    monkeypatch.setattr(ApparatusWorkerAdmin, "_save_through_service", racing)
    url = reverse("admin:enrollment_apparatusworker_change", args=[worker.pk])
    response = admin_web.post(url, change_form(worker, full_name="Nama Dari Admin"))

    assert response.status_code == 302
    assert response["Location"] == url
    shown = [str(m) for m in admin_web.get(url).context["messages"]]
    assert shown == [
        "Data aparatur ini sudah diubah oleh orang lain setelah halaman ini Anda buka, jadi tidak ada yang "
        "disimpan. Muat ulang halaman untuk melihat perubahannya, lalu ulangi perubahan Anda."
    ]
    # The other save ran in the request's own transaction here (a test has one connection), so it
    # was rolled back with it; what matters is that the admin's change was not written over it.
    worker.refresh_from_db()
    assert worker.full_name != "Nama Dari Admin"
    assert not worker.events.filter(source="admin").exists()
