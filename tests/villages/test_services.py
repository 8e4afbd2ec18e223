"""The import of the official region list (villages.services.regions_import)."""

import pytest
from django.db.models import Count

from villages.choices import RegionLevel
from villages.models import District, Province, Regency, Village
from villages.services import RegionImportError, regions_import, regions_import_file

from .helpers import SMALL_CSV, csv_bytes, region_counts, region_snapshot, small_rows

pytestmark = pytest.mark.django_db

PROVINCE, REGENCY, DISTRICT, VILLAGE = (
    RegionLevel.PROVINCE,
    RegionLevel.REGENCY,
    RegionLevel.DISTRICT,
    RegionLevel.VILLAGE,
)


def kinds(queryset) -> dict[str, int]:
    return dict(queryset.values_list("kind").annotate(n=Count("pk")).order_by())


# -- the full national list ---------------------------------------------------------------


@pytest.mark.slow
def test_national_import_loads_official_counts_and_reimport_changes_nothing(regions_csv):
    # One import and one re-import of the 91,599-row file (a few seconds each), checked together.
    report = regions_import_file(path=regions_csv)

    assert report.rows == 91_599
    assert report.created == {PROVINCE: 38, REGENCY: 514, DISTRICT: 7_285, VILLAGE: 83_762}
    assert region_counts() == {"Province": 38, "Regency": 514, "District": 7_285, "Village": 83_762}
    assert kinds(Regency.objects) == {"kabupaten": 416, "kota": 98}
    assert kinds(Village.objects) == {"kelurahan": 8_496, "desa": 75_252, "desa_adat": 14}

    jambi = Province.objects.get(code="15")
    assert jambi.regencies.count() == 11
    assert District.objects.filter(province=jambi).count() == 144
    assert Village.objects.filter(province=jambi).count() == 1_585
    assert kinds(Village.objects.filter(province=jambi)) == {"desa": 1_414, "kelurahan": 171}
    # The denormalized ancestors agree with the code prefixes.
    assert (
        Village.objects.filter(regency__code="15.71").count()
        == Village.objects.filter(code__startswith="15.71.").count()
    )

    assert Regency.objects.get(code="31.72").name == "Kota Administrasi Jakarta Utara"
    assert Village.objects.get(code="12.07.28.1007").name == "Lubuk Pakam I,II"

    before = region_snapshot()
    again = regions_import_file(path=regions_csv)

    assert again.changed is False
    assert set(again.created.values()) == {0}
    assert set(again.renamed.values()) == {0}
    assert again.unchanged == 91_599
    assert region_snapshot() == before


# -- the small fixture: what an import writes ---------------------------------------------


def test_import_creates_every_level_when_database_empty():
    report = regions_import(data=SMALL_CSV.read_bytes())

    assert report.rows == 14
    assert report.created == {PROVINCE: 2, REGENCY: 3, DISTRICT: 3, VILLAGE: 6}
    assert report.changed is True
    assert report.unchanged == 0
    assert region_counts() == {"Province": 2, "Regency": 3, "District": 3, "Village": 6}


def test_import_sets_regency_kind_from_code(small_regions):
    assert dict(Regency.objects.values_list("code", "kind")) == {
        "15.01": "kabupaten",
        "15.71": "kota",
        "16.01": "kabupaten",
    }


def test_import_sets_village_kind_from_first_digit(small_regions):
    assert dict(Village.objects.values_list("code", "kind")) == {
        "15.01.01.2001": "desa",
        "15.01.01.2002": "desa",
        "15.01.01.3001": "desa_adat",
        "15.71.01.1001": "kelurahan",
        "15.71.01.1002": "kelurahan",
        "16.01.01.2001": "desa",
    }


def test_import_sets_every_ancestor_of_villages_and_districts(small_regions):
    village = Village.objects.get(code="15.71.01.1002")
    assert (village.district.code, village.regency.code, village.province.code) == ("15.71.01", "15.71", "15")
    village = Village.objects.get(code="16.01.01.2001")
    assert (village.district.code, village.regency.code, village.province.code) == ("16.01.01", "16.01", "16")
    district = District.objects.get(code="15.71.01")
    assert (district.regency.code, district.province.code) == ("15.71", "15")
    assert Regency.objects.get(code="16.01").province.code == "16"


def test_import_trims_spaces_around_names(small_regions):
    # The fixture has "Gunung Raya " with a trailing space.
    assert District.objects.get(code="15.01.01").name == "Gunung Raya"


def test_import_trims_spaces_around_codes_and_names_when_padded():
    regions_import(data=csv_bytes(" 15 ,  Jambi  ", "15.01 , Kabupaten Kerinci\t"))

    assert list(Province.objects.values_list("code", "name")) == [("15", "Jambi")]
    assert list(Regency.objects.values_list("code", "name")) == [("15.01", "Kabupaten Kerinci")]


def test_import_keeps_comma_inside_quoted_name(small_regions):
    assert Village.objects.get(code="15.01.01.2002").name == "Lempur Mudik, Hilir"


