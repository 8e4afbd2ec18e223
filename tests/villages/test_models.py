"""Constraints the database itself enforces on regions, whatever code writes them."""

import pytest
from django.db import IntegrityError, transaction

from villages.models import BranchOffice, District, Province, Regency, Village

pytestmark = pytest.mark.django_db


def new_regency(**fields) -> Regency:
    values = {"code": "15.02", "name": "Kabupaten Merangin", "kind": "kabupaten"}
    values.update(fields)
    return Regency(province=Province.objects.get(code="15"), **values)


def new_district(**fields) -> District:
    values = {"code": "15.01.02", "name": "Kayu Aro"}
    values.update(fields)
    return District(regency=Regency.objects.get(code="15.01"), province=Province.objects.get(code="15"), **values)


def new_village(**fields) -> Village:
    district = District.objects.get(code="15.01.01")
    values = {"code": "15.01.01.2003", "name": "Lempur Hilir", "kind": "desa"}
    values.update(fields)
    return Village(district=district, regency=district.regency, province=district.province, **values)


def test_regions_save_when_code_and_kind_agree(small_regions):
    # The baseline of the rejections below: only the field named in each test is wrong there.
    Province.objects.create(code="17", name="Bengkulu")
    new_regency().save()
    new_regency(code="15.72", name="Kota Sungai Penuh", kind="kota").save()
    new_district().save()
    new_village().save()
    new_village(code="15.01.01.1003", kind="kelurahan").save()
    new_village(code="15.01.01.3002", kind="desa_adat").save()

    assert (Province.objects.count(), Regency.objects.count(), District.objects.count(), Village.objects.count()) == (
        3,
        5,
        4,
        9,
    )


@pytest.mark.parametrize("code", ["1", "151", "A5", ""])
def test_province_rejected_when_code_malformed(small_regions, code):
    with pytest.raises(IntegrityError), transaction.atomic():
        Province.objects.create(code=code, name="Bengkulu")


@pytest.mark.parametrize("code", ["15.2", "15.002", "1502", "15.01.01"])
def test_regency_rejected_when_code_malformed(small_regions, code):
    with pytest.raises(IntegrityError), transaction.atomic():
        new_regency(code=code).save()


@pytest.mark.parametrize(
    ("code", "kind"),
    [("15.02", "kota"), ("15.69", "kota"), ("15.70", "kabupaten"), ("15.72", "kabupaten"), ("15.02", "desa")],
)
def test_regency_rejected_when_kind_disagrees_with_code(small_regions, code, kind):
    with pytest.raises(IntegrityError), transaction.atomic():
        new_regency(code=code, kind=kind).save()


@pytest.mark.parametrize("code", ["15.01.2", "15.01.01.2", "15.01.0A"])
def test_district_rejected_when_code_malformed(small_regions, code):
    with pytest.raises(IntegrityError), transaction.atomic():
        new_district(code=code).save()


@pytest.mark.parametrize("code", ["15.01.01.4001", "15.01.01.0001", "15.01.01.200", "15.01.01.2A01", "15.01.1.20011"])
def test_village_rejected_when_code_malformed(small_regions, code):
    with pytest.raises(IntegrityError), transaction.atomic():
        new_village(code=code).save()


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("15.01.01.1003", "desa"),
        ("15.01.01.2003", "kelurahan"),
        ("15.01.01.2003", "desa_adat"),
        ("15.01.01.3002", "desa"),
    ],
)
def test_village_rejected_when_kind_disagrees_with_code(small_regions, code, kind):
    with pytest.raises(IntegrityError), transaction.atomic():
        new_village(code=code, kind=kind).save()


def test_region_rejected_when_code_already_used(small_regions):
    with pytest.raises(IntegrityError), transaction.atomic():
        Province.objects.create(code="15", name="Jambi Lagi")
    with pytest.raises(IntegrityError), transaction.atomic():
        new_regency(code="15.71", name="Kota Jambi Lagi", kind="kota").save()
    with pytest.raises(IntegrityError), transaction.atomic():
        new_district(code="15.01.01").save()
    with pytest.raises(IntegrityError), transaction.atomic():
        new_village(code="15.01.01.2001").save()

    assert Province.objects.get(code="15").name == "Jambi"


def test_branch_office_rejected_when_code_already_used(db):
    BranchOffice.objects.create(code="jambi", name="Cabang Jambi")

    with pytest.raises(IntegrityError), transaction.atomic():
        BranchOffice.objects.create(code="jambi", name="Cabang Jambi Dua")


def test_region_str_shows_code_and_name(small_regions):
    assert str(Village.objects.get(code="15.01.01.2002")) == "15.01.01.2002 Lempur Mudik, Hilir"


def test_province_rejected_when_code_ends_with_newline(small_regions):
    with pytest.raises(IntegrityError), transaction.atomic():
        Province.objects.create(code="17\n", name="Bengkulu")
