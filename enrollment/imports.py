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
import pyexpat
import re
import struct
import zipfile
import zlib
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from core.api.renderers import FORMULA_PREFIXES
from core.codes import VILLAGE_DEPTH, region_code, region_code_depth

from .choices import FundingSource, Institution, Position, Program, Scheme, Sex, WageBasis
from .nik import nik_compact, nik_digits_error

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
# A workbook is checked part by part before any reader opens it (`_inspect_workbook`).
MAX_PARTS = 1000
UNPACK_CHUNK = 1 << 20
DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")
XML_ENCODING = re.compile(rb"""\s*<\?xml[^>]*?\bencoding\s*=\s*["']([^"']*)["']""")
# The quick scan of a sheet (see `_PartScan`): references as the usual writers put them.
FAST_CELL = re.compile(rb'<c r="([A-Z]+)([0-9]+)"')
FAST_ROW = re.compile(rb'<row r="([0-9]+)"')
CELL_TAG = re.compile(rb"<c[\s/>]")
ROW_TAG = re.compile(rb"<row[\s/>]")
FORMULA_TAG = re.compile(rb"<f[\s/>]")
DIMENSION = re.compile(rb"""<dimension\s(?:[^>]*?\s)?ref\s*=\s*["']([^"']*)["']""")
FAST_SHARED_CELL = re.compile(rb' t="s"[^>]*><v>([0-9]{1,9})</v>')
TEXT_NODE = re.compile(rb">\s*([^<\s][^<]*)<")
SHARED_STRINGS_PART = "xl/sharedstrings.xml"
PREFIXED_TAG = re.compile(rb"<[A-Za-z_][\w.-]*:(?:c|row|f|sheetData|dimension)[\s/>]")
MAX_COLUMN = 16384
CELL_REF = re.compile(r"\$?([A-Z]{1,3})\$?([0-9]{1,7})")
# How far a sheet may reach: the data rows, the header and this many blank rows; the template's
# 19 columns and a few more (column Z). Readers build a grid of every cell up to the last one
# (32 bytes a cell in python-calamine), so these bound the memory a sheet can take.
BLANK_ROWS_ALLOWED = 1000
MAX_SHEET_COLUMNS = 26
# Different texts (shared strings) a workbook may hold, per row allowed: NIK, name, phone, KPJ
# number and a few more are different on every row.
SHARED_STRINGS_PER_ROW = 8
# Bytes of text a workbook's sheets may show, per row allowed (a full row of the template with
# long names and labels holds about 250).
TEXT_PER_ROW = 400
# Row errors an import reports and keeps with its record, the first ones in row order; beyond
# them it counts (a file of 200,000 refused rows once took 1.5 GB to answer and store).
MAX_ERRORS = 1000
# The largest monthly wage, for the API and imports alike: beyond it the database cannot store it.
MAX_WAGE = 1_000_000_000
# Cell text quoted in a message is cut to this length.
QUOTE_LENGTH = 60
# Text a spreadsheet reads as a formula (OWASP's list): refused in any cell of either format,
# after leading spaces too, except a phone number (which may start with +).
FORMULA_START = FORMULA_PREFIXES
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


# How much more than the file a multipart request may carry (boundaries, other fields).
UPLOAD_OVERHEAD = 64 * 1024


def upload_size_check(size: int, *, overhead: int = 0, limit: int | None = None) -> None:
    """Refuse a file larger than `limit` (by default `UCJ_IMPORT_MAX_BYTES`) (413): checked on the
    request's Content-Length (with `overhead`) before the body is read, and on the file once received."""
    limit = settings.UCJ_IMPORT_MAX_BYTES if limit is None else limit
    if size > limit + overhead:
        raise ImportFileError(
            _("The file is larger than %(size)d bytes.") % {"size": limit}, code="file_too_large", status=413
        )


@dataclass(slots=True)  # a refused file can make millions of them
class RowError:
    row: int
    column: str | None
    message: str


