"""Reading worker spreadsheets (`enrollment.imports.read_rows`), the import service
(`enrollment.import_services.workers_import`) and the `import_workers` command.

The spreadsheet builders at the top are shared with test_import_api.py and test_exports.py.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from openpyxl import Workbook

from coverage.models import VillageCoverage
from coverage.services import counters_recount
from enrollment import services
from enrollment.choices import EventSource
from enrollment.import_services import workers_import
from enrollment.imports import COLUMNS, DATE_COLUMNS, ImportFileError, read_rows
from enrollment.models import ApparatusWorker, EnrollmentEvent, WorkerImport, WorkerPeriod
from tests.enrollment.helpers import assert_statuses_mirrored
from tests.enrollment.helpers import counter_rows as helper_counter_rows

VILLAGE = "15.01.01.2001"  # Lempur Tengah, Kabupaten Kerinci
OTHER_VILLAGE = "15.01.01.2002"  # Lempur Mudik, Kabupaten Kerinci
BUNGO_VILLAGE = "15.08.01.2001"  # Rantau Keloyang, Kabupaten Bungo
BIRTH = datetime.date(1980, 5, 17)


# --- spreadsheet builders (shared) -------------------------------------------------------


def nik(serial: int, *, birth: datetime.date = BIRTH, female: bool = False, region: str = "150101") -> str:
    """A NIK agreeing with `birth` and sex (women: day + 40)."""
    day = birth.day + (40 if female else 0)
    return f"{region}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}"


def kpj(serial: int) -> str:
    return f"{20_000_000_000 + serial:011d}"


def worker_row(serial: int, **overrides: Any) -> dict[str, Any]:
    """One valid row (a man born 1980-05-17, staff of Lempur Tengah's village government)."""
    values: dict[str, Any] = dict.fromkeys(COLUMNS, "")
    values.update(
        village_code=VILLAGE,
        nik=nik(serial),
        full_name=f"Pekerja {serial}",
        sex="male",
        birth_date=BIRTH.isoformat(),
        phone="",
        institution="pemerintah_desa",
        position="staf",
        term_start="2024-01-01",
        wage_basis="siltap",
        monthly_wage="2500000",
    )
    values.update(overrides)
    return values


def membership(serial: int, **overrides: Any) -> dict[str, str]:
    """Membership columns of a valid BPU membership (paid 60 days ahead)."""
    today = services.today()
    values = {
        "kpj_number": kpj(serial),
        "scheme": "bpu",
        "npp": "",
        "programs": "jkk,jkm",
        "funding_source": "apbdes",
        "coverage_start": (today - datetime.timedelta(days=30)).isoformat(),
        "paid_until": (today + datetime.timedelta(days=60)).isoformat(),
    }
    values.update(overrides)
    return values


def _cells(row: dict[str, Any] | list[Any], header: list[str]) -> list[Any]:
    return [row.get(column, "") for column in header] if isinstance(row, dict) else list(row)


def csv_file(
    rows: Iterable[dict[str, Any] | list[Any]],
    *,
    header: list[str] = COLUMNS,
    delimiter: str = ",",
    bom: bool = False,
    encoding: str = "utf-8",
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    for row in rows:
        writer.writerow(_cells(row, header))
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode(encoding)


def typed(row: dict[str, Any]) -> dict[str, Any]:
    """The row as Excel holds it: dates as dates, the wage as a number; NIK and KPJ stay text."""
    values = dict(row)
    for column in DATE_COLUMNS:
        if values.get(column):
            values[column] = datetime.date.fromisoformat(values[column])
    if values.get("monthly_wage"):
        values["monthly_wage"] = int(values["monthly_wage"])
    return values


def xlsx_file(rows: Iterable[dict[str, Any] | list[Any]], *, header: list[str] = COLUMNS) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append([None if cell == "" else cell for cell in _cells(row, header)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def counter_rows() -> set[tuple]:
    """Non-zero coverage counters with their regions."""
    return {
        row
        for row in VillageCoverage.objects.values_list(
            "village__code", "district_id", "regency_id", "province_id", "institution", "serving", "protected"
        )
        if row[-1] or row[-2]
    }


def assert_counters_match_recount() -> None:
    assert_statuses_mirrored()
    maintained = counter_rows(), helper_counter_rows()
    counters_recount()
    assert maintained == (counter_rows(), helper_counter_rows())


def db_counts() -> dict[str, Any]:
    return {
        "workers": ApparatusWorker.objects.count(),
        "events": EnrollmentEvent.objects.count(),
        "periods": WorkerPeriod.objects.count(),
        "counters": sorted(VillageCoverage.objects.values_list("village_id", "institution", "serving", "protected")),
    }


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def run_import(regions, admin_user):
    """Run `workers_import` as the admin (or `user`), the way the API does."""

    def run(data: bytes, *, name: str = "aparatur.csv", user=None, **options):
        user = user or admin_user
        return workers_import(
            actor=services.Actor(user=user, source=EventSource.IMPORT),
            file_name=name,
            data=data,
            **options,
        )

    return run


def _values(data: bytes, name: str = "w.csv") -> list[dict[str, Any]]:
    return [row.values for row in read_rows(name=name, data=data)]


# --- read_rows: formats ----------------------------------------------------------------------


@pytest.mark.parametrize(("delimiter", "bom"), [(",", False), (",", True), (";", False), (";", True)])
def test_read_rows_csv_reads_comma_and_semicolon_with_and_without_bom(delimiter, bom):
    data = csv_file([worker_row(1, full_name="Siti; Aminah, S.Pd")], delimiter=delimiter, bom=bom)

    (values,) = _values(data)

    assert values["village_code"] == VILLAGE
    assert values["nik"] == nik(1)
    assert values["full_name"] == "Siti; Aminah, S.Pd"
    assert values["birth_date"] == BIRTH
    assert values["monthly_wage"] == 2_500_000


def test_read_rows_xlsx_reads_typed_cells():
    data = xlsx_file([typed(worker_row(1, **membership(1, programs="JKK, jkm; jht")))])

    (values,) = _values(data, "aparatur.xlsx")

    assert values["birth_date"] == BIRTH
    assert values["term_start"] == datetime.date(2024, 1, 1)
    assert values["monthly_wage"] == 2_500_000
    assert values["programs"] == ["jht", "jkk", "jkm"]
    assert values["kpj_number"] == kpj(1)


def test_read_rows_row_numbers_count_the_header_and_blank_lines():
    data = csv_file([worker_row(1), ["", ""], worker_row(2)])

    rows = read_rows(name="w.csv", data=data)

    assert [row.number for row in rows] == [2, 4]


def test_read_rows_headers_ignore_case_and_spaces():
    header = [f" {column.upper()} " for column in COLUMNS]
    data = csv_file([[worker_row(1)[c] for c in COLUMNS]], header=header)

    (values,) = _values(data)

    assert values["nik"] == nik(1)


def test_read_rows_optional_columns_may_be_left_out():
    header = [c for c in COLUMNS if c not in ("phone", "term_end", "monthly_wage", "kpj_number", "programs")]
    data = csv_file([worker_row(1)], header=header)

    (row,) = read_rows(name="w.csv", data=data)

    assert row.errors == []
    assert "phone" not in row.values


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("17/05/1980", BIRTH), ("17-05-1980", BIRTH), ("1980-05-17", BIRTH)],
)
def test_read_rows_dates_accept_the_documented_formats(raw, expected):
    (values,) = _values(csv_file([worker_row(1, birth_date=raw)]))

    assert values["birth_date"] == expected


@pytest.mark.parametrize(("raw", "expected"), [("2.500.000", 2_500_000), ("2,500,000", 2_500_000), ("0", 0)])
def test_read_rows_wage_accepts_thousands_separators(raw, expected):
    (values,) = _values(csv_file([worker_row(1, monthly_wage=raw)]))

    assert values["monthly_wage"] == expected


@pytest.mark.parametrize("raw", ["2500000.00", "2.500.000,00", "2500000,00"])
def test_read_rows_wage_with_zero_cents_keeps_its_value(raw):
    (row,) = read_rows(name="w.csv", data=csv_file([worker_row(1, monthly_wage=raw)]))

    assert row.errors == []
    assert row.values["monthly_wage"] == 2_500_000


@pytest.mark.parametrize("raw", ["2500000.50", "-5", "dua juta"])
def test_read_rows_wage_refuses_fractions_negatives_and_words(raw):
    (row,) = read_rows(name="w.csv", data=csv_file([worker_row(1, monthly_wage=raw)]))

    assert [e.column for e in row.errors] == ["monthly_wage"]


@pytest.mark.parametrize(
    ("column", "raw", "expected"),
    [
        ("institution", "Posyandu", "posyandu"),
        ("institution", "Village government", "pemerintah_desa"),
        ("institution", "pemerintah desa", "pemerintah_desa"),
        ("sex", "Laki-laki", "male"),
        ("sex", "MALE", "male"),
        ("wage_basis", "Honorarium", "honorarium"),
    ],
)
def test_read_rows_choice_accepts_code_or_label_in_either_language(column, raw, expected):
    (values,) = _values(csv_file([worker_row(1, **{column: raw})]))

    assert values[column] == expected


def test_read_rows_formula_in_xlsx_is_a_row_error():
    data = xlsx_file([worker_row(1, full_name="=1+1"), worker_row(2)])

    with translation.override("en"):
        first, second = read_rows(name="w.xlsx", data=data)

    assert [(e.row, e.column, e.message) for e in first.errors] == [
        (2, "full_name", "Formulas are not accepted; enter the value itself.")
    ]
    assert second.errors == []


def test_read_rows_nik_as_number_in_xlsx_asks_for_text():
    data = xlsx_file([worker_row(1, nik=int(nik(1)))])

    with translation.override("en"):
        (row,) = read_rows(name="w.xlsx", data=data)

    assert [(e.column, e.message) for e in row.errors] == [
        ("nik", "Enter this number as text: a spreadsheet rounds long numbers.")
    ]


def test_read_rows_more_cells_than_header_is_a_row_error():
    data = csv_file([[*_cells(worker_row(1), COLUMNS), "stray"]])

    (row,) = read_rows(name="w.csv", data=data)

    assert [(e.row, e.column) for e in row.errors] == [(2, None)]


def test_read_rows_row_limit_is_inclusive(settings):
    settings.UCJ_IMPORT_MAX_ROWS = 3

    assert len(read_rows(name="w.csv", data=csv_file([worker_row(n) for n in range(1, 4)]))) == 3
    with pytest.raises(ImportFileError) as error:
        read_rows(name="w.csv", data=csv_file([worker_row(n) for n in range(1, 5)]))
    assert error.value.code == "too_many_rows"


def test_read_rows_latin1_csv_names_the_line():
    data = csv_file([worker_row(1), worker_row(2, full_name="André")], encoding="latin-1")

    with translation.override("en"), pytest.raises(ImportFileError) as error:
        read_rows(name="w.csv", data=data)

    assert error.value.code == "encoding"
    assert "(line 3)" in error.value.message


# --- workers_import: writing, history, counters ------------------------------------------------


def test_import_new_workers_writes_registered_event_with_import_batch(run_import):
    record, summary = run_import(csv_file([worker_row(1), worker_row(2)]))

    assert (summary.created, summary.rejected, summary.committed) == (2, 0, True)
    events = EnrollmentEvent.objects.filter(worker__nik__in=[nik(1), nik(2)])
    assert sorted(events.values_list("kind", "source", "import_batch_id")) == [
        ("registered", "import", record.pk),
        ("registered", "import", record.pk),
    ]
    worker = ApparatusWorker.objects.get(nik=nik(1))
    assert worker.enrollment.status == "not_registered"
    assert worker.regency.code == "15.01"
    assert_counters_match_recount()


def test_import_new_worker_with_membership_is_registered_and_activated(run_import):
    record, summary = run_import(csv_file([worker_row(1, **membership(1, programs="jkk,jkm,jht"))]))

    assert summary.created == 1
    worker = ApparatusWorker.objects.select_related("enrollment").get(nik=nik(1))
    assert worker.enrollment.status == "active"
    assert worker.enrollment.kpj_number == kpj(1)
    assert worker.enrollment.program_jht is True
    kinds = list(worker.events.order_by("id").values_list("kind", "to_status", "source", "import_batch_id"))
    assert kinds == [
        ("registered", "not_registered", "import", record.pk),
        ("activated", "active", "import", record.pk),
    ]
    assert counter_rows() == {(VILLAGE, *_regions(VILLAGE), "pemerintah_desa", 1, 1)}
    assert_counters_match_recount()


def _regions(code: str) -> tuple[int, int, int]:
    from villages.models import Village

    village = Village.objects.get(code=code)
    return village.district_id, village.regency_id, village.province_id


def test_import_counters_match_recount_after_mixed_imports(run_import, make_worker):
    make_worker(village=OTHER_VILLAGE, institution="posyandu", position="kader")
    run_import(
        csv_file(
            [
                worker_row(11),
                worker_row(12, institution="bpd", position="ketua", **membership(12)),
                worker_row(13, village_code=BUNGO_VILLAGE, nik=nik(13, region="150801"), **membership(13)),
            ]
        )
    )
    # a second file: one new, one moved institution, one renewed
    today = services.today()
    run_import(
        csv_file(
            [
                worker_row(11, institution="rt", position="ketua"),
                worker_row(
                    12,
                    institution="bpd",
                    position="ketua",
                    **membership(12, paid_until=(today + datetime.timedelta(days=90)).isoformat()),
                ),
                worker_row(14, village_code=OTHER_VILLAGE),
            ]
        )
    )

    assert ApparatusWorker.objects.count() == 5
    assert ApparatusWorker.objects.get(nik=nik(11)).institution == "rt"
    assert ApparatusWorker.objects.get(nik=nik(12)).enrollment.paid_until == today + datetime.timedelta(days=90)
    assert_counters_match_recount()


def test_import_same_file_again_changes_nothing(run_import):
    data = csv_file([worker_row(1), worker_row(2, **membership(2))])
    run_import(data)
    before = db_counts()

    _record, summary = run_import(data)

    assert (summary.created, summary.updated, summary.unchanged, summary.rejected) == (0, 0, 2, 0)
    assert db_counts() == before


def test_import_changed_name_updates_through_the_service(run_import):
    run_import(csv_file([worker_row(1), worker_row(2), worker_row(3)]))
    worker = ApparatusWorker.objects.get(nik=nik(2))

    record, summary = run_import(csv_file([worker_row(1), worker_row(2, full_name="Siti   Rahma"), worker_row(3)]))

    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 2)
    worker.refresh_from_db()
    assert worker.full_name == "Siti Rahma"
    assert worker.version == 2
    updated = worker.events.get(kind="updated")
    assert (updated.source, updated.import_batch_id) == ("import", record.pk)
    assert updated.changes == {"full_name": ["Pekerja 2", "Siti Rahma"]}
    assert EnrollmentEvent.objects.filter(kind="updated").count() == 1


def test_import_membership_for_existing_not_registered_worker_activates_it(run_import, make_worker):
    worker = make_worker(full_name="Pekerja 1")
    assert worker.nik == nik(1)
    before = counter_rows()

    record, summary = run_import(csv_file([worker_row(1, position="kepala_desa", **membership(1))]))

    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 0)
    worker.refresh_from_db()
    assert worker.enrollment.status == "active"
    assert worker.enrollment.kpj_number == kpj(1)
    activated = worker.events.get(kind="activated")
    assert (activated.source, activated.import_batch_id, activated.effective_date) == (
        "import",
        record.pk,
        services.today(),
    )
    assert before == {(VILLAGE, *_regions(VILLAGE), "pemerintah_desa", 1, 0)}
    assert counter_rows() == {(VILLAGE, *_regions(VILLAGE), "pemerintah_desa", 1, 1)}
    assert_counters_match_recount()


