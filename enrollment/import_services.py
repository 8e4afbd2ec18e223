"""The write path of spreadsheet imports.

Rows are checked with the same rules as the API (`services._validate_worker`,
`_validate_membership`, `_validate_period`, NIK and KPJ uniqueness), matched on NIK, and then:
new workers are written in bulk (worker, enrollment, `registered` and, with membership
columns, `activated` history events, state periods and counters, exactly as the services
write them), changed workers go through `worker_update` / `enrollment_activate` /
`enrollment_renew` one by one. Every event carries the source `import` and the import record.
All of it is one transaction: with `all_or_nothing`, one rejected row means nothing is written.
"""

from __future__ import annotations

import datetime
import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from access.choices import Capability
from access.scope import Scope
from coverage.services import CounterKey, counters_add
from ucj_project.bulk import bulk_insert, next_ids
from ucj_project.errors import ConflictError, ServiceError
from villages.models import Village

from . import services
from .choices import EnrollmentStatus, EventKind, EventSource, Program, Scheme
from .imports import ParsedRow, RowError, read_rows
from .models import ApparatusWorker, Enrollment, EnrollmentEvent, WorkerImport, WorkerPeriod

CHUNK = 5000
COMPARED_FIELDS = [f for f in services.WORKER_FIELDS if f != "village"]
EXISTING_FIELDS = [
    "pk",
    "village_id",
    "village__code",
    "village__name",
    "version",
    "enrollment__status",
    "enrollment__paid_until",
    *COMPARED_FIELDS,
]
FIELD_TO_COLUMN = {"village": "village_code"}
ProgressCallback = Callable[[str, int, int], None]


@dataclass
class ImportSummary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    committed: bool = False
    dry_run: bool = False
    errors: list[RowError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "committed": self.committed,
            "dry_run": self.dry_run,
            "errors": [{"row": e.row, "column": e.column, "message": e.message} for e in self.errors],
        }


@dataclass
class _Plan:
    row: ParsedRow
    village: Village
    data: dict[str, Any]
    membership: dict[str, Any] | None
    existing: dict[str, Any] | None = None


def _reject(row: ParsedRow, exc: ServiceError) -> None:
    for error in exc.errors:
        column = FIELD_TO_COLUMN.get(error.field or "", error.field)
        row.errors.append(RowError(row.number, column, error.message))


def _worker_data(values: dict[str, Any], village: Village) -> dict[str, Any]:
    return {
        "village": village,
        "nik": values["nik"],
        "full_name": " ".join(values["full_name"].split()),
        "sex": values["sex"],
        "birth_date": values["birth_date"],
        "phone": values.get("phone") or "",
        "institution": values["institution"],
        "position": values["position"],
        "term_start": values["term_start"],
        "term_end": values.get("term_end"),
        "wage_basis": values["wage_basis"],
        "monthly_wage": values.get("monthly_wage"),
    }


def _membership(values: dict[str, Any]) -> dict[str, Any]:
    programs = set(values["programs"])
    scheme = values["scheme"]
    return {
        "kpj_number": values["kpj_number"],
        "scheme": scheme,
        "npp": values.get("npp") or "" if scheme == Scheme.PU else "",
        "programs": sorted(programs),
        "funding_source": values["funding_source"],
        "coverage_start": values["coverage_start"],
        "paid_until": values["paid_until"],
    }


def _registration_date(data: dict[str, Any], now: datetime.date) -> datetime.date:
    return min(data["term_start"], now)


def _activation_date(data: dict[str, Any], membership: dict[str, Any], now: datetime.date) -> datetime.date:
    return max(_registration_date(data, now), min(membership["coverage_start"], now))