@dataclass
class Values(Mapping):
    """The cleaned values of one row (or one planned worker), read like a dict.

    A dict per row took about 1.2 KB; a file of 200,000 rows held 250 MB of them. Here a row is
    a tuple of its values beside the column names, which every row of a file shares: a fifth of
    that, and the same `values["nik"]`, `values.get(...)` and `in` for whoever reads it."""

    __slots__ = ("_index", "_values")

    def __init__(self, index: dict[str, int], values: tuple[Any, ...]):
        self._index = index
        self._values = values

    @classmethod
    def of(cls, values: dict[str, Any], indexes: dict[tuple[str, ...], dict[str, int]] | None = None) -> Values:
        """The same as `values`; `indexes` shares the column positions among rows of one shape."""
        keys = tuple(values)
        index = indexes.get(keys) if indexes is not None else None
        if index is None:
            index = {key: position for position, key in enumerate(keys)}
            if indexes is not None:
                indexes[keys] = index
        return cls(index, tuple(values.values()))

    def __getitem__(self, key: str) -> Any:
        return self._values[self._index[key]]

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def get(self, key: str, default: Any = None) -> Any:
        position = self._index.get(key)
        return default if position is None else self._values[position]


NO_VALUES = Values({}, ())


@dataclass(slots=True)
class ParsedRow:
    """One data row: its number in the file (the header is row 1), its cleaned values, and
    whether it fills the membership columns. Once a file has had MAX_ERRORS errors, later rows
    keep only how many they had (`errors_omitted`): a file of 100,000 rows with an error in
    every cell held 1.9 million of them (330 MB) to report the first thousand."""

    number: int
    values: Mapping[str, Any]
    errors: list[RowError] = field(default_factory=list)
    has_enrollment: bool = False
    errors_omitted: int = 0

    @property
    def rejected(self) -> bool:
        return bool(self.errors) or self.errors_omitted > 0


def _has_enrollment(values: dict[str, Any]) -> bool:
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


def _refused_part(message: str, *, code: str = "bad_xlsx") -> ImportFileError:
    return ImportFileError(message, code=code)


def _column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


class _SlowScan(Exception):
    """A sheet not in the shape the quick scan reads: scan it again with expat."""


def _column_number_bytes(letters: bytes) -> int:
    return _column_number(letters.decode()) if len(letters) <= 3 else MAX_COLUMN + 1


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


