"""The spreadsheet import pages: the template, a dry run that writes nothing and shows every row's
error (row, column, message) with the counts, "Confirm and write" writing exactly what was
checked (once, by whoever checked it, without the file again), files refused outright shown next
to the field, and the past imports of the caller only. The API's rules through the API's service:
capability, region scope, NIK lookups counted, CSRF."""

from __future__ import annotations

import html
import io
import re

import pytest
from django.test import Client
from django.urls import reverse
from knox.models import AuthToken
from openpyxl import load_workbook
from rest_framework.test import APIClient

from access.choices import AccessKind
from access.models import AccessLog
from enrollment.models import ApparatusWorker, EnrollmentEvent, WorkerImport
from tests.enrollment.test_imports import BUNGO_VILLAGE, csv_file, nik, worker_row, xlsx_file
from villages.models import BranchOffice, Province, Regency

from .test_pages import log_in, make_user

pytestmark = pytest.mark.django_db

IMPORTS = reverse("portal:imports")


def result_url(pk: int) -> str:
    return reverse("portal:import", args=[pk])


def confirm_url(pk: int) -> str:
    return reverse("portal:import-confirm", args=[pk])


def upload(client: Client, data: bytes, name: str = "aparatur.csv"):
    return client.post(IMPORTS, {"berkas": named(data, name)})


def named(data: bytes, name: str) -> io.BytesIO:
    file = io.BytesIO(data)
    file.name = name
    return file


