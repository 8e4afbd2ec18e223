"""Reading worker spreadsheets (CSV or XLSX) safely, and turning rows into checked values.

Nothing here writes: `enrollment.services.workers_import` runs the import. A file is refused
as a whole (`ImportFileError`) when it cannot be trusted: not what it claims to be, a zip bomb,
formulas, wrong encoding, unknown or missing headers, too many rows, empty. Row problems are
collected per row and column (`RowError`).
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from .choices import FundingSource, Institution, Position, Program, Scheme, Sex, WageBasis
from .nik import nik_compact

WORKER_COLUMNS = [
    "village_code",
    "nik",
    "full_name",
    "sex",
    "birth_date",
    "phone",
    "institution",
    "position",
    "term_start",
    "term_end",
    "wage_basis",
    "monthly_wage",
]
ENROLLMENT_COLUMNS = [
    "kpj_number",
    "scheme",
    "npp",
    "programs",
    "funding_source",
    "coverage_start",
    "paid_until",
]
COLUMNS = WORKER_COLUMNS + ENROLLMENT_COLUMNS
REQUIRED_COLUMNS = [
    "village_code",
    "nik",
    "full_name",
    "sex",
    "birth_date",
    "institution",
    "position",
    "term_start",
    "wage_basis",
]
REQUIRED_ENROLLMENT = ["kpj_number", "scheme", "programs", "funding_source", "coverage_start", "paid_until"]
CHOICES = {
    "sex": Sex,
    "institution": Institution,
    "position": Position,
    "wage_basis": WageBasis,
    "scheme": Scheme,
    "funding_source": FundingSource,
}
DATE_COLUMNS = {"birth_date", "term_start", "term_end", "coverage_start", "paid_until"}
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y")
XLSX_MAGIC = b"PK\x03\x04"
PROGRAM_VALUES = frozenset(Program.values)
MAX_COMPRESSION_RATIO = 100
FORMULA_START = ("=",)
# Columns whose cells repeat from row to row, so that their cleaned values are worth remembering
# (see `_RowReader`); NIK, KPJ number, name and phone are unique to a person.
REPEATED_COLUMNS = frozenset(COLUMNS) - {"nik", "kpj_number", "full_name", "phone"}
MEMO_LIMIT = 50_000
_UNSET = object()
DIGITS = re.compile(r"[0-9]+")
PHONE = re.compile(r"\+?[0-9][0-9 -]{5,18}")
# Rupiah as typed: digits, optionally grouped in thousands by "." or ",", optionally followed by
# cents after the other mark ("2.500.000,00", "2500000.00"). Only 1-2 final digits are cents.
WAGE_TEXT = re.compile(
    r"(?P<whole>[0-9]+|[0-9]{1,3}(?P<sep>[.,])[0-9]{3}(?:(?P=sep)[0-9]{3})*)(?:[.,](?P<cents>[0-9]{1,2}))?"
)


class ImportFileError(Exception):
    """The whole file is refused; nothing was read into the database."""

    def __init__(self, message: str, *, code: str = "invalid_file", status: int = 400):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


@dataclass
class RowError:
    row: int
    column: str | None
    message: str


@dataclass
class ParsedRow:
    """One data row: its number in the file (the header is row 1) and its cleaned values."""

    number: int
    values: dict[str, Any]
    errors: list[RowError] = field(default_factory=list)

    @cached_property  # asked several times per row; the values do not change once read
    def has_enrollment(self) -> bool:
        values = self.values
        return any(values.get(column) not in (None, "", []) for column in ENROLLMENT_COLUMNS)


def detect_format(name: str, head: bytes) -> str:
    """'xlsx' or 'csv' from the content itself; the name must agree."""
    lower = (name or "").lower()
    is_zip = head.startswith(XLSX_MAGIC)
    if lower.endswith(".xlsx"):
        if not is_zip:
            raise ImportFileError(_("The file is named .xlsx but is not an Excel workbook."), code="not_xlsx")
        return "xlsx"
    if lower.endswith(".csv") or lower.endswith(".txt"):
        if is_zip or b"\x00" in head[:4096]:
            raise ImportFileError(_("The file is named .csv but is not a text file."), code="not_csv")
        return "csv"
    raise ImportFileError(_("Upload a .csv or .xlsx file."), code="unsupported_type")


def _check_zip(data: bytes) -> None:
    """Refuse a workbook whose parts would unpack to far more than the upload (zip bomb)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise ImportFileError(_("The workbook is damaged (not a valid zip archive)."), code="bad_xlsx") from exc
    total = sum(info.file_size for info in infos)
    limit = settings.UCJ_IMPORT_MAX_UNPACKED_BYTES
    if total > limit or total > MAX_COMPRESSION_RATIO * max(len(data), 1):
        raise ImportFileError(
            _("The workbook unpacks to %(size)d bytes, more than allowed: refused as a possible zip bomb.")
            % {"size": total},
            code="zip_bomb",
        )
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/worksheets/") for n in names):
        raise ImportFileError(_("The zip archive is not an Excel workbook."), code="not_xlsx")


