"""Reconciliation with BPJS Ketenagakerjaan's membership list: record an extract's outcomes (a dry
run that writes only the reconciliation and its rows) and apply the accepted ones.

Applying goes through the ordinary write path in its batched form (`services.enrollments_transition`:
the transition table and the checks of `enrollment_activate`, `_renew`, `_lapse`), with source
`reconciliation` and the reconciliation's id on every history event, so counters, periods,
history and the data version follow. The matching itself is `enrollment.reconciling` (pure).
"""

from __future__ import annotations

import datetime
import gc
import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from access.scope import Scope
from core.bulk import row_writer
from core.clock import today
from core.errors import ConflictError, NotFoundError, ServiceError
from villages.models import BranchOffice

from . import reconciling, services
from .choices import EventKind, EventSource, ReconciliationDecision, ReconciliationOutcome, ReconciliationState
from .import_services import _cyclic_gc_paused
from .imports import ImportFileError, blank_row, sheet_rows
from .models import ApparatusWorker, EnrollmentEvent, Reconciliation, ReconciliationRow
from .recording import Actor

Out = ReconciliationOutcome
APPLICABLE = (Out.ACTIVATE, Out.RENEW, Out.LAPSE)
CHUNK = 5000
APPLY_CHUNK = 5000  # accepted rows applied by one `services.enrollments_transition`
ROW_COLUMNS = (
    "reconciliation_id",
    "row_number",
    "outcome",
    "worker_id",
    "worker_version",
    "nik",
    "full_name",
    "birth_date",
    "sex",
    "bpjs_status",
    "programs",
    "paid_until",
    "kpj_number",
    "npp",
    "employer_name",
    "proposed",
    "proposed_values",
    "candidates",
    "column",
    "message",
    "decision",
    "applied_event_id",
)
PENDING = str(ReconciliationDecision.PENDING)


def _row_values(reconciliation_id: int, outcome: reconciling.Outcome) -> tuple[Any, ...]:
    row = outcome.row
    return (
        reconciliation_id,
        outcome.row_number,
        str(outcome.outcome),
        outcome.worker_id,
        outcome.worker_version,
        row.nik if row is not None else "",
        row.full_name[:150] if row is not None else "",
        row.birth_date if row is not None else None,
        row.sex if row is not None else "",
        row.status_text[:16] if row is not None else "",
        ",".join(row.programs)[:32] if row is not None else "",
        row.paid_until if row is not None else None,
        row.kpj_number if row is not None else "",
        row.npp if row is not None else "",
        row.employer_name[:150] if row is not None else "",
        str(outcome.proposed),
        outcome.proposed_values,
        outcome.candidates,
        outcome.column[:32],
        outcome.message[:300],
        PENDING,
        None,
    )


def registry_workers(scope: Scope) -> QuerySet[Any]:
    """The serving workers in `scope` as `reconciling.WorkerValues`: values, not models (one query)."""
    return scope.filter(ApparatusWorker.objects.filter(serving=True)).values_list(
        "pk",
        "nik",
        "enrollment_status",
        "enrollment__paid_until",
        "enrollment__coverage_start",
        "birth_date",
        "sex",
        "full_name",
        "version",
    )


def _branch_and_province(user: Any) -> tuple[Any, Any]:
    profile = getattr(user, "access_profile", None)
    if profile is None:
        return None, None
    return profile.branch, profile.province


def reconciliations_visible(*, user: Any, scope: Scope) -> QuerySet[Reconciliation]:
    """The reconciliations a caller may see: an admin all; a branch officer its branch's, and
    those a province officer made in a province it serves (of which it sees and applies the rows
    of its own territory only: `rows_visible`); a province officer those made in its province.
    Never another branch's."""
    queryset = Reconciliation.objects.select_related("created_by")  # created_by: the uploader's name
    if scope.everything:
        return queryset
    branch, province = _branch_and_province(user)
    condition = Q(pk__in=[])
    if branch is not None:
        condition |= Q(branch=branch)
        condition |= Q(province_id__in=scope.parent_province_ids, branch__isnull=True, everything=False)
    if scope.province_ids:
        condition |= Q(province_id__in=scope.province_ids)
    if province is not None:
        condition |= Q(province=province)
    return queryset.filter(condition)


