"""NIK (Nomor Induk Kependudukan) rules: python-stdnum's Indonesian NIK birth-date rule (applied
here directly), plus ours: ASCII digits only, serial not 0000, day 01-31 (men) or 41-71 (women),
and agreement with the worker's birth date and sex. The region prefix is deliberately not checked
against any list: people move, and old codes stay valid on old cards.

Every path that takes a NIK (API create and update, spreadsheet import, admin form) compacts it
with `nik_compact` and judges it with `nik_problems` (or `nik_digits_error`, its first rule), so
each refuses the same NIKs with the same message. What a NIK looks like to a mask (`nik_compact`,
`is_full_nik`, `nik_mask`) is access.masking's: the access log masks NIKs too."""

from __future__ import annotations

import datetime
import re

from django.utils.translation import gettext as _

from access.masking import NIK_LENGTH, NIK_MASK_SHOWN, is_full_nik, nik_compact, nik_mask
from core.errors import FieldError

from .choices import Sex

__all__ = [
    "NIK_LENGTH",
    "NIK_MASK_SHOWN",
    "birth_date_mask",
    "is_full_nik",
    "nik_compact",
    "nik_digits_error",
    "nik_mask",
    "nik_problems",
    "phone_mask",
]

SEX_VALUES = frozenset(Sex.values)
# Not stdnum's `isdigits`: its `^[0-9]+$` also matches a trailing newline ("...001\n" passed as 16).
_DIGITS = re.compile(r"[0-9]+")
FEMALE_DAY_OFFSET = 40


def nik_digits_error(nik: str) -> FieldError | None:
    """The error for a NIK holding anything but the ASCII digits 0-9 (None when it holds only those)."""
    if _DIGITS.fullmatch(nik):
        return None
    return FieldError("nik", "nik_not_digits", _("NIK must contain digits only."))


def _encodes_a_date(digits: str) -> bool:
    """Whether DDMMYY (women: DD + 40) is a date in the 1900s or the 2000s: the rule of stdnum's
    `get_birth_date`, applied to the six digits directly. stdnum first strips separators from the
    whole number, which costs more than the check itself, and an import checks 100,000 NIKs."""
    day, month, year = int(digits[:2]) % FEMALE_DAY_OFFSET, int(digits[2:4]), int(digits[4:])
    for century in (1900, 2000):
        try:
            datetime.date(century + year, month, day)
        except ValueError:
            continue
        return True
    return False


def nik_problems(nik: str, *, birth_date: datetime.date | None = None, sex: str | None = None) -> list[FieldError]:
    """Every problem with `nik` (empty when it is valid and agrees with birth date and sex)."""
    digits_error = nik_digits_error(nik)
    if digits_error is not None:
        return [digits_error]
    if len(nik) != NIK_LENGTH:
        return [FieldError("nik", "nik_length", _("NIK must have 16 digits, not %(count)d.") % {"count": len(nik)})]
    if nik[12:] == "0000":
        return [FieldError("nik", "nik_serial", _("The last four digits of a NIK (serial) cannot be 0000."))]
    day = int(nik[6:8])
    if not (1 <= day <= 31 or 41 <= day <= 71) or not _encodes_a_date(nik[6:12]):
        return [FieldError("nik", "nik_birth_date", _("Digits 7-12 of the NIK are not a birth date."))]

    problems = []
    nik_female = day > FEMALE_DAY_OFFSET
    if sex in SEX_VALUES and nik_female != (sex == Sex.FEMALE):
        problems.append(
            FieldError(
                "sex",
                "nik_sex_mismatch",
                _("The NIK belongs to a woman (birth day + 40), but the sex given is male.")
                if nik_female
                else _("The NIK belongs to a man, but the sex given is female."),
            )
        )
    if birth_date is not None:
        nik_day = day - FEMALE_DAY_OFFSET if nik_female else day
        if (nik_day, int(nik[8:10]), int(nik[10:12])) != (birth_date.day, birth_date.month, birth_date.year % 100):
            problems.append(
                FieldError(
                    "birth_date",
                    "nik_birth_date_mismatch",
                    _("The birth date does not agree with the NIK (digits 7-12 read %(date)s).")
                    % {"date": f"{nik_day:02d}-{nik[8:10]}-{nik[10:12]}"},
                )
            )
    return problems


def phone_mask(phone: str) -> str:
    """A phone number hidden digit for digit (its length still shows one was given)."""
    return "*" * len(phone)


def birth_date_mask(birth_date: datetime.date) -> str | None:
    """Nothing of it: even the year narrows a NIK's birth-date digits sixtyfold. (Typed as a mask,
    text or nothing, so callers treat it like the other masks.)"""