class _PartScan:
    """One part of a workbook, fed as it is unpacked and never kept whole.

    Every part is searched for a DTD (refused: entity expansion). XML parts are parsed with expat
    (which is told never to read external entities), and wherever a sheet's cells are
    (`sheetData`, whatever the part's name) their rows and columns are followed, with the
    `<dimension ref>`, so that a sheet reaching past the rows or columns an import reads is
    refused here, before a reader builds its grid of cells. Formulas (`<f>`) are noted.

    A sheet written as Excel, LibreOffice and openpyxl write them (every row and cell with its
    reference first, `<c r="A1"`, no namespace prefix) is read with regular expressions instead,
    four times quicker than expat; any other shape (`_SlowScan`) is read again with expat.
    """

    def __init__(self, name: str, tally: _Tally, *, fast: bool = True):
        self.name = name
        self.tally = tally
        self.limits = tally.limits
        # calamine reads the shared strings from this part only (whatever the case of its name)
        self.is_sst = name.lower() == SHARED_STRINGS_PART
        self.text_length = -1  # of the shared string being read, -1 outside one
        self.shared_cell = False
        self.digits: str | None = None  # of a shared string's index, inside its <v>
        self.fast = fast
        self.parser: Any = None
        self.sheet = False
        self.pending = b""
        self.is_xml = name.lower().endswith((".xml", ".rels", ".vml"))
        self.started = False
        self.tail = b""
        self.in_data = False
        self.row = 0
        self.col = 0
        self.last_row = 0
        self.last_column = 0
        self.formulas = False
        self.shared_strings = 0

    def feed(self, chunk: bytes) -> None:
        if not self.started:
            self.started = True
            self._first(chunk)
        block = self.tail + chunk
        if any(marker in block for marker in DTD_MARKERS):
            raise _refused_part(
                _("The workbook contains a document type declaration (DTD), which is not allowed."), code="xml_dtd"
            )
        self.tail = block[-16:]
        if self.sheet:
            self._scan(chunk)
        elif self.parser is not None:
            self._parse(chunk, False)
        if self.parser is None and b"sheetData" in block:  # cells in a part not parsed as XML
            raise _refused_part(_("The workbook is damaged: a sheet is not valid XML."))

    def close(self) -> None:
        if self.sheet:
            if self.pending[1:].strip():
                raise _SlowScan  # text after the last tag: let expat judge it
        elif self.parser is not None:
            self._parse(b"", True)

    def _scan(self, chunk: bytes) -> None:
        """Rows, cells, the dimension and formulas of a chunk of a sheet, without a parser."""
        block = self.pending + chunk
        # The block ends with its last ">", and the next one starts with it: text after it is
        # counted there, between that ">" and the next "<".
        cut = block.rfind(b">")
        block, self.pending = block[: cut + 1], block[max(cut, 0) :]
        if len(self.pending) > UNPACK_CHUNK or PREFIXED_TAG.search(block):
            raise _SlowScan
        cells = FAST_CELL.findall(block)
        rows = FAST_ROW.findall(block)
        if len(cells) != len(CELL_TAG.findall(block)) or len(rows) != len(ROW_TAG.findall(block)):
            raise _SlowScan  # a cell or row without its reference first
        if FORMULA_TAG.search(block):
            self.formulas = True
        shared = FAST_SHARED_CELL.findall(block)
        if len(shared) != block.count(b' t="s"'):
            raise _SlowScan  # a shared string cell written otherwise
        self.tally.add_text(sum(map(len, TEXT_NODE.findall(block))))
        if shared:
            self.tally.add_shared(shared)
        for ref in DIMENSION.findall(block):
            last = ref.decode("ascii", "replace").rpartition(":")[2]
            if last:
                self._reach(*self._cell(last))
        limits = self.limits
        if cells:
            letters, numbers = zip(*cells, strict=True)
            distinct = set(numbers)
            last_row = max(map(int, distinct)) if max(map(len, distinct)) <= 7 else limits.rows + 1
            if last_row > limits.rows:
                for letter, number in cells:
                    if len(number) > 7 or int(number) > limits.rows:
                        self._reach(int(number[:8]), _column_number(letter[:3].decode()))
            last_column = max(map(_column_number_bytes, set(letters)))
            if last_column > limits.columns:
                for letter, number in cells:
                    if _column_number_bytes(letter) > limits.columns:
                        self._reach(int(number[:7]), _column_number(letter[:3].decode()))
            self._reach(last_row, last_column)
        for number in rows:  # after the cells, so that a message names the cell rather than its row
            if len(number) > 7 or int(number) > limits.rows:
                self._reach(int(number[:8]), 1)
        if rows:
            self._reach(max(map(int, rows)), 1)

    def _first(self, chunk: bytes) -> None:
        head = chunk[:200]
        if head.startswith((b"\xfe\xff", b"\xff\xfe")) or head[:2] in (b"<\x00", b"\x00<"):
            raise _refused_part(_("The workbook is damaged: its XML is not UTF-8."))
        declared = XML_ENCODING.match(head)
        if declared and declared[1].lower().replace(b"-", b"").replace(b"_", b"") != b"utf8":
            raise _refused_part(_("The workbook is damaged: its XML is not UTF-8."))
        if self.is_xml or head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
            parser = pyexpat.ParserCreate()
            parser.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)
            parser.StartDoctypeDeclHandler = self._doctype
            parser.EntityDeclHandler = self._doctype
            parser.StartElementHandler = self._start
            parser.EndElementHandler = self._end
            parser.CharacterDataHandler = self._text
            parser.buffer_text = True
            self.parser = parser
            self.sheet = self.fast and b"<worksheet" in chunk

    def _parse(self, chunk: bytes, final: bool) -> None:
        try:
            self.parser.Parse(chunk, final)
        except pyexpat.ExpatError as exc:
            if self.is_sst or self.in_data or self.last_row or self.shared_strings:
                raise _refused_part(_("The workbook is damaged: a part is not valid XML.")) from exc
            # Not a sheet or the shared strings so far (Excel's own VML drawings are not always
            # well-formed): no longer parsed, and refused should a sheet's cells follow.
            self.parser = None

    def _doctype(self, *args: Any) -> None:
        raise _refused_part(
            _("The workbook contains a document type declaration (DTD), which is not allowed."), code="xml_dtd"
        )

    def _text(self, text: str) -> None:
        if self.digits is not None:
            self.digits += text
        elif self.text_length >= 0:
            self.text_length += len(text.encode())
        elif self.in_data and not text.isspace():
            self.tally.add_text(len(text.encode()))

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        if self.in_data:
            if name == "v" or name[-2:] == ":v":
                if self.shared_cell:
                    self.digits = ""
            elif name == "c" or name[-2:] == ":c":
                self.shared_cell = attrs.get("t") == "s"
                ref = attrs.get("r")
                if ref is None:
                    self.col += 1
                    self._reach(self.row, self.col)
                else:
                    row, col = self._cell(ref)
                    self.col = col
                    self._reach(row, col)
            elif name == "row" or name[-4:] == ":row":
                number = attrs.get("r")
                if number is None:
                    self.row += 1
                elif number.isdigit() and len(number) < 8:
                    self.row = int(number)
                else:
                    raise _refused_part(_("The workbook is damaged: a row number is not valid."))
                self.col = 0
            elif name == "f" or name[-2:] == ":f":
                self.formulas = True
        elif name == "sheetData" or name[-10:] == ":sheetData":
            self.in_data = True
        elif name == "dimension" or name[-10:] == ":dimension":
            last = attrs.get("ref", "").rpartition(":")[2]
            if last:
                self._reach(*self._cell(last))
        elif name == "si" or name[-3:] == ":si":
            self.text_length = 0
            self.shared_strings += 1
            if self.shared_strings > self.limits.shared_strings:
                raise _refused_part(
                    _("The workbook holds more than %(max)d different texts: more than an import reads.")
                    % {"max": self.limits.shared_strings},
                    code="sheet_too_large",
                )

    def _end(self, name: str) -> None:
        if self.digits is not None and (name == "v" or name[-2:] == ":v"):
            self.tally.add_shared([self.digits.strip()])
            self.digits = None
        elif self.text_length >= 0 and (name == "si" or name[-3:] == ":si"):
            if self.is_sst:
                self.tally.shared_lengths.append(self.text_length)
            self.text_length = -1
        elif name == "row" or name[-4:] == ":row":
            self._reach(self.row, 1)  # at its end, so that a message names a cell of the row first
        elif name == "sheetData" or name[-10:] == ":sheetData":
            self.in_data = False

    def _cell(self, ref: str) -> tuple[int, int]:
        match = CELL_REF.fullmatch(ref)
        if match is None:
            raise _refused_part(_("The workbook is damaged: a cell reference is not valid."))
        return int(match[2]), _column_number(match[1])

    def _reach(self, row: int, col: int) -> None:
        limits = self.limits
        if row > limits.rows:
            raise _refused_part(
                _(
                    "The sheet has a cell at %(cell)s, below row %(max)d: a file may have at most %(rows)d rows. "
                    "Delete the cells below the table, or split the file."
                )
                % {"cell": f"{_column_letters(col)}{row}", "max": limits.rows, "rows": limits.data_rows},
                code="too_many_rows",
            )
        if col > limits.columns:
            raise _refused_part(
                _(
                    "The sheet has a cell at %(cell)s, right of column %(max)s: an import reads no further. "
                    "Delete the cells right of the table."
                )
                % {"cell": f"{_column_letters(col)}{row}", "max": _column_letters(limits.columns)},
                code="too_many_columns",
            )
        # Readers build a grid from the first cell to the last row and the last column.
        self.last_row, self.last_column = max(self.last_row, row), max(self.last_column, col)
        if self.last_row * self.last_column > limits.cells:
            raise _refused_part(
                _(
                    "The sheet's cells reach row %(row)d and column %(column)s: more than an import reads "
                    "(%(cells)d cells at most). Delete the cells outside the table, or split the file."
                )
                % {"row": self.last_row, "column": _column_letters(self.last_column), "cells": limits.cells},
                code="sheet_too_large",
            )