def _has_formulas(data: bytes) -> bool:
    """Whether any worksheet contains a formula (`<f>` element). Every sheet is scanned: the
    first sheet in the workbook's order need not be stored as `sheet1.xml`."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        for sheet in sheets:
            with archive.open(sheet) as handle:
                tail = b""
                while chunk := handle.read(1 << 20):
                    block = tail + chunk
                    if b"<f>" in block or b"<f " in block or b"<x:f" in block:
                        return True
                    tail = block[-8:]
    return False


def _calamine_rows(data: bytes) -> tuple[Iterator[list[Any]] | None, Exception | None]:
    """The first sheet's rows as python-calamine reads them, or the error it raised."""
    from python_calamine import CalamineWorkbook

    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).iter_rows(), None
    except Exception as exc:  # calamine raises its own error types for a broken workbook
        return None, exc


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    """Rows of the first sheet. python-calamine reads fast but gives formula results, so a sheet
    with formulas is read with openpyxl, which shows them (and they are refused per cell)."""
    _check_zip(data)
    # The formula scan unzips every sheet and calamine parses the first one; both let other
    # threads run meanwhile, so they run side by side, and calamine's reading is thrown away
    # when the scan finds formulas.
    with ThreadPoolExecutor(max_workers=1) as pool:
        scan = pool.submit(_has_formulas, data)
        rows, error = _calamine_rows(data)
        formulas = scan.result()
    if not formulas:
        if error is not None:
            raise ImportFileError(
                _("The workbook cannot be read: %(error)s") % {"error": error}, code="bad_xlsx"
            ) from error
        for number, row in enumerate(rows, start=1):
            yield number, [None if cell == "" else cell for cell in row]
        return
    del rows  # calamine's reading, before openpyxl reads the workbook again
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise ImportFileError(_("The workbook cannot be read: %(error)s") % {"error": exc}, code="bad_xlsx") from exc
    sheet = workbook.worksheets[0]
    for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        yield number, list(row)
    workbook.close()


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ImportFileError(
            _("The file is not UTF-8 text (line %(line)d). In Excel choose 'CSV UTF-8' when saving.") % {"line": line},
            code="encoding",
        ) from exc
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for record in reader:
            yield reader.line_num, record
    except csv.Error as exc:
        raise ImportFileError(
            _("Line %(line)d is not valid CSV: %(error)s") % {"line": reader.line_num, "error": exc}, code="bad_csv"
        ) from exc


