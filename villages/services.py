"""Writes to the region hierarchy: the import of the official Kemendagri list."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import CharField, Manager, Model

from core.codes import region_code, region_code_depth
from core.data_version import data_version_bump

from .choices import RegionLevel
from .models import (
    District,
    Province,
    Regency,
    Village,
    regency_kind_for_code,
    village_kind_for_code,
)

LEVELS: tuple[RegionLevel, ...] = (
    RegionLevel.PROVINCE,
    RegionLevel.REGENCY,
    RegionLevel.DISTRICT,
    RegionLevel.VILLAGE,
)
RegionModel = type[Province] | type[Regency] | type[District] | type[Village]
MODEL_BY_LEVEL: dict[str, RegionModel] = {
    RegionLevel.PROVINCE: Province,
    RegionLevel.REGENCY: Regency,
    RegionLevel.DISTRICT: District,
    RegionLevel.VILLAGE: Village,
}
EXPECTED_HEADER = ["code", "name"]


def _max_length(model: type[Model], name: str) -> int:
    field = model._meta.get_field(name)
    if not isinstance(field, CharField) or field.max_length is None:
        raise TypeError(f"{model.__name__}.{name} is not a CharField with a max_length")
    return field.max_length


NAME_MAX_LENGTH = _max_length(Province, "name")
MAX_ERRORS_LISTED = 50
BATCH_SIZE = 5000

ProgressCallback = Callable[[str, int, int], None]


def level_for_code(code: str) -> RegionLevel | None:
    """The level whose (dotted) code shape `code` has, or None when it fits none. A code as
    another system spells it (`1508`) is read first with `core.codes.region_code`."""
    depth = region_code_depth(code)
    return LEVELS[depth - 1] if depth is not None else None


def parent_code(code: str) -> str:
    return code.rsplit(".", 1)[0]


class RegionImportError(Exception):
    """The file was rejected; `errors` lists (line number, message). Nothing was written."""

    def __init__(self, errors: list[tuple[int, str]]):
        self.errors = errors
        super().__init__(self.describe())

    def describe(self) -> str:
        shown = [f"line {line}: {message}" for line, message in self.errors[:MAX_ERRORS_LISTED]]
        if len(self.errors) > MAX_ERRORS_LISTED:
            shown.append(f"... and {len(self.errors) - MAX_ERRORS_LISTED} more errors")
        return "\n".join(shown)


@dataclass
class RegionImportReport:
    """What an import did (or, for a dry run, would do), per level."""

    rows: int = 0
    created: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    renamed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    unchanged: int = 0
    missing: dict[str, list[str]] = field(default_factory=lambda: {lvl: [] for lvl in LEVELS})

    @property
    def changed(self) -> bool:
        return any(self.created.values()) or any(self.renamed.values())


@dataclass
class _Row:
    line: int
    code: str
    name: str
    level: RegionLevel


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # exc.start counts from after a byte-order mark, which utf-8-sig strips first.
        offset = exc.start + (len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0)
        line = data.count(b"\n", 0, offset) + 1
        raise RegionImportError([(line, "the file is not UTF-8 text")]) from exc


def _parse(text: str) -> list[_Row]:
    """Read and check every row; raise with all the problems found, by line number."""
    errors: list[tuple[int, str]] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise RegionImportError([(1, "the file is empty; expected the header 'code,name'")])
    if [h.strip().lower() for h in header] != EXPECTED_HEADER:
        raise RegionImportError([(1, f"wrong header {','.join(header)!r}; expected 'code,name'")])

    rows: list[_Row] = []
    first_line: dict[str, int] = {}
    try:
        for record in reader:
            line = reader.line_num
            if not record or all(not cell.strip() for cell in record):
                continue
            if len(record) != 2:
                errors.append((line, f"expected 2 columns (code,name), found {len(record)}"))
                continue
            code = region_code(record[0]) or record[0].strip()  # `1508` is stored as 15.08
            name = " ".join(record[1].split())
            level = level_for_code(code)
            if level is None:
                errors.append((line, f"malformed code {code!r}"))
                continue
            if not name:
                errors.append((line, f"code {code}: the name is empty"))
                continue
            if len(name) > NAME_MAX_LENGTH:
                errors.append((line, f"code {code}: the name is longer than {NAME_MAX_LENGTH} characters"))
                continue
            if code in first_line:
                errors.append((line, f"duplicate code {code} (first at line {first_line[code]})"))
                continue
            first_line[code] = line
            rows.append(_Row(line, code, name, level))
    except csv.Error as exc:
        errors.append((reader.line_num, f"unreadable CSV: {exc}"))

    if not errors:
        errors.extend(_missing_parents(rows))
    if errors:
        raise RegionImportError(errors)
    return rows


def _missing_parents(rows: list[_Row]) -> list[tuple[int, str]]:
    """Every region below a province needs its parent, in the file or already in the database."""
    in_file = {row.code for row in rows}
    needed = {parent_code(row.code) for row in rows if row.level != RegionLevel.PROVINCE} - in_file
    known: set[str] = set()
    for level in LEVELS[:-1]:
        codes = [c for c in needed if level_for_code(c) == level]
        if codes:
            known.update(MODEL_BY_LEVEL[level].objects.filter(code__in=codes).values_list("code", flat=True))
    return [
        (row.line, f"code {row.code}: unknown parent {parent_code(row.code)}")
        for row in rows
        if row.level != RegionLevel.PROVINCE
        and parent_code(row.code) not in in_file
        and parent_code(row.code) not in known
    ]


def _new_instance(row: _Row, ids: dict[str, dict[str, int]]) -> Province | Regency | District | Village:
    code = row.code
    if row.level == RegionLevel.PROVINCE:
        return Province(code=code, name=row.name)
    if row.level == RegionLevel.REGENCY:
        return Regency(
            code=code,
            name=row.name,
            province_id=ids[RegionLevel.PROVINCE][code[:2]],
            kind=regency_kind_for_code(code),
        )
    if row.level == RegionLevel.DISTRICT:
        return District(
            code=code,
            name=row.name,
            province_id=ids[RegionLevel.PROVINCE][code[:2]],
            regency_id=ids[RegionLevel.REGENCY][code[:5]],
        )
    return Village(
        code=code,
        name=row.name,
        province_id=ids[RegionLevel.PROVINCE][code[:2]],
        regency_id=ids[RegionLevel.REGENCY][code[:5]],
        district_id=ids[RegionLevel.DISTRICT][code[:8]],
        kind=village_kind_for_code(code),
    )


def regions_import(
    *,
    data: bytes,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
) -> RegionImportReport:
    """Import the official region list (`code,name` CSV) in one transaction.

    New codes are created, changed names updated; a second run with the same file changes
    nothing. Regions in the database but absent from the file are reported, never deleted
    (workers may hang on them). Any bad row rejects the whole file before anything is written.
    """
    rows = _parse(_decode(data))
    report = RegionImportReport(rows=len(rows))
    by_level: dict[str, list[_Row]] = {level: [] for level in LEVELS}
    for row in rows:
        by_level[row.level].append(row)

    with transaction.atomic():
        ids: dict[str, dict[str, int]] = {}
        for level in LEVELS:
            model = MODEL_BY_LEVEL[level]
            objects: Manager[Any] = model.objects  # one level's model at a time
            existing = {code: (pk, name) for code, pk, name in objects.values_list("code", "pk", "name")}
            level_rows = by_level[level]
            new = [row for row in level_rows if row.code not in existing]
            renamed = [
                model(pk=existing[row.code][0], name=row.name)
                for row in level_rows
                if row.code in existing and existing[row.code][1] != row.name
            ]
            file_codes = {row.code for row in level_rows}
            report.missing[level] = sorted(set(existing) - file_codes)
            report.created[level] = len(new)
            report.renamed[level] = len(renamed)
            report.unchanged += len(level_rows) - len(new) - len(renamed)
            if dry_run:
                continue
            ids[level] = {code: pk for code, (pk, _name) in existing.items()}
            for start in range(0, len(new), BATCH_SIZE):
                batch = [_new_instance(row, ids) for row in new[start : start + BATCH_SIZE]]
                objects.bulk_create(batch)
                if progress:
                    progress(level, min(start + BATCH_SIZE, len(new)), len(new))
            if renamed:
                objects.bulk_update(renamed, ["name"], batch_size=BATCH_SIZE)
            if new:
                ids[level] = dict(objects.values_list("code", "pk"))
    if report.changed and not dry_run:
        data_version_bump()  # names and regions appear in coverage answers
    return report


def file_bytes(path: Path) -> bytes:
    """A file's bytes, decompressed when it is gzipped (the shipped data is); ValueError when it
    looks gzipped but cannot be read as such."""
    data = Path(path).read_bytes()
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError) as exc:
        raise ValueError(f"not a readable gzip file ({exc})") from exc


def regions_import_file(*, path: Path, **kwargs: Any) -> RegionImportReport:
    """`regions_import` for a file on disk, plain or gzipped."""
    try:
        data = file_bytes(path)
    except ValueError as exc:
        raise RegionImportError([(0, str(exc))]) from exc
    return regions_import(data=data, **kwargs)