def test_import_accepts_byte_order_mark_and_crlf_line_ends():
    data = b"\xef\xbb\xbf" + SMALL_CSV.read_bytes().replace(b"\n", b"\r\n")

    report = regions_import(data=data)

    assert report.created == {PROVINCE: 2, REGENCY: 3, DISTRICT: 3, VILLAGE: 6}
    assert Province.objects.get(code="15").name == "Jambi"


def test_import_accepts_children_listed_before_their_parents():
    regions_import(data=csv_bytes("15.01.01.2001,Lempur Tengah", "15.01.01,Gunung Raya", "15.01,Kerinci", "15,Jambi"))

    assert Village.objects.get(code="15.01.01.2001").district.code == "15.01.01"


def test_reimport_changes_nothing_when_file_unchanged(small_regions):
    before = region_snapshot()

    report = regions_import(data=SMALL_CSV.read_bytes())

    assert report.changed is False
    assert report.created == {PROVINCE: 0, REGENCY: 0, DISTRICT: 0, VILLAGE: 0}
    assert report.renamed == {PROVINCE: 0, REGENCY: 0, DISTRICT: 0, VILLAGE: 0}
    assert report.unchanged == 14
    assert region_snapshot() == before


def test_reimport_updates_name_when_region_renamed(small_regions, tmp_path):
    pk = Regency.objects.get(code="15.71").pk
    renamed = tmp_path / "renamed.csv"
    renamed.write_bytes(SMALL_CSV.read_bytes().replace(b"15.71,Kota Jambi\n", b"15.71,Kota Jambi Raya\n"))
    before = region_snapshot()

    report = regions_import_file(path=renamed)

    assert report.renamed == {PROVINCE: 0, REGENCY: 1, DISTRICT: 0, VILLAGE: 0}
    assert report.created == {PROVINCE: 0, REGENCY: 0, DISTRICT: 0, VILLAGE: 0}
    assert report.unchanged == 13
    assert report.changed is True
    assert Regency.objects.get(code="15.71").name == "Kota Jambi Raya"
    assert Regency.objects.get(code="15.71").pk == pk
    after = region_snapshot()
    assert after["Regency"] == [
        (pk_, code, "Kota Jambi Raya" if code == "15.71" else name, kind, province)
        for pk_, code, name, kind, province in before["Regency"]
    ]
    assert {key: rows for key, rows in after.items() if key != "Regency"} == {
        key: rows for key, rows in before.items() if key != "Regency"
    }


def test_import_reports_region_missing_from_file_and_keeps_it(small_regions, tmp_path):
    shorter = tmp_path / "shorter.csv"
    shorter.write_bytes(SMALL_CSV.read_bytes().replace(b"15.01.01.3001,Desa Adat Contoh\n", b""))

    report = regions_import_file(path=shorter)

    assert report.missing == {PROVINCE: [], REGENCY: [], DISTRICT: [], VILLAGE: ["15.01.01.3001"]}
    assert report.changed is False
    assert Village.objects.get(code="15.01.01.3001").name == "Desa Adat Contoh"
    assert Village.objects.count() == 6


def test_import_accepts_parents_already_in_database(small_regions):
    report = regions_import(data=csv_bytes("15.71.01.1003,Legok", "16.01.01.3001,Adat Baru"))

    assert report.created == {PROVINCE: 0, REGENCY: 0, DISTRICT: 0, VILLAGE: 2}
    legok = Village.objects.get(code="15.71.01.1003")
    assert (legok.name, legok.kind, legok.district.code, legok.regency.code, legok.province.code) == (
        "Legok",
        "kelurahan",
        "15.71.01",
        "15.71",
        "15",
    )
    assert Village.objects.get(code="16.01.01.3001").kind == "desa_adat"
    # Everything else in the database is absent from this file: reported, not deleted.
    assert report.missing[PROVINCE] == ["15", "16"]
    assert len(report.missing[VILLAGE]) == 6
    assert region_counts() == {"Province": 2, "Regency": 3, "District": 3, "Village": 8}


def test_dry_run_reports_changes_and_writes_nothing_when_database_empty():
    report = regions_import(data=SMALL_CSV.read_bytes(), dry_run=True)

    assert report.created == {PROVINCE: 2, REGENCY: 3, DISTRICT: 3, VILLAGE: 6}
    assert report.changed is True
    assert region_counts() == {"Province": 0, "Regency": 0, "District": 0, "Village": 0}


def test_dry_run_reports_rename_and_keeps_old_name(small_regions):
    before = region_snapshot()

    report = regions_import(
        data=SMALL_CSV.read_bytes().replace(b"15.71,Kota Jambi\n", b"15.71,Kota Jambi Raya\n"), dry_run=True
    )

    assert report.renamed[REGENCY] == 1
    assert region_snapshot() == before


# -- rejected files: the line at fault, nothing written ----------------------------------


def file_with_bad_row(bad_row: bytes, line: int) -> bytes:
    """The small fixture with one rename and one new village (changes an accepted file would
    write), and `bad_row` inserted so that it is on line `line`."""
    rows = [b"15.71,Kota Jambi Raya" if row == b"15.71,Kota Jambi" else row for row in small_rows()]
    rows.append(b"15.71.01.1003,Legok")
    rows.insert(line - 2, bad_row)
    return csv_bytes(*rows)