@dataclass(frozen=True)
class _SheetLimits:
    """How far a sheet's cells may reach: rows for the data rows, the header and some blank rows;
    columns for the template's and a few more; cells (rows by columns) as many as a full sheet of
    the template's columns has; how many different texts a workbook may hold, and
    how many bytes of text its sheets may show."""

    data_rows: int
    rows: int
    columns: int
    cells: int
    shared_strings: int
    text: int

    @classmethod
    def from_settings(cls, max_rows: int | None = None) -> _SheetLimits:
        data_rows = settings.UCJ_IMPORT_MAX_ROWS if max_rows is None else max_rows
        return cls(
            data_rows=data_rows,
            rows=data_rows + 1 + BLANK_ROWS_ALLOWED,
            columns=MAX_SHEET_COLUMNS,
            cells=(data_rows + 1 + BLANK_ROWS_ALLOWED) * len(COLUMNS),
            shared_strings=(data_rows + 1) * SHARED_STRINGS_PER_ROW,
            text=(data_rows + 1) * TEXT_PER_ROW,
        )


class _Tally:
    """What a workbook's sheets would put in a reader's memory, counted as its parts are scanned:
    their text, with each shared string counted for every cell that shows it (python-calamine
    copies it into each: a 700 KB file of 380,000 cells showing one 10 KB string took 3.7 GB)."""

    def __init__(self, limits: _SheetLimits):
        self.limits = limits
        self.text = 0
        self.shared_lengths = array("Q")

    def add_text(self, length: int) -> None:
        self.text += length
        if self.text > self.limits.text:
            raise _refused_part(
                _("The workbook's sheets hold more than %(max)d bytes of text: more than an import reads.")
                % {"max": self.limits.text},
                code="sheet_too_large",
            )

    def add_shared(self, indexes: list[bytes] | list[str]) -> None:
        lengths = self.shared_lengths
        try:
            self.add_text(sum(lengths[int(index)] for index in indexes))
        except (IndexError, ValueError) as exc:
            raise _refused_part(_("The workbook is damaged: a cell refers to a text it does not hold.")) from exc


