"""The worker pages: the list (search, the API's filters, masking, access log), one worker (its
enrollment, history as sentences, the buttons its caller may press), the transitions, the
register and edit forms (the API's checks, errors next to the field, a stale version explained)."""

import datetime
import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from access.choices import AccessKind
from access.models import AccessLog
from enrollment.models import ApparatusWorker, EnrollmentEvent
from tests.enrollment.factories import WorkerFactory, activation, bring_to, village
from tests.helpers import nik_for, today
from villages.models import BranchOffice, Regency

from .test_pages import log_in, make_user

pytestmark = pytest.mark.django_db

BUNGO = "15.08.01.2001"  # Rantau Keloyang, Kabupaten Bungo
KERINCI = "15.01.01.2001"  # Lempur Tengah, Kabupaten Kerinci
LIST = reverse("portal:workers")
NEW = reverse("portal:worker_new")


def client_of(username: str, **kwargs) -> Client:
    client = Client(**kwargs)
    log_in(client, username)
    return client


@pytest.fixture
def people(regions):
    """A Bungo PMD officer (no personal-data right), the Muara Bungo branch clerk (who has it by
    role), a Kerinci officer (Bungo is outside its regions)."""
    make_user("pmd.bungo", "regency_officer", regency=Regency.objects.get(code="15.08"))
    make_user("bpjs.muarabungo", "branch_officer", branch=BranchOffice.objects.get(code="muara-bungo"))
    make_user("pmd.kerinci", "regency_officer", regency=Regency.objects.get(code="15.01"))


@pytest.fixture
def siti(people):
    """A worker of Bungo, just registered (not registered with BPJS yet)."""
    return WorkerFactory(
        village=village(BUNGO), full_name="Siti Aminah", nik=nik_for(datetime.date(1980, 5, 17), "male", 42, "150801")
    )


def names(html: str) -> list[str]:
    return re.findall(r'<a href="/pekerja/\d+/">([^<]+)</a>', html)


def page(client: Client, worker: ApparatusWorker):
    return client.get(reverse("portal:worker", args=[worker.pk]))


def buttons(html: str) -> set[str]:
    return set(re.findall(r'<button type="submit" name="action" value="([a-z-]+)"', html))


def field_errors(html: str, field: str, form: str = "id_") -> str:
    """The errors shown right under one field of a form (portal/form_fields.html); `form`: the
    start of its inputs' ids (`activate-<id>-` for a worker's activation form)."""
    assert f'id="{form}{field}"' in html, f"no field {field}"
    return " ".join(re.findall(rf'<p class="errors" id="{form}{field}_error">([^<]*)</p>', html))


# --- the list ------------------------------------------------------------------------------------


def test_the_list_shows_the_callers_workers_counted(siti):
    WorkerFactory(village=village(KERINCI), full_name="Budi Kerinci")

    response = client_of("pmd.bungo").get(LIST)

    assert response.status_code == 200
    assert names(response.text) == ["Siti Aminah"]
    assert "1 pekerja." in response.text


def test_the_list_is_searched_by_a_part_of_the_name(siti):
    WorkerFactory(village=village(BUNGO), full_name="Rahmat Hidayat")

    response = client_of("pmd.bungo").get(LIST, {"search": "amin"})

    assert names(response.text) == ["Siti Aminah"]


def test_a_search_by_the_whole_nik_finds_the_worker_and_is_logged_without_the_right(siti):
    WorkerFactory(village=village(BUNGO), full_name="Rahmat Hidayat")

    response = client_of("pmd.bungo").get(LIST, {"search": siti.nik})

    assert names(response.text) == ["Siti Aminah"]
    lookup = AccessLog.objects.get(kind=AccessKind.NIK_LOOKUP)
    assert (lookup.user.username, lookup.rows, lookup.path) == ("pmd.bungo", 1, LIST)


def test_the_list_takes_the_apis_filters(siti):
    bring_to(WorkerFactory(village=village(BUNGO), full_name="Rahmat Hidayat"), "active")
    client = client_of("pmd.bungo")

    protected = client.get(LIST, {"protected": "true"})
    unprotected = client.get(LIST, {"serving": "true", "protected": "false", "district": "15.08.01"})
    submitted = client.get(LIST, {"status": "submitted"})

    assert names(protected.text) == ["Rahmat Hidayat"]
    assert names(unprotected.text) == ["Siti Aminah"]
    assert names(submitted.text) == []


def test_a_filter_value_the_api_refuses_is_said_not_ignored(siti):
    response = client_of("pmd.bungo").get(LIST, {"protected": "maybe"})

    assert response.status_code == 200
    assert names(response.text) == []
    assert 'class="errors"' in response.text


