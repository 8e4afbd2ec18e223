"""The worklists of workers: the activation queue, memberships to renew, terms ended. Each lists
the exact workers of the caller's regions (a branch: its territory) in its order, with its count,
the API's filters, pages of 50, and a spreadsheet for people that is an export as the API's are
(the `export` capability, every worker in the access log, personal data masked without the right)."""

import datetime
import io
import re

import openpyxl
import pytest
from django.urls import reverse

from access.models import AccessLog
from enrollment import selectors, services
from tests.enrollment.factories import (
    OTHER_REGENCY_VILLAGE,
    VILLAGE,
    WorkerFactory,
    activate,
    bring_to,
    end_service,
    lapse,
    submit,
    village,
)
from villages.models import BranchOffice, Province, Regency

from .test_pages import make_user
from .test_unprotected_page import client_of

pytestmark = pytest.mark.django_db

QUEUE, RENEWALS, TERMS = (reverse(f"portal:{name}") for name in ("activation_queue", "renewals", "terms_ended"))
BUNGO_TOWN = "15.08.01.1001"  # Kelurahan Pelepat, Bungo
DAY = datetime.timedelta(days=1)


def ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-id="(\d+)"', html)]


def opened(response) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(b"".join(response)))


@pytest.fixture
def clerk(regions):
    return make_user("bpjs.bungo", "branch_officer", branch=BranchOffice.objects.get(code="muara-bungo"))


@pytest.fixture
def bungo_officer(regions):
    return make_user("pmd.bungo", "regency_officer", regency=Regency.objects.get(code="15.08"))


def submitted(code: str, on: datetime.date, **fields):
    worker = WorkerFactory(village=village(code), **fields)
    return submit(worker, effective_date=on)


# --- the activation queue -----------------------------------------------------------------------


@pytest.fixture
def queue(regions, today):
    """Three submitted workers in Bungo (submitted 3, 10 and 5 days ago), one in Kerinci, and
    Bungo workers in every other state (none of which waits for activation)."""
    late = submitted(OTHER_REGENCY_VILLAGE, today - 3 * DAY)
    early = submitted(BUNGO_TOWN, today - 10 * DAY, institution="bpd")
    middle = submitted(OTHER_REGENCY_VILLAGE, today - 5 * DAY)
    kerinci = submitted(VILLAGE, today - 20 * DAY)
    for status in ("not_registered", "active", "lapsed", "ended"):
        bring_to(WorkerFactory(village=village(OTHER_REGENCY_VILLAGE)), status)
    return {"early": early, "middle": middle, "late": late, "kerinci": kerinci}


def test_the_queue_of_a_branch_is_its_territorys_submitted_workers_oldest_first(clerk, queue):
    response = client_of("bpjs.bungo").get(QUEUE)

    assert response.status_code == 200
    assert ids(response.text) == [queue["early"].pk, queue["middle"].pk, queue["late"].pk]
    assert "3 pekerja diajukan dan menunggu aktivasi" in response.text
    assert queue["kerinci"].full_name not in response.text


def test_the_queue_is_the_selector_the_api_status_filter_agrees_with(clerk, queue, admin_client):
    api = admin_client.get(reverse("worker-list"), {"status": "submitted", "regency": "15.08"}).json()

    listed = list(selectors.activation_queue().filter(regency__code="15.08").values_list("pk", flat=True))

    assert sorted(listed) == sorted(row["id"] for row in api["results"])
    assert listed == [queue["early"].pk, queue["middle"].pk, queue["late"].pk]


def test_an_administrator_narrows_the_queue_by_regency_village_and_institution(admin_user, queue):
    client = client_of_admin()

    everything = client.get(QUEUE)
    kerinci = client.get(QUEUE, {"kabupaten": "15.01"})
    one_village = client.get(QUEUE, {"desa": OTHER_REGENCY_VILLAGE})
    bpd = client.get(QUEUE, {"lembaga": "bpd"})

    assert ids(everything.text) == [queue[k].pk for k in ("kerinci", "early", "middle", "late")]
    assert ids(kerinci.text) == [queue["kerinci"].pk]
    assert ids(one_village.text) == [queue["middle"].pk, queue["late"].pk]
    assert ids(bpd.text) == [queue["early"].pk]