def extract_rows_count(*, file_name: str, data: bytes) -> int:
    """The rows of a BPJS extract that are looked up by NIK (not blank, below the header);
    `ImportFileError` for a file refused as a whole."""
    _kind, counted = sheet_rows(name=file_name, data=data, max_rows=settings.UCJ_RECONCILE_MAX_ROWS)
    return max(sum(1 for _n, cells in counted if not blank_row(cells)) - 1, 0)


def reconciliation_record(
    *,
    actor: Actor,
    file_name: str,
    data: bytes,
    nik_hashed: bool = False,
    before_matching: Callable[[int, str], None] | None = None,
) -> Reconciliation:
    """Read a BPJS extract, match it with the registry in the actor's scope, and record the
    reconciliation and one row per outcome (nothing else is written). Raises
    `ImportFileError` for a file refused as a whole, `ServiceError` for a keyed-hash upload
    without a branch secret."""
    user = actor.user
    scope = actor.scope
    branch, province = _branch_and_province(user)
    secret: str | None = None
    if nik_hashed:
        secret = (
            BranchOffice.objects.filter(pk=branch.pk).values_list("reconciliation_secret", flat=True).first()
            if branch is not None
            else ""
        )
        if not secret:
            raise ServiceError(
                _("Keyed-hash NIKs need the secret your branch office agreed on with BPJS; none is configured."),
                field="nik_hashed",
                code="no_secret",
            )
    checksum = hashlib.sha256(data).hexdigest()
    max_rows: int = settings.UCJ_RECONCILE_MAX_ROWS
    if before_matching is not None:
        before_matching(extract_rows_count(file_name=file_name, data=data), checksum)
    _kind, rows = sheet_rows(name=file_name, data=data, max_rows=max_rows)
    upload_date = today()
    registry = reconciling.Registry(registry_workers(scope).iterator(chunk_size=CHUNK), secret=secret)
    plain = registry.plain_hashes() if secret is not None else set()
    with transaction.atomic():
        record = Reconciliation.objects.create(
            created_by=user if isinstance(user, User) and user.is_authenticated else None,
            upload_date=upload_date,
            file_name=file_name[:255],
            size=len(data),
            checksum=checksum,
            nik_hashed=nik_hashed,
            branch=branch if not scope.everything else None,
            province=province if not scope.everything else None,
            regency_ids=sorted(scope.regency_ids),
            everything=scope.everything,
        )
        tally = dict.fromkeys(Out.values, 0)
        seen: set[int] = set()
        keys: set[str] = set()
        pending: list[reconciling.ExtractRow] = []  # rows no NIK of the scope matched: after the rest
        reader: reconciling.ExtractReader | None = None
        count = 0
        with row_writer(ReconciliationRow, ROW_COLUMNS) as write:

            def emit(outcome: reconciling.Outcome) -> None:
                tally[outcome.outcome] += 1
                write(_row_values(record.pk, outcome))

            for number, cells in rows:
                if blank_row(cells):
                    continue
                if reader is None:
                    reader = reconciling.ExtractReader(cells, hashed=nik_hashed)
                    continue
                count += 1
                if count > max_rows:
                    raise ImportFileError(
                        _("The file has more than %(max)d rows; split it.") % {"max": max_rows}, code="too_many_rows"
                    )
                parsed = reader.row(number, cells)
                if isinstance(parsed, reconciling.Outcome):
                    emit(parsed)
                    continue
                if parsed.nik in plain:
                    raise ImportFileError(
                        _(
                            "This file holds plain SHA-256 hashes of NIKs, which are easily reversed: "
                            "use the keyed hash (HMAC-SHA256 with your branch's secret)."
                        ),
                        code="plain_hash",
                    )
                if parsed.nik in keys:
                    emit(reconciling.bad(number, reader.key, _("This NIK appears twice in the file."), parsed))
                    continue
                keys.add(parsed.nik)
                worker = registry.by_key.get(parsed.nik)
                if worker is None:
                    pending.append(parsed)
                    continue
                seen.add(worker.id)
                emit(reconciling.classify(parsed, worker, upload_date=upload_date))
        if reader is None:
            raise ImportFileError(_("The file is empty."), code="empty")
        if not count:
            raise ImportFileError(_("The file has a header but no rows."), code="no_rows")
        outside = _serving_outside(registry, [row.nik for row in pending]) if secret is None else set()
        with row_writer(ReconciliationRow, ROW_COLUMNS) as write:

            def emit_later(outcome: reconciling.Outcome) -> None:
                tally[outcome.outcome] += 1
                write(_row_values(record.pk, outcome))

            for parsed in pending:
                if parsed.nik in outside:
                    # Nothing of that worker is told: not where, not who.
                    emit_later(reconciling.bad(parsed.number, "nik", _("This NIK is out of your territory."), parsed))
                    continue
                candidates = registry.probable(parsed, matched=seen)
                if candidates:
                    emit_later(
                        reconciling.Outcome(
                            Out.PROBABLE_MATCH,
                            row=parsed,
                            row_number=parsed.number,
                            worker_id=candidates[0]["worker"],
                            candidates=candidates,
                            message=_("No NIK matches; someone in the registry looks like this person."),
                        )
                    )
                else:
                    emit_later(reconciling.Outcome(Out.NOT_IN_REGISTRY, row=parsed, row_number=parsed.number))
            for outcome in reconciling.not_listed(registry, seen=seen, upload_date=upload_date):
                emit_later(outcome)
        record.counts = tally
        record.save(update_fields=["counts"])
    return record


