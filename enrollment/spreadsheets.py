"""Spreadsheets out: the import template, and worker exports streamed row by row."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from core.api.renderers import neutralise, neutralise_cell

from .choices import FundingSource, Institution, Position, Program, Scheme, Sex, WageBasis
from .imports import COLUMNS, REQUIRED_COLUMNS
from .nik import birth_date_mask, nik_mask, phone_mask

TEXT_COLUMNS = {"nik", "kpj_number", "village_code", "phone", "npp"}
EXAMPLE = {
    "village_code": "15.08.01.2001",
    "nik": "1508011705800001",
    "full_name": "Budi Santoso",
    "sex": "male",
    "birth_date": "1980-05-17",
    "phone": "081234567890",
    "institution": "pemerintah_desa",
    "position": "kepala_desa",
    "term_start": "2024-01-01",
    "term_end": "",
    "wage_basis": "siltap",
    "monthly_wage": 2426640,
    "kpj_number": "",
    "scheme": "",
    "npp": "",
    "programs": "",
    "funding_source": "",
    "coverage_start": "",
    "paid_until": "",
}


def _column_help() -> dict[str, str]:
    return {
        "village_code": _("Kemendagri village code, e.g. 15.08.01.2001"),
        "nik": _("16-digit NIK, entered as text"),
        "full_name": _("Full name"),
        "sex": _("male or female"),
        "birth_date": _("YYYY-MM-DD or DD/MM/YYYY"),
        "phone": _("Optional"),
        "institution": _("See the allowed values"),
        "position": _("See the allowed values"),
        "term_start": _("Start of the term, YYYY-MM-DD"),
        "term_end": _("Optional end of the term"),
        "wage_basis": _("siltap or honorarium"),
        "monthly_wage": _("Monthly wage in rupiah, digits only (optional)"),
        "kpj_number": _("Membership: 11-digit KPJ number (fill every membership column, or none)"),
        "scheme": _("Membership: pu (wage earner) or bpu (non-wage)"),
        "npp": _("Membership: the village government's NPP (PU only)"),
        "programs": _("Membership: jkk, jkm and optionally jht, jp, separated by commas"),
        "funding_source": _("Membership: see the allowed values"),
        "coverage_start": _("Membership: coverage start, YYYY-MM-DD"),
        "paid_until": _("Membership: contributions paid until, YYYY-MM-DD"),
    }


def template_xlsx() -> bytes:
    """The sheet a village fills: headers, one example row, and the allowed values (Indonesian)."""
    workbook = Workbook()
    sheet = workbook.worksheets[0]  # the one a new workbook has, and shows first
    sheet.title = "aparatur"
    sheet.append(COLUMNS)
    sheet.append([EXAMPLE[c] for c in COLUMNS])
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=column in REQUIRED_COLUMNS)
        sheet.column_dimensions[get_column_letter(index)].width = max(14, len(column) + 4)
        if column in TEXT_COLUMNS:
            for row in range(2, 2002):
                sheet.cell(row=row, column=index).number_format = "@"
    help_sheet = workbook.create_sheet("nilai")
    with translation.override("id"):
        help_sheet.append([_("column"), _("value"), _("meaning")])
        for column, text in _column_help().items():
            help_sheet.append([column, "", text])
        for column, choices in (
            ("sex", Sex),
            ("institution", Institution),
            ("position", Position),
            ("wage_basis", WageBasis),
            ("scheme", Scheme),
            ("programs", Program),
            ("funding_source", FundingSource),
        ):
            for value, label in choices.choices:
                help_sheet.append([column, value, str(label)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_csv() -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerow([EXAMPLE[c] for c in COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


EXPORT_COLUMNS = [
    "id",
    "village_code",
    "village_name",
    "district_code",
    "regency_code",
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
    "serving",
    "status",
    "protected",
    "kpj_number",
    "scheme",
    "funding_source",
    "coverage_start",
    "paid_until",
]
EXPORT_VALUES = [
    "id",
    "village__code",
    "village__name",
    "district__code",
    "regency__code",
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
    "serving",
    "term_started",
    "enrollment__status",
    "enrollment__kpj_number",
    "enrollment__scheme",
    "enrollment__funding_source",
    "enrollment__coverage_start",
    "enrollment__paid_until",
]


def export_rows(queryset: QuerySet, *, ids: list[int], personal_data: bool) -> Iterator[list[Any]]:
    """The rows of `queryset` for an export, read in chunks (never the whole list in memory),
    masked as the caller's rights require, and only those of the workers `ids`: the ids were
    read (and written to the access log) before the export started, so a worker that came into
    the list meanwhile is left out rather than exported unlogged. (Reading the rows by those ids
    instead, in chunks, took twice as long as this one streamed query.)"""
    logged = set(ids)
    for row in queryset.values_list(*EXPORT_VALUES).iterator(chunk_size=2000):
        if row[0] not in logged:
            continue
        record = dict(zip(EXPORT_VALUES, row, strict=True))
        nik, birth, phone = record["nik"], record["birth_date"], record["phone"]
        yield [
            record["id"],
            record["village__code"],
            record["village__name"],
            record["district__code"],
            record["regency__code"],
            nik if personal_data else nik_mask(nik),
            record["full_name"],
            record["sex"],
            (birth.isoformat() if personal_data else birth_date_mask(birth) or "") if birth else "",
            phone if personal_data else phone_mask(phone),
            record["institution"],
            record["position"],
            record["term_start"].isoformat(),
            record["term_end"].isoformat() if record["term_end"] else "",
            record["wage_basis"],
            record["monthly_wage"],
            record["serving"],
            record["enrollment__status"],
            record["serving"] and record["term_started"] and record["enrollment__status"] == "active",
            record["enrollment__kpj_number"] or "",
            record["enrollment__scheme"],
            record["enrollment__funding_source"],
            record["enrollment__coverage_start"].isoformat() if record["enrollment__coverage_start"] else "",
            record["enrollment__paid_until"].isoformat() if record["enrollment__paid_until"] else "",
        ]


class _Echo:
    def write(self, value: str) -> str:
        return value


def stream_csv(header: list[str], rows: Iterable[list[Any]]) -> Iterator[bytes]:
    """CSV lines as they are produced, UTF-8 with BOM (so Excel reads it), formula-safe."""
    writer = csv.writer(_Echo())
    yield ("\ufeff" + writer.writerow(header)).encode("utf-8")
    for row in rows:
        yield writer.writerow([neutralise(value) for value in row]).encode("utf-8")


def stream_xlsx(header: list[str], rows: Iterable[list[Any]]) -> Iterator[bytes]:
    """An XLSX written row by row (openpyxl write-only mode) to a temporary file, then sent in
    chunks: memory stays flat whatever the number of rows."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("data")
    sheet.append(header)
    for row in rows:
        sheet.append([neutralise_cell(value) for value in row])
    with tempfile.TemporaryFile() as handle:
        workbook.save(handle)
        handle.seek(0)
        while chunk := handle.read(1 << 16):
            yield chunk