BAD_ROWS = [
    pytest.param(b"15.1,Kabupaten Pendek", 5, "malformed code '15.1'", id="regency-code-too-short"),
    pytest.param(b"15.01.01.4001,Empat", 9, "malformed code '15.01.01.4001'", id="village-kind-digit-4"),
    pytest.param(b"15.AB,Kabupaten Huruf", 3, "malformed code '15.AB'", id="letters-in-code"),
    pytest.param(b",Tanpa Kode", 4, "malformed code ''", id="empty-code"),
    pytest.param(b"15.02.01,Tabir", 12, "code 15.02.01: unknown parent 15.02", id="unknown-parent-regency"),
    pytest.param(
        b"15.71.02.1001,Jauh", 17, "code 15.71.02.1001: unknown parent 15.71.02", id="unknown-parent-district"
    ),
    pytest.param(b"15.01,Kerinci Lagi", 10, "duplicate code 15.01 (first at line 3)", id="duplicate-code"),
    pytest.param(b"15.71.01.1004,Legok,Baru", 6, "expected 2 columns (code,name), found 3", id="three-columns"),
    pytest.param(b"15.71.01.1004", 6, "expected 2 columns (code,name), found 1", id="one-column"),
    pytest.param(b"15.71.01.1004,   ", 7, "code 15.71.01.1004: the name is empty", id="empty-name"),
    pytest.param(b"15.71.01.1004," + b"x" * 101, 8, "longer than 100 characters", id="name-too-long"),
    pytest.param(b"15.71.01.1004,Pasar J\xe9lutung", 14, "the file is not UTF-8 text", id="latin-1-byte"),
]


@pytest.mark.parametrize(("bad_row", "line", "message"), BAD_ROWS)
def test_import_rejects_bad_row_naming_its_line(small_regions, bad_row, line, message):
    before = region_snapshot()

    with pytest.raises(RegionImportError) as rejected:
        regions_import(data=file_with_bad_row(bad_row, line))

    assert len(rejected.value.errors) == 1
    assert rejected.value.errors[0][0] == line
    assert message in rejected.value.errors[0][1]
    assert f"line {line}: " in str(rejected.value)
    # Neither the rename of 15.71 nor the new village 15.71.01.1003 was written.
    assert region_snapshot() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(b"", "the file is empty", id="empty-file"),
        pytest.param(csv_bytes("15,Jambi", header="kode,nama"), "wrong header 'kode,nama'", id="wrong-header"),
        pytest.param(csv_bytes("15,Jambi", header="code"), "wrong header 'code'", id="header-one-column"),
        pytest.param(csv_bytes("15,Jambi", header=b"c\xf3de,name"), "not UTF-8", id="latin-1-in-header"),
    ],
)
def test_import_rejects_bad_file_at_line_1(small_regions, data, message):
    before = region_snapshot()

    with pytest.raises(RegionImportError) as rejected:
        regions_import(data=data)

    assert [line for line, _ in rejected.value.errors] == [1]
    assert message in rejected.value.errors[0][1]
    assert region_snapshot() == before


def test_import_rejects_file_listing_every_bad_line_when_several(small_regions):
    data = csv_bytes(
        "15.71.01.1003,Legok", "15.7,Kota Pendek", "15.71.01.1004,Baru", "15.71.01.5001,Lima", "15.71.01.1003,Lagi"
    )

    with pytest.raises(RegionImportError) as rejected:
        regions_import(data=data)

    assert rejected.value.errors == [
        (3, "malformed code '15.7'"),
        (5, "malformed code '15.71.01.5001'"),
        (6, "duplicate code 15.71.01.1003 (first at line 2)"),
    ]
    assert Village.objects.filter(code__in=["15.71.01.1003", "15.71.01.1004"]).count() == 0


def test_import_counts_physical_lines_when_blank_lines_and_multiline_names():
    data = csv_bytes("15,Jambi", "", '15.01,"Kabupaten', 'Kerinci"', "", "15.01.01.9,Rusak")

    with pytest.raises(RegionImportError) as rejected:
        regions_import(data=data)

    assert rejected.value.errors == [(7, "malformed code '15.01.01.9'")]
    assert region_counts() == {"Province": 0, "Regency": 0, "District": 0, "Village": 0}


def test_dry_run_rejects_unknown_parent(small_regions):
    with pytest.raises(RegionImportError) as rejected:
        regions_import(data=csv_bytes("17.01,Kabupaten Bengkulu Selatan"), dry_run=True)

    assert rejected.value.errors == [(2, "code 17.01: unknown parent 17")]


def test_import_names_line_of_bad_byte_when_file_starts_with_byte_order_mark():
    # A latin-1 no-break space (0xA0) pasted at the start of line 3.
    data = b"\xef\xbb\xbf" + csv_bytes("15,Jambi", b"\xa015.01,Kabupaten Kerinci")

    with pytest.raises(RegionImportError) as rejected:
        regions_import(data=data)

    assert rejected.value.errors == [(3, "the file is not UTF-8 text")]