def test_import_expired_membership_for_existing_worker_is_a_row_error(run_import, make_worker):
    """The service activates as of today, so a paid-until already past is refused per row
    (and does not abort the other rows of a partial import)."""
    make_worker(full_name="Pekerja 1", position="staf")
    today = services.today()
    expired = membership(
        1,
        coverage_start=(today - datetime.timedelta(days=200)).isoformat(),
        paid_until=(today - datetime.timedelta(days=10)).isoformat(),
    )

    _record, summary = run_import(csv_file([worker_row(1, **expired), worker_row(2)]), all_or_nothing=False)

    assert (summary.created, summary.updated, summary.rejected, summary.committed) == (1, 0, 1, True)
    assert [(e.row, e.column) for e in summary.errors] == [(2, "paid_until")]
    assert ApparatusWorker.objects.get(nik=nik(1)).enrollment.status == "not_registered"
    assert ApparatusWorker.objects.filter(nik=nik(2)).exists()


def test_import_all_or_nothing_writes_nothing_when_a_row_is_rejected(run_import):
    before = db_counts()

    record, summary = run_import(csv_file([worker_row(1), worker_row(2, nik="123")]))

    assert (summary.created, summary.rejected, summary.committed) == (1, 1, False)
    assert db_counts() == before
    assert record.committed is False
    assert record.summary["errors"] == [{"row": 3, "column": "nik", "message": summary.errors[0].message}]