def _serving_outside(registry: reconciling.Registry, niks: Sequence[str]) -> set[str]:
    """Which of `niks` (none in the registry's scope) serve elsewhere."""
    found: set[str] = set()
    for start in range(0, len(niks), CHUNK):
        chunk = niks[start : start + CHUNK]
        found.update(
            ApparatusWorker.objects.filter(serving=True, nik__in=chunk).values_list("nik", flat=True).iterator()
        )
    return found - registry.by_key.keys()


def covers_whole(reconciliation: Reconciliation, *, user: Any, scope: Scope) -> bool:
    """Whether the caller's territory holds all of the reconciliation's (then it sees every row)."""
    if scope.everything:
        return True
    branch, _province = _branch_and_province(user)
    if reconciliation.branch_id is not None:
        return branch is not None and reconciliation.branch_id == branch.pk
    return reconciliation.province_id is not None and reconciliation.province_id in scope.province_ids


def rows_visible(reconciliation: Reconciliation, *, user: Any, scope: Scope) -> QuerySet[ReconciliationRow]:
    """The reconciliation's rows the caller sees: all of them when its territory holds the
    reconciliation's; otherwise (a branch officer reading a province's) only the rows of workers
    of its territory: the others, and rows matching nobody, are someone else's."""
    rows = ReconciliationRow.objects.filter(reconciliation=reconciliation)
    if covers_whole(reconciliation, user=user, scope=scope):
        return rows
    return rows.filter(scope.q(province="worker__province_id", regency="worker__regency_id"))


def _last_changes(worker_ids: Iterable[int]) -> dict[int, datetime.date]:
    ids = list(worker_ids)
    last: dict[int, datetime.date] = {}
    for start in range(0, len(ids), CHUNK):
        rows = (
            EnrollmentEvent.objects.filter(worker_id__in=ids[start : start + CHUNK])
            .values("worker_id")
            .annotate(last=Max("effective_date"))
            .values_list("worker_id", "last")
        )
        last.update(rows)
    return last