def test_a_regency_or_village_outside_the_branch_shows_none_of_its_workers(clerk, queue):
    client = client_of("bpjs.bungo")

    other_regency = client.get(QUEUE, {"kabupaten": "15.01"})  # not the branch's: ignored
    other_village = client.get(QUEUE, {"desa": VILLAGE})  # a Kerinci village: nothing of it

    assert ids(other_regency.text) == [queue["early"].pk, queue["middle"].pk, queue["late"].pk]
    assert ids(other_village.text) == []
    assert queue["kerinci"].full_name not in other_village.text


def test_the_queue_is_paged_by_fifty(admin_user, queue, monkeypatch):
    import portal.views.worklists

    monkeypatch.setattr(portal.views.worklists, "PAGE_SIZE", 3)
    client = client_of_admin()

    first, second = client.get(QUEUE), client.get(QUEUE, {"halaman": 2})

    assert ids(first.text) == [queue[k].pk for k in ("kerinci", "early", "middle")]
    assert ids(second.text) == [queue["late"].pk]
    assert "4 pekerja" in second.text
    assert 'rel="next"' in first.text


def test_a_regency_officer_sees_masked_niks_and_no_activation_column(bungo_officer, queue):
    response = client_of("pmd.bungo").get(QUEUE)

    assert response.status_code == 200
    assert queue["early"].nik not in response.text
    assert queue["early"].nik[:4] + "*" * 12 in response.text
    assert "Aktivasi</th>" not in response.text
    assert not AccessLog.objects.filter(kind="personal_data").exists()


def test_a_branch_clerk_is_shown_full_niks_and_logged_for_them(clerk, queue):
    response = client_of("bpjs.bungo").get(QUEUE)

    assert queue["early"].nik in response.text
    log = AccessLog.objects.get(kind="personal_data")
    assert sorted(log.worker_ids) == sorted(queue[k].pk for k in ("early", "middle", "late"))


def test_the_queue_downloads_as_a_report_for_people_masked_and_logged(bungo_officer, queue, today):
    response = client_of("pmd.bungo").get(QUEUE, {"unduh": "xlsx"})

    assert response.status_code == 200
    sheet = opened(response).worksheets[0]
    assert sheet.title == "Menunggu aktivasi"
    assert sheet["A1"].value.startswith("Pekerja menunggu aktivasi — Kabupaten Bungo")
    details = {sheet.cell(row, 1).value: sheet.cell(row, 2).value for row in range(2, 6)}
    assert details == {
        "Wilayah": "Kabupaten Bungo",
        "Per tanggal": today.strftime("%d/%m/%Y"),
        "Dibuat pada": details["Dibuat pada"],
        "Dibuat oleh": "pmd.bungo",
    }
    header = [cell.value for cell in sheet[7]]
    assert header == [
        "ID pekerja", "NIK", "Nama lengkap", "Jenis kelamin", "Tanggal lahir", "Nomor telepon", "Lembaga", "Jabatan",
        "Kode desa", "Desa/kelurahan", "Kecamatan", "Kabupaten/kota", "Awal masa jabatan", "Akhir masa jabatan",
        "Status kepesertaan", "Tanggal diajukan",
    ]  # fmt: skip
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=8)]
    assert [row[0] for row in rows] == [queue[k].pk for k in ("early", "middle", "late")]
    first = rows[0]
    assert first[1] == queue["early"].nik[:4] + "*" * 12  # masked as the API masks it
    assert first[4] is None  # the birth date: nothing of it
    assert first[12] == datetime.datetime.combine(datetime.date(2024, 1, 1), datetime.time())  # a date, not text
    assert first[14] == "Diajukan"
    assert first[15] == datetime.datetime.combine(today - 10 * DAY, datetime.time())
    log = AccessLog.objects.get(kind="export")
    assert sorted(log.worker_ids) == sorted(queue[k].pk for k in ("early", "middle", "late"))
    assert log.rows == 3


