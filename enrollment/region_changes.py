"""A change of region codes by decree applied to everything that hangs on them (`apply_region_changes`).

The regions themselves change in villages.region_changes (new rows created, old ones retired, never
deleted). Here, in the same transaction: the workers of every moved village go to its successor
through the one write path (`writing.workers_locked`): each worker's open state period is closed on
the effective date and a new one opened in the new village, an `updated` event records the village
change, and the coverage counters move with it. Periods before the effective date are never
touched, so every answer about a past date stays exactly as it was. Officers whose profile names a
re-coded regency or province follow the new code. All or nothing; a dry run does everything and
rolls it back, so what it reports is exactly what applying would do.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from access.models import AccessProfile
from core.clock import today
from core.data_version import data_version_bump
from villages.models import Village
from villages.region_changes import (
    RegionChangeError,
    RegionChangePlan,
    change_list_parse,
    regions_change,
)

from .choices import EventKind, EventSource
from .models import ApparatusWorker
from .recording import Actor
from .writing import workers_locked


@dataclass
class RegionChangeReport:
    """What a change list did (or, for a dry run, would do)."""

    plan: RegionChangePlan
    effective: datetime.date
    dry_run: bool
    workers_moved: int = 0
    serving_moved: int = 0
    profiles_changed: list[str] = field(default_factory=list)  # "user: old → new"
    profiles_on_retired: list[str] = field(default_factory=list)  # "user: code", to reassign by hand

    @property
    def changed(self) -> bool:
        return self.plan.changed or bool(self.profiles_changed)


class _DryRun(Exception):
    """Raised to roll a dry run back."""


def region_changes_apply(
    *,
    data: bytes,
    effective: datetime.date | None = None,
    dry_run: bool = False,
    label: str = "apply_region_changes",
) -> RegionChangeReport:
    """Apply a change list (villages.region_changes) and move the workers, counters and officers'
    regions with it, in one transaction; `RegionChangeError` (line, problem) and nothing written
    when any row cannot be applied. Applying the same list again changes nothing."""
    day = effective or today()
    if day > today():
        raise RegionChangeError([(0, _("the effective date %(date)s is in the future") % {"date": day.isoformat()})])
    rows = change_list_parse(data)
    report: RegionChangeReport | None = None
    try:
        with transaction.atomic():
            plan = regions_change(rows=rows, effective=day)
            report = RegionChangeReport(plan=plan, effective=day, dry_run=dry_run)
            _workers_moved(report, Actor(label=label, source=EventSource.SYSTEM))
            _profiles_moved(report)
            if report.changed:
                data_version_bump()  # region lists, names and figures of today change
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    assert report is not None
    return report


def _workers_moved(report: RegionChangeReport, actor: Actor) -> None:
    """Every worker of a moved village to its successor, effective on the report's date. A worker
    registered in an old village while the first ones were moved (its transaction committed after
    this one read the villages' workers) is found by the next round."""
    moves = report.plan.villages
    if not moves:
        return
    old_codes = dict(Village.objects.filter(pk__in=moves).values_list("pk", "code"))
    for _round in range(MOVE_ROUNDS):
        worker_ids = list(ApparatusWorker.objects.filter(village_id__in=moves).values_list("pk", flat=True))
        if not worker_ids:
            return
        _moved(report, actor, worker_ids, old_codes)
    raise RegionChangeError([(0, "workers kept arriving in the old villages: apply the change list again")])


MOVE_ROUNDS = 3


def _moved(report: RegionChangeReport, actor: Actor, worker_ids: list[int], old_codes: dict[int, str]) -> None:
    moves = report.plan.villages
    day = report.effective
    errors: list[tuple[int, str]] = []
    with workers_locked(worker_ids) as locked_workers:
        for locked in locked_workers.values():
            worker = locked.worker
            if worker.village_id not in moves:
                continue  # moved elsewhere by someone else before the lock
            village, line = moves[worker.village_id]
            if locked.last_change is not None and locked.last_change > day:
                errors.append(
                    (
                        line,
                        _("worker %(id)d has a change effective on %(date)s, after the effective date %(day)s")
                        % {"id": worker.pk, "date": locked.last_change.isoformat(), "day": day.isoformat()},
                    )
                )
                continue
            before = locked.counted()
            old_code = old_codes[worker.village_id]
            worker.village_id, worker.district_id, worker.regency_id, worker.province_id = (
                village.pk,
                village.district_id,
                village.regency_id,
                village.province_id,
            )
            worker.version += 1
            locked.save(worker, update_fields=["village", "district", "regency", "province", "version", "updated_at"])
            locked.record(
                kind=EventKind.UPDATED,
                actor=actor,
                effective_date=day,
                from_status=locked.enrollment.status,
                diff={"village": (old_code, village.code)},
                counted_before=before,
            )
            report.workers_moved += 1
            report.serving_moved += int(before is not None)
        if errors:
            raise RegionChangeError(sorted(errors))


def _profiles_moved(report: RegionChangeReport) -> None:
    """Officers of a re-coded regency or province follow the new code; those of a region retired
    because everything in it moved elsewhere are listed, to be reassigned by hand."""
    plan = report.plan
    for old_id, new in plan.regencies_recoded.items():
        for profile in AccessProfile.objects.filter(regency_id=old_id).select_related("user", "regency"):
            old_code = profile.regency.code if profile.regency else ""
            profile.regency = new
            profile.save(update_fields=["regency"])
            report.profiles_changed.append(f"{profile.user.get_username()}: {old_code} → {new.code}")
    for old_id, new_province in plan.provinces_recoded.items():
        for profile in AccessProfile.objects.filter(province_id=old_id).select_related("user", "province"):
            old_code = profile.province.code if profile.province else ""
            profile.province = new_province
            profile.save(update_fields=["province"])
            report.profiles_changed.append(f"{profile.user.get_username()}: {old_code} → {new_province.code}")
    retired = AccessProfile.objects.filter(regency__valid_to__isnull=False).select_related("user", "regency")
    for profile in retired:
        assert profile.regency is not None
        report.profiles_on_retired.append(f"{profile.user.get_username()}: {profile.regency.code}")