def _plan_rows(rows: list[ParsedRow], scope: Scope) -> list[_Plan]:
    """Check every row against the rules and the database; rows with problems get errors."""
    codes = {row.values.get("village_code") for row in rows if not row.errors}
    villages = {v.code: v for v in Village.objects.filter(code__in=[c for c in codes if c])}
    niks = [row.values["nik"] for row in rows if not row.errors]
    existing: dict[str, dict[str, Any]] = {}
    for start in range(0, len(niks), CHUNK):
        for worker in (
            ApparatusWorker.objects.filter(nik__in=niks[start : start + CHUNK], serving=True)
            .values(*EXISTING_FIELDS)
            .iterator(chunk_size=CHUNK)
        ):
            existing[worker["nik"]] = worker
    kpjs = [row.values.get("kpj_number") for row in rows if not row.errors and row.values.get("kpj_number")]
    kpj_owner: dict[str, int] = {}
    for start in range(0, len(kpjs), CHUNK):
        kpj_owner.update(
            Enrollment.objects.filter(kpj_number__in=kpjs[start : start + CHUNK]).values_list("kpj_number", "worker_id")
        )

    seen_nik: dict[str, int] = {}
    seen_kpj: dict[str, int] = {}
    now = services.today()
    plans = []
    for row in rows:
        if row.errors:
            continue
        values = row.values
        village = villages.get(values["village_code"])
        if village is None or not scope.contains(province_id=village.province_id, regency_id=village.regency_id):
            row.errors.append(RowError(row.number, "village_code", _("No village with this code in your region.")))
            continue
        nik = values["nik"]
        if nik in seen_nik:
            row.errors.append(
                RowError(row.number, "nik", _("The same NIK is on row %(row)d of this file.") % {"row": seen_nik[nik]})
            )
            continue
        seen_nik[nik] = row.number
        data = _worker_data(values, village)
        try:
            services._validate_worker(data, now=now)
        except ServiceError as exc:
            _reject(row, exc)
            continue
        membership = None
        if row.has_enrollment and not scope.can(Capability.MANAGE_ENROLLMENT):
            row.errors.append(
                RowError(
                    row.number,
                    "kpj_number",
                    _("Membership columns may be filled only by those who manage enrollments (BPJS branch)."),
                )
            )
            continue
        if row.has_enrollment:
            membership = _membership(values)
            try:
                services._validate_membership(
                    kpj_number=membership["kpj_number"],
                    scheme=membership["scheme"],
                    programs=set(membership["programs"]),
                    npp=membership["npp"],
                )
                services._validate_period(
                    membership["coverage_start"],
                    membership["paid_until"],
                    _activation_date(data, membership, now),
                    now=now,
                )
            except ServiceError as exc:
                _reject(row, exc)
                continue
            kpj = membership["kpj_number"]
            if kpj in seen_kpj:
                row.errors.append(
                    RowError(
                        row.number,
                        "kpj_number",
                        _("The same KPJ number is on row %(row)d of this file.") % {"row": seen_kpj[kpj]},
                    )
                )
                continue
            seen_kpj[kpj] = row.number
        worker = existing.get(nik)
        if worker is not None and worker["village_id"] != village.pk:
            row.errors.append(
                RowError(
                    row.number,
                    "nik",
                    _("This NIK already serves in village %(code)s %(name)s.")
                    % {"code": worker["village__code"], "name": worker["village__name"]},
                )
            )
            continue
        worker_id = worker["pk"] if worker else None
        if membership and kpj_owner.get(membership["kpj_number"], worker_id) != worker_id:
            row.errors.append(
                RowError(row.number, "kpj_number", _("The KPJ number is already recorded for another worker."))
            )
            continue
        plan = _Plan(row, village, data, membership, worker)
        if worker is not None and _membership_action(plan):
            # enrollment_activate / enrollment_renew take effect today (not on the activation date
            # checked above): refuse the row now rather than fail the whole import while writing.
            try:
                services._validate_period(membership["coverage_start"], membership["paid_until"], now, now=now)
            except ServiceError as exc:
                _reject(row, exc)
                continue
        plans.append(plan)
    return plans


def _worker_changes(plan: _Plan) -> dict[str, Any]:
    worker = plan.existing
    return {f: plan.data[f] for f in COMPARED_FIELDS if worker[f] != plan.data[f]}


def _membership_action(plan: _Plan) -> str | None:
    """What the row asks of an existing worker's membership: None, 'activate' or 'renew'."""
    if not plan.membership:
        return None
    status, paid_until = plan.existing["enrollment__status"], plan.existing["enrollment__paid_until"]
    if status in (EnrollmentStatus.NOT_REGISTERED, EnrollmentStatus.SUBMITTED):
        return "activate"
    renewable = status in (EnrollmentStatus.ACTIVE, EnrollmentStatus.LAPSED)
    if renewable and plan.membership["paid_until"] > paid_until:
        return "renew"
    return None