def test_import_partial_writes_the_valid_rows_only(run_import):
    _record, summary = run_import(
        csv_file([worker_row(1), worker_row(2, nik="123"), worker_row(3)]), all_or_nothing=False
    )

    assert (summary.created, summary.rejected, summary.committed) == (2, 1, True)
    assert set(ApparatusWorker.objects.values_list("nik", flat=True)) == {nik(1), nik(3)}
    assert_counters_match_recount()


def test_import_dry_run_records_the_file_but_writes_no_worker(run_import, make_worker):
    make_worker(full_name="Pekerja 1", position="staf")
    before = db_counts()

    record, summary = run_import(
        csv_file([worker_row(1, full_name="Nama Baru"), worker_row(2, **membership(2))]), dry_run=True
    )

    assert (summary.created, summary.updated, summary.committed, summary.dry_run) == (1, 1, False, True)
    assert db_counts() == before
    assert ApparatusWorker.objects.get(nik=nik(1)).full_name == "Pekerja 1"
    assert WorkerImport.objects.get(pk=record.pk).dry_run is True


def test_import_refused_file_records_nothing(run_import):
    with pytest.raises(ImportFileError):
        run_import(b"village_code,nik\n", name="w.csv")

    assert WorkerImport.objects.count() == 0


def test_import_ended_worker_with_same_nik_is_registered_anew(run_import, make_worker):
    ended = services.worker_end_service(actor=services.Actor(label="test"), worker_id=make_worker().pk)

    _record, summary = run_import(csv_file([worker_row(1)]))

    assert summary.created == 1
    assert ApparatusWorker.objects.filter(nik=ended.nik).count() == 2
    assert ApparatusWorker.objects.filter(nik=ended.nik, serving=True).count() == 1
    assert_counters_match_recount()


