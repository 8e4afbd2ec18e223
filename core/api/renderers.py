"""CSV and XLSX renderers for list exports (`?format=csv|xlsx`).

The view hands them a list of flat dicts (the rows), whose keys are the columns. Text that a
spreadsheet would read as a formula (=, +, -, @, tab, CR at the start, and in a CSV also after
any list separator inside the value) is prefixed with an apostrophe so an export can never run
anything in the reader's spreadsheet.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from rest_framework.renderers import BaseRenderer, JSONRenderer

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# In a CSV, a formula may also start after any list separator inside a value: Excel opens a
# comma-separated file with the reader's own separator (";" in an Indonesian locale), so
# "Budi;=cmd|..." becomes two cells there, the second a formula. An apostrophe goes before
# formula-like text at the start and after every separator or line break (spaces between are
# kept: a spreadsheet may trim them).
_CSV_FORMULA = re.compile(r"(^|[,;\t\r\n])( *)(?=[=+\-@\t\r])")


def neutralise(value: Any) -> Any:
    """A CSV field safe for a spreadsheet, whatever its list separator: see `_CSV_FORMULA`."""
    if isinstance(value, str):
        return _CSV_FORMULA.sub(r"\1\2'", value)
    return value


def neutralise_cell(value: Any) -> Any:
    """An XLSX cell safe for a spreadsheet: formula-like text (after any spaces) gets a leading
    apostrophe. A cell is never split, so separators inside it are harmless."""
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _rows(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict) and "results" in data:
        data = data["results"]
    if isinstance(data, dict):
        data = [data]
    return list(data or [])


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Mapping[str, Any] | None = None
    ) -> bytes:
        rows = _rows(data)
        buffer = io.StringIO()
        if rows:
            writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), extrasaction="ignore")
            writer.writeheader()
            for row in rows:
                writer.writerow({k: neutralise("" if v is None else v) for k, v in row.items()})
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")


class XLSXRenderer(BaseRenderer):
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Mapping[str, Any] | None = None
    ) -> bytes:
        rows = _rows(data)
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("data")
        if rows:
            sheet.append(list(rows[0]))
            for row in rows:
                sheet.append([_cell(v) for v in row.values()])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (list, dict)):
        return str(value)
    return neutralise_cell(value)


class ComposedRenderer(BaseRenderer):
    """A format whose answers a view composes as bytes, sent as they are; anything else (an
    error) is sent as JSON."""

    charset = None

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Mapping[str, Any] | None = None
    ) -> bytes:
        if isinstance(data, bytes):
            return data
        return JSONRenderer().render(data, accepted_media_type, renderer_context)


class GeoJSONRenderer(ComposedRenderer):
    """GeoJSON (RFC 7946), composed by the view."""

    media_type = "application/geo+json"
    format = "geojson"


class ComposedJSONRenderer(JSONRenderer):
    """JSON whose answer may come composed as bytes (sent as it is)."""

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Mapping[str, Any] | None = None
    ) -> bytes:
        if isinstance(data, bytes):
            return data
        return super().render(data, accepted_media_type, renderer_context)