def _unpacked(data: bytes, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The content of one archive member, unpacked here from its raw bytes in chunks, and refused
    unless it unpacks to exactly the size its entry declares, with the declared checksum. (zipfile
    would stop at the declared size; other readers read on, so a part declaring 1 KB could unpack
    to gigabytes in them.)"""
    offset = info.header_offset
    header = data[offset : offset + 30]
    if len(header) < 30 or header[:4] != XLSX_MAGIC:
        raise _refused_part(_("The workbook is damaged (not a valid zip archive)."))
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    start = offset + 30 + name_length + extra_length
    raw = memoryview(data)[start : start + info.compress_size]
    declared, checksum, produced = info.file_size, 0, 0
    part = info.filename[:100]
    if len(raw) != info.compress_size:
        raise _refused_part(_("The workbook is damaged (not a valid zip archive)."))
    if info.compress_type == zipfile.ZIP_STORED:
        for position in range(0, len(raw), UNPACK_CHUNK):
            chunk = bytes(raw[position : position + UNPACK_CHUNK])
            produced += len(chunk)
            checksum = zlib.crc32(chunk, checksum)
            yield chunk
    else:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        position = 0
        source: bytes | memoryview
        try:
            while not inflater.eof:
                if inflater.unconsumed_tail:
                    source = inflater.unconsumed_tail
                elif position < len(raw):
                    source = raw[position : position + UNPACK_CHUNK]
                    position += len(source)
                else:
                    break
                chunk = inflater.decompress(source, UNPACK_CHUNK)
                produced += len(chunk)
                if produced > declared:
                    break
                checksum = zlib.crc32(chunk, checksum)
                yield chunk
        except zlib.error as exc:
            raise _refused_part(_("The workbook is damaged (not a valid zip archive).")) from exc
        if produced > declared or not inflater.eof:
            raise _refused_part(
                _("The workbook is damaged: its part %(part)s does not hold the size its archive entry declares.")
                % {"part": part}
            )
    if produced != declared:
        raise _refused_part(
            _("The workbook is damaged: its part %(part)s does not hold the size its archive entry declares.")
            % {"part": part}
        )
    if checksum != info.CRC:
        raise _refused_part(
            _("The workbook is damaged: its part %(part)s does not match its checksum (CRC).") % {"part": part}
        )


def _scan_part(data: bytes, info: zipfile.ZipInfo, tally: _Tally) -> _PartScan:
    """Scan one part: quickly if it is a sheet in the usual shape, else with expat."""
    counted = tally.text
    try:
        scan = _PartScan(info.filename, tally, fast=True)
        for chunk in _unpacked(data, info):
            scan.feed(chunk)
        scan.close()
    except _SlowScan:
        tally.text = counted
        scan = _PartScan(info.filename, tally, fast=False)
        for chunk in _unpacked(data, info):
            scan.feed(chunk)
        scan.close()
    return scan


def _inspect_workbook(data: bytes, max_rows: int | None = None) -> bool:
    """Check a workbook before any reader opens it; returns whether it has formulas.

    Refused: a damaged archive (wrong checksum, sizes other than declared, encryption, unusual
    compression, repeated names), one that would unpack to far more than the upload (zip bomb),
    one that is not a workbook, any DTD, and sheets reaching past the rows or columns an import
    reads. Every part is unpacked once, in chunks, so memory stays small whatever the file says.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    # zipfile raises these for a broken archive (NotImplementedError: "zip file version 19.1").
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, NotImplementedError, OSError) as exc:
        raise ImportFileError(_("The workbook is damaged (not a valid zip archive)."), code="bad_xlsx") from exc
    total = sum(info.file_size for info in infos)
    limit = settings.UCJ_IMPORT_MAX_UNPACKED_BYTES
    if total > limit or total > MAX_COMPRESSION_RATIO * max(len(data), 1):
        raise ImportFileError(
            _("The workbook unpacks to %(size)d bytes, more than allowed: refused as a possible zip bomb.")
            % {"size": total},
            code="zip_bomb",
        )
    names = [info.filename for info in infos]
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/worksheets/") for n in names):
        raise ImportFileError(_("The zip archive is not an Excel workbook."), code="not_xlsx")
    # Readers find some parts whatever the case of their names: two names that differ only in case
    # could have us check one part and a reader read the other.
    if len({n.lower() for n in names}) != len(names) or len(names) > MAX_PARTS:
        raise _refused_part(_("The workbook is damaged (not a valid zip archive)."))
    tally = _Tally(_SheetLimits.from_settings(max_rows))
    formulas = False
    # The shared strings first: a sheet's cells are counted with the length of the text they show.
    for info in sorted(infos, key=lambda info: info.filename.lower() != SHARED_STRINGS_PART):
        if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _refused_part(_("The workbook is encrypted or compressed in an unusual way; save it again in Excel."))
        formulas = _scan_part(data, info, tally).formulas or formulas
    return formulas


