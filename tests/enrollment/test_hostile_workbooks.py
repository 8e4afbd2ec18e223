"""Hostile workbooks posted to the import API and given to `import_workers`: a sheet reaching
far past its table, a damaged archive (wrong checksum, sizes other than declared), entity
expansion. Each is refused whole, as a 400 in the one error shape naming the file, before any
reader builds its grid of cells, and nothing is recorded or written."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from enrollment.imports import COLUMNS, MAX_ERRORS, QUOTE_LENGTH, TEXT_PER_ROW
from enrollment.models import ApparatusWorker, WorkerImport

from .test_import_api import assert_refused, post
from .test_imports import csv_file, typed, worker_row, xlsx_file

pytestmark = pytest.mark.usefixtures("regions")

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"


def workbook(
    sheet_data: str, *, shared: str | None = None, sheet_head: str = "", prologue: str = "", prefix: bool = False
) -> bytes:
    """A real minimal workbook (what Excel needs to open it) whose first sheet holds
    `sheet_data` (the content of <sheetData>) and, if given, those shared strings."""
    types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        "</Types>"
    )
    relationships = (
        f'<?xml version="1.0"?><Relationships xmlns="{PACKAGE_RELATIONSHIPS}">'
        f'<Relationship Id="rId1" Type="{RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    )
    book = (
        f'<?xml version="1.0"?><workbook xmlns="{MAIN}" xmlns:r="{RELATIONSHIPS}">'
        '<sheets><sheet name="aparatur" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    book_relationships = (
        f'<?xml version="1.0"?><Relationships xmlns="{PACKAGE_RELATIONSHIPS}">'
        f'<Relationship Id="rId1" Type="{RELATIONSHIPS}/worksheet" Target="worksheets/sheet1.xml"/>'
        + (
            f'<Relationship Id="rId2" Type="{RELATIONSHIPS}/sharedStrings" Target="sharedStrings.xml"/>'
            if shared
            else ""
        )
        + "</Relationships>"
    )
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?>{prologue}<worksheet xmlns="{MAIN}"'
        + (f' xmlns:x="{MAIN}">' if prefix else ">")
        + f"{sheet_head}"
        f"<sheetData>{sheet_data}</sheetData></worksheet>"
    )
    parts = {
        "[Content_Types].xml": types,
        "_rels/.rels": relationships,
        "xl/workbook.xml": book,
        "xl/_rels/workbook.xml.rels": book_relationships,
        "xl/worksheets/sheet1.xml": sheet,
    }
    if shared is not None:
        parts["xl/sharedStrings.xml"] = shared
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def header_row() -> str:
    cells = "".join(
        f'<c r="{chr(ord("A") + index)}1" t="inlineStr"><is><t>{column}</t></is></c>'
        for index, column in enumerate(COLUMNS)
    )
    return f'<row r="1">{cells}</row>'


def far_cell(ref: str) -> bytes:
    """The issue's file: a header row and one cell far away (4.8 KB)."""
    row = "".join(ch for ch in ref if ch.isdigit())
    return workbook(f'{header_row()}<row r="{row}"><c r="{ref}" t="inlineStr"><is><t>x</t></is></c></row>')


def assert_nothing_written() -> None:
    assert WorkerImport.objects.count() == 0
    assert ApparatusWorker.objects.count() == 0


# --- a sheet reaching past the rows or columns an import reads -------------------------------------


@pytest.mark.parametrize("ref", ["CV1000000", "XFD1048576", "A1000000"])
def test_hostile_far_cell_is_refused_before_reading(admin_client, ref):
    data = far_cell(ref)
    assert len(data) < 5_000

    response = post(admin_client, data, "aparatur.xlsx", language="en")

    limit = settings.UCJ_IMPORT_MAX_ROWS
    assert_refused(response, 400, "too_many_rows", f"cell at {ref}", f"at most {limit} rows")


def test_hostile_cell_just_past_the_row_limit_is_refused(admin_client, settings):
    settings.UCJ_IMPORT_MAX_ROWS = 3
    # The header, 3 data rows and 1,000 blank rows reach row 1004; row 1005 is too far.
    response = post(admin_client, far_cell("A1005"), "aparatur.xlsx", language="en")

    assert_refused(response, 400, "too_many_rows", "cell at A1005", "at most 3 rows")


