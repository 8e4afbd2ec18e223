"""Region codes as the Kemendagri list writes them (`15.08.01.2001`), read as other systems write
them: the digits alone (`1508012001`, as SIPD and many spreadsheets keep them) or dotted, with
spaces around. Every entry point that takes a region code (paths, query filters, request bodies,
spreadsheet columns, commands, the portal) reads it here, and every answer gives the dotted form,
so `1508` and `15.08` are the same region and the same answer.

The shapes by level (the database checks the same ones, villages.models):

    province  15              regency  15.08 (1508)
    district  15.08.01 (150801)   village  15.08.01.2001 (1508012001), the last part 1xxx-3xxx
"""

from __future__ import annotations

import re
from typing import Final

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

PROVINCE_CODE_RE: Final = r"^[0-9]{2}\Z"
REGENCY_CODE_RE: Final = r"^[0-9]{2}\.[0-9]{2}\Z"
DISTRICT_CODE_RE: Final = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\Z"
VILLAGE_CODE_RE: Final = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[123][0-9]{3}\Z"

# Levels, top down, as the number of parts of a dotted code: 1 province ... 4 village.
PROVINCE_DEPTH: Final = 1
REGENCY_DEPTH: Final = 2
DISTRICT_DEPTH: Final = 3
VILLAGE_DEPTH: Final = 4
CODE_RE_BY_DEPTH: Final = {
    PROVINCE_DEPTH: re.compile(PROVINCE_CODE_RE),
    REGENCY_DEPTH: re.compile(REGENCY_CODE_RE),
    DISTRICT_DEPTH: re.compile(DISTRICT_CODE_RE),
    VILLAGE_DEPTH: re.compile(VILLAGE_CODE_RE),
}
# The undotted spellings: how many digits each level has, and where its dots go.
_DOT_AFTER: Final = {2: (), 4: (2,), 6: (2, 4), 10: (2, 4, 6)}
_ASCII_DIGITS: Final = re.compile(r"[0-9]+\Z")
# What may surround a code and is dropped: spaces and tabs (as typed or pasted), nothing else, so
# that the schema's pattern says exactly what is taken.
_AROUND: Final = " \t"

# What a path segment holding a code may look like before it is read (`region_code` decides):
# digits and dots, at most as long as a dotted village code.
PATH_PATTERN: Final = r"[0-9.]{1,13}"
# The spellings accepted, for the schema: dotted or digits alone, any level.
_SPELLINGS: Final = (
    r"(?:[0-9]{2}(?:\.[0-9]{2}(?:\.[0-9]{2}(?:\.[123][0-9]{3})?)?)?|[0-9]{4}(?:[0-9]{2}(?:[123][0-9]{3})?)?)"
)
SPELLINGS_PATTERN: Final = rf"^[ \t]*{_SPELLINGS}[ \t]*$"  # a value (spaces and tabs around are dropped)
PATH_SPELLINGS_PATTERN: Final = rf"^{_SPELLINGS}$"  # a path segment
SPELLINGS_TEXT: Final = (
    "Dotted as Kemendagri writes it (`15`, `15.08`, `15.08.01`, `15.08.01.2001`) or the digits alone "
    "(`1508`, `150801`, `1508012001`); answers always give the dotted code."
)


def region_code(text: object) -> str | None:
    """The dotted code `text` spells (`1508` and ` 15.08 ` are `15.08`), or None when it is not a
    region code of any level (`150`, `15.8`, `15-08`, `1508x`, a number, a village part `4001`)."""
    if not isinstance(text, str):
        return None
    text = text.strip(_AROUND)
    if _ASCII_DIGITS.match(text) and len(text) in _DOT_AFTER:
        text = _dotted(text, _DOT_AFTER[len(text)])
    return text if region_code_depth(text) is not None else None


def region_code_depth(code: str) -> int | None:
    """How deep the dotted `code` is (1 province, 2 regency/city, 3 district, 4 village), or None
    when it has none of the four shapes."""
    depth = code.count(".") + 1
    pattern = CODE_RE_BY_DEPTH.get(depth)
    return depth if pattern is not None and pattern.match(code) else None


class RegionCodeConverter:
    """A path converter (`<region:code>`, see `register_region_converter`) that gives the view
    the dotted code whichever spelling the address used, so both are the same answer (and the
    same ETag); a segment that is no code matches no route (the API's JSON 404). `reverse()`
    writes the dotted code."""

    regex = PATH_PATTERN

    def to_python(self, value: str) -> str:
        code = region_code(value)
        if code is None:
            raise ValueError(value)  # Django: this route does not match
        return code

    def to_url(self, value: str) -> str:
        code = region_code(value)
        if code is None:
            raise ValueError(value)
        return code


def register_region_converter() -> None:
    """Register `<region:...>` for the URL modules that use it (each calls this; once is enough)."""
    from django.urls import register_converter
    from django.urls.converters import get_converters

    if "region" not in get_converters():
        register_converter(RegionCodeConverter, "region")


# The levels by depth, as an error names them (core knows no app: villages' RegionLevel has the same four).
LEVEL_NAMES: Final = {
    PROVINCE_DEPTH: _("province"),
    REGENCY_DEPTH: _("regency/city"),
    DISTRICT_DEPTH: _("district"),
    VILLAGE_DEPTH: _("village"),
}


def levels_named(depths: tuple[int, ...]) -> str:
    """`(1, 2)` as "province or regency/city" (in the active language), for an error that names
    the levels taken."""
    return f" {gettext('or')} ".join(str(LEVEL_NAMES[depth]) for depth in depths)


def code_prefix(text: str) -> str:
    """The start of a dotted code that `text`, the start of a code in either spelling, stands for
    (`15080` is `15.08.0`; `15.08.0` stays): for a search by the first digits of a code."""
    if not _ASCII_DIGITS.match(text):
        return text
    return _dotted(text, tuple(cut for cut in _DOT_AFTER[10] if cut < len(text)))


def _dotted(digits: str, cuts: tuple[int, ...]) -> str:
    """`digits` with a dot at each of `cuts` (`"1508", (2,)` is `15.08`)."""
    parts, start = [], 0
    for cut in cuts:
        parts.append(digits[start:cut])
        start = cut
    parts.append(digits[start:])
    return ".".join(parts)