# --- the import_workers command ------------------------------------------------------------------


@pytest.fixture
def worker_file(tmp_path):
    def write(rows, name: str = "aparatur.csv") -> str:
        path = tmp_path / name
        path.write_bytes(csv_file(rows))
        return str(path)

    return write


def _command(*args) -> str:
    out = io.StringIO()
    call_command("import_workers", *args, stdout=out)
    return out.getvalue()


def test_import_workers_command_dry_run_reports_and_writes_nothing(regions, worker_file):
    path = worker_file([worker_row(1), worker_row(2)])

    output = _command(path, "--region", "15.01", "--dry-run")

    assert "2 rows read, 2 created, 0 updated, 0 unchanged, 0 rejected" in output
    assert "Dry run: nothing written." in output
    assert ApparatusWorker.objects.count() == 0
    assert WorkerImport.objects.get().dry_run is True


def test_import_workers_command_writes_and_reports(regions, worker_file):
    path = worker_file([worker_row(1), worker_row(2)])

    output = _command(path, "--region", "15")

    record = WorkerImport.objects.get()
    assert f"Import {record.pk}: 2 rows read, 2 created" in output
    assert "Written." in output
    assert record.committed is True
    assert record.created_by is None
    assert set(EnrollmentEvent.objects.values_list("source", "actor_label", "import_batch_id")) == {
        ("import", "import_workers", record.pk)
    }