def _calamine_rows(data: bytes) -> Iterator[list[Any]] | BaseException:
    """The first sheet's rows as python-calamine reads them, or the error it raised."""
    from python_calamine import CalamineWorkbook

    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).iter_rows()
    except BaseException as exc:  # calamine raises its own error types for a broken workbook
        return _reader_failure(exc)


def _reader_failure(exc: BaseException) -> BaseException:
    """`exc` if a reader failed on the file. python-calamine panics (pyo3's PanicException, a
    BaseException) on some values, e.g. a date cell holding -1e300; interruptions go on."""
    if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
        raise exc
    return exc


def _xlsx_rows(data: bytes, max_rows: int | None = None) -> Iterator[tuple[int, list[Any]]]:
    """Rows of the first sheet, once `_inspect_workbook` has let the file through. python-calamine
    reads fast but gives formula results, so a sheet with formulas is read with openpyxl, which
    shows them (and they are refused per cell)."""
    formulas = _inspect_workbook(data, max_rows)
    if not formulas:
        rows = _calamine_rows(data)
        if isinstance(rows, BaseException):
            raise _unreadable(rows) from rows
        number = 0
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except BaseException as exc:  # a value calamine cannot convert: see _reader_failure
                raise _unreadable(_reader_failure(exc)) from exc
            number += 1
            yield number, [None if cell == "" else cell for cell in row]
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        sheet = workbook.worksheets[0]
        sheet_rows = enumerate(sheet.iter_rows(values_only=True), start=1)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise _unreadable(exc) from exc
    while True:
        try:
            number, sheet_row = next(sheet_rows)
        except StopIteration:
            break
        except Exception as exc:  # a sheet openpyxl cannot read to its end
            raise _unreadable(exc) from exc
        yield number, list(sheet_row)
    workbook.close()


