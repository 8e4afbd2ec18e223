"""Reconciliation with a BPJS extract: every outcome on small real files (CSV and XLSX), applying
all or nothing, idempotence, counters, status-only evidence, keyed-hash mode."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import translation
from openpyxl import Workbook

from access.models import AccessProfile
from core.errors import ConflictError, StaleVersionError
from enrollment import reconcile_services, reconciling
from enrollment.choices import EventSource
from enrollment.imports import ImportFileError
from enrollment.models import ApparatusWorker, Enrollment, EnrollmentEvent, ReconciliationRow
from enrollment.services import Actor, worker_register
from tests.enrollment.factories import activate, submit
from tests.enrollment.helpers import counter_rows, db_state, recounted_rows
from tests.enrollment.test_hostile_workbooks import far_cell
from tests.enrollment.test_import_api import WORKBOOK_PARTS, zip_archive
from tests.helpers import nik_for
from villages.models import BranchOffice, Village

BUNGO_VILLAGE = "15.08.01.2001"  # the Muara Bungo branch's territory
KERINCI_VILLAGE = "15.01.01.2001"  # outside it
HEADER = ["NIK", "Nama", "Tanggal Lahir", "Jenis Kelamin", "Status", "Program", "Bayar Sampai", "KPJ", "NPP"]


def register(
    village: str, serial: int, *, name: str | None = None, sex: str = "male", birth=datetime.date(1980, 5, 17)
):
    region = {"15.08.01.2001": "150801", "15.01.01.2001": "150101"}[village]
    return worker_register(
        actor=Actor.system(),
        village=Village.objects.get(code=village),
        nik=nik_for(birth, sex, serial, region),
        full_name=name or f"Budi Santoso {serial}",
        sex=sex,
        birth_date=birth,
        institution="pemerintah_desa",
        position="kepala_desa" if serial == 1 else "sekretaris_desa",
        term_start=datetime.date(2024, 1, 1),
        wage_basis="siltap",
    )


def csv_file(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def xlsx_file(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def line(worker, status="aktif", paid_until=None, kpj="", npp="", name=None, nik=None, sex="L", birth=None):
    return [
        nik or worker.nik,
        name or worker.full_name,
        (birth or worker.birth_date).isoformat(),
        sex,
        status,
        "jkk, jkm",
        paid_until.isoformat() if paid_until else "",
        kpj,
        npp,
    ]


@pytest.fixture
def branch_user(regions):
    user = get_user_model().objects.create_user("bpjs-bungo", password="x-Passw0rd!")
    AccessProfile.objects.create(user=user, role="branch_officer", branch=BranchOffice.objects.get(code="muara-bungo"))
    return user


@pytest.fixture
def branch_actor(branch_user):
    return Actor(user=branch_user)


def outcomes(record) -> dict[int | None, str]:
    return dict(ReconciliationRow.objects.filter(reconciliation=record).values_list("row_number", "outcome"))


@pytest.fixture
def world(regions, today):
    """Workers of the branch's territory in every state, one outside it."""
    paid = today + datetime.timedelta(days=60)
    w = {
        "new": register(BUNGO_VILLAGE, 1),  # not registered; BPJS: active -> activate
        "submitted": submit(register(BUNGO_VILLAGE, 2)),  # BPJS: inactive -> same
        "active_same": activate(register(BUNGO_VILLAGE, 3), paid_until=paid),  # same
        "active_renew": activate(register(BUNGO_VILLAGE, 4), paid_until=paid),  # renew
        "active_lapse": activate(register(BUNGO_VILLAGE, 5), paid_until=paid),  # BPJS inactive -> lapse
        "active_unlisted": activate(register(BUNGO_VILLAGE, 6), paid_until=paid),  # not listed -> lapse
        "typo": register(BUNGO_VILLAGE, 7, name="Siti Rahmawati", sex="female", birth=datetime.date(1990, 3, 2)),
        "outside": register(KERINCI_VILLAGE, 8),
    }
    w["paid"] = paid
    return w