def test_a_clerk_exports_full_personal_data(clerk, queue):
    sheet = opened(client_of("bpjs.bungo").get(QUEUE, {"unduh": "xlsx"})).worksheets[0]

    assert sheet.cell(8, 2).value == queue["early"].nik
    assert sheet.cell(8, 5).value == datetime.datetime.combine(datetime.date(1980, 5, 17), datetime.time())


def test_a_viewer_may_not_read_the_queue_nor_export_it(regions, queue):
    make_user("viewer.jambi", "viewer", province=Province.objects.get(code="15"))
    client = client_of("viewer.jambi")

    assert client.get(QUEUE).status_code == 403
    assert client.get(QUEUE, {"unduh": "xlsx"}).status_code == 403
    assert not AccessLog.objects.exists()


def test_an_account_without_export_reads_the_queue_but_may_not_download_it(regions, queue, monkeypatch):
    from access.choices import ROLE_CAPABILITIES, Capability, Role

    monkeypatch.setitem(ROLE_CAPABILITIES, Role.REGENCY_OFFICER, frozenset({Capability.READ_WORKERS}))
    make_user("pmd.bungo", "regency_officer", regency=Regency.objects.get(code="15.08"))
    client = client_of("pmd.bungo")

    page = client.get(QUEUE)
    export = client.get(QUEUE, {"unduh": "xlsx"})

    assert page.status_code == 200
    assert "unduh=xlsx" not in page.text
    assert export.status_code == 403
    assert not AccessLog.objects.filter(kind="export").exists()


# --- memberships to renew -----------------------------------------------------------------------


@pytest.fixture
def memberships(regions, today):
    """Bungo: paid until in 20 days, in 5 days, in 40 days (not due); lapsed 3 days ago, 12 days
    ago, 40 days ago (too long ago); Kerinci: due in 2 days. Activated and lapsed in the past,
    their history in order."""

    def member(code: str, paid_until: datetime.date, lapsed_on: datetime.date | None = None):
        worker = submit(WorkerFactory(village=village(code)), effective_date=today - 100 * DAY)
        start = today - 90 * DAY
        worker = activate(worker, effective_date=start, coverage_start=start, paid_until=paid_until)
        if lapsed_on is not None:
            worker = lapse(worker, effective_date=lapsed_on)
        return worker

    return {
        "in20": member(OTHER_REGENCY_VILLAGE, today + 20 * DAY),
        "in5": member(BUNGO_TOWN, today + 5 * DAY),
        "in40": member(OTHER_REGENCY_VILLAGE, today + 40 * DAY),
        "lapsed3": member(OTHER_REGENCY_VILLAGE, today - 4 * DAY, lapsed_on=today - 3 * DAY),
        "lapsed12": member(BUNGO_TOWN, today - 13 * DAY, lapsed_on=today - 12 * DAY),
        "lapsed40": member(OTHER_REGENCY_VILLAGE, today - 41 * DAY, lapsed_on=today - 40 * DAY),
        "kerinci": member(VILLAGE, today + 2 * DAY),
    }


def test_memberships_due_in_30_days_soonest_first_for_the_branch(clerk, memberships):
    response = client_of("bpjs.bungo").get(RENEWALS)

    assert response.status_code == 200
    assert ids(response.text) == [memberships["in5"].pk, memberships["in20"].pk]
    assert "2 kepesertaan dibayar sampai" in response.text


def test_memberships_lapsed_in_the_last_30_days_latest_first(clerk, memberships):
    response = client_of("bpjs.bungo").get(RENEWALS, {"jenis": "lewat"})

    assert response.status_code == 200
    assert ids(response.text) == [memberships["lapsed3"].pk, memberships["lapsed12"].pk]
    assert 'href="?jenis=lewat&amp;unduh=xlsx"' in response.text