def _unreadable(error: BaseException) -> ImportFileError:
    return ImportFileError(_("The workbook cannot be read: %(error)s") % {"error": quoted(str(error))}, code="bad_xlsx")


def quoted(text: str, limit: int = QUOTE_LENGTH) -> str:
    """`text` as a message may quote it: cut to `limit` characters (a cell can hold 32,767, and
    a message holding them would be stored and sent back whole)."""
    return text if len(text) <= limit else text[:limit] + "…"


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    try:
        # Checked whole, then dropped: the rows are decoded again line by line below. A StringIO
        # of the whole text held four bytes a character (112 MB for a 28 MB file).
        data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ImportFileError(
            _("The file is not UTF-8 text (line %(line)d). In Excel choose 'CSV UTF-8' when saving.") % {"line": line},
            code="encoding",
        ) from exc
    end = data.find(b"\n")
    first_line = data[: end if end >= 0 else len(data)].decode("utf-8-sig")
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    reader = csv.reader(text, delimiter=delimiter)
    try:
        for record in reader:
            yield reader.line_num, record
    except csv.Error as exc:
        raise ImportFileError(
            _("Line %(line)d is not valid CSV: %(error)s") % {"line": reader.line_num, "error": exc}, code="bad_csv"
        ) from exc


def sheet_rows(*, name: str, data: bytes, max_rows: int | None = None) -> tuple[str, Iterator[tuple[int, list[Any]]]]:
    """The file's kind ('csv' or 'xlsx') and its rows as (number, cells), read as they are asked
    for, with every check of a hostile file (format against name, encoding, zip bombs, DTDs,
    sheets larger than `max_rows` data rows, by default `UCJ_IMPORT_MAX_ROWS`). Shared by every
    reader of uploaded spreadsheets: the worker import here, the reconciliation
    (enrollment.reconciling); each reads its own header and counts its own rows."""
    if not data or not data.strip():
        raise ImportFileError(_("The file is empty."), code="empty")
    kind = detect_format(name, data[:4096])
    return kind, (_xlsx_rows(data, max_rows) if kind == "xlsx" else _csv_rows(data))


def read_rows(*, name: str, data: bytes) -> list[ParsedRow]:
    """Every data row of the file, checked; raises ImportFileError for a file that is refused."""
    kind, rows = sheet_rows(name=name, data=data)
    header: list[str] | None = None
    reader: _RowReader | None = None
    parsed: list[ParsedRow] = []
    max_rows = settings.UCJ_IMPORT_MAX_ROWS
    errors_kept = 0
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
        row = reader.row(number, cells)
        if row.errors:
            if errors_kept >= MAX_ERRORS:
                row.errors_omitted, row.errors = len(row.errors), []
            errors_kept += len(row.errors)
        parsed.append(row)
    if header is None:
        raise ImportFileError(_("The file is empty."), code="empty")
    if not parsed:
        raise ImportFileError(_("The file has a header but no rows."), code="no_rows")
    return parsed