def test_hostile_cell_within_the_blank_rows_allowed_is_read(admin_client, settings):
    settings.UCJ_IMPORT_MAX_ROWS = 3
    data = workbook(f'{header_row()}<row r="1004"><c r="A1004" t="inlineStr"><is><t>x</t></is></c></row>')

    response = post(admin_client, data, "aparatur.xlsx", language="en")

    # Read, and refused for what the row holds, not for where it is.
    assert response.status_code == 400
    assert {(e["row"], e["attr"]) for e in response.json()["errors"]} >= {(1004, "nik")}


@pytest.mark.parametrize("ref", ["AA2", "XFD2"])
def test_hostile_cell_right_of_column_z_is_refused(admin_client, ref):
    response = post(admin_client, far_cell(ref), "aparatur.xlsx", language="en")

    assert_refused(response, 400, "too_many_columns", f"cell at {ref}", "column Z")


def test_hostile_dimension_claiming_the_whole_sheet_is_refused(admin_client):
    """openpyxl's reader pads every row to the `<dimension>` it is given."""
    data = workbook(header_row(), sheet_head='<dimension ref="A1:XFD1048576"/>')

    response = post(admin_client, data, "aparatur.xlsx", language="en")

    assert_refused(response, 400, "too_many_rows", "cell at XFD1048576")


@pytest.mark.parametrize("fast", [True, False], ids=["usual-shape", "other-shape"])
def test_hostile_sheet_wider_than_the_template_all_the_way_down_is_refused(admin_client, settings, fast):
    """Columns up to Z, and rows up to the limit, but not both: the reader's grid would hold far
    more cells than a full sheet of the template's 19 columns."""
    settings.UCJ_IMPORT_MAX_ROWS = 3  # 1,004 rows of 19 columns: 19,076 cells
    cell = '<c r="Z800"/>' if fast else '<c s="0" r="Z800"/>'

    response = post(admin_client, workbook(header_row() + f'<row r="800">{cell}</row>'), "aparatur.xlsx", language="en")

    assert_refused(response, 400, "sheet_too_large", "reach row 800 and column Z", "19076 cells at most")


@pytest.mark.parametrize(
    ("sheet_data", "code", "cell"),
    [
        # Cells and rows without references: positions follow from their order.
        ("<row><c/></row>" + "<row/>" * 5 + "<row>" + "<c/>" * 27 + "</row>", "too_many_columns", "AA8"),
        # The same cells with a namespace prefix, which the quick scan does not read.
        ('<x:row r="2"><x:c r="CV1000000"/></x:row>', "too_many_rows", "CV1000000"),
        # The reference after another attribute.
        ('<row r="2"><c s="0" r="CV1000000"/></row>', "too_many_rows", "CV1000000"),
        # A cell far below the row that holds it.
        ('<row r="2"><c r="B1000000"/></row>', "too_many_rows", "B1000000"),
    ],
    ids=["no-references", "prefixed", "reference-not-first", "cell-below-its-row"],
)
def test_hostile_far_cell_is_found_whatever_the_sheet_xml_looks_like(admin_client, sheet_data, code, cell):
    data = workbook(header_row() + sheet_data, prefix="x:" in sheet_data)

    response = post(admin_client, data, "aparatur.xlsx", language="en")

    assert_refused(response, 400, code, f"cell at {cell}")


def test_hostile_far_cell_is_refused_by_the_command(tmp_path):
    path = tmp_path / "aparatur.xlsx"
    path.write_bytes(far_cell("CV1000000"))

    with pytest.raises(CommandError, match="refused, nothing was written: The sheet has a cell at CV1000000"):
        call_command("import_workers", str(path), "--region", "15.01", stdout=io.StringIO())

    assert_nothing_written()


def test_workbook_as_excel_writes_it_still_imports(admin_client):
    data = xlsx_file([worker_row(1), worker_row(2)])

    response = post(admin_client, data, "aparatur.xlsx")

    assert response.status_code == 201
    assert ApparatusWorker.objects.count() == 2