def test_import_workers_command_records_the_user(regions, admin_user, worker_file):
    _command(worker_file([worker_row(1)]), "--region", "15.01", "--user", "admin")

    assert WorkerImport.objects.get().created_by == admin_user
    assert EnrollmentEvent.objects.get().actor == admin_user


def test_import_workers_command_second_run_reports_unchanged(regions, worker_file):
    path = worker_file([worker_row(1), worker_row(2)])
    _command(path, "--region", "15.01")

    output = _command(path, "--region", "15.01")

    assert "0 created, 0 updated, 2 unchanged, 0 rejected" in output
    assert EnrollmentEvent.objects.count() == 2


def test_import_workers_command_region_rejects_rows_outside_it(regions, worker_file):
    path = worker_file([worker_row(1), worker_row(2, village_code=BUNGO_VILLAGE, nik=nik(2, region="150801"))])

    with pytest.raises(CommandError, match="--partial"):
        _command(path, "--region", "15.01")

    assert ApparatusWorker.objects.count() == 0


def test_import_workers_command_partial_writes_the_rows_in_the_region(regions, worker_file):
    path = worker_file([worker_row(1), worker_row(2, village_code=BUNGO_VILLAGE, nik=nik(2, region="150801"))])

    output = _command(path, "--region", "15.01", "--partial")

    assert "row 3, village_code:" in output
    assert "1 created, 0 updated, 0 unchanged, 1 rejected" in output
    assert list(ApparatusWorker.objects.values_list("nik", flat=True)) == [nik(1)]