def read_rows(*, name: str, data: bytes) -> list[ParsedRow]:
    """Every data row of the file, checked; raises ImportFileError for a file that is refused."""
    if not data or not data.strip():
        raise ImportFileError(_("The file is empty."), code="empty")
    kind = detect_format(name, data[:4096])
    rows = _xlsx_rows(data) if kind == "xlsx" else _csv_rows(data)
    header: list[str] | None = None
    reader: _RowReader | None = None
    parsed: list[ParsedRow] = []
    max_rows = settings.UCJ_IMPORT_MAX_ROWS
    for number, cells in rows:
        if _blank(cells):
            continue
        if reader is None:
            header = _header(cells)
            reader = _RowReader(header, kind)
            continue
        if len(parsed) >= max_rows:
            raise ImportFileError(
                _("The file has more than %(max)d rows; split it.") % {"max": max_rows}, code="too_many_rows"
            )
        parsed.append(reader.row(number, cells))
    if header is None:
        raise ImportFileError(_("The file is empty."), code="empty")
    if not parsed:
        raise ImportFileError(_("The file has a header but no rows."), code="no_rows")
    return parsed


def _blank(cells: list[Any]) -> bool:
    for cell in cells:
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            continue
        return False
    return True


def _header(cells: list[Any]) -> list[str]:
    header = [str(cell).strip().lower() if cell is not None else "" for cell in cells]
    while header and not header[-1]:
        header.pop()
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise ImportFileError(
            _("Unknown columns: %(columns)s. Use the template's headers.") % {"columns": ", ".join(unknown)},
            code="unknown_columns",
        )
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise ImportFileError(
            _("Columns appear twice: %(columns)s.") % {"columns": ", ".join(duplicated)}, code="duplicate_columns"
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ImportFileError(
            _("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)}, code="missing_columns"
        )
    return header


class _RowReader:
    """Turns the cells of each row into a `ParsedRow`, for one file's header.

    A file repeats most of its cells (village codes, choices, dates, wages, empty cells): each
    distinct text is cleaned once and its value remembered for the rest of the file, which saves
    most of the reading time of a large file. Only text and empty cells are remembered;
    numbers and dates from a workbook are cleaned every time (1, 1.0 and True are equal dict
    keys but not the same cell). Errors are never remembered: their message is built per row.
    """

    def __init__(self, header: list[str], kind: str):
        self.width = len(header)
        self.formulas = kind == "xlsx"
        self.columns = [(index, column, {}, column in REPEATED_COLUMNS) for index, column in enumerate(header)]

    def row(self, number: int, cells: list[Any]) -> ParsedRow:
        values: dict[str, Any] = {}
        errors: list[RowError] = []
        count = len(cells)
        if count > self.width and any(c not in (None, "") for c in cells[self.width :]):
            errors.append(RowError(number, None, _("The row has more cells than the header has columns.")))
        for index, column, memo, repeated in self.columns:
            raw = cells[index] if index < count else None
            cacheable = raw is None or (type(raw) is str and (repeated or raw == ""))
            if cacheable:
                value = memo.get(raw, _UNSET)
                if value is not _UNSET:
                    values[column] = value.copy() if type(value) is list else value
                    continue
            if isinstance(raw, str) and "\x00" in raw:
                # PostgreSQL cannot store NUL in text (the write would fail with a server error)
                errors.append(RowError(number, column, _("The cell contains a NUL character, which is not allowed.")))
                continue
            if self.formulas and isinstance(raw, str) and raw.startswith(FORMULA_START):
                errors.append(RowError(number, column, _("Formulas are not accepted; enter the value itself.")))
                continue
            try:
                value = _clean(column, raw)
            except ValueError as exc:
                errors.append(RowError(number, column, str(exc)))
                continue
            values[column] = value
            if cacheable and len(memo) < MEMO_LIMIT:
                memo[raw] = value.copy() if type(value) is list else value
        for column in REQUIRED_COLUMNS:
            if values.get(column) in (None, "") and not any(e.column == column for e in errors):
                errors.append(RowError(number, column, _("This column must be filled in.")))
        row = ParsedRow(number=number, values=values, errors=errors)
        if not errors and row.has_enrollment:
            for column in REQUIRED_ENROLLMENT:
                if values.get(column) in (None, "", []):
                    errors.append(RowError(number, column, _("Fill in every membership column, or none of them.")))
        return row


def _text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return str(raw).strip()


def _wage_text(raw: str) -> str:
    """The typed wage without thousands separators: "2.500.000,00" -> "2500000.00" (not
    "250000000"); cents are kept so that non-zero cents are refused, not multiplied by 100."""
    text = _text(raw)
    match = WAGE_TEXT.fullmatch(text)
    if match is None:
        return text
    whole = match["whole"].replace(".", "").replace(",", "")
    return f"{whole}.{match['cents']}" if match["cents"] else whole


def _clean(column: str, raw: Any) -> Any:
    """One cell to its value; ValueError with a message for the clerk."""
    if column == "nik" or column == "kpj_number":
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            raise ValueError(_("Enter this number as text: a spreadsheet rounds long numbers."))
        value = _text(raw)
        if column == "nik" and not value.isdigit():
            value = nik_compact(value)
        if value and not DIGITS.fullmatch(value):
            raise ValueError(_("Only digits are allowed."))
        return value
    if column in DATE_COLUMNS:
        return _date(raw)
    if column == "monthly_wage":
        text = _wage_text(raw) if isinstance(raw, str) else raw
        if text in (None, ""):
            return None
        try:
            number = Decimal(str(text))
        except InvalidOperation as exc:
            raise ValueError(_("Enter a whole number of rupiah.")) from exc
        if number != number.to_integral_value() or number < 0:
            raise ValueError(_("Enter a whole, non-negative number of rupiah."))
        return int(number)
    if column == "programs":
        text = _text(raw).lower()
        if not text:
            return []
        programs = sorted({p.strip() for p in re.split(r"[,;/ ]+", text) if p.strip()})
        unknown = [p for p in programs if p not in PROGRAM_VALUES]
        if unknown:
            raise ValueError(_("Unknown programs: %(p)s (use jkk, jkm, jht, jp).") % {"p": ", ".join(unknown)})
        return programs
    if column in CHOICES:
        text = _text(raw)
        if not text:
            return ""
        return _choice(column, text)
    value = _text(raw)
    if column == "full_name" and len(value) > 150:
        raise ValueError(_("At most 150 characters."))
    if column == "phone" and value and not PHONE.fullmatch(value):
        raise ValueError(_("Enter a phone number: digits, optionally starting with +."))
    if column in ("village_code", "npp") and len(value) > 20:
        raise ValueError(_("Too long."))
    return value


_CHOICE_MAPS: dict[str, dict[str, str]] = {}


def _choice_map(column: str) -> dict[str, str]:
    """{code or label in Indonesian or English, lower-cased: code}, built once per column."""
    if column not in _CHOICE_MAPS:
        from django.utils import translation

        mapping = {}
        for language in ("en", "id"):
            with translation.override(language):
                mapping.update({str(label).lower(): value for value, label in CHOICES[column].choices})
        mapping.update({value: value for value in CHOICES[column].values})
        _CHOICE_MAPS[column] = mapping
    return _CHOICE_MAPS[column]


def _choice(column: str, text: str) -> str:
    """A code (`pemerintah_desa`) or its label in either language, case-insensitive."""
    value = _choice_map(column).get(text.strip().lower())
    if value is None:
        allowed = ", ".join(CHOICES[column].values)
        raise ValueError(_("Unknown value %(value)r; allowed: %(allowed)s.") % {"value": text, "allowed": allowed})
    return value


def _date(raw: Any) -> datetime.date | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, datetime.datetime):
        return raw.date()
    if isinstance(raw, datetime.date):
        return raw
    text = _text(raw)
    if len(text) == 10 and text[4] == "-":
        try:
            return datetime.date.fromisoformat(text)
        except ValueError:
            pass
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    raise ValueError(_("Enter a date as YYYY-MM-DD or DD/MM/YYYY."))