def extract_rows(w, today):
    later = w["paid"] + datetime.timedelta(days=90)
    typo_nik = w["typo"].nik[:-2] + w["typo"].nik[-1] + w["typo"].nik[-2]  # two digits swapped
    return [
        line(w["new"], paid_until=later),  # row 2
        line(w["submitted"], status="non aktif"),  # row 3
        line(w["active_same"], paid_until=w["paid"], kpj=w["active_same"].enrollment.kpj_number),  # row 4
        line(w["active_renew"], paid_until=later),  # row 5
        line(w["active_lapse"], status="nonaktif"),  # row 6
        line(w["typo"], nik=typo_nik, sex="P", paid_until=later),  # row 7
        line(w["outside"], paid_until=later),  # row 8
        [
            nik_for(datetime.date(1970, 1, 1), "male", 9999, "150801"),
            "Orang Lain",
            "1970-01-01",
            "L",
            "aktif",
            "jkk,jkm",
            later.isoformat(),
            "",
            "",
        ],  # row 9
        [
            nik_for(datetime.date(1971, 1, 1), "male", 9998, "150801"),
            "Status Aneh",
            "1971-01-01",
            "L",
            "dibekukan",
            "",
            "",
            "",
            "",
        ],  # row 10
        ["12345", "NIK Pendek", "1971-01-01", "L", "aktif", "", "", "", ""],  # row 11
    ]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_every_outcome_of_a_small_extract(world, branch_actor, today, kind):
    rows = extract_rows(world, today)
    data = csv_file(rows) if kind == "csv" else xlsx_file(rows)
    with translation.override("en"):
        record = reconcile_services.reconciliation_record(actor=branch_actor, file_name=f"bpjs.{kind}", data=data)
    got = outcomes(record)
    assert got == {
        2: "activate",
        3: "same",
        4: "same",
        5: "renew",
        6: "lapse",
        7: "probable_match",
        8: "bad_row",
        9: "not_in_registry",
        10: "bad_row",
        11: "bad_row",
        None: "lapse",
    }
    assert record.counts == {
        "same": 2,
        "activate": 1,
        "lapse": 2,
        "renew": 1,
        "not_in_registry": 1,
        "probable_match": 1,
        "bad_row": 3,
    }
    rows_by_number = {r.row_number: r for r in ReconciliationRow.objects.filter(reconciliation=record)}
    assert rows_by_number[8].message == "This NIK is out of your territory."
    assert rows_by_number[8].worker_id is None
    assert rows_by_number[10].column == "status"
    assert rows_by_number[11].column == "nik"
    assert rows_by_number[7].worker_id == world["typo"].pk
    assert rows_by_number[None].worker_id == world["active_unlisted"].pk
    assert rows_by_number[2].proposed_values["kpj_number"] is None


def test_apply_then_reupload_is_all_same_and_counters_equal_a_recount(world, branch_actor, today):
    data = csv_file(extract_rows(world, today))
    record = reconcile_services.reconciliation_record(actor=branch_actor, file_name="bpjs.csv", data=data)
    applied = reconcile_services.reconciliation_apply(
        actor=branch_actor, reconciliation=record, outcomes=["activate", "renew", "lapse"]
    )
    assert applied == {"activate": 1, "renew": 1, "lapse": 2}
    new = Enrollment.objects.get(pk=world["new"].pk)
    assert (new.status, new.kpj_number, new.evidence_reconciliation_id) == ("active", None, record.pk)
    assert new.evidence == {"kind": "reconciliation", "reconciliation": record.pk}
    events = EnrollmentEvent.objects.filter(reconciliation=record)
    assert events.count() == 4
    assert set(events.values_list("source", flat=True)) == {EventSource.RECONCILIATION}
    assert ReconciliationRow.objects.filter(reconciliation=record, applied_event__isnull=False).count() == 4
    assert Enrollment.objects.get(pk=world["active_unlisted"].pk).status == "lapsed"
    assert counter_rows() == recounted_rows()
    # The same file again: nothing left to do but the rows no NIK matches.
    again = reconcile_services.reconciliation_record(actor=branch_actor, file_name="bpjs.csv", data=data)
    assert again.counts["activate"] == again.counts["renew"] == again.counts["lapse"] == 0
    assert again.counts["same"] == 5
    with pytest.raises(ConflictError):
        reconcile_services.reconciliation_apply(actor=branch_actor, reconciliation=record, outcomes=["activate"])


def test_apply_is_all_or_nothing_when_a_worker_changed_since(world, branch_actor, today):
    data = csv_file(extract_rows(world, today))
    record = reconcile_services.reconciliation_record(actor=branch_actor, file_name="bpjs.csv", data=data)
    submit(ApparatusWorker.objects.get(pk=world["new"].pk))  # changed since the dry run
    before = db_state()
    with pytest.raises(StaleVersionError):
        reconcile_services.reconciliation_apply(
            actor=branch_actor, reconciliation=record, outcomes=["lapse", "renew", "activate"]
        )
    assert db_state() == before
    assert not ReconciliationRow.objects.filter(reconciliation=record, decision="accepted").exists()


def test_apply_chosen_rows_only(world, branch_actor, today):
    record = reconcile_services.reconciliation_record(
        actor=branch_actor, file_name="bpjs.csv", data=csv_file(extract_rows(world, today))
    )
    row = ReconciliationRow.objects.get(reconciliation=record, row_number=5)
    assert reconcile_services.reconciliation_apply(actor=branch_actor, reconciliation=record, row_ids=[row.pk]) == {
        "activate": 0,
        "renew": 1,
        "lapse": 0,
    }
    assert Enrollment.objects.get(pk=world["active_renew"].pk).paid_until == world["paid"] + datetime.timedelta(days=90)
    assert Enrollment.objects.get(pk=world["active_lapse"].pk).status == "active"


