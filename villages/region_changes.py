"""The regions' side of a change by decree (`apply_region_changes`): a change list read and
checked, new regions created, old ones retired, and what moves where.

A change list is a CSV `old_code,new_code,new_name`, applied line by line in file order:
- `old → new` at the same level re-codes a region: the new region is created (named `new_name`,
  or as the old one) under the parent its code names, everything under the old one is re-coded
  beneath it, and the old one is retired. A village's new code may name another district (the
  village moves); several rows moving districts (or villages) of one regency to a new one split
  it, the old regency keeping what is not moved.
- `old → old` with a `new_name` renames a region.
- `,new,new_name` (no old code) creates a region, e.g. the new regency of a split, before the rows
  that move districts into it.
A region whose last part has moved away (a district whose villages all moved) is retired too.

Rows are never deleted: a retired region keeps its row with `valid_to` (the effective date), so
figures of past dates still find it, and the new one has `valid_from`. The workers of each moved
village are the enrollment app's to move (enrollment.region_changes), with their periods and
counters; this module only says which village goes to which (`RegionChangePlan.villages`).
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from core.codes import region_code

from .choices import RegionLevel
from .models import IN_FORCE as IN_FORCE_Q
from .models import (
    BranchOffice,
    District,
    Province,
    Regency,
    Village,
    regency_kind_for_code,
    village_kind_for_code,
)
from .services import (
    LEVELS,
    MAX_ERRORS_LISTED,
    MODEL_BY_LEVEL,
    NAME_MAX_LENGTH,
    RegionModel,
    level_for_code,
    parent_code,
)

EXPECTED_HEADER = ["old_code", "new_code", "new_name"]
# The column of a region's children naming it.
PARENT_COLUMN: dict[str, str] = {
    RegionLevel.PROVINCE: "province_id",
    RegionLevel.REGENCY: "regency_id",
    RegionLevel.DISTRICT: "district_id",
}
AnyRegion = Province | Regency | District | Village


class RegionChangeError(Exception):
    """The change list was refused; `errors` lists (line number, message). Nothing was written."""

    def __init__(self, errors: list[tuple[int, str]]):
        self.errors = errors
        super().__init__(self.describe())

    def describe(self) -> str:
        shown = [f"line {line}: {message}" if line else message for line, message in self.errors[:MAX_ERRORS_LISTED]]
        if len(self.errors) > MAX_ERRORS_LISTED:
            shown.append(f"... and {len(self.errors) - MAX_ERRORS_LISTED} more errors")
        return "\n".join(shown)


@dataclass(frozen=True)
class ChangeRow:
    """One line of a change list."""

    line: int
    old_code: str  # "" for a region created
    new_code: str
    new_name: str
    level: RegionLevel


@dataclass
class RegionChangePlan:
    """What a change list did to the regions (or, in a dry run, would do)."""

    rows: int = 0
    already_applied: int = 0  # rows whose change is already in the database
    created: dict[str, list[str]] = field(default_factory=lambda: {level: [] for level in LEVELS})
    retired: dict[str, list[str]] = field(default_factory=lambda: {level: [] for level in LEVELS})
    renamed: list[str] = field(default_factory=list)
    # {old village id: (new village, line of the change list that moved it)}
    villages: dict[int, tuple[Village, int]] = field(default_factory=dict)
    # Regencies re-coded as a whole: {old regency id: new regency}.
    regencies_recoded: dict[int, Regency] = field(default_factory=dict)
    # Provinces re-coded as a whole: {old province id: new province}.
    provinces_recoded: dict[int, Province] = field(default_factory=dict)
    # Regencies that received part of another (a split): {old regency id: {new regency ids}}.
    regencies_split: dict[int, set[int]] = field(default_factory=dict)
    branches_changed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(any(self.created.values()) or any(self.retired.values()) or self.renamed or self.villages)


def _model(level: str) -> RegionModel:
    return MODEL_BY_LEVEL[level]


def _child_level(level: str) -> str | None:
    index = LEVELS.index(RegionLevel(level))
    return LEVELS[index + 1] if index + 1 < len(LEVELS) else None


def change_list_parse(data: bytes) -> list[ChangeRow]:
    """Read and check a change list on its own (codes, levels, repeats, cycles); every problem
    found, by line number, in one `RegionChangeError`."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RegionChangeError([(1, "the file is not UTF-8 text")]) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    wanted = ",".join(EXPECTED_HEADER)
    if header is None:
        raise RegionChangeError([(1, f"the file is empty; expected the header {wanted!r}")])
    if [h.strip().lower() for h in header] not in (EXPECTED_HEADER, EXPECTED_HEADER[:2]):
        raise RegionChangeError([(1, f"wrong header {','.join(header)!r}; expected {wanted!r}")])
    errors: list[tuple[int, str]] = []
    rows: list[ChangeRow] = []
    try:
        for record in reader:
            line = reader.line_num
            if not record or all(not cell.strip() for cell in record):
                continue
            if len(record) not in (2, 3):
                errors.append((line, f"expected 3 columns (old_code,new_code,new_name), found {len(record)}"))
                continue
            # Either spelling (`1508` or `15.08`); a malformed code is kept as written, to be named.
            old, new = (region_code(cell) or cell.strip() for cell in record[:2])
            name = " ".join(record[2].split()) if len(record) == 3 else ""
            level = level_for_code(new)
            if level is None:
                errors.append((line, f"new code {new!r} has the shape of no region code"))
                continue
            if old:
                old_level = level_for_code(old)
                if old_level is None:
                    errors.append((line, f"old code {old!r} has the shape of no region code"))
                    continue
                if old_level != level:
                    errors.append(
                        (line, f"new code {new} is a {level}, old code {old} a {old_level}: a change keeps the level")
                    )
                    continue
            elif not name:
                errors.append((line, f"new code {new}: a region created needs its new_name"))
                continue
            if old == new and not name:
                errors.append((line, f"code {old}: same old and new code and no new_name: nothing to change"))
                continue
            if len(name) > NAME_MAX_LENGTH:
                errors.append((line, f"new_name is longer than {NAME_MAX_LENGTH} characters"))
                continue
            rows.append(ChangeRow(line, old, new, name, level))
    except csv.Error as exc:
        errors.append((reader.line_num, f"unreadable CSV: {exc}"))
    errors.extend(_repeats_and_cycles(rows))
    if errors:
        raise RegionChangeError(sorted(errors))
    return rows


