"""Writes of region outlines: the import of boundary files (GeoJSON, plain or gzipped), checked
and reported as the region list's import is (villages.services): every feature's code must be a
region in the database, nothing is written if any feature is refused, a re-import of the same
files changes nothing, and a dry run writes nothing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from core.codes import region_code
from core.data_version import data_version_bump

from . import geometry
from .models import Boundary
from .services import LEVELS, MODEL_BY_LEVEL, file_bytes, level_for_code

MAX_ERRORS_LISTED = 50
MISSING_LISTED = 10
BATCH_SIZE = 500

ProgressCallback = Callable[[str, int, int], None]


class BoundaryImportError(Exception):
    """The files were rejected; `errors` lists (file, feature number or None, message)."""

    def __init__(self, errors: list[tuple[str, int | None, str]]):
        self.errors = errors
        super().__init__(self.describe())

    def describe(self) -> str:
        shown = [
            f"{name}: feature {number}: {message}" if number is not None else f"{name}: {message}"
            for name, number, message in self.errors[:MAX_ERRORS_LISTED]
        ]
        if len(self.errors) > MAX_ERRORS_LISTED:
            shown.append(f"... and {len(self.errors) - MAX_ERRORS_LISTED} more errors")
        return "\n".join(shown)


@dataclass
class BoundaryImportReport:
    """What an import did (or, for a dry run, would do), per level."""

    features: int = 0
    created: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    replaced: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    unchanged: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    # Regions of the levels and provinces the files cover that have no boundary after the import.
    without: dict[str, list[str]] = field(default_factory=lambda: {level: [] for level in LEVELS})
    points: int = 0  # points stored at every detail, for the regions written

    @property
    def changed(self) -> bool:
        return any(self.created.values()) or any(self.replaced.values())


@dataclass
class _Feature:
    source: str
    number: int
    code: str
    level: str
    geometry: dict[str, Any]
    digest: str


def _read(path: Path) -> Any:
    data = file_bytes(path)
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON ({exc})") from exc


def _features(paths: Iterable[Path], errors: list[tuple[str, int | None, str]], within: str | None) -> list[_Feature]:
    found: list[_Feature] = []
    seen: dict[str, str] = {}
    for path in paths:
        name = path.name
        try:
            document = _read(path)
        except (OSError, ValueError) as exc:
            errors.append((name, None, str(exc)))
            continue
        if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
            errors.append((name, None, "not a GeoJSON FeatureCollection"))
            continue
        features = document.get("features")
        if not isinstance(features, list):
            errors.append((name, None, "a FeatureCollection without a list of features"))
            continue
        for number, feature in enumerate(features, start=1):
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                errors.append((name, number, "not a GeoJSON Feature"))
                continue
            properties = feature.get("properties")
            if not isinstance(properties, dict):
                properties = {}
            code = feature.get("id", properties.get("code"))
            if not isinstance(code, str) or not code.strip():
                errors.append((name, number, "no region code (the feature's `id` or `properties.code`)"))
                continue
            code = region_code(code) or code.strip()  # `1508` is 15.08
            if within is not None and code != within and not code.startswith(within + "."):
                continue
            level = level_for_code(code)
            if level is None:
                errors.append((name, number, f"{code!r} is not a Kemendagri region code"))
                continue
            if code in seen:
                errors.append((name, number, f"{code}: a second boundary (the first in {seen[code]})"))
                continue
            seen[code] = name
            shape = feature.get("geometry")
            if not isinstance(shape, dict):
                errors.append((name, number, f"{code}: no geometry"))
                continue
            digest = hashlib.sha256(json.dumps(shape, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
            found.append(_Feature(name, number, code, level, shape, digest))
    return found


def boundaries_import_files(
    *,
    paths: list[Path],
    within: str | None = None,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
) -> BoundaryImportReport:
    """Import the boundaries of the GeoJSON files `paths` (see the module's docstring); with
    `within` (a region code), only that region's and those under it (the others are skipped).

    Raises BoundaryImportError, with nothing written, when any file or feature is refused."""
    errors: list[tuple[str, int | None, str]] = []
    features = _features(paths, errors, within)
    report = BoundaryImportReport(features=len(features))

    by_level: dict[str, list[_Feature]] = {level: [] for level in LEVELS}
    for feature in features:
        by_level[feature.level].append(feature)
    known: dict[str, set[str]] = {}
    for level, items in by_level.items():
        if items:
            codes = [feature.code for feature in items]
            model = MODEL_BY_LEVEL[level]
            known[level] = set(model.objects.filter(code__in=codes).values_list("code", flat=True))
            for feature in items:
                if feature.code not in known[level]:
                    errors.append((feature.source, feature.number, f"{feature.code}: no such region in the database"))

    stored: dict[str, set[str]] = {}
    for code, digest in Boundary.objects.filter(code__in=[f.code for f in features]).values_list("code", "source_hash"):
        stored.setdefault(code, set()).add(digest)

    rows: list[Boundary] = []
    changed_codes: list[str] = []
    done = 0
    for feature in features:
        done += 1
        if stored.get(feature.code) == {feature.digest}:
            report.unchanged[feature.level] += 1
            continue
        try:
            shape = geometry.parse(feature.geometry)
        except ValueError as exc:
            errors.append((feature.source, feature.number, f"{feature.code}: {exc}"))
            continue
        if errors:  # refused anyway: only the checks go on
            continue
        (report.replaced if feature.code in stored else report.created)[feature.level] += 1
        changed_codes.append(feature.code)
        for outline in geometry.outlines(shape, feature.level):
            report.points += outline.points
            rows.append(
                Boundary(
                    code=feature.code,
                    level=feature.level,
                    detail=outline.detail,
                    geometry=outline.geometry,
                    path=outline.path,
                    points=outline.points,
                    west=outline.bbox[0],
                    south=outline.bbox[1],
                    east=outline.bbox[2],
                    north=outline.bbox[3],
                    source_hash=feature.digest,
                )
            )
        if progress is not None and done % 1000 == 0:
            progress(feature.level, done, len(features))
    if errors:
        raise BoundaryImportError(errors)
    if progress is not None and features:
        progress(features[-1].level, len(features), len(features))

    if not dry_run and changed_codes:
        with transaction.atomic():
            for start in range(0, len(changed_codes), BATCH_SIZE):
                Boundary.objects.filter(code__in=changed_codes[start : start + BATCH_SIZE]).delete()
            Boundary.objects.bulk_create(rows, batch_size=BATCH_SIZE)
            data_version_bump()

    # Regions of the imported levels, in the provinces the files cover, still without a boundary.
    provinces = {feature.code[:2] for feature in features}
    imported = {feature.code for feature in features} if dry_run else set()
    for level, items in by_level.items():
        if not items:
            continue
        model = MODEL_BY_LEVEL[level]
        codes = list(
            model.objects.filter(code__regex=r"^(" + "|".join(sorted(provinces)) + r")").values_list("code", flat=True)
        )
        with_boundary = set(Boundary.objects.filter(level=level).values_list("code", flat=True).distinct())
        report.without[level] = sorted(code for code in codes if code not in with_boundary and code not in imported)
    return report