def test_the_nik_is_masked_for_an_officer_without_the_right_and_nothing_is_logged(siti):
    response = client_of("pmd.bungo").get(LIST)

    assert siti.nik not in response.text
    assert "1508************" in response.text
    assert not AccessLog.objects.filter(kind=AccessKind.PERSONAL_DATA).exists()


def test_the_branch_clerk_sees_the_whole_nik_and_the_access_is_logged(siti):
    response = client_of("bpjs.muarabungo").get(LIST)

    assert siti.nik in response.text
    shown = AccessLog.objects.get(kind=AccessKind.PERSONAL_DATA)
    assert (shown.user.username, shown.worker_ids, shown.path) == ("bpjs.muarabungo", [siti.pk], LIST)


def test_an_officer_given_the_personal_data_right_sees_the_whole_nik(siti):
    from django.contrib.auth import get_user_model

    officer = get_user_model().objects.get(username="pmd.bungo")
    officer.user_permissions.add(Permission.objects.get(codename="view_personal_data"))

    response = client_of("pmd.bungo").get(LIST)

    assert siti.nik in response.text
    assert AccessLog.objects.filter(kind=AccessKind.PERSONAL_DATA, user=officer).count() == 1


def test_the_list_is_paged_by_fifty(people, monkeypatch):
    import portal.views.workers

    monkeypatch.setattr(portal.views.workers, "PAGE_SIZE", 1)
    first, second = (WorkerFactory(village=village(BUNGO)) for _ in range(2))
    client = client_of("pmd.bungo")

    one, two = client.get(LIST), client.get(LIST, {"halaman": 2})

    assert names(one.text) == [first.full_name]
    assert names(two.text) == [second.full_name]
    assert "Halaman 1 dari 2" in one.text