def _repeats_and_cycles(rows: list[ChangeRow]) -> list[tuple[int, str]]:
    errors: list[tuple[int, str]] = []
    moved_at: dict[str, int] = {}
    for row in rows:
        if row.old_code and row.old_code != row.new_code:
            if row.old_code in moved_at:
                errors.append(
                    (row.line, f"old code {row.old_code} is changed twice (first at line {moved_at[row.old_code]})")
                )
            else:
                moved_at[row.old_code] = row.line
    made_at: dict[str, int] = {}
    for row in rows:
        if row.old_code == row.new_code:
            continue
        if row.new_code in moved_at:
            errors.append(
                (
                    row.line,
                    f"new code {row.new_code} is also changed away at line {moved_at[row.new_code]}: "
                    "a cycle or a chain of changes; apply them as two change lists",
                )
            )
        elif row.new_code in made_at and row.level != RegionLevel.VILLAGE:
            # Villages may merge into one; a district or regency is created once.
            errors.append((row.line, f"new code {row.new_code} is already made at line {made_at[row.new_code]}"))
        made_at.setdefault(row.new_code, row.line)
    return errors


class _Applier:
    """The rows applied to the regions, in file order, inside the caller's transaction."""

    def __init__(self, effective: datetime.date) -> None:
        self.effective = effective
        self.plan = RegionChangePlan()
        self.errors: list[tuple[int, str]] = []
        self.emptied: dict[tuple[str, int], int] = {}  # (level, id) of a parent something left: line

    def apply(self, rows: Iterable[ChangeRow]) -> RegionChangePlan:
        for row in rows:
            self.plan.rows += 1
            try:
                self._row(row)
            except _RowError as exc:
                self.errors.append((row.line, str(exc)))
        if self.errors:
            raise RegionChangeError(self.errors)
        self._retire_emptied()
        return self.plan

    # --- one row --------------------------------------------------------------------------------

    def _row(self, row: ChangeRow) -> None:
        model = _model(row.level)
        old = model.objects.filter(code=row.old_code).first() if row.old_code else None
        if row.old_code and old is None:
            raise _RowError(f"unknown old code {row.old_code}")
        existing = model.objects.filter(code=row.new_code).first()
        if old is not None and old.valid_to is not None:
            if existing is not None and row.old_code != row.new_code:
                self.plan.already_applied += 1
                return
            raise _RowError(f"old code {row.old_code} was retired on {old.valid_to.isoformat()}")
        if old is not None and row.old_code == row.new_code:
            if old.name != row.new_name:
                old.name = row.new_name
                old.save(update_fields=["name"])
                self.plan.renamed.append(old.code)
            else:
                self.plan.already_applied += 1
            return
        parent = self._parent(row)
        if existing is not None:
            if existing.valid_to is not None:
                raise _RowError(f"new code {row.new_code} was retired on {existing.valid_to.isoformat()}")
            if parent is not None and self._parent_of(existing) != parent.pk:
                raise _RowError(f"new code {row.new_code} exists under another parent than {parent.code}")
            if old is None:
                self.plan.already_applied += 1  # a region created by an earlier run
                return
            if row.level != RegionLevel.VILLAGE:
                raise _RowError(f"new code {row.new_code} already exists: only villages merge into an existing one")
            target: AnyRegion = existing
        else:
            name = row.new_name or (old.name if old is not None else "")
            target = self._create(row.level, row.new_code, name, parent)
        if old is not None:
            self._move(old, target, row.line)

    def _parent(self, row: ChangeRow) -> AnyRegion | None:
        if row.level == RegionLevel.PROVINCE:
            return None
        code = parent_code(row.new_code)
        level = level_for_code(code)
        if level is None:  # pragma: no cover: a code's parent has the parent level's shape
            raise _RowError(f"new code {row.new_code}: no parent level")
        parent = _model(level).objects.filter(code=code).first()
        if parent is None:
            raise _RowError(f"new code {row.new_code}: its parent {code} does not exist (create it on an earlier line)")
        if parent.valid_to is not None:
            raise _RowError(f"new code {row.new_code}: its parent {code} was retired on {parent.valid_to.isoformat()}")
        return parent

    @staticmethod
    def _parent_of(region: AnyRegion) -> int | None:
        if isinstance(region, Village):
            return region.district_id
        if isinstance(region, District):
            return region.regency_id
        if isinstance(region, Regency):
            return region.province_id
        return None

    def _create(self, level: str, code: str, name: str, parent: AnyRegion | None) -> AnyRegion:
        common: dict[str, Any] = {"code": code, "name": name, "valid_from": self.effective}
        region: AnyRegion
        if isinstance(parent, District):
            region = Village.objects.create(
                **common,
                district=parent,
                regency_id=parent.regency_id,
                province_id=parent.province_id,
                kind=village_kind_for_code(code),
            )
        elif isinstance(parent, Regency):
            region = District.objects.create(**common, regency=parent, province_id=parent.province_id)
        elif isinstance(parent, Province):
            region = Regency.objects.create(**common, province=parent, kind=regency_kind_for_code(code))
        else:
            region = Province.objects.create(**common)
        self.plan.created[level].append(code)
        return region

    # --- what moves ----------------------------------------------------------------------------

    def _move(self, old: AnyRegion, target: AnyRegion, line: int) -> None:
        """Everything in force under `old` re-coded under `target`, then `old` retired."""
        level = level_for_code(old.code)
        assert level is not None
        child_level = _child_level(level)
        if isinstance(old, Village):
            assert isinstance(target, Village)
            self.plan.villages[old.pk] = (target, line)
            if old.regency_id != target.regency_id:
                self.plan.regencies_split.setdefault(old.regency_id, set()).add(target.regency_id)
        elif child_level is not None:
            children = _model(child_level).objects.filter(IN_FORCE_Q, **{self._fk(level): old.pk}).order_by("code")
            for child in children:
                new_code = target.code + child.code[len(old.code) :]
                if _model(child_level).objects.filter(code=new_code).exists():
                    raise _RowError(f"moving {child.code} under {target.code}: code {new_code} already exists")
                self._move(child, self._create(child_level, new_code, child.name, target), line)
        if isinstance(old, Regency):
            assert isinstance(target, Regency)
            self.plan.regencies_recoded[old.pk] = target
        if isinstance(old, Province):
            assert isinstance(target, Province)
            self.plan.provinces_recoded[old.pk] = target
        if isinstance(old, District) and isinstance(target, District) and old.regency_id != target.regency_id:
            self.plan.regencies_split.setdefault(old.regency_id, set()).add(target.regency_id)
        parent_id = self._parent_of(old)
        if parent_id is not None:
            parent_level = LEVELS[LEVELS.index(RegionLevel(level)) - 1]
            self.emptied.setdefault((parent_level, parent_id), line)
        self._retire(old, level)

    @staticmethod
    def _fk(level: str) -> str:
        return PARENT_COLUMN[level]

    def _retire(self, region: AnyRegion, level: str) -> None:
        region.valid_to = self.effective
        region.save(update_fields=["valid_to"])
        self.plan.retired[level].append(region.code)

    def _retire_emptied(self) -> None:
        """Parents that something moved out of and that hold nothing in force any more are retired,
        and so on up."""
        pending = dict(self.emptied)
        while pending:
            (level, region_id), line = pending.popitem()
            region = _model(level).objects.get(pk=region_id)
            child_level = _child_level(level)
            if region.valid_to is not None or child_level is None:
                continue
            if _model(child_level).objects.filter(IN_FORCE_Q, **{self._fk(level): region_id}).exists():
                continue
            self._retire(region, level)
            parent_id = self._parent_of(region)
            if parent_id is not None:
                pending.setdefault((LEVELS[LEVELS.index(RegionLevel(level)) - 1], parent_id), line)


class _RowError(Exception):
    """A row that cannot be applied; the message names the problem (the caller adds the line)."""


def regions_change(*, rows: list[ChangeRow], effective: datetime.date) -> RegionChangePlan:
    """Apply a parsed change list to the regions, in the caller's transaction (which the caller
    rolls back on `RegionChangeError`): create, rename, re-code and retire them; branch offices
    serving a re-coded regency serve the new one, and those serving a split regency also serve the
    regencies that received part of it. The workers are the caller's to move (`plan.villages`)."""
    plan = _Applier(effective).apply(rows)
    for branch in (
        BranchOffice.objects.filter(regencies__in=[*plan.regencies_recoded, *plan.regencies_split])
        .distinct()
        .order_by("code")
    ):
        served = set(branch.regencies.values_list("pk", flat=True))
        wanted = set(served)
        for old_id, new in plan.regencies_recoded.items():
            if old_id in wanted:
                wanted.discard(old_id)
                wanted.add(new.pk)
        for old_id, new_ids in plan.regencies_split.items():
            if old_id in served:
                wanted |= new_ids
        if wanted != served:
            branch.regencies.set(sorted(wanted))
            plan.branches_changed.append(branch.code)
    return plan
