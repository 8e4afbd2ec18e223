"""Spreadsheets for people: what an officer opens in a spreadsheet program or puts on a meeting's
screen. A title block (what, which region, as of which date, generated when and by whom), headers
and labels in the portal's language, real numbers, dates and percentages, a bold frozen header
row with an autofilter, columns wide enough to read.

The API's machine exports (enrollment.spreadsheets: codes, snake_case headers, one sheet named
`data`) stay as they are; this module shapes the same rows for people."""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Kind = Literal["text", "integer", "percent", "date", "money"]
FORMATS: dict[str, str] = {
    "integer": "#,##0",
    "percent": "0.00%",
    "date": "dd/mm/yyyy",
    "money": '"Rp" #,##0',
    "text": "General",
}
WIDTHS: dict[str, int] = {"integer": 12, "percent": 11, "date": 12, "money": 16, "text": 24}
MAX_WIDTH = 60
SHEET_NAME_LENGTH = 31  # the spreadsheet format's limit

TITLE_FONT = Font(bold=True, size=14)
LABEL_FONT = Font(bold=True)
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="0B6E4F")
HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="top")


@dataclass(frozen=True)
class Column:
    """A column: its header (already in the reader's language), what its cells hold, and its
    width in characters (else one fitting its kind and header)."""

    header: str
    kind: Kind = "text"
    width: int | None = None

    def fitted_width(self) -> int:
        if self.width is not None:
            return self.width
        return min(MAX_WIDTH, max(WIDTHS[self.kind], len(self.header) + 2))


def _value(kind: Kind, value: Any) -> Any:
    """A cell's value as the spreadsheet should hold it: a percentage as a fraction (shown as
    33.02%), a date as a date, a number as a number; nothing as an empty cell."""
    if value is None or value == "":
        return None
    if kind == "percent":
        return float(Decimal(str(value)) / 100)
    if kind in ("integer", "money"):
        return int(value) if isinstance(value, int) or float(value).is_integer() else float(value)
    if kind == "date" and isinstance(value, datetime.datetime):
        return value.replace(tzinfo=None)
    return value


@dataclass(frozen=True)
class Report:
    """One sheet: a title, the lines of the title block (label, value), its columns."""

    title: str
    details: Sequence[tuple[str, str]]
    columns: Sequence[Column]
    sheet: str

    def workbook(self, rows: Iterable[Sequence[Any]]) -> bytes:
        """The workbook (write-only: a long list is streamed into the file, not held as cells)."""
        book = Workbook(write_only=True)
        # Any: the types of openpyxl lack a write-only sheet's column_dimensions and auto_filter.
        sheet: Any = book.create_sheet(self.sheet[:SHEET_NAME_LENGTH])
        for index, column in enumerate(self.columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = column.fitted_width()
        header_row = len(self.details) + 3  # the title, its details, an empty line, then the header
        last = get_column_letter(len(self.columns))
        sheet.freeze_panes = f"A{header_row + 1}"
        written = 0
        sheet.append([self._cell(sheet, self.title, TITLE_FONT)])
        for label, value in self.details:
            sheet.append([self._cell(sheet, label, LABEL_FONT), value])
        sheet.append([])
        sheet.append([self._header(sheet, column.header) for column in self.columns])
        for row in rows:
            sheet.append([self._data(sheet, column, value) for column, value in zip(self.columns, row, strict=True)])
            written += 1
        sheet.auto_filter.ref = f"A{header_row}:{last}{header_row + max(written, 1)}"
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()

    @staticmethod
    def _cell(sheet: Any, value: Any, font: Font) -> Cell:
        cell = WriteOnlyCell(sheet, value=value)
        cell.font = font
        return cell

    @staticmethod
    def _header(sheet: Any, value: str) -> Cell:
        cell = WriteOnlyCell(sheet, value=value)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = HEADER_ALIGNMENT
        return cell

    @staticmethod
    def _data(sheet: Any, column: Column, value: Any) -> Cell:
        cell = WriteOnlyCell(sheet, value=_value(column.kind, value))
        if column.kind != "text":
            cell.number_format = FORMATS[column.kind]
        return cell


def title_details(
    *, region: str, as_of: datetime.date, user: Any, generated: datetime.datetime
) -> list[tuple[str, str]]:
    """The title block every report carries: the region, the date of its figures, when and by
    whom it was made."""
    return [
        (_("Region"), region),
        (_("As of"), as_of.strftime("%d/%m/%Y")),
        (_("Generated at"), generated.strftime("%d/%m/%Y %H:%M")),
        (_("Generated by"), user.get_username()),
    ]


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