@pytest.mark.parametrize("cell", ['<c r="{ref}" t="s"><v>0</v></c>', '<c t="s" r="{ref}"><v>0</v></c>'])
def test_hostile_shared_string_shown_by_every_cell_is_refused(admin_client, cell):
    """One 10 KB shared string shown by 380,000 cells: python-calamine copies it into each (3.7 GB
    from a 700 KB file). Counted as the reader would hold it, whichever way the cells are written."""
    rows = "".join(
        f'<row r="{row}">' + "".join(cell.format(ref=f"{chr(ord('A') + col)}{row}") for col in range(19)) + "</row>"
        for row in range(2, 20_002)
    )
    shared = f'<?xml version="1.0"?><sst xmlns="{MAIN}"><si><t>{"y" * 10_000}</t></si></sst>'
    data = workbook(header_row() + rows, shared=shared)
    assert len(data) < 1_000_000

    response = post(admin_client, data, "aparatur.xlsx", language="en")

    allowed = (settings.UCJ_IMPORT_MAX_ROWS + 1) * TEXT_PER_ROW
    assert_refused(response, 400, "sheet_too_large", f"more than {allowed} bytes of text")


def test_hostile_long_texts_beyond_what_the_rows_allowed_hold_are_refused(admin_client, settings):
    settings.UCJ_IMPORT_MAX_ROWS = 3  # 4 rows of 400 bytes of text
    data = xlsx_file([worker_row(1, full_name="y" * 1_600)])

    response = post(admin_client, data, "aparatur.xlsx", language="en")

    assert_refused(response, 400, "sheet_too_large", "more than 1600 bytes of text")


def test_hostile_cell_showing_a_missing_shared_string_is_refused(admin_client):
    cells = header_row() + '<row r="2"><c r="A2" t="s"><v>7</v></c></row>'
    data = workbook(cells, shared=f'<sst xmlns="{MAIN}"><si><t>a</t></si></sst>')

    response = post(admin_client, data, "aparatur.xlsx", language="en")

    assert_refused(response, 400, "bad_xlsx", "refers to a text it does not hold")