def test_import_workers_command_refused_file_is_a_command_error(regions, tmp_path):
    path = tmp_path / "aparatur.xlsx"
    path.write_bytes(b"village_code,nik\n")

    with pytest.raises(CommandError, match="refused, nothing was written"):
        _command(str(path), "--region", "15.01")

    assert WorkerImport.objects.count() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--region", "15.01.01"], "province or regency"),
        (["--region", "99"], "99"),
        (["--region", "15.01", "--user", "nobody"], "nobody"),
    ],
)
def test_import_workers_command_bad_arguments_are_command_errors(regions, worker_file, args, message):
    path = worker_file([worker_row(1)])

    with pytest.raises(CommandError, match=message):
        _command(path, *args)

    assert ApparatusWorker.objects.count() == 0


def test_import_workers_command_missing_file_is_a_command_error(regions, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        _command(str(tmp_path / "absent.csv"), "--region", "15.01")


# --- a term start ahead of today: the import agrees with worker_register --------------------------


def test_import_of_future_term_counts_from_its_start_like_worker_register(run_import, admin_user):
    from coverage.services import counters_differences
    from enrollment.models import Enrollment
    from villages.models import Village

    start = services.today() + datetime.timedelta(days=10)
    later = {"term_start": start.isoformat()}
    data = csv_file([worker_row(1, **later), worker_row(2, **later, **membership(2))])

    _record, summary = run_import(data)

    assert summary.created == 2
    imported = {w.nik: w for w in ApparatusWorker.objects.all()}
    assert [imported[nik(n)].term_started for n in (1, 2)] == [False, False]
    periods = {
        nik_: list(WorkerPeriod.objects.filter(worker__nik=nik_).values_list("valid_from", "valid_to", "status"))
        for nik_ in (nik(1), nik(2))
    }
    assert periods == {nik(1): [(start, None, "not_registered")], nik(2): [(start, None, "active")]}
    assert counter_rows() == set()
    assert counters_differences() == []

    # The same worker registered through the service is written the same way.
    registered = services.worker_register(
        actor=services.Actor(user=admin_user),
        village=Village.objects.get(code=VILLAGE),
        nik=nik(3),
        full_name="Pekerja 3",
        sex="male",
        birth_date=BIRTH,
        institution="pemerintah_desa",
        position="staf",
        term_start=start,
        wage_basis="siltap",
    )
    assert registered.term_started is False
    assert list(WorkerPeriod.objects.filter(worker=registered).values_list("valid_from", "valid_to", "status")) == [
        (start, None, "not_registered")
    ]

    assert services.terms_start(as_of=start) == 3
    assert counter_rows() == {(VILLAGE, *_regions_of(VILLAGE), "pemerintah_desa", 3, 1)}
    assert Enrollment.objects.filter(status="active").count() == 1
    assert_counters_match_recount()


def _regions_of(code: str) -> tuple[int, int, int]:
    from villages.models import Village

    village = Village.objects.get(code=code)
    return village.district_id, village.regency_id, village.province_id