def test_a_renewed_membership_leaves_the_lapsed_list(clerk, memberships, today):
    services.enrollment_renew(
        actor=services.Actor(label="test"), worker_id=memberships["lapsed3"].pk, paid_until=today + 60 * DAY
    )

    response = client_of("bpjs.bungo").get(RENEWALS, {"jenis": "lewat"})

    assert ids(response.text) == [memberships["lapsed12"].pk]


def test_renewals_filter_by_village_and_regency(admin_user, memberships):
    client = client_of_admin()

    assert ids(client.get(RENEWALS).text) == [memberships[k].pk for k in ("kerinci", "in5", "in20")]
    assert ids(client.get(RENEWALS, {"kabupaten": "15.01"}).text) == [memberships["kerinci"].pk]
    assert ids(client.get(RENEWALS, {"desa": BUNGO_TOWN, "jenis": "lewat"}).text) == [memberships["lapsed12"].pk]


def test_renewals_download_with_paid_until_and_lapse_dates(clerk, memberships, today):
    sheet = opened(client_of("bpjs.bungo").get(RENEWALS, {"jenis": "lewat", "unduh": "xlsx"})).worksheets[0]

    assert sheet.title == "Lewat jatuh tempo"
    assert sheet["A1"].value.startswith("Kepesertaan yang lewat dalam 30 hari terakhir — Cabang Muara Bungo")
    header = [cell.value for cell in sheet[7]]
    assert header[-4:] == ["Nomor KPJ", "Sumber dana iuran", "Iuran dibayar sampai", "Tanggal lewat"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=8)]
    assert [row[0] for row in rows] == [memberships["lapsed3"].pk, memberships["lapsed12"].pk]
    assert rows[0][-4:] == [
        memberships["lapsed3"].enrollment.kpj_number,
        "Anggaran desa (APBDes/ADD)",
        datetime.datetime.combine(today - 4 * DAY, datetime.time()),
        datetime.datetime.combine(today - 3 * DAY, datetime.time()),
    ]
    assert sorted(AccessLog.objects.get(kind="export").worker_ids) == sorted(
        [memberships["lapsed3"].pk, memberships["lapsed12"].pk]
    )


def test_the_renewal_selectors(regions, memberships, today, settings):
    settings.UCJ_LAPSE_GRACE_DAYS = 0
    due = selectors.memberships_due(as_of=today, days=30)
    lapsed = selectors.memberships_lapsed(as_of=today, days=30)

    assert list(due.values_list("pk", flat=True)) == [memberships[k].pk for k in ("kerinci", "in5", "in20")]
    on_day_5 = selectors.memberships_due(as_of=today + 5 * DAY, days=30)
    on_day_6 = selectors.memberships_due(as_of=today + 6 * DAY, days=34)
    # Paid until today: due that day; the day after it is the daily run's to lapse (no grace).
    assert [w.pk for w in on_day_5] == [memberships[k].pk for k in ("in5", "in20")]
    assert [w.pk for w in on_day_6] == [memberships[k].pk for k in ("in20", "in40")]
    assert list(lapsed.values_list("pk", flat=True)) == [memberships[k].pk for k in ("lapsed3", "lapsed12")]
    assert [w.lapsed_on for w in lapsed] == [today - 3 * DAY, today - 12 * DAY]


# --- terms ended --------------------------------------------------------------------------------


@pytest.fixture
def terms(regions, today):
    """Bungo: terms ended 3 and 30 days ago (service open), one ended 10 days ago whose service was
    ended, terms ending in 7 days and in 45 days, one without a term end; Kerinci: ended 5 days ago."""

    def worker(code: str, term_end: datetime.date | None):
        return WorkerFactory(village=village(code), term_end=term_end)

    ended = worker(OTHER_REGENCY_VILLAGE, today - 10 * DAY)
    end_service(ended, effective_date=today - 10 * DAY)
    return {
        "ended3": worker(OTHER_REGENCY_VILLAGE, today - 3 * DAY),
        "ended30": bring_to(worker(BUNGO_TOWN, today - 30 * DAY), "active"),
        "closed": ended,
        "ends7": worker(OTHER_REGENCY_VILLAGE, today + 7 * DAY),
        "ends45": worker(OTHER_REGENCY_VILLAGE, today + 45 * DAY),
        "open": worker(OTHER_REGENCY_VILLAGE, None),
        "kerinci": worker(VILLAGE, today - 5 * DAY),
    }


