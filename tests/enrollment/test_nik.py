"""NIK rules: 16 digits, PPRRDD region + DDMMYY birth date (day + 40 for women) + serial not 0000,
agreeing with the worker's birth date and sex; the region prefix is not checked against any list."""

import datetime

import pytest

from enrollment.nik import nik_compact, nik_mask, nik_problems

D = datetime.date

# (nik, birth_date, sex, expected [(field, code), ...]); an empty list means valid.
CASES = [
    # valid: both sexes, the edges of the day ranges, leap day of a leap year
    pytest.param("1501011705800001", D(1980, 5, 17), "male", [], id="man"),
    pytest.param("1501015708850002", D(1985, 8, 17), "female", [], id="woman-day-plus-40"),
    pytest.param("1501010101900001", D(1990, 1, 1), "male", [], id="man-day-01"),
    pytest.param("1501013112900001", D(1990, 12, 31), "male", [], id="man-day-31"),
    pytest.param("1501014101900001", D(1990, 1, 1), "female", [], id="woman-day-41"),
    pytest.param("1501017112900001", D(1990, 12, 31), "female", [], id="woman-day-71"),
    pytest.param("1501012902000001", D(2000, 2, 29), "male", [], id="29-feb-2000-man"),
    pytest.param("1501016902000001", D(2000, 2, 29), "female", [], id="29-feb-2000-woman"),
    pytest.param("1501011705809999", D(1980, 5, 17), "male", [], id="serial-9999"),
    pytest.param("9999991705800001", D(1980, 5, 17), "male", [], id="region-prefix-in-no-list"),
    pytest.param("0000001705800001", D(1980, 5, 17), "male", [], id="region-prefix-zeros"),
    pytest.param("1501011705800001", D(1880, 5, 17), "male", [], id="two-digit-year-century-ambiguous"),
    # not a birth date
    pytest.param("1501012902010001", D(2001, 3, 1), "male", [("nik", "nik_birth_date")], id="29-feb-2001"),
    pytest.param("1501016902010001", D(2001, 3, 1), "female", [("nik", "nik_birth_date")], id="29-feb-2001-woman"),
    pytest.param("1501013002000001", D(2000, 3, 1), "male", [("nik", "nik_birth_date")], id="30-feb"),
    pytest.param("1501013104900001", D(1990, 5, 1), "male", [("nik", "nik_birth_date")], id="31-april"),
    pytest.param("1501010001900001", D(1990, 1, 1), "male", [("nik", "nik_birth_date")], id="day-00"),
    pytest.param("1501013201900001", D(1990, 1, 1), "male", [("nik", "nik_birth_date")], id="day-32"),
    pytest.param("1501013601900001", D(1990, 1, 1), "male", [("nik", "nik_birth_date")], id="day-36"),
    pytest.param("1501014001900001", D(1990, 1, 1), "female", [("nik", "nik_birth_date")], id="day-40"),
    pytest.param("1501017201900001", D(1990, 1, 1), "female", [("nik", "nik_birth_date")], id="day-72"),
    pytest.param("1501018101900001", D(1990, 1, 1), "female", [("nik", "nik_birth_date")], id="day-81"),
    pytest.param("1501019901900001", D(1990, 1, 1), "female", [("nik", "nik_birth_date")], id="day-99"),
    pytest.param("1501011700900001", D(1990, 1, 17), "male", [("nik", "nik_birth_date")], id="month-00"),
    pytest.param("1501011713900001", D(1990, 1, 17), "male", [("nik", "nik_birth_date")], id="month-13"),
    # serial
    pytest.param("1501011705800000", D(1980, 5, 17), "male", [("nik", "nik_serial")], id="serial-0000"),
    # shape
    pytest.param("150101170580001", D(1980, 5, 17), "male", [("nik", "nik_length")], id="15-digits"),
    pytest.param("15010117058000011", D(1980, 5, 17), "male", [("nik", "nik_length")], id="17-digits"),
    pytest.param("15010117058A0001", D(1980, 5, 17), "male", [("nik", "nik_not_digits")], id="letter-inside"),
    pytest.param("150101170580000I", D(1980, 5, 17), "male", [("nik", "nik_not_digits")], id="letter-i-for-one"),
    pytest.param("1501-0117-0580-01", D(1980, 5, 17), "male", [("nik", "nik_not_digits")], id="separators-raw"),
    pytest.param("", D(1980, 5, 17), "male", [("nik", "nik_not_digits")], id="empty"),
    pytest.param(
        "１５０１０１１７０５８０００01", D(1980, 5, 17), "male", [("nik", "nik_not_digits")], id="fullwidth-digits"
    ),
    pytest.param("150101170580001\n", D(1980, 5, 17), "male", [("nik", "nik_not_digits")], id="trailing-newline"),
    # agreement with sex and birth date
    pytest.param("1501011705800001", D(1980, 5, 17), "female", [("sex", "nik_sex_mismatch")], id="man-nik-woman"),
    pytest.param("1501015708850002", D(1985, 8, 17), "male", [("sex", "nik_sex_mismatch")], id="woman-nik-man"),
    pytest.param(
        "1501011705800001",
        D(1980, 5, 18),
        "male",
        [("birth_date", "nik_birth_date_mismatch")],
        id="birth-day-differs",
    ),
    pytest.param(
        "1501011705800001",
        D(1980, 6, 17),
        "male",
        [("birth_date", "nik_birth_date_mismatch")],
        id="birth-month-differs",
    ),
    pytest.param(
        "1501011705800001",
        D(1981, 5, 17),
        "male",
        [("birth_date", "nik_birth_date_mismatch")],
        id="birth-year-differs",
    ),
    pytest.param(
        "1501015708850002",
        D(1985, 8, 18),
        "female",
        [("birth_date", "nik_birth_date_mismatch")],
        id="woman-birth-day-differs",
    ),
    pytest.param(
        "1501011705800001",
        D(1980, 5, 18),
        "female",
        [("sex", "nik_sex_mismatch"), ("birth_date", "nik_birth_date_mismatch")],
        id="sex-and-birth-date-both-wrong",
    ),
]


@pytest.mark.parametrize(("nik", "birth_date", "sex", "expected"), CASES)
def test_nik_problems_table(nik, birth_date, sex, expected):
    problems = nik_problems(nik, birth_date=birth_date, sex=sex)

    assert [(problem.field, problem.code) for problem in problems] == expected
    assert all(problem.message for problem in problems)


def test_nik_problems_valid_without_birth_date_and_sex():
    assert nik_problems("1501015708850002") == []


def test_nik_problems_message_names_digit_count_when_length_wrong():
    (problem,) = nik_problems("1501011705800")

    assert "13" in problem.message


def test_nik_problems_message_shows_date_read_from_nik_when_birth_date_differs():
    (problem,) = nik_problems("1501015708850002", birth_date=D(1985, 8, 18), sex="female")

    assert "17-08-85" in problem.message


@pytest.mark.parametrize(
    ("raw", "compact"),
    [
        ("1501 0117 0580 0001", "1501011705800001"),
        ("15.01.01-170580-0001", "1501011705800001"),
        ("  1501011705800001 ", "1501011705800001"),
        ("1501011705800001", "1501011705800001"),
    ],
)
def test_nik_compact_removes_separators(raw, compact):
    assert nik_compact(raw) == compact


@pytest.mark.parametrize(
    ("nik", "masked"),
    [
        ("1501011705800001", "1501************"),
        ("3171015708450123", "3171************"),
        ("12345", "*****"),
    ],
)
def test_nik_mask_hides_birth_date(nik, masked):
    assert nik_mask(nik) == masked