def signed_in(username: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    log_in(client, username)
    return client


def pk_of(response) -> int:
    """The import id a redirect to an import's result page names."""
    assert response.status_code == 302
    match = re.fullmatch(r"/impor/(\d+)/", response["Location"])
    assert match is not None, response["Location"]
    return int(match.group(1))


def error_rows(response) -> list[tuple[str, str, str]]:
    body = response.content.decode()
    table = body.split('class="rows import-errors"', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td class=\"message-text\">(.*?)</td></tr>", table)
    return [(row, column, html.unescape(message)) for row, column, message in cells]


def figures(response) -> dict[str, str]:
    body = response.content.decode()
    return dict(re.findall(r'<dd class="(rows-count|created|updated|unchanged|rejected)">([^<]*)</dd>', body))


@pytest.fixture
def kerinci(regions):
    """A regency officer of Kabupaten Kerinci (15.01), without the personal-data right."""
    return make_user("pmd.kerinci", "regency_officer", regency=Regency.objects.get(code="15.01"))


@pytest.fixture
def officer(kerinci) -> Client:
    return signed_in("pmd.kerinci")


def test_the_page_offers_the_apis_template_and_the_upload_form(officer):
    response = officer.get(IMPORTS)

    assert response.status_code == 200
    body = response.content.decode()
    assert "Impor lembar kerja" in body
    template = reverse("import-template")
    assert f'href="{template}"' in body
    assert f'href="{template}?format=csv"' in body
    assert 'name="berkas"' in body
    assert 'enctype="multipart/form-data"' in body
    # The link works with the portal's session: the API's own template, Indonesian allowed values.
    workbook = load_workbook(io.BytesIO(officer.get(template).content))
    assert workbook.sheetnames == ["aparatur", "nilai"]
    assert next(workbook["aparatur"].iter_rows(max_row=1, values_only=True))[:2] == ("village_code", "nik")


def test_a_dry_run_shows_the_counts_and_writes_nothing(officer):
    workers = ApparatusWorker.objects.count()
    events = EnrollmentEvent.objects.count()

    response = upload(officer, csv_file([worker_row(1), worker_row(2)]))

    record = WorkerImport.objects.get(pk=pk_of(response))
    assert (record.dry_run, record.committed, record.source) == (True, False, "portal")
    page = officer.get(result_url(record.pk))
    assert page.status_code == 200
    assert figures(page) == {"rows-count": "2", "created": "2", "updated": "0", "unchanged": "0", "rejected": "0"}
    body = page.content.decode()
    assert "Diperiksa saja" in body
    assert "Konfirmasi dan tulis" in body
    assert 'class="rows import-errors"' not in body
    assert ApparatusWorker.objects.count() == workers
    assert EnrollmentEvent.objects.count() == events


def test_confirm_writes_exactly_what_the_dry_run_showed_without_the_file_again(officer):
    officer.post(confirm_url(pk_of(upload(officer, csv_file([worker_row(1), worker_row(2)])))))
    file = csv_file([worker_row(1), worker_row(2, full_name="Siti Rahma"), worker_row(3)])
    dry_run = pk_of(upload(officer, file))
    checked = figures(officer.get(result_url(dry_run)))

    response = officer.post(confirm_url(dry_run))  # no file sent: the dry run's own is written

    written = WorkerImport.objects.get(pk=pk_of(response))
    assert written.pk != dry_run
    assert (written.dry_run, written.committed, written.source) == (False, True, "portal")
    assert written.checksum == WorkerImport.objects.get(pk=dry_run).checksum
    page = officer.get(result_url(written.pk))
    assert (
        figures(page)
        == checked
        == {
            "rows-count": "3",
            "created": "1",
            "updated": "1",
            "unchanged": "1",
            "rejected": "0",
        }
    )
    assert "Ditulis" in page.content.decode()
    assert ApparatusWorker.objects.get(nik=nik(2)).full_name == "Siti Rahma"
    assert ApparatusWorker.objects.filter(nik=nik(3)).exists()
    assert set(EnrollmentEvent.objects.filter(import_batch=written).values_list("kind", flat=True)) == {
        "registered",
        "updated",
    }
    assert not EnrollmentEvent.objects.filter(import_batch_id=dry_run).exists()


def test_a_dry_run_is_written_once_and_only_from_the_session_that_checked_it(officer, kerinci):
    dry_run = pk_of(upload(officer, csv_file([worker_row(1)])))
    other_session = signed_in("pmd.kerinci")

    from_elsewhere = other_session.post(confirm_url(dry_run))
    first = officer.post(confirm_url(dry_run))
    again = officer.post(confirm_url(dry_run))

    assert from_elsewhere.status_code == 302
    assert from_elsewhere["Location"] == result_url(dry_run)
    assert pk_of(first) != dry_run
    assert again["Location"] == result_url(dry_run)
    assert WorkerImport.objects.filter(dry_run=False).count() == 1
    assert EnrollmentEvent.objects.filter(kind="registered").count() == 1
    assert "Konfirmasi dan tulis" not in officer.get(result_url(dry_run)).content.decode()


def test_a_second_confirmation_says_why_nothing_happens(officer):
    dry_run = pk_of(upload(officer, csv_file([worker_row(1)])))
    officer.post(confirm_url(dry_run))

    response = officer.post(confirm_url(dry_run), follow=True)

    assert response.status_code == 200
    assert "Pemeriksaan ini sudah ditulis" in response.content.decode()
    assert ApparatusWorker.objects.filter(nik=nik(1)).count() == 1


def test_a_bad_row_is_listed_with_its_row_column_and_message_and_cannot_be_written(officer):
    file = csv_file([worker_row(1), worker_row(2, sex="robot"), worker_row(3)])

    dry_run = pk_of(upload(officer, file))
    page = officer.get(result_url(dry_run))

    assert figures(page) == {"rows-count": "3", "created": "2", "updated": "0", "unchanged": "0", "rejected": "1"}
    ((row, column, message),) = error_rows(page)
    assert (row, column) == ("3", "sex")
    assert message == WorkerImport.objects.get(pk=dry_run).summary["errors"][0]["message"]
    assert "robot" in message
    body = page.content.decode()
    assert "Konfirmasi dan tulis" not in body
    refused = officer.post(confirm_url(dry_run))
    assert refused["Location"] == result_url(dry_run)
    assert not ApparatusWorker.objects.exists()


def test_a_row_outside_the_callers_regions_is_the_row_error_the_api_reports(officer, kerinci):
    file = csv_file([worker_row(1), worker_row(2, village_code=BUNGO_VILLAGE, nik=nik(2, region="150801"))])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(kerinci)[1]}", HTTP_ACCEPT_LANGUAGE="id")
    answer = api.post(
        reverse("import-workers"), {"file": named(file, "aparatur.csv"), "dry_run": "true"}, format="multipart"
    ).json()

    page = officer.get(result_url(pk_of(upload(officer, file))))

    assert [(str(e["row"]), e["column"], e["message"]) for e in answer["errors"]] == error_rows(page)
    assert error_rows(page)[0][:2] == ("3", "village_code")


def test_a_file_of_the_wrong_type_is_refused_next_to_the_field(officer):
    response = upload(officer, b"%PDF-1.4 not a spreadsheet", name="aparatur.pdf")

    assert response.status_code == 200
    body = response.content.decode()
    errors = body.split('id="berkas-errors"', 1)[1].split("</div>", 1)[0]
    assert "Unggah berkas .csv atau .xlsx." in errors
    assert not WorkerImport.objects.exists()


def test_a_workbook_that_is_not_one_is_refused_next_to_the_field(officer):
    response = upload(officer, b"PK\x03\x04 broken", name="aparatur.xlsx")

    assert response.status_code == 200
    assert 'id="berkas-errors"' in response.content.decode()
    assert not WorkerImport.objects.exists()


def test_a_file_too_large_is_refused_before_it_is_read(officer, settings):
    settings.UCJ_IMPORT_MAX_BYTES = 1000
    response = upload(officer, csv_file([worker_row(n) for n in range(1, 20)]))

    assert response.status_code == 200
    assert "Ukuran berkas melebihi 1000 byte." in response.content.decode()
    assert not WorkerImport.objects.exists()