def _rows_accepted(reconciliation_id: int, rows: list[tuple[int, int]]) -> None:
    """Mark `rows` (id, worker id) accepted, each with the event its change wrote: the events are
    read in one query, the rows updated from a list of values a chunk at a time (a correlated
    subquery per row made the planner scan the reconciliation's events for each row)."""
    events = dict(
        EnrollmentEvent.objects.filter(reconciliation_id=reconciliation_id)
        .values("worker_id")
        .annotate(last=Max("id"))
        .values_list("worker_id", "last")
        .iterator(chunk_size=CHUNK)
    )
    table = connection.ops.quote_name(ReconciliationRow._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = [(pk, events.get(worker_id)) for pk, worker_id in rows[start : start + CHUNK]]
            values = ", ".join(["(%s, %s)"] * len(chunk))
            # UPDATE ... FROM: PostgreSQL, and SQLite since 3.33; both name the columns of VALUES
            # column1, column2.
            cursor.execute(
                f"UPDATE {table} SET decision = %s, applied_event_id = CAST(v.column2 AS bigint) "
                f"FROM (VALUES {values}) AS v WHERE {table}.id = CAST(v.column1 AS bigint)",
                [str(ReconciliationDecision.ACCEPTED), *(value for pair in chunk for value in pair)],
            )


def _asked(
    outcome: str,
    worker_id: int,
    version: int | None,
    values: dict[str, Any],
    reconciliation_id: int,
    previous: datetime.date | None,
) -> services.TransitionAsked:
    """The transition a row's accepted proposal asks for, as its service would make it."""
    date = reconciling.iso_date(values, "effective_date")
    if outcome == Out.ACTIVATE:
        params = services.activation_params(
            kpj_number=values.get("kpj_number") or None,
            scheme=values["scheme"],
            programs=list(values["programs"]),
            funding_source="",
            coverage_start=reconciling.iso_date(values, "coverage_start"),
            paid_until=reconciling.iso_date(values, "paid_until"),
            npp=values.get("npp") or "",
            evidence_reconciliation=reconciliation_id,
        )
        return services.TransitionAsked(worker_id, EventKind.ACTIVATED, version, date, params)
    if outcome == Out.RENEW:
        params = services.renewal_params(paid_until=reconciling.iso_date(values, "paid_until"))
        return services.TransitionAsked(worker_id, EventKind.RENEWED, version, date, params)
    # A lapse is dated no earlier than the worker's last change.
    return services.TransitionAsked(
        worker_id, EventKind.LAPSED, version, max(date, previous) if previous is not None else date
    )


def reconciliation_apply(
    *,
    actor: Actor,
    reconciliation: Reconciliation,
    outcomes: Sequence[str] | None = None,
    row_ids: Sequence[int] | None = None,
) -> dict[str, int]:
    """Apply the proposals of the chosen rows (every row of `outcomes` but those rejected, or the
    rows `row_ids`), all or nothing, each as its service would (`services.enrollments_transition`:
    the same checks and transition table, the rows written in bulk, a chunk at a time). A row
    already applied, or whose worker changed since the dry run (another version), refuses the
    whole (409). Returns counts applied by outcome."""
    if (outcomes is None) == (row_ids is None):
        raise ServiceError(_("Send either outcomes or rows."), field="outcomes", code="outcomes_or_rows")
    scope = actor.scope
    # A branch officer applies the rows of its territory of a province officer's reconciliation.
    rows = rows_visible(reconciliation, user=actor.user, scope=scope)
    if outcomes is not None:
        wrong = sorted(set(outcomes) - {str(o) for o in APPLICABLE})
        if wrong or not outcomes:
            raise ServiceError(
                _("Only these outcomes can be applied: activate, renew, lapse."),
                field="outcomes",
                code="not_applicable",
            )
        # A whole outcome is its rows not rejected (a rejected row is applied only when named).
        rows = rows.filter(outcome__in=outcomes).exclude(decision=ReconciliationDecision.REJECTED)
    else:
        assert row_ids is not None
        rows = rows.filter(pk__in=list(row_ids))
    applied_actor = Actor(
        user=actor.user,
        label=actor.label,
        source=EventSource.RECONCILIATION,
        reconciliation_id=reconciliation.pk,
        region_scope=actor.region_scope,
    )
    with transaction.atomic():
        locked = Reconciliation.objects.select_for_update().get(pk=reconciliation.pk)
        chosen = list(
            rows.order_by("id").values_list(
                "pk", "outcome", "worker_id", "worker_version", "proposed_values", "decision"
            )
        )
        if row_ids is not None:
            if len(chosen) != len(set(row_ids)):
                raise NotFoundError(_("Some of these rows are not rows of this reconciliation."), field="rows")
            wrong_rows = [pk for pk, outcome, *_rest in chosen if outcome not in APPLICABLE]
            if wrong_rows:
                raise ServiceError(
                    _("Rows %(rows)s propose nothing to apply (only activate, renew, lapse can be applied).")
                    % {"rows": ", ".join(map(str, wrong_rows[:20]))},
                    field="rows",
                    code="not_applicable",
                )
        done = [pk for pk, *_rest, decision in chosen if decision == ReconciliationDecision.ACCEPTED]
        if done or (outcomes is not None and chosen and all(d != PENDING for *_r, d in chosen)):
            raise ConflictError(
                _("These rows were already applied."),
                field="rows" if row_ids is not None else "outcomes",
                code="already_applied",
            )
        if not chosen:
            raise ConflictError(_("Nothing to apply."), field="outcomes", code="nothing_to_apply")
        last = _last_changes(worker_id for _pk, _o, worker_id, *_rest in chosen)
        applied = dict.fromkeys((str(o) for o in APPLICABLE), 0)
        asked: list[services.TransitionAsked] = []
        for _pk, outcome, worker_id, version, values, _decision in chosen:
            assert worker_id is not None
            asked.append(_asked(outcome, worker_id, version, values, reconciliation.pk, last.get(worker_id)))
            applied[outcome] += 1
        with _cyclic_gc_paused():  # see there; the young objects are collected after each chunk
            for start in range(0, len(asked), APPLY_CHUNK):
                # In order, a chunk at a time: the first refused row is the one each row's own
                # service would have refused first, and nothing is written (all or nothing).
                services.enrollments_transition(actor=applied_actor, asked=asked[start : start + APPLY_CHUNK])
                gc.collect(0)  # a worker and its enrollment refer to each other: cycles
        _rows_accepted(reconciliation.pk, [(pk, worker_id) for pk, _o, worker_id, *_rest in chosen])
        total = dict(locked.applied or {})
        for outcome, number in applied.items():
            total[outcome] = total.get(outcome, 0) + number
        locked.applied = total
        locked.state = ReconciliationState.APPLIED
        locked.applied_at = timezone.now()
        locked.save(update_fields=["applied", "state", "applied_at"])
    reconciliation.refresh_from_db()
    return applied


REJECTABLE = (*APPLICABLE, Out.PROBABLE_MATCH)


def reconciliation_rows_reject(*, actor: Actor, reconciliation: Reconciliation, row_ids: Sequence[int]) -> int:
    """A person decides against the proposals of rows `row_ids` (a change, or a probable match):
    their decision becomes `rejected` and nothing else is written. All or nothing: rows the caller
    does not see of this reconciliation are not found (404), rows proposing nothing refused (400),
    rows already applied refuse the whole (409). Rejecting a rejected row again changes nothing.
    Returns how many rows were newly rejected."""
    if not row_ids:
        raise ServiceError(_("Choose the rows to reject."), field="rows", code="no_rows")
    wanted = set(row_ids)
    with transaction.atomic():
        # Locked as `reconciliation_apply` locks it: a row is not rejected while it is applied.
        Reconciliation.objects.select_for_update().get(pk=reconciliation.pk)
        rows = rows_visible(reconciliation, user=actor.user, scope=actor.scope).filter(pk__in=list(wanted))
        chosen = list(rows.order_by("id").values_list("pk", "outcome", "decision"))
        if len(chosen) != len(wanted):
            raise NotFoundError(_("Some of these rows are not rows of this reconciliation."), field="rows")
        wrong = [pk for pk, outcome, _decision in chosen if outcome not in REJECTABLE]
        if wrong:
            raise ServiceError(
                _("Rows %(rows)s propose nothing to reject (only activate, renew, lapse, probable_match).")
                % {"rows": ", ".join(map(str, wrong[:20]))},
                field="rows",
                code="not_rejectable",
            )
        if any(decision == ReconciliationDecision.ACCEPTED for _pk, _outcome, decision in chosen):
            raise ConflictError(_("These rows were already applied."), field="rows", code="already_applied")
        pending = [pk for pk, _outcome, decision in chosen if decision == PENDING]
        ReconciliationRow.objects.filter(pk__in=pending).update(decision=ReconciliationDecision.REJECTED)
    return len(pending)