def test_terms_ended_with_the_service_open_oldest_first(clerk, terms):
    response = client_of("bpjs.bungo").get(TERMS)

    assert response.status_code == 200
    assert ids(response.text) == [terms["ended30"].pk, terms["ended3"].pk]
    assert "2 pekerja yang masa jabatannya telah berakhir" in response.text


def test_terms_ending_in_the_next_30_days(clerk, terms):
    response = client_of("bpjs.bungo").get(TERMS, {"jenis": "segera"})

    assert ids(response.text) == [terms["ends7"].pk]


def test_the_daily_run_ends_what_the_list_shows(clerk, terms, today):
    """What the page lists is what `terms_expire` (daily `expire_enrollments`) ends next: after
    the run the list is empty and those workers no longer serve."""
    services.terms_expire(as_of=today)

    response = client_of("bpjs.bungo").get(TERMS)

    assert ids(response.text) == []
    terms["ended3"].refresh_from_db()
    assert terms["ended3"].serving is False


def test_terms_ended_filter_and_download(admin_user, terms, today):
    client = client_of_admin()

    assert ids(client.get(TERMS).text) == [terms[k].pk for k in ("ended30", "kerinci", "ended3")]
    assert ids(client.get(TERMS, {"kabupaten": "15.01"}).text) == [terms["kerinci"].pk]
    sheet = opened(client.get(TERMS, {"unduh": "xlsx", "kabupaten": "15.08"})).worksheets[0]

    assert sheet.title == "Masa jabatan berakhir"
    details = {sheet.cell(row, 1).value: sheet.cell(row, 2).value for row in range(2, 7)}
    assert details["Filter"] == "Kabupaten Bungo"
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=9)]
    assert [row[0] for row in rows] == [terms["ended30"].pk, terms["ended3"].pk]
    assert rows[0][13] == datetime.datetime.combine(today - 30 * DAY, datetime.time())
    assert rows[0][14] == "Aktif"


def client_of_admin():
    from django.test import Client

    from .test_pages import log_in

    client = Client()
    log_in(client, "admin", "pw-admin-123")
    return client


# --- activating from the queue ------------------------------------------------------------------


def activation_form(worker, today, **overrides) -> dict:
    data = {
        "kpj_number": "24081500042",
        "scheme": "bpu",
        "programs": ["jkk", "jkm"],
        "funding_source": "apbdes",
        "coverage_start": today.isoformat(),
        "paid_until": (today + 90 * DAY).isoformat(),
        "version": worker.version,
    }
    data.update(overrides)
    return data


def protected_in(api, district: str, code: str) -> int:
    """The village's protected workers as the API's coverage endpoint counts them."""
    rows = api.get(reverse("coverage-list"), {"level": "village", "parent": district}).json()["results"]
    return next(row["protected"] for row in rows if row["code"] == code)


def test_each_row_of_the_queue_carries_the_activation_form_for_a_clerk(clerk, queue):
    response = client_of("bpjs.bungo").get(QUEUE)
    action = reverse("portal:worker_activate", args=[queue["early"].pk])

    assert f'id="activate-{queue["early"].pk}"' in response.text
    assert f'hx-post="{action}"' in response.text
    assert response.text.count('class="stacked activate-form"') == 3
    assert f'id="activate-{queue["early"].pk}-kpj_number"' in response.text  # ids of the row's own