def test_a_request_too_large_is_refused_before_its_body_is_read(kerinci, settings):
    settings.UCJ_IMPORT_MAX_BYTES = 1000
    client = Client(enforce_csrf_checks=True)
    client.force_login(kerinci)
    file = csv_file([worker_row(n) for n in range(1, 600)])
    assert len(file) > 1000 + 64 * 1024

    response = upload(client, file)

    # Refused on its Content-Length alone: not even the CSRF token among the fields was read.
    assert response.status_code == 200
    assert "Ukuran berkas melebihi 1000 byte." in response.content.decode()
    assert not WorkerImport.objects.exists()


def test_an_xlsx_file_goes_through_the_same_dry_run(officer):
    response = upload(officer, xlsx_file([worker_row(1)]), name="aparatur.xlsx")

    page = officer.get(result_url(pk_of(response)))
    assert figures(page)["created"] == "1"
    assert not ApparatusWorker.objects.exists()


def test_nik_lookups_of_a_dry_run_and_its_write_are_logged_for_a_caller_without_personal_data(officer):
    dry_run = pk_of(upload(officer, csv_file([worker_row(1), worker_row(2)])))
    officer.post(confirm_url(dry_run))

    lookups = AccessLog.objects.filter(kind=AccessKind.NIK_LOOKUP).order_by("id")
    logged = list(lookups.values_list("path", "rows", "query"))
    checksum = WorkerImport.objects.get(pk=dry_run).checksum
    assert logged == [
        (IMPORTS, 2, f"file_sha256={checksum}"),
        (confirm_url(dry_run), 2, f"file_sha256={checksum}"),
    ]


def test_past_imports_are_the_callers_own(officer, regions):
    make_user("pmd.kerinci2", "regency_officer", regency=Regency.objects.get(code="15.01"))
    colleague = signed_in("pmd.kerinci2")
    theirs = pk_of(upload(colleague, csv_file([worker_row(5)]), name="punya-rekan.csv"))
    mine = pk_of(upload(officer, csv_file([worker_row(1)]), name="punya-saya.csv"))

    page = officer.get(IMPORTS).content.decode()

    assert f'data-import="{mine}"' in page
    assert "punya-saya.csv" in page
    assert f'data-import="{theirs}"' not in page
    assert "punya-rekan.csv" not in page
    assert officer.get(result_url(theirs)).status_code == 404
    assert officer.post(confirm_url(theirs)).status_code == 404
    assert not ApparatusWorker.objects.exists()


def test_an_admin_sees_every_import_but_confirms_none_of_others(officer, admin_user):
    theirs = pk_of(upload(officer, csv_file([worker_row(1)]), name="punya-kerinci.csv"))
    admin = Client()
    admin.post(reverse("portal:login"), {"username": "admin", "password": "pw-admin-123"})

    listed = admin.get(IMPORTS).content.decode()
    shown = admin.get(result_url(theirs))

    assert "punya-kerinci.csv" in listed
    assert shown.status_code == 200
    assert "Konfirmasi dan tulis" not in shown.content.decode()
    assert admin.post(confirm_url(theirs)).status_code == 404


def test_csrf_is_enforced_on_upload_and_confirm(kerinci):
    client = Client(enforce_csrf_checks=True)
    client.force_login(kerinci)

    refused_upload = upload(client, csv_file([worker_row(1)]))
    dry_run = WorkerImport.objects.create(
        created_by=kerinci, source="portal", file_name="a.csv", size=1, checksum="x", data=b"", dry_run=True
    )
    refused_confirm = client.post(confirm_url(dry_run.pk))

    assert refused_upload.status_code == 403
    assert refused_confirm.status_code == 403
    assert WorkerImport.objects.count() == 1
    assert not ApparatusWorker.objects.exists()


def test_confirm_is_a_post(officer):
    dry_run = pk_of(upload(officer, csv_file([worker_row(1)])))

    assert officer.get(confirm_url(dry_run)).status_code == 405
    assert not ApparatusWorker.objects.exists()


@pytest.mark.parametrize(
    ("role", "region"),
    [("viewer", "province"), ("branch_officer", "branch")],
)
def test_who_may_not_write_workers_may_not_import(regions, role, region):
    where = {"province": Province.objects.get(code="15"), "branch": BranchOffice.objects.get(code="muara-bungo")}
    make_user("someone", role, **{region: where[region]})
    client = signed_in("someone")

    page = client.get(IMPORTS)
    posted = upload(client, csv_file([worker_row(1)]))

    assert page.status_code == 403
    assert posted.status_code == 403
    assert not WorkerImport.objects.exists()
    assert f'href="{IMPORTS}"' not in client.get(reverse("portal:home")).content.decode()


def test_the_menu_offers_the_import_to_those_who_may_write_workers(officer):
    home = officer.get(reverse("portal:home")).content.decode()

    assert f'href="{IMPORTS}">Impor</a>' in home