def test_the_database_refuses_an_active_enrollment_with_neither_kpj_nor_reconciliation(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrollment.objects.filter(pk=world["active_same"].pk).update(kpj_number=None)


def test_activation_without_kpj_needs_a_reconciliation(world, actor, today):
    from core.errors import ServiceError
    from enrollment.services import enrollment_activate

    with pytest.raises(ServiceError) as error:
        enrollment_activate(
            actor=actor,
            worker_id=world["new"].pk,
            kpj_number=None,
            scheme="bpu",
            programs=["jkk", "jkm"],
            funding_source="",
            coverage_start=today,
            paid_until=today + datetime.timedelta(days=30),
        )
    assert error.value.field == "kpj_number"


def test_keyed_hash_mode_matches_and_a_plain_hash_file_is_refused(world, branch_actor, today):
    branch = BranchOffice.objects.get(code="muara-bungo")
    branch.reconciliation_secret = "rahasia-bersama"
    branch.save()
    header = ["nik_hash", *HEADER[1:]]
    keyed = [[reconciling.nik_hmac("rahasia-bersama", w.nik), *line(w)[1:]] for w in (world["active_same"],)]
    keyed[0][5 - 0] = "jkk,jkm"
    keyed[0][6] = world["paid"].isoformat()
    record = reconcile_services.reconciliation_record(
        actor=branch_actor, file_name="hashed.csv", data=csv_file(keyed, header), nik_hashed=True
    )
    assert record.counts["same"] == 1
    assert record.counts["lapse"] == 3  # the other active workers are not listed
    plain = [[hashlib.sha256(world["active_same"].nik.encode()).hexdigest(), *keyed[0][1:]]]
    with pytest.raises(ImportFileError) as error:
        reconcile_services.reconciliation_record(
            actor=branch_actor, file_name="plain.csv", data=csv_file(plain, header), nik_hashed=True
        )
    assert error.value.code == "plain_hash"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"PK\x03\x04garbage", "not_csv"),
        (b"NIK,Nama\n", "missing_columns"),
        (b"NIK,Nama,Tanggal Lahir,Status,Program,Bayar Sampai,Warna\n1,2,3,4,5,6,7\n", "unknown_columns"),
        (b"\xff\xfe\x00N\x00I\x00K", "not_csv"),
    ],
)
def test_hostile_files_are_refused_as_the_import_refuses_them(branch_actor, data, code):
    with pytest.raises(ImportFileError) as error:
        reconcile_services.reconciliation_record(actor=branch_actor, file_name="bpjs.csv", data=data)
    assert error.value.code == code


def test_a_zip_bomb_is_refused(branch_actor):
    data = zip_archive({**WORKBOOK_PARTS, "xl/worksheets/sheet1.xml": b"\0" * (5 * 1024 * 1024)})
    with pytest.raises(ImportFileError) as error:
        reconcile_services.reconciliation_record(actor=branch_actor, file_name="bpjs.xlsx", data=data)
    assert error.value.code == "zip_bomb"


def test_a_far_cell_is_refused_before_reading(branch_actor, settings):
    settings.UCJ_RECONCILE_MAX_ROWS = 100
    with pytest.raises(ImportFileError) as error:
        reconcile_services.reconciliation_record(actor=branch_actor, file_name="bpjs.xlsx", data=far_cell("A5000"))
    assert error.value.code == "too_many_rows"


def test_a_formula_cell_and_a_nik_as_a_number_are_bad_rows(world, branch_actor, today):
    formula = line(world["new"], name='=HYPERLINK("http://x")')
    book = Workbook()
    book.active.append(HEADER)
    book.active.append([int(world["active_same"].nik), "Budi", "1980-05-17", "L", "aktif", "jkk,jkm", "", "", ""])
    out = io.BytesIO()
    book.save(out)
    with translation.override("en"):
        in_csv = reconcile_services.reconciliation_record(
            actor=branch_actor, file_name="bpjs.csv", data=csv_file([formula])
        )
        in_xlsx = reconcile_services.reconciliation_record(
            actor=branch_actor, file_name="bpjs.xlsx", data=out.getvalue()
        )
    row = ReconciliationRow.objects.get(reconciliation=in_csv, row_number=2)
    assert (row.outcome, row.column, row.message) == (
        "bad_row",
        "full_name",
        "Formulas are not accepted; enter the value itself.",
    )
    row = ReconciliationRow.objects.get(reconciliation=in_xlsx, row_number=2)
    assert (row.outcome, row.column) == ("bad_row", "nik")