def _membership_record(membership: dict[str, Any]) -> dict[str, Any]:
    return {
        "kpj_number": membership["kpj_number"],
        "scheme": membership["scheme"],
        "npp": membership["npp"],
        "program_jht": Program.JHT in membership["programs"],
        "program_jp": Program.JP in membership["programs"],
        "funding_source": membership["funding_source"],
        "coverage_start": membership["coverage_start"],
        "paid_until": membership["paid_until"],
    }


def _regions(village: Village) -> dict[str, int]:
    return {
        "village_id": village.pk,
        "district_id": village.district_id,
        "regency_id": village.regency_id,
        "province_id": village.province_id,
    }


def workers_register_many(*, actor: services.Actor, plans: list[_Plan], progress: ProgressCallback | None) -> int:
    """Write new workers in bulk, shaped exactly as `worker_register` (+ `enrollment_activate`).

    Rows for each table are generated while they are written, so memory holds the plans only.
    """
    now = services.today()
    worker_ids = list(next_ids(ApparatusWorker, len(plans)))
    actor_id = actor.user.pk if actor.user is not None and actor.user.is_authenticated else None
    label = actor.label or (actor.user.get_username() if actor.user is not None else "")
    event_base = {
        "actor_id": actor_id,
        "actor_label": label,
        "source": actor.source,
        "import_batch_id": actor.import_id,
    }

    def workers():
        for worker_id, plan in zip(worker_ids, plans, strict=True):
            data = {k: v for k, v in plan.data.items() if k != "village"}
            yield {"id": worker_id, **data, **_regions(plan.village)}

    def enrollments():
        for worker_id, plan in zip(worker_ids, plans, strict=True):
            if plan.membership:
                record = _membership_record(plan.membership)
                yield {"worker_id": worker_id, "status": EnrollmentStatus.ACTIVE, **record}
            else:
                yield {"worker_id": worker_id, "status": EnrollmentStatus.NOT_REGISTERED}

    def events(ids):
        ids = iter(ids)
        for worker_id, plan in zip(worker_ids, plans, strict=True):
            data = plan.data
            yield {
                **event_base,
                "id": next(ids),
                "worker_id": worker_id,
                "kind": EventKind.REGISTERED,
                "effective_date": _registration_date(data, now),
                "from_status": "",
                "to_status": EnrollmentStatus.NOT_REGISTERED,
                "changes": {f: [None, services._jsonable(v)] for f, v in data.items() if v not in (None, "")},
            }
            if plan.membership:
                record = _membership_record(plan.membership)
                yield {
                    **event_base,
                    "id": next(ids),
                    "worker_id": worker_id,
                    "kind": EventKind.ACTIVATED,
                    "effective_date": _activation_date(data, plan.membership, now),
                    "from_status": EnrollmentStatus.NOT_REGISTERED,
                    "to_status": EnrollmentStatus.ACTIVE,
                    "changes": {
                        "status": [EnrollmentStatus.NOT_REGISTERED, EnrollmentStatus.ACTIVE],
                        **{k: [None, services._jsonable(v)] for k, v in record.items() if v not in (None, "", False)},
                    },
                }

    def periods(ids):
        ids = iter(ids)
        for worker_id, plan in zip(worker_ids, plans, strict=True):
            data = plan.data
            base = {"worker_id": worker_id, **_regions(plan.village), "institution": data["institution"]}
            base["serving"] = True
            registered = _registration_date(data, now)
            not_registered = {"status": EnrollmentStatus.NOT_REGISTERED, "funding_source": "", "paid_until": None}
            if not plan.membership:
                yield {**base, "id": next(ids), "valid_from": registered, "valid_to": None, **not_registered}
                continue
            activated = _activation_date(data, plan.membership, now)
            if activated > registered:
                yield {**base, "id": next(ids), "valid_from": registered, "valid_to": activated, **not_registered}
            yield {
                **base,
                "id": next(ids),
                "valid_from": activated,
                "valid_to": None,
                "status": EnrollmentStatus.ACTIVE,
                "funding_source": plan.membership["funding_source"],
                "paid_until": plan.membership["paid_until"],
            }

    deltas: dict[CounterKey, list[int]] = defaultdict(lambda: [0, 0])
    for plan in plans:
        village = plan.village
        key = CounterKey(
            village.pk, village.district_id, village.regency_id, village.province_id, plan.data["institution"]
        )
        deltas[key][0] += 1
        deltas[key][1] += int(plan.membership is not None)
    total = len(plans)
    if progress:
        progress("write", 0, total)
    try:
        with transaction.atomic():
            bulk_insert(ApparatusWorker, workers())
            bulk_insert(Enrollment, enrollments())
            bulk_insert(EnrollmentEvent, events(next_ids(EnrollmentEvent, 2 * total)))
            bulk_insert(WorkerPeriod, periods(next_ids(WorkerPeriod, 2 * total)))
    except IntegrityError as exc:
        raise ConflictError(
            _("Another change registered one of these NIKs or KPJ numbers meanwhile; upload the file again."),
            code="concurrent_change",
        ) from exc
    counters_add(deltas)
    if progress:
        progress("write", total, total)
    return total