def test_the_lists_queries_do_not_grow_with_its_rows(people, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_of("bpjs.muarabungo")
    bring_to(WorkerFactory(village=village(BUNGO)), "active")
    with CaptureQueriesContext(connection) as one:
        client.get(LIST)
    for status in ("active", "submitted", "lapsed"):
        bring_to(WorkerFactory(village=village(BUNGO)), status)

    with django_assert_max_num_queries(len(one)):
        response = client.get(LIST)

    assert len(names(response.text)) == 4


# --- one worker ---------------------------------------------------------------------------------


def test_the_worker_page_masks_for_an_officer_and_shows_the_history_as_sentences(siti):
    response = page(client_of("pmd.bungo"), siti)

    assert response.status_code == 200
    assert siti.nik not in response.text
    assert "1508************" in response.text
    assert "Belum terdaftar" in response.text
    assert f"didaftarkan oleh factory di desa {BUNGO}" in response.text


def test_the_worker_page_of_the_branch_clerk_is_complete_and_logged(siti):
    response = page(client_of("bpjs.muarabungo"), siti)

    assert siti.nik in response.text
    assert "17 Mei 1980" in response.text
    assert AccessLog.objects.get(kind=AccessKind.PERSONAL_DATA).worker_ids == [siti.pk]


def test_a_change_of_personal_data_is_masked_in_the_history_without_the_right(siti):
    from enrollment import services

    new_phone = "081234567890"
    services.worker_update(
        actor=services.Actor(label="admin"), worker_id=siti.pk, changes={"phone": new_phone}, expected_version=1
    )

    officer = page(client_of("pmd.bungo"), siti).text
    clerk = page(client_of("bpjs.muarabungo"), siti).text

    assert new_phone not in officer
    assert "data diubah oleh admin: nomor telepon: — → ***" in officer
    assert f"→ {new_phone}" in clerk


@pytest.mark.parametrize(
    ("username", "status", "expected"),
    [
        ("pmd.bungo", "not_registered", {"submit", "end-service"}),
        ("pmd.bungo", "submitted", {"end-service"}),
        ("pmd.bungo", "active", {"end-service"}),
        ("pmd.bungo", "ended", set()),
        ("bpjs.muarabungo", "not_registered", {"activate"}),
        ("bpjs.muarabungo", "submitted", {"activate"}),
        ("bpjs.muarabungo", "active", {"renew", "lapse"}),
        ("bpjs.muarabungo", "lapsed", {"renew"}),
        ("bpjs.muarabungo", "ended", set()),
    ],
)
def test_the_buttons_are_those_the_caller_may_press_from_the_status(siti, username, status, expected):
    worker = bring_to(siti, status)

    response = page(client_of(username), worker)

    assert buttons(response.text) == expected


def test_the_edit_link_is_only_for_those_who_may_write(siti):
    edit = reverse("portal:worker_edit", args=[siti.pk])

    assert edit in page(client_of("pmd.bungo"), siti).text
    assert edit not in page(client_of("bpjs.muarabungo"), siti).text


def test_a_worker_outside_the_callers_regions_is_not_found(siti):
    client = client_of("pmd.kerinci")

    assert page(client, siti).status_code == 404
    assert client.get(reverse("portal:worker_edit", args=[siti.pk])).status_code == 404
    assert client.post(reverse("portal:worker_submit", args=[siti.pk]), {"version": 1}).status_code == 404
    siti.refresh_from_db()
    assert siti.enrollment_status == "not_registered"


# --- transitions ---------------------------------------------------------------------------------


def last_event(worker: ApparatusWorker) -> EnrollmentEvent:
    return EnrollmentEvent.objects.filter(worker=worker).latest("id")


def test_the_officer_submits_a_worker(siti):
    client = client_of("pmd.bungo")

    response = client.post(reverse("portal:worker_submit", args=[siti.pk]), {"version": siti.version})
    shown = client.get(response["Location"])

    assert response.status_code == 302
    siti.refresh_from_db()
    assert siti.enrollment_status == "submitted"
    assert (last_event(siti).kind, last_event(siti).source, last_event(siti).actor_label) == (
        "submitted",
        "portal",
        "pmd.bungo",
    )
    assert "Diajukan" in shown.text
    assert "diajukan untuk kepesertaan oleh pmd.bungo" in shown.text


def test_the_clerk_activates_renews_and_lapses(siti):
    worker = bring_to(siti, "submitted")
    client = client_of("bpjs.muarabungo")
    data = activation(kpj_number="24081500042")
    form = {
        **data,
        "programs": ["jkk", "jkm", "jht"],
        "coverage_start": data["coverage_start"].isoformat(),
        "paid_until": data["paid_until"].isoformat(),
        "version": worker.version,
    }

    activated = client.post(reverse("portal:worker_activate", args=[worker.pk]), form)
    worker.refresh_from_db()
    worker.enrollment.refresh_from_db()
    assert activated.status_code == 302
    assert (worker.enrollment_status, worker.enrollment.kpj_number, worker.enrollment.program_jht) == (
        "active",
        "24081500042",
        True,
    )
    assert "diaktifkan oleh bpjs.muarabungo, KPJ 24081500042" in client.get(activated["Location"]).text

    later = worker.enrollment.paid_until + datetime.timedelta(days=30)
    renewed = client.post(
        reverse("portal:worker_renew", args=[worker.pk]), {"paid_until": later.isoformat(), "version": worker.version}
    )
    worker.refresh_from_db()
    worker.enrollment.refresh_from_db()
    assert renewed.status_code == 302
    assert worker.enrollment.paid_until == later

    lapsed = client.post(reverse("portal:worker_lapse", args=[worker.pk]), {"version": worker.version})
    worker.refresh_from_db()
    assert lapsed.status_code == 302
    assert worker.enrollment_status == "lapsed"
    assert last_event(worker).source == "portal"


def test_the_officer_ends_a_service(siti):
    response = client_of("pmd.bungo").post(
        reverse("portal:worker_end_service", args=[siti.pk]),
        {"version": siti.version, "effective_date": today().isoformat()},
    )

    siti.refresh_from_db()
    assert response.status_code == 302
    assert (siti.enrollment_status, siti.serving, siti.term_end) == ("ended", False, today())


def test_a_transition_needs_the_apis_capability(siti):
    worker = bring_to(siti, "submitted")

    response = client_of("pmd.bungo").post(
        reverse("portal:worker_activate", args=[worker.pk]), {**activation(), "version": worker.version}
    )

    assert response.status_code == 403
    worker.refresh_from_db()
    assert worker.enrollment_status == "submitted"


def test_an_activation_refused_shows_each_error_next_to_its_field(siti):
    worker = bring_to(siti, "submitted")
    client = client_of("bpjs.muarabungo")

    response = client.post(
        reverse("portal:worker_activate", args=[worker.pk]),
        {"kpj_number": "123", "scheme": "bpu", "programs": ["jkk", "jkm"], "version": worker.version},
    )

    assert response.status_code == 400
    assert "11" in field_errors(response.text, "kpj_number", f"activate-{worker.pk}-")
    assert field_errors(response.text, "funding_source", f"activate-{worker.pk}-") == "Bidang ini harus diisi."
    assert field_errors(response.text, "scheme", f"activate-{worker.pk}-") == ""
    assert 'value="123"' in response.text  # what was typed is kept
    worker.refresh_from_db()
    assert worker.enrollment_status == "submitted"


def test_an_activation_refused_by_the_service_names_the_field(siti):
    worker = bring_to(siti, "submitted")
    data = activation(scheme="bpu", programs=["jkk", "jkm", "jp"])  # no pension for BPU

    response = client_of("bpjs.muarabungo").post(
        reverse("portal:worker_activate", args=[worker.pk]),
        {
            **data,
            "coverage_start": data["coverage_start"].isoformat(),
            "paid_until": data["paid_until"].isoformat(),
            "version": worker.version,
        },
    )

    assert response.status_code == 400
    assert field_errors(response.text, "programs", f"activate-{worker.pk}-") != ""


def test_the_activation_form_answers_htmx_with_a_fragment(siti):
    worker = bring_to(siti, "submitted")
    client = client_of("bpjs.muarabungo")
    url = reverse("portal:worker_activate", args=[worker.pk])
    data = activation()
    good = {
        **data,
        "coverage_start": data["coverage_start"].isoformat(),
        "paid_until": data["paid_until"].isoformat(),
        "version": worker.version,
    }

    refused = client.post(url, {**good, "kpj_number": "abc"}, HTTP_HX_REQUEST="true")
    done = client.post(url, good, HTTP_HX_REQUEST="true")

    assert "hx-post" not in page(client, worker).text  # on the worker's page: a plain form, the page comes back
    assert refused.status_code == 200
    assert "<html" not in refused.text
    assert f'hx-post="{url}"' in refused.text  # embedded elsewhere: it stays in place
    assert field_errors(refused.text, "kpj_number", f"activate-{worker.pk}-") != ""
    assert done.status_code == 200
    assert "<html" not in done.text
    assert data["kpj_number"] in done.text
    worker.refresh_from_db()
    assert worker.enrollment_status == "active"


def test_a_transition_on_a_stale_version_changes_nothing_and_says_who_changed_it(siti):
    client = client_of("pmd.bungo")
    bring_to(siti, "submitted")  # by someone else, after the page was read (version 1)

    response = client.post(reverse("portal:worker_end_service", args=[siti.pk]), {"version": 1}, follow=True)

    siti.refresh_from_db()
    assert siti.enrollment_status == "submitted"
    assert "Diubah oleh test pukul" in response.text


def test_a_post_without_the_csrf_token_is_refused(siti):
    from django.contrib.auth import get_user_model

    client = Client(enforce_csrf_checks=True)
    client.force_login(get_user_model().objects.get(username="pmd.bungo"))

    response = client.post(reverse("portal:worker_submit", args=[siti.pk]), {"version": siti.version})

    assert response.status_code == 403
    siti.refresh_from_db()
    assert siti.enrollment_status == "not_registered"


# --- register and edit ---------------------------------------------------------------------------


def registration(**overrides) -> dict:
    data = {
        "village": BUNGO,
        "nik": nik_for(datetime.date(1990, 2, 3), "female", 7, "150801"),
        "full_name": "Dewi Lestari",
        "sex": "female",
        "birth_date": "1990-02-03",
        "phone": "",
        "institution": "pemerintah_desa",
        "position": "sekretaris_desa",
        "term_start": "2024-01-01",
        "term_end": "",
        "wage_basis": "siltap",
        "monthly_wage": "2.500.000",
    }
    data.update(overrides)
    return data


def test_the_officer_registers_a_worker(people):
    client = client_of("pmd.bungo")

    response = client.post(NEW, registration())

    worker = ApparatusWorker.objects.get(full_name="Dewi Lestari")
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:worker", args=[worker.pk])
    assert (worker.village.code, worker.monthly_wage, worker.enrollment_status) == (BUNGO, 2_500_000, "not_registered")
    assert last_event(worker).source == "portal"
    lookup = AccessLog.objects.get(kind=AccessKind.NIK_LOOKUP)
    assert lookup.user.username == "pmd.bungo"
    assert "Dewi Lestari" in client.get(response["Location"]).text


def test_the_register_form_offers_only_the_callers_villages(people):
    response = client_of("pmd.bungo").get(NEW)

    assert response.status_code == 200
    assert f'value="{BUNGO}"' in response.text
    assert f'value="{KERINCI}"' not in response.text


def test_the_village_picker_finds_the_callers_villages_by_name_or_code(people):
    client = client_of("pmd.bungo")
    url = reverse("portal:village_options")

    by_name = client.get(url, {"q": "rantau"}, HTTP_HX_REQUEST="true")
    by_code = client.get(url, {"q": "15.08.01.1"})
    elsewhere = client.get(url, {"q": "lempur"})

    assert re.findall(r'value="([^"]*)"', by_name.text) == [BUNGO]
    assert re.findall(r'value="([^"]*)"', by_code.text) == ["15.08.01.1001"]
    assert re.findall(r'value="([^"]*)"', elsewhere.text) == [""]


def test_a_registration_refused_shows_the_errors_next_to_the_fields(people):
    response = client_of("pmd.bungo").post(NEW, registration(nik="123", full_name="", village=KERINCI))

    assert response.status_code == 400
    assert field_errors(response.text, "nik") != ""
    assert field_errors(response.text, "full_name") == "Bidang ini harus diisi."
    assert not ApparatusWorker.objects.filter(nik="123").exists()


def test_a_village_outside_the_callers_regions_is_refused_on_the_village(people):
    response = client_of("pmd.bungo").post(NEW, registration(village=KERINCI))

    assert response.status_code == 400
    assert field_errors(response.text, "village") == "Tidak ada desa dengan kode ini di wilayah kewenangan Anda."
    assert not ApparatusWorker.objects.exists()


def test_a_nik_that_does_not_agree_with_the_birth_date_is_said_on_the_birth_date(people):
    response = client_of("pmd.bungo").post(NEW, registration(birth_date="1991-02-03"))

    assert response.status_code == 400
    assert "tanggal lahir" in field_errors(response.text, "birth_date").lower()


def test_the_officer_edits_a_worker_keeping_what_it_may_not_see(siti):
    client = client_of("pmd.bungo")
    url = reverse("portal:worker_edit", args=[siti.pk])
    form = client.get(url)
    assert siti.nik not in form.text

    response = client.post(
        url,
        registration(nik="", birth_date="", full_name="Siti Aminah Putri", sex="male", version=siti.version),
    )

    assert response.status_code == 302
    siti.refresh_from_db()
    assert (siti.full_name, siti.nik, siti.version) == ("Siti Aminah Putri", siti.nik, 2)
    assert siti.position == "sekretaris_desa"


def test_an_officer_with_the_right_edits_with_the_personal_data_filled_in(siti):
    from django.contrib.auth import get_user_model

    officer = get_user_model().objects.get(username="pmd.bungo")
    officer.user_permissions.add(Permission.objects.get(codename="view_personal_data"))

    response = client_of("pmd.bungo").get(reverse("portal:worker_edit", args=[siti.pk]))

    assert response.status_code == 200
    assert f'value="{siti.nik}"' in response.text
    assert 'value="1980-05-17"' in response.text


def test_an_end_of_service_dated_before_the_term_is_refused_with_the_reason(siti):
    response = client_of("pmd.bungo").post(
        reverse("portal:worker_end_service", args=[siti.pk]),
        {"version": siti.version, "effective_date": "2023-06-01"},
        follow=True,
    )

    siti.refresh_from_db()
    assert siti.serving is True
    assert "Tanggal berlaku: " in response.text


def test_an_edit_of_a_stale_version_says_who_changed_it_and_keeps_the_input(siti):
    from enrollment import services

    client = client_of("pmd.bungo")
    url = reverse("portal:worker_edit", args=[siti.pk])
    client.get(url)
    services.worker_update(
        actor=services.Actor(label="bpjs.muarabungo"),
        worker_id=siti.pk,
        changes={"full_name": "Siti A."},
        expected_version=1,
    )

    response = client.post(url, registration(nik="", birth_date="", full_name="Siti Typed", version=1))

    assert response.status_code == 409
    assert re.search(
        r"Diubah oleh bpjs\.muarabungo pukul \d\d:\d\d — <a href=\"" + url + '">muat ulang</a>', response.text
    )
    assert 'value="Siti Typed"' in response.text
    siti.refresh_from_db()
    assert siti.full_name == "Siti A."


def test_an_emptied_required_field_is_refused_on_edit(siti):
    response = client_of("pmd.bungo").post(
        reverse("portal:worker_edit", args=[siti.pk]),
        registration(nik="", birth_date="", term_start="", version=siti.version),
    )

    assert response.status_code == 400
    assert field_errors(response.text, "term_start") == "Bidang ini harus diisi."


# --- the coverage page links to the workers behind its numbers ------------------------------------


def test_the_coverage_numbers_link_to_the_workers_behind_them(siti):
    response = client_of("pmd.bungo").get(reverse("portal:coverage", args=["15.08"]))

    assert response.status_code == 200
    assert f"{LIST}?district=15.08.01&amp;serving=true" in response.text
    assert f"{LIST}?district=15.08.01&amp;protected=true" in response.text
    assert f"{LIST}?district=15.08.01&amp;serving=true&amp;protected=false" in response.text