def blank_row(cells: list[Any]) -> bool:
    """Whether a row has no cell filled in."""
    return _blank(cells)


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
            _("Unknown columns: %(columns)s. Use the template's headers.") % {"columns": quoted(", ".join(unknown))},
            code="unknown_columns",
        )
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise ImportFileError(
            _("Columns appear twice: %(columns)s.") % {"columns": quoted(", ".join(duplicated))},
            code="duplicate_columns",
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
        self.indexes: dict[tuple[str, ...], dict[str, int]] = {}  # see Values.of
        # Each column's index, name, cleaned values by cell (see the docstring) and whether repeated.
        self.columns: list[tuple[int, str, dict[Any, Any], bool]] = [
            (index, column, {}, column in REPEATED_COLUMNS) for index, column in enumerate(header)
        ]

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
            if isinstance(raw, str) and _formula_like(column, raw):
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
        has_enrollment = _has_enrollment(values)
        if not errors and has_enrollment:
            for column in REQUIRED_ENROLLMENT:
                if values.get(column) in (None, "", []):
                    errors.append(RowError(number, column, _("Fill in every membership column, or none of them.")))
        # A refused row is reported, never written: only its errors are kept.
        kept = NO_VALUES if errors else Values.of(values, self.indexes)
        return ParsedRow(number=number, values=kept, errors=errors, has_enrollment=has_enrollment)


def formula_like(raw: str) -> bool:
    """Whether a text cell would be a formula in a spreadsheet (see `_formula_like`)."""
    return raw.startswith(FORMULA_START) or raw.lstrip().startswith(FORMULA_START)


def _formula_like(column: str, raw: str) -> bool:
    """Whether a text cell would be a formula in a spreadsheet (once exported, or as typed). A
    phone number is the one value that may start with + (and "+62 812-..." is not a formula)."""
    if not (raw.startswith(FORMULA_START) or raw.lstrip().startswith(FORMULA_START)):
        return False
    return not (column == "phone" and PHONE.fullmatch(raw.strip()))


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
        if column == "nik":
            # The rule every path follows (enrollment.nik): separators dropped, ASCII digits only.
            if not DIGITS.fullmatch(value):
                value = nik_compact(value)
                error = nik_digits_error(value) if value else None
                if error is not None:
                    raise ValueError(error.message)
            return value
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
        if not number.is_finite():  # "Infinity", or 1e309 in a workbook: int() of it is an OverflowError
            raise ValueError(_("Enter a whole number of rupiah."))
        if number != number.to_integral_value() or number < 0:
            raise ValueError(_("Enter a whole, non-negative number of rupiah."))
        if number > MAX_WAGE:  # the API's limit; beyond it the database cannot store the number
            raise ValueError(_("The monthly wage cannot exceed %(max)d rupiah.") % {"max": MAX_WAGE})
        return int(number)
    if column == "programs":
        text = _text(raw).lower()
        if not text:
            return []
        programs = sorted({p.strip() for p in re.split(r"[,;/ ]+", text) if p.strip()})
        unknown = [p for p in programs if p not in PROGRAM_VALUES]
        if unknown:
            raise ValueError(_("Unknown programs: %(p)s (use jkk, jkm, jht, jp).") % {"p": quoted(", ".join(unknown))})
        return programs
    if column in CHOICES:
        text = _text(raw)
        if not text:
            return ""
        return _choice(column, text)
    if column == "village_code":
        # As the registry writes it (15.08.01.2001) or as other systems do (1508012001, also a
        # number cell): stored and matched dotted (core.codes).
        value = _text(raw)
        if not value:
            return value
        code = region_code(value)
        if code is None or region_code_depth(code) != VILLAGE_DEPTH:
            raise ValueError(_("Enter a village code such as 15.08.01.2001 or 1508012001."))
        return code
    value = _text(raw)
    if column == "full_name" and len(value) > 150:
        raise ValueError(_("At most 150 characters."))
    if column == "phone" and value and not PHONE.fullmatch(value):
        raise ValueError(_("Enter a phone number: digits, optionally starting with +."))
    if column == "npp" and len(value) > 20:
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
        raise ValueError(
            _("Unknown value %(value)r; allowed: %(allowed)s.") % {"value": quoted(text), "allowed": allowed}
        )
    return value


def date_cell(raw: Any) -> datetime.date | None:
    """A date cell (a date, or text as YYYY-MM-DD or DD/MM/YYYY); ValueError with a message."""
    return _date(raw)


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