def workers_import(
    *,
    actor: services.Actor,
    scope: Scope,
    file_name: str,
    data: bytes,
    dry_run: bool = False,
    all_or_nothing: bool = True,
    progress: ProgressCallback | None = None,
) -> tuple[WorkerImport, ImportSummary]:
    """Import a worker spreadsheet; returns the import record and its summary.

    Raises `imports.ImportFileError` for a file refused as a whole (nothing is recorded then).
    """
    rows = read_rows(name=file_name, data=data)
    summary = ImportSummary(rows=len(rows), dry_run=dry_run)
    record = WorkerImport.objects.create(
        created_by=actor.user if actor.user is not None and actor.user.is_authenticated else None,
        source=EventSource.IMPORT if actor.source == EventSource.API else actor.source,
        file_name=file_name[:255],
        size=len(data),
        checksum=hashlib.sha256(data).hexdigest(),
        data=data,
        dry_run=dry_run,
        all_or_nothing=all_or_nothing,
    )
    import_actor = services.Actor(user=actor.user, label=actor.label, source=EventSource.IMPORT, import_id=record.pk)
    try:
        with transaction.atomic():
            plans = _plan_rows(rows, scope)
            if progress:
                progress("check", len(rows), len(rows))
            new = [p for p in plans if p.existing is None]
            changed = []
            for plan in plans:
                if plan.existing is None:
                    continue
                if _worker_changes(plan) or _membership_action(plan):
                    changed.append(plan)
                else:
                    summary.unchanged += 1
            rejected = [row for row in rows if row.errors]
            write = not dry_run and not (all_or_nothing and rejected)
            if write:
                workers_register_many(actor=import_actor, plans=new, progress=progress)
                for plan in changed:
                    _apply_changes(import_actor, plan)
            summary.created, summary.updated = len(new), len(changed)
            for row in rejected:
                summary.errors.extend(row.errors)
            summary.rejected = len(rejected)
            summary.committed = write
            if not write:
                transaction.set_rollback(True)
    finally:
        record.summary = summary.as_dict()
    record.committed = summary.committed
    record.save(update_fields=["committed", "summary"])
    return record, summary


def _apply_changes(actor: services.Actor, plan: _Plan) -> None:
    worker_id = plan.existing["pk"]
    changes = _worker_changes(plan)
    if changes:
        services.worker_update(
            actor=actor, worker_id=worker_id, changes=changes, expected_version=plan.existing["version"]
        )
    action = _membership_action(plan)
    membership = plan.membership
    if action == "activate":
        services.enrollment_activate(
            actor=actor,
            worker_id=worker_id,
            kpj_number=membership["kpj_number"],
            scheme=membership["scheme"],
            programs=membership["programs"],
            funding_source=membership["funding_source"],
            coverage_start=membership["coverage_start"],
            paid_until=membership["paid_until"],
            npp=membership["npp"],
        )
    elif action == "renew":
        services.enrollment_renew(
            actor=actor,
            worker_id=worker_id,
            paid_until=membership["paid_until"],
            funding_source=membership["funding_source"],
        )