def test_no_activation_form_for_a_caller_who_may_not_activate(bungo_officer, queue):
    response = client_of("pmd.bungo").get(QUEUE)

    assert response.status_code == 200
    assert "activate-form" not in response.text
    assert reverse("portal:worker_activate", args=[queue["early"].pk]) not in response.text


def test_the_clerk_activates_from_the_queue_and_the_village_counts_one_more_protected(
    clerk, queue, admin_client, today
):
    worker = queue["early"]
    client = client_of("bpjs.bungo")
    before = protected_in(admin_client, "15.08.01", BUNGO_TOWN)

    response = client.post(
        reverse("portal:worker_activate", args=[worker.pk]), activation_form(worker, today), HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert "activate-done" in response.text
    assert "<html" not in response.text  # a fragment for the row, not a page
    worker.refresh_from_db()
    assert worker.enrollment_status == "active"
    assert worker.enrollment.kpj_number == "24081500042"
    assert worker.enrollment.paid_until == today + 90 * DAY
    assert protected_in(admin_client, "15.08.01", BUNGO_TOWN) == before + 1
    assert ids(client.get(QUEUE).text) == [queue["middle"].pk, queue["late"].pk]


def test_a_bad_kpj_number_is_shown_next_to_its_field_and_nothing_is_written(clerk, queue, admin_client, today):
    worker = queue["early"]
    before = protected_in(admin_client, "15.08.01", BUNGO_TOWN)

    response = client_of("bpjs.bungo").post(
        reverse("portal:worker_activate", args=[worker.pk]),
        activation_form(worker, today, kpj_number="12345"),
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    field = re.search(r'<div class="field has-errors" data-field="kpj_number">(.*?)</div>', response.text, re.S)
    assert field is not None
    assert 'class="errors"' in field.group(1)
    assert "11" in field.group(1)
    worker.refresh_from_db()
    assert worker.enrollment_status == "submitted"
    assert protected_in(admin_client, "15.08.01", BUNGO_TOWN) == before


def test_an_activation_without_the_csrf_token_is_refused(clerk, queue, today):
    from django.test import Client

    from .test_pages import PASSWORD

    client = Client(enforce_csrf_checks=True)
    client.get(reverse("portal:login"))  # sets the CSRF cookie, as a browser gets it
    token = client.cookies["csrftoken"].value
    client.post(reverse("portal:login"), {"username": "bpjs.bungo", "password": PASSWORD, "csrfmiddlewaretoken": token})
    worker = queue["early"]
    url = reverse("portal:worker_activate", args=[worker.pk])

    refused = client.post(url, activation_form(worker, today), HTTP_HX_REQUEST="true")

    assert client.get(QUEUE).status_code == 200  # logged in all the same
    assert refused.status_code == 403
    worker.refresh_from_db()
    assert worker.enrollment_status == "submitted"


def test_the_queue_reads_no_more_queries_for_more_rows(clerk, regions, today):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_of("bpjs.bungo")
    submitted(OTHER_REGENCY_VILLAGE, today - 3 * DAY)
    client.get(QUEUE)  # a session's first page reads what the session then keeps (its language)
    with CaptureQueriesContext(connection) as one:
        client.get(QUEUE)
    for days in (4, 5, 6):
        submitted(BUNGO_TOWN, today - days * DAY)
    client.get(QUEUE)  # after a write the regions of the caller are read again, once
    with CaptureQueriesContext(connection) as four:
        response = client.get(QUEUE)

    assert len(ids(response.text)) == 4
    assert len(four) == len(one)


def test_the_menu_offers_the_worker_worklists_only_to_those_who_may_read_workers(regions, clerk):
    make_user("viewer.jambi", "viewer", province=Province.objects.get(code="15"))

    clerk_home = client_of("bpjs.bungo").get(reverse("portal:home")).text
    viewer_home = client_of("viewer.jambi").get(reverse("portal:home")).text

    for url in (QUEUE, RENEWALS, TERMS):
        assert f'href="{url}"' in clerk_home
        assert f'href="{url}"' not in viewer_home