def _with_part(data: bytes, name: str, content: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in source.namelist():
            archive.writestr(member, content if member == name else source.read(member))
        if name not in source.namelist():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_workbook_with_a_vml_drawing_that_is_not_well_formed_still_imports(admin_client):
    """Excel's legacy drawings (comments) are VML with unclosed <br> tags."""
    vml = b'<xml xmlns:v="urn:schemas-microsoft-com:vml"><v:shape><div>note<br></div></v:shape></xml>'
    data = _with_part(xlsx_file([worker_row(1)]), "xl/drawings/vmlDrawing1.vml", vml)

    response = post(admin_client, data, "aparatur.xlsx")

    assert response.status_code == 201
    assert ApparatusWorker.objects.count() == 1


@pytest.mark.parametrize(
    ("sheet", "message"),
    [
        # Broken before its cells: refused when the cells come.
        (
            b'<sheetViews><br></sheetViews><sheetData><row r="2"><c r="A2"/></row></sheetData>',
            "The workbook is damaged: a sheet is not valid XML.",
        ),
        # Broken among its cells.
        (
            b'<sheetData><row r="1"><c r="A1"><br></c></row></sheetData>',
            "The workbook is damaged: a part is not valid XML.",
        ),
    ],
    ids=["before-cells", "among-cells"],
)
def test_hostile_sheet_that_is_not_well_formed_is_refused(admin_client, sheet, message):
    content = b"<x:worksheet xmlns:x='" + MAIN.encode() + b"'>" + sheet.replace(b"<", b"<x:").replace(b"<x:/", b"</x:")
    data = _with_part(far_cell("A2"), "xl/worksheets/sheet1.xml", content + b"</x:worksheet>")

    response = post(admin_client, data, "aparatur.xlsx", language="en")

    assert_refused(response, 400, "bad_xlsx", message)


def test_hostile_date_cell_calamine_cannot_convert_is_400(admin_client):
    """python-calamine panics (a BaseException) converting a date cell holding -1e300."""
    data = xlsx_file([typed(worker_row(1))])
    name = "xl/worksheets/sheet1.xml"
    sheet = zipfile.ZipFile(io.BytesIO(data)).read(name)
    start = sheet.index(b'<c r="E2"')
    value = sheet.index(b"<v>", start) + 3
    sheet = sheet[:value] + b"-1e300" + sheet[sheet.index(b"</v>", value) :]

    response = post(admin_client, _with_part(data, name, sheet), "aparatur.xlsx", language="en")

    assert_refused(response, 400, "bad_xlsx", "The workbook cannot be read")


# --- a damaged archive ---------------------------------------------------------------------------


def _entries(data: bytes, name: str) -> tuple[int, int]:
    """Offsets of `name`'s local header and central directory entry."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    central = data.index(b"PK\x01\x02")
    encoded = name.encode()
    while data[central + 46 : central + 46 + len(encoded)] != encoded:
        central = data.index(b"PK\x01\x02", central + 4)
    return info.header_offset, central


def with_entry(data: bytes, name: str, *, crc: int | None = None, file_size: int | None = None) -> bytes:
    """`data` with `name`'s checksum or unpacked size changed in both of its zip headers."""
    local, central = _entries(data, name)
    patched = bytearray(data)
    if crc is not None:
        struct.pack_into("<I", patched, local + 14, crc)
        struct.pack_into("<I", patched, central + 16, crc)
    if file_size is not None:
        struct.pack_into("<I", patched, local + 22, file_size)
        struct.pack_into("<I", patched, central + 24, file_size)
    return bytes(patched)


def test_hostile_workbook_with_a_wrong_checksum_is_400(admin_client):
    data = xlsx_file([worker_row(1)])
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/worksheets/sheet1.xml")

    response = post(admin_client, with_entry(data, info.filename, crc=info.CRC ^ 1), "aparatur.xlsx", language="en")

    assert_refused(response, 400, "bad_xlsx", "damaged", "xl/worksheets/sheet1.xml", "checksum")


def test_hostile_workbook_whose_part_holds_more_than_declared_is_400(admin_client):
    """The sheet declares 600 bytes (with the checksum of those 600), and holds every row: zipfile
    stops at 600 bytes and finds the checksum right, another reader reads on."""
    data = xlsx_file([worker_row(n) for n in range(1, 50)])
    name = "xl/worksheets/sheet1.xml"
    content = zipfile.ZipFile(io.BytesIO(data)).read(name)
    lying = with_entry(data, name, crc=zlib.crc32(content[:600]), file_size=600)
    assert zipfile.ZipFile(io.BytesIO(lying)).read(name) == content[:600]

    response = post(admin_client, lying, "aparatur.xlsx", language="en")

    assert_refused(response, 400, "bad_xlsx", "damaged", name, "size")


def test_hostile_workbook_whose_part_holds_less_than_declared_is_400(admin_client):
    data = xlsx_file([worker_row(1)])
    name = "xl/worksheets/sheet1.xml"
    size = zipfile.ZipFile(io.BytesIO(data)).getinfo(name).file_size

    response = post(admin_client, with_entry(data, name, file_size=size + 10), "aparatur.xlsx", language="en")

    assert_refused(response, 400, "bad_xlsx", "damaged", name, "size")


def test_hostile_workbook_needing_a_newer_zip_version_is_400(admin_client):
    """zipfile raises NotImplementedError ("zip file version 19.1") for it."""
    data = xlsx_file([worker_row(1)])
    _local, central = _entries(data, "xl/worksheets/sheet1.xml")
    patched = bytearray(data)
    struct.pack_into("<H", patched, central + 6, 191)

    response = post(admin_client, bytes(patched), "aparatur.xlsx", language="en")

    assert_refused(response, 400, "bad_xlsx", "damaged")


def test_hostile_workbook_with_a_wrong_checksum_is_refused_by_the_command(tmp_path):
    data = xlsx_file([worker_row(1)])
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/worksheets/sheet1.xml")
    path = tmp_path / "aparatur.xlsx"
    path.write_bytes(with_entry(data, info.filename, crc=info.CRC ^ 1))

    with pytest.raises(CommandError, match="refused, nothing was written: The workbook is damaged"):
        call_command("import_workers", str(path), "--region", "15.01", stdout=io.StringIO())

    assert_nothing_written()


def test_hostile_utf16_sheet_is_refused(admin_client):
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData>{header_row()}</sheetData></worksheet>'.encode("utf-16")
    source = zipfile.ZipFile(io.BytesIO(far_cell("A2")))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in source.namelist():
            archive.writestr(name, sheet if name == "xl/worksheets/sheet1.xml" else source.read(name))

    response = post(admin_client, buffer.getvalue(), "aparatur.xlsx", language="en")

    assert_refused(response, 400, "bad_xlsx", "not UTF-8")


# --- entity expansion ----------------------------------------------------------------------------

LAUGHS = (
    '<!DOCTYPE sst [<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
    '<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
)


@pytest.mark.parametrize("where", ["sheet", "shared_strings"])
def test_hostile_entity_expansion_is_refused_and_not_echoed(admin_client, where):
    """A 3 MB header cell from a few hundred bytes of entities: refused for its DTD; the answer
    stays small and nothing is recorded."""
    if where == "sheet":
        cells = header_row().replace("<t>village_code</t>", "<t>&d;</t>")
        data = workbook(cells, prologue=LAUGHS.replace("sst", "worksheet"))
    else:
        cells = header_row().replace(
            '<c r="A1" t="inlineStr"><is><t>village_code</t></is></c>', '<c r="A1" t="s"><v>0</v></c>'
        )
        data = workbook(cells, shared=f'<?xml version="1.0"?>{LAUGHS}<sst xmlns="{MAIN}"><si><t>&d;</t></si></sst>')
    assert len(data) < 5_000

    response = post(admin_client, data, "aparatur.xlsx", language="en")

    assert_refused(response, 400, "xml_dtd", "document type declaration")
    assert len(response.content) < 1_000


def test_hostile_dtd_in_any_part_is_refused(admin_client):
    source = zipfile.ZipFile(io.BytesIO(xlsx_file([worker_row(1)])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in source.namelist():
            content = source.read(name)
            if name == "docProps/core.xml":
                assert not content.startswith(b"<?xml")
                content = b'<!DOCTYPE x SYSTEM "http://x.example/x.dtd">' + content
            archive.writestr(name, content)

    response = post(admin_client, buffer.getvalue(), "aparatur.xlsx", language="en")

    assert_refused(response, 400, "xml_dtd", "document type declaration")


def test_hostile_long_unknown_header_is_quoted_short(admin_client):
    long_name = "x" * 100_000
    data = xlsx_file([], header=[*COLUMNS, long_name])

    response = post(admin_client, data, "aparatur.xlsx", language="en")

    assert_refused(response, 400, "unknown_columns", "Unknown columns: " + "x" * QUOTE_LENGTH + "\u2026")
    assert len(response.content) < 1_000


def test_hostile_long_cell_value_is_quoted_short_in_row_errors_and_record(admin_client):
    data = xlsx_file([worker_row(1, sex="y" * 30_000)])

    response = post(admin_client, data, "aparatur.xlsx", dry_run=True, language="en")

    assert response.status_code == 200
    (error,) = response.json()["errors"]
    assert (error["row"], error["column"]) == (2, "sex")
    assert error["message"].startswith("Unknown value '" + "y" * QUOTE_LENGTH + "\u2026'")
    assert len(response.content) < 2_000
    assert len(str(WorkerImport.objects.get().summary)) < 2_000
    assert ApparatusWorker.objects.count() == 0


EMPTY = dict.fromkeys(
    ["nik", "full_name", "sex", "birth_date", "institution", "position", "term_start", "wage_basis"], ""
)


@pytest.mark.parametrize("dry_run", [False, True])
def test_hostile_file_of_refused_rows_keeps_the_first_errors_and_counts_the_rest(admin_client, dry_run):
    """130 rows with 8 empty required columns each: 1,040 errors, of which the answer and the
    record keep the first 1,000 (a file of 200,000 such rows took 1.5 GB to answer)."""
    data = csv_file([worker_row(n, **EMPTY) for n in range(1, 131)])

    response = post(admin_client, data, dry_run=dry_run, language="en")

    body = response.json()
    assert response.status_code == (200 if dry_run else 400)
    assert (body["rejected"], len(body["errors"]), body["errors_omitted"]) == (130, MAX_ERRORS, 40)
    column = "column" if dry_run else "attr"  # a summary's errors, or the error shape's
    first, last = body["errors"][0], body["errors"][-1]
    assert (first["row"], first[column]) == (2, "nik")
    assert (last["row"], last[column]) == (126, "wage_basis")
    summary = WorkerImport.objects.get().summary
    assert (len(summary["errors"]), summary["errors_omitted"]) == (MAX_ERRORS, 40)
    assert ApparatusWorker.objects.count() == 0


def test_hostile_rows_past_the_reported_errors_keep_only_their_count():
    """A file with an error in every cell held every error until the end (330 MB for 100,000
    rows of 19): past the errors reported, a row keeps how many it had, not the errors."""
    from enrollment.imports import read_rows

    rows = read_rows(name="aparatur.csv", data=csv_file([worker_row(n, **EMPTY) for n in range(1, 131)]))

    assert sum(len(row.errors) for row in rows) == MAX_ERRORS
    assert [(row.errors, row.errors_omitted) for row in rows[125:]] == [([], 8)] * 5
    assert all(row.rejected for row in rows)
