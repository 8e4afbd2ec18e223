"""What a NIK looks like to a mask, and a logged query with its NIKs hidden. The access log masks
the NIKs a caller searched for, and the workers' serializers, exports and admin mask the ones
they show (enrollment.masking, enrollment.nik): both use these."""

from __future__ import annotations

import unicodedata

from django.http import QueryDict

NIK_LENGTH = 16


def is_full_nik(value: str) -> bool:
    """Whether `value` is a whole NIK (16 ASCII digits once separators are dropped): what makes
    a search, or a logged query, an exact-NIK lookup."""
    compact = nik_compact(value)
    return len(compact) == NIK_LENGTH and compact.isascii() and compact.isdigit()


def nik_compact(value: str) -> str:
    """The NIK without spaces, dots or dashes (of any kind), and nothing else changed.

    Not stdnum's `compact`, which also turns full-width and other Unicode digits into ASCII ones:
    a NIK is written with 0-9 only, and any other digit is refused (`nik_digits_error`) on every
    path, rather than stored as ASCII by some and refused by others."""
    return "".join(ch for ch in value if not _is_separator(ch))


def _is_separator(ch: str) -> bool:
    return ch in ".-" or ch.isspace() or unicodedata.category(ch) == "Pd"


# What a caller without the personal-data right is shown of a NIK: the first four digits (the
# regency or city of first registration, which the worker's own village mostly gives away
# anyway). The birth date (digits 7-12) and the serial (13-16) stay hidden, and so does the
# birth date itself: shown the serial and the birth year (the earlier mask), day and month were
# at most 372 guesses of an exact-NIK lookup. Hidden as here, a guess must cover the birth date
# over some sixty years (21,184 days) even for an attacker who takes the district from the
# village and the commonest serial, 0001; exact-NIK lookups by such callers are counted and
# logged (`access.services.nik_lookups_record`; README, "Personal data").
NIK_MASK_SHOWN = 4


def nik_mask(nik: str) -> str:
    """`1501************`: the regency of first registration only."""
    if len(nik) != NIK_LENGTH:
        return "*" * len(nik)
    return nik[:NIK_MASK_SHOWN] + "*" * (NIK_LENGTH - NIK_MASK_SHOWN)


def query_with_niks_masked(query: str) -> str:
    """`query` (a logged URL query, or what an access-log entry says was looked up) with every
    value that is a whole NIK masked."""
    params = QueryDict(query, mutable=True)
    for key, values in params.lists():
        params.setlist(key, [nik_mask(nik_compact(v)) if is_full_nik(v) else v for v in values])
    return params.urlencode(safe="*")
