"""`manage.py import_regions` and the Jambi demo regions (villages.demo.demo_load)."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from villages.demo import demo_load
from villages.models import BranchOffice, Province, Regency

from .conftest import DEMO_PASSWORD
from .helpers import SMALL_CSV, csv_bytes, region_counts, region_snapshot

pytestmark = pytest.mark.django_db

NO_REGIONS = {"Province": 0, "Regency": 0, "District": 0, "Village": 0}
SMALL_COUNTS = {"Province": 2, "Regency": 3, "District": 3, "Village": 6}


def import_regions(*args) -> list[str]:
    out = StringIO()
    call_command("import_regions", *args, stdout=out)
    return out.getvalue().splitlines()


# -- import_regions -----------------------------------------------------------------------


def test_import_regions_reports_created_counts_on_first_run():
    lines = import_regions(str(SMALL_CSV))

    assert "provinces: 2 created, 0 renamed" in lines
    assert "regencies: 3 created, 0 renamed" in lines
    assert "districts: 3 created, 0 renamed" in lines
    assert "villages: 6 created, 0 renamed" in lines
    assert lines[-1].startswith("14 rows read in ")
    assert lines[-1].endswith("; changes applied.")
    assert region_counts() == SMALL_COUNTS


def test_import_regions_says_nothing_changed_on_second_run():
    import_regions(str(SMALL_CSV))
    before = region_snapshot()

    lines = import_regions(str(SMALL_CSV))

    assert [line for line in lines if "created" in line] == [
        "provinces: 0 created, 0 renamed",
        "regencies: 0 created, 0 renamed",
        "districts: 0 created, 0 renamed",
        "villages: 0 created, 0 renamed",
    ]
    assert lines[-1].endswith("nothing changed: every region is already up to date.")
    assert region_snapshot() == before


def test_import_regions_dry_run_writes_nothing():
    lines = import_regions(str(SMALL_CSV), "--dry-run")

    assert "villages: 6 created, 0 renamed" in lines
    assert lines[-1].endswith("changes found; dry run, nothing was written.")
    assert region_counts() == NO_REGIONS


def test_import_regions_dry_run_keeps_old_name_when_renamed(tmp_path):
    import_regions(str(SMALL_CSV))
    renamed = tmp_path / "renamed.csv"
    renamed.write_bytes(SMALL_CSV.read_bytes().replace(b"15,Jambi\n", b"15,Provinsi Jambi\n"))

    lines = import_regions(str(renamed), "--dry-run")

    assert "provinces: 0 created, 1 renamed" in lines
    assert Province.objects.get(code="15").name == "Jambi"


def test_import_regions_lists_regions_kept_when_missing_from_file(tmp_path):
    import_regions(str(SMALL_CSV))
    shorter = tmp_path / "shorter.csv"
    shorter.write_bytes(SMALL_CSV.read_bytes().replace(b"15.71.01.1002,Suka Karya\n", b""))

    lines = import_regions(str(shorter))

    assert "villages: 0 created, 0 renamed; 1 in the database but not in the file (kept): 15.71.01.1002" in lines
    assert region_counts() == SMALL_COUNTS


@pytest.mark.parametrize(
    ("data", "line"),
    [
        pytest.param(csv_bytes("15,Jambi", "15.1,Kerinci"), 3, id="malformed-code"),
        pytest.param(csv_bytes("15,Jambi", "15.01,Kerinci", "15.02.01,Tabir"), 4, id="unknown-parent"),
        pytest.param(csv_bytes("15,Jambi", "15.01,Kerinci", "15,Jambi Lagi"), 4, id="duplicate-code"),
        pytest.param(csv_bytes("15,Jambi", "15.01,Kerinci", b"15.02,Bung\xf6"), 4, id="not-utf-8"),
        pytest.param(csv_bytes("15,Jambi", header="kode,nama"), 1, id="wrong-header"),
        pytest.param(b"", 1, id="empty-file"),
        pytest.param(csv_bytes("15,Jambi,Sumatera"), 2, id="wrong-column-count"),
    ],
)
def test_import_regions_rejects_bad_file_naming_line(tmp_path, data, line):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(data)

    with pytest.raises(CommandError) as rejected:
        import_regions(str(bad))

    assert "rejected, nothing was written" in str(rejected.value)
    assert f"line {line}: " in str(rejected.value)
    assert region_counts() == NO_REGIONS


def test_import_regions_rejects_missing_file(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        import_regions(str(tmp_path / "absent.csv"))


# -- the demo regions ---------------------------------------------------------------------

JAMBI_REGENCIES = [
    ("15.01", "Kabupaten Kerinci", "kabupaten"),
    ("15.02", "Kabupaten Merangin", "kabupaten"),
    ("15.03", "Kabupaten Sarolangun", "kabupaten"),
    ("15.04", "Kabupaten Batanghari", "kabupaten"),
    ("15.05", "Kabupaten Muaro Jambi", "kabupaten"),
    ("15.06", "Kabupaten Tanjung Jabung Barat", "kabupaten"),
    ("15.07", "Kabupaten Tanjung Jabung Timur", "kabupaten"),
    ("15.08", "Kabupaten Bungo", "kabupaten"),
    ("15.09", "Kabupaten Tebo", "kabupaten"),
    ("15.71", "Kota Jambi", "kota"),
    ("15.72", "Kota Sungai Penuh", "kota"),
]


def demo_counts() -> dict[str, int]:
    return {
        "provinces": Province.objects.count(),
        "regencies": Regency.objects.count(),
        "branches": BranchOffice.objects.count(),
        "branch_regencies": BranchOffice.regencies.through.objects.count(),
        "users": get_user_model().objects.count(),
    }


def test_demo_load_creates_jambi_and_its_eleven_regencies(demo):
    assert list(Province.objects.values_list("code", "name")) == [("15", "Jambi")]
    assert list(Regency.objects.values_list("code", "name", "kind")) == JAMBI_REGENCIES
    assert set(Regency.objects.values_list("province__code", flat=True)) == {"15"}
    assert demo[0] == "Province 15 Jambi: 11 regencies/cities."


def test_demo_load_gives_muara_bungo_only_merangin_and_bungo(demo):
    served = {
        branch.code: sorted(branch.regencies.values_list("code", flat=True)) for branch in BranchOffice.objects.all()
    }

    assert served == {
        "jambi": ["15.01", "15.03", "15.04", "15.05", "15.06", "15.07", "15.09", "15.71", "15.72"],
        "muara-bungo": ["15.02", "15.08"],
    }
    assert BranchOffice.objects.get(code="muara-bungo").name == "BPJS Ketenagakerjaan Cabang Muara Bungo"


def test_demo_load_twice_leaves_same_rows(demo):
    before = demo_counts()
    regencies = list(Regency.objects.values_list("pk", "code", "name", "kind"))

    demo_load(admin_password=DEMO_PASSWORD)

    assert before == {"provinces": 1, "regencies": 11, "branches": 2, "branch_regencies": 11, "users": 1}
    assert demo_counts() == before
    assert list(Regency.objects.values_list("pk", "code", "name", "kind")) == regencies


def test_demo_load_admin_can_log_in(demo):
    assert Client().login(username="admin", password=DEMO_PASSWORD) is True
    assert Client().login(username="admin", password="not-the-password") is False
    assert get_user_model().objects.get(username="admin").is_superuser is True


def test_demo_load_sets_new_admin_password_when_run_again(demo):
    demo_load(admin_password="another-demo-pw-2025")

    assert Client().login(username="admin", password="another-demo-pw-2025") is True
    assert Client().login(username="admin", password=DEMO_PASSWORD) is False
