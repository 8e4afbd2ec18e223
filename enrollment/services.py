"""The write path of workers and their enrollment.

Every service validates, writes the worker and enrollment rows, appends the history event
and moves the coverage counters in one transaction, holding a row lock on the worker so
concurrent writers are serialized per worker and counters never lose an update.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from access.scope import Scope
from core.clock import today
from core.db import refusals
from core.errors import ConflictError, ServiceError, StaleVersionError
from villages.models import Village

from . import rules, transitions
from .choices import (
    EnrollmentStatus,
    EventKind,
)
from .models import ApparatusWorker, Enrollment, EnrollmentEvent, WorkerPeriod
from .recording import Actor as Actor  # every service takes one: its callers build it from here
from .recording import LockedWorker, registration_changes, transition_applied
from .writing import worker_created, worker_locked, workers_locked

EARLIEST_DATE = rules.EARLIEST_DATE
WORKER_FIELDS = (
    "village",
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
)
PERSONAL_FIELDS = ("nik", "birth_date", "phone")


def _horizon(days_setting: str, now: datetime.date | None = None) -> datetime.date:
    return rules.horizon(days_setting, now or today())


def _check_version(worker: ApparatusWorker, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != worker.version:
        raise StaleVersionError(
            _("This worker was changed by someone else (version %(current)d, you sent %(sent)d). Reload and retry.")
            % {"current": worker.version, "sent": expected_version},
            field="version",
        )


def _check_hidden_fields_sent(actor: Actor, worker: ApparatusWorker, changes: dict[str, Any]) -> None:
    """An edit by a caller who may not see personal data must not be checked against a stored
    value it cannot see: accepted or refused, the answer would tell that value, one guess at a
    time. So such a caller changes NIK and birth date together (each is checked against the
    other: digits 7-12 of the NIK are the birth date), and moves a term start earlier only with
    them (the term must start after the birth date: a few binary-search edits would read it).
    A later term start is always after the birth date, and needs nothing more."""
    if actor.personal_data:
        return
    sent = {"nik", "birth_date"} & changes.keys()
    if len(sent) == 1:
        raise ServiceError(
            _(
                "Send the NIK and the birth date together: without the right to see personal data, "
                "one cannot be changed alone."
            ),
            field=({"nik", "birth_date"} - sent).pop(),
            code="nik_and_birth_date_together",
        )
    term_start = changes.get("term_start")
    if not sent and term_start is not None and term_start < worker.term_start:
        raise ServiceError(
            _(
                "A term start moved earlier is checked against the birth date: without the right to see "
                "personal data, send the NIK and the birth date with it."
            ),
            field="birth_date",
            code="earlier_term_start_needs_birth_date",
        )


def nik_serving_elsewhere(
    *, scope: Scope, province_id: int, regency_id: int, village_code: str, village_name: str, worker_id: int | None
) -> str:
    """The answer to "this NIK already serves": where, only if the caller covers that village.

    Uniqueness is national, so a registration anywhere meets every serving NIK; naming another
    region's village and worker would let a regency list NIKs of the whole country."""
    if scope.contains(province_id=province_id, regency_id=regency_id):
        if worker_id is None:  # an import row: the worker is found by the NIK the row holds
            return _("This NIK already serves in village %(code)s %(name)s.") % {
                "code": village_code,
                "name": village_name,
            }
        return _("This NIK already serves in village %(code)s %(name)s (worker %(id)d).") % {
            "code": village_code,
            "name": village_name,
            "id": worker_id,
        }
    return _("This NIK is already registered as serving in a village outside your region.")


def _check_nik_free(nik: str, *, actor: Actor, exclude_worker_id: int | None = None) -> None:
    serving = ApparatusWorker.objects.filter(nik=nik, serving=True).select_related("village")
    if exclude_worker_id is not None:
        serving = serving.exclude(pk=exclude_worker_id)
    other = serving.first()
    if other is not None:
        raise ConflictError(
            nik_serving_elsewhere(
                scope=actor.scope,
                province_id=other.province_id,
                regency_id=other.regency_id,
                village_code=other.village.code,
                village_name=other.village.name,
                worker_id=other.pk,
            ),
            field="nik",
            code="nik_serving_elsewhere",
        )


def _nik_refused(exc: DatabaseError) -> None:
    """(`refusals`) The unique index on serving NIKs refused a NIK taken meanwhile. Where it
    serves cannot be asked any more (the transaction is refused), and the message does not
    repeat the NIK (error bodies and logs never carry one)."""
    if isinstance(exc, IntegrityError) and _unique_refused(exc, "worker_unique_serving_nik", ".nik"):
        raise ConflictError(
            _("This NIK was registered as serving in another village while this change was being made."),
            field="nik",
            code="nik_serving_elsewhere",
        ) from None


def _unique_refused(exc: IntegrityError, constraint: str, column: str) -> bool:
    """Whether the error is a unique index refusing a value: on PostgreSQL a unique violation of
    a constraint whose name holds `constraint`; on SQLite, whose message names the column, one
    whose message holds `column`."""
    diag = getattr(exc.__cause__, "diag", None)
    if diag is not None:
        return bool(diag.sqlstate == "23505" and constraint in (diag.constraint_name or ""))
    return str(exc).startswith("UNIQUE constraint failed") and column in str(exc)


def _effective(locked: LockedWorker | None, effective_date: datetime.date | None) -> datetime.date:
    """The effective date of a change: given or today; not ahead of the horizon, not before history."""
    date = effective_date or today()
    if date > _horizon("UCJ_FUTURE_HORIZON_DAYS"):
        raise ServiceError(
            _("The effective date is more than %(days)d days ahead.") % {"days": settings.UCJ_FUTURE_HORIZON_DAYS},
            field="effective_date",
            code="too_far_in_future",
        )
    if locked is not None:
        last = locked.last_change  # read with the lock
        if last is not None and date < last:
            raise ServiceError(
                _("The effective date is before the worker's last recorded change (%(date)s).")
                % {"date": last.isoformat()},
                field="effective_date",
                code="before_last_event",
            )
    return date


@transaction.atomic
def worker_register(
    *,
    actor: Actor,
    village: Village,
    nik: str,
    full_name: str,
    sex: str,
    birth_date: datetime.date,
    institution: str,
    position: str,
    term_start: datetime.date,
    wage_basis: str,
    term_end: datetime.date | None = None,
    phone: str = "",
    monthly_wage: int | None = None,
    effective_date: datetime.date | None = None,
) -> ApparatusWorker:
    """Register a person serving `village`; its enrollment starts as `not_registered`.

    A term start ahead of today (up to the horizon) registers the worker now (event, NIK taken)
    but it serves from the term start: its state period begins there, and the counters count it
    once `terms_start` (the daily `expire_enrollments`) has seen that day come.
    """
    actor.scope.require(province_id=village.province_id, regency_id=village.regency_id, field="village")
    data = {
        "village": village,
        "nik": nik,
        "full_name": full_name.strip(),
        "sex": sex,
        "birth_date": birth_date,
        "phone": phone,
        "institution": institution,
        "position": position,
        "term_start": term_start,
        "term_end": term_end,
        "wage_basis": wage_basis,
        "monthly_wage": monthly_wage,
    }
    rules.rule_worker(data, now=today())
    date = _effective(None, effective_date or min(term_start, today()))
    _check_nik_free(nik, actor=actor)
    started = term_start <= today()
    worker = ApparatusWorker(
        **data,
        district_id=village.district_id,
        regency_id=village.regency_id,
        province_id=village.province_id,
        term_started=started,
    )
    try:
        with transaction.atomic():
            worker.save()
    except IntegrityError:
        _check_nik_free(nik, actor=actor)  # a concurrent registration won the race: name where it serves
        raise
    with worker_created(worker, Enrollment.objects.create(worker=worker)) as locked:
        locked.record(
            kind=EventKind.REGISTERED,
            actor=actor,
            effective_date=date,
            from_status="",
            diff=registration_changes(data),
            counted_before=None,
            period_from=None if started else term_start,
        )
    return worker


def worker_update(
    *,
    actor: Actor,
    worker_id: int,
    changes: dict[str, Any],
    expected_version: int | None,
    effective_date: datetime.date | None = None,
) -> ApparatusWorker:
    """Change the worker's own data; moving village or institution moves the counters too."""
    unknown = set(changes) - set(WORKER_FIELDS)
    if unknown:
        raise ServiceError(_("These fields cannot be changed here: %s") % ", ".join(sorted(unknown)))
    # A new NIK is checked first (`_check_nik_free`, which names where it serves), but another
    # transaction may take it between that check and the write: the unique index then refuses
    # it, in the write or with the COMMIT it was held for (core.db.WriteBatch.send).
    with refusals(_nik_refused), worker_locked(worker_id) as locked:
        worker = locked.worker
        scope = actor.scope
        scope.require(province_id=worker.province_id, regency_id=worker.regency_id)
        moved_to = changes.get("village")
        if moved_to is not None:
            scope.require(province_id=moved_to.province_id, regency_id=moved_to.regency_id, field="village")
        _check_version(worker, expected_version)
        _check_hidden_fields_sent(actor, worker, changes)
        if not worker.serving:
            raise ConflictError(
                _("This worker's service has ended; ended records cannot be edited."), code="service_ended"
            )
        status = locked.enrollment.status
        before = locked.counted()
        data = {field: getattr(worker, field) for field in WORKER_FIELDS}
        diff = {field: (data[field], value) for field, value in changes.items() if data[field] != value}
        if not actor.personal_data:
            # Personal fields sent by a caller who may not see them are written even when equal, so
            # that the answer (a new version, or an error) never tells a right guess from a wrong one.
            diff.update({field: (data[field], changes[field]) for field in PERSONAL_FIELDS if field in changes})
        if not diff:
            return worker
        data.update({field: new for field, (_old, new) in diff.items()})
        rules.rule_worker(data, now=today())
        date = _effective(locked, effective_date)
        if "nik" in diff:
            _check_nik_free(data["nik"], actor=actor, exclude_worker_id=worker.pk)
        for field, (_old, new) in diff.items():
            setattr(worker, field, new)
        if "village" in diff:
            village = data["village"]
            worker.district_id, worker.regency_id, worker.province_id = (
                village.district_id,
                village.regency_id,
                village.province_id,
            )
        worker.version += 1
        writes = locked.writes
        writes.save(worker, update_fields=[*diff, "district", "regency", "province", "version", "updated_at"])
        period_from = None
        open_from = locked.open_from
        if not worker.term_started and "term_start" in diff and open_from is not None and open_from > date:
            # A term that has not started yet moves: its one period moves with it, and a start that
            # is today or past starts the term now (the worker counts from this change on).
            period_from = worker.term_start
            worker.term_started = period_from <= today()
            writes.save(worker, update_fields=["term_started"])
            writes.update(
                WorkerPeriod.objects.filter(worker_id=worker.pk, valid_to__isnull=True), rows=1, valid_from=period_from
            )
            locked.open_from = period_from
        locked.record(
            kind=EventKind.UPDATED,
            actor=actor,
            effective_date=date,
            from_status=status,
            diff=diff,
            counted_before=before,
            period_from=period_from,
        )
    return worker


def _transition(
    *,
    actor: Actor,
    worker_id: int,
    kind: str,
    expected_version: int | None,
    effective_date: datetime.date | None,
    params: dict[str, Any] | None = None,
) -> ApparatusWorker:
    """One enrollment transition: the worker locked, then `_transition_locked`."""
    with worker_locked(worker_id) as locked:
        _transition_locked(
            locked,
            actor=actor,
            kind=kind,
            expected_version=expected_version,
            effective_date=effective_date,
            params=params,
        )
    return locked.worker


def _transition_locked(
    locked: LockedWorker,
    *,
    actor: Actor,
    kind: str,
    expected_version: int | None,
    effective_date: datetime.date | None,
    params: Mapping[str, Any] | None = None,
) -> None:
    """The shared shape of every enrollment transition of a locked worker, alone or one of a
    batch: check state, write, record, count.

    Which statuses allow `kind`, the status it leads to, its rules and the fields it writes all
    come from `transitions.TABLE` (applied by `recording.transition_applied`); `params` are what
    the caller sent, for its rules and fields."""
    rule = transitions.TABLE[kind]
    worker, enrollment = locked.worker, locked.enrollment
    actor.scope.require(province_id=worker.province_id, regency_id=worker.regency_id)
    _check_version(worker, expected_version)
    status = enrollment.status
    if not rule.allows(status):
        raise ConflictError(
            _("This change (%(action)s) is not allowed while the enrollment is %(status)s; allowed from: %(allowed)s.")
            % {
                "action": EventKind(kind).label.lower(),
                "status": EnrollmentStatus(status).label.lower(),
                "allowed": ", ".join(str(EnrollmentStatus(s).label).lower() for s in sorted(rule.allowed_from)),
            },
            field="status",
            code="illegal_transition",
        )
    date = _effective(locked, effective_date)
    params = params or {}
    if rule.validator is not None:
        rule.validator(transitions.Attempt(worker=worker, enrollment=enrollment, date=date, now=today(), params=params))
    before = locked.counted()
    applied = transition_applied(
        kind,
        status=status,
        enrollment={name: getattr(enrollment, name) for name in rule.enrollment_fields},
        worker={name: getattr(worker, name) for name in transitions.WORKER_FIELDS_SET},
        date=date,
        params=params,
    )
    for field, value in applied.enrollment.items():
        setattr(enrollment, field, value)
    enrollment.status = worker.enrollment_status = applied.to_status
    for field, value in applied.worker.items():
        setattr(worker, field, value)
    worker.version += 1
    locked.save(worker, update_fields=["enrollment_status", *transitions.WORKER_FIELDS_SET, "version", "updated_at"])
    # A KPJ number already recorded elsewhere fails here: see `enrollment_activate`.
    locked.save(enrollment, update_fields=["status", *applied.enrollment, "updated_at"])
    locked.record(
        kind=kind,
        actor=actor,
        effective_date=date,
        from_status=status,
        diff=applied.diff,
        counted_before=before,
    )


class TransitionAsked(NamedTuple):
    """One transition of `enrollments_transition`: what its own service takes (`params` as that
    service builds them, e.g. `activation_params`)."""

    worker_id: int
    kind: str
    expected_version: int | None = None
    effective_date: datetime.date | None = None
    params: Mapping[str, Any] | None = None


def enrollments_transition(*, actor: Actor, asked: Sequence[TransitionAsked]) -> list[ApparatusWorker]:
    """Many transitions, all or nothing, in one transaction: each checked and applied in the
    order asked exactly as its own service does (`_transition_locked`: the transition table, the
    same rules and errors), their rows written in bulk (`writing.workers_locked`). Returns the
    workers in the order asked."""
    try:
        with workers_locked(one.worker_id for one in asked) as locked:
            for one in asked:
                _transition_locked(
                    locked[one.worker_id],
                    actor=actor,
                    kind=one.kind,
                    expected_version=one.expected_version,
                    effective_date=one.effective_date,
                    params=one.params,
                )
    except IntegrityError as exc:
        _check_kpj_free(asked, exc)
        raise
    return [locked[one.worker_id].worker for one in asked]


def _kpj_index_refused(exc: IntegrityError) -> bool:
    """Whether the error is the KPJ numbers' unique index refusing a number: the only row it can
    meet is another worker's enrollment (each worker has one)."""
    return _unique_refused(exc, "kpj_number", "kpj_number")


def _check_kpj_free(asked: Sequence[TransitionAsked], exc: IntegrityError) -> None:
    """The refusal `enrollment_activate` names, for a batch whose activations met the KPJ
    numbers' unique index: one already recorded for another worker, or given twice."""
    wanted: dict[str, int] = {}
    for one in asked:
        kpj = (one.params or {}).get("kpj_number") if one.kind == EventKind.ACTIVATED else None
        if not kpj:
            continue
        if wanted.setdefault(kpj, one.worker_id) != one.worker_id:
            raise ConflictError(
                _("The KPJ number is already recorded for another worker."), field="kpj_number", code="kpj_taken"
            ) from exc
    for kpj, worker_id in Enrollment.objects.filter(kpj_number__in=list(wanted)).values_list("kpj_number", "worker_id"):
        if kpj is not None and wanted[kpj] != worker_id:
            raise ConflictError(
                _("The KPJ number is already recorded for another worker."), field="kpj_number", code="kpj_taken"
            ) from exc


def enrollment_submit(
    *, actor: Actor, worker_id: int, expected_version: int | None = None, effective_date: datetime.date | None = None
) -> ApparatusWorker:
    """The Dinas PMD submits a registered worker to BPJS Ketenagakerjaan for enrollment."""
    return _transition(
        actor=actor,
        worker_id=worker_id,
        kind=EventKind.SUBMITTED,
        expected_version=expected_version,
        effective_date=effective_date,
    )


def activation_params(
    *,
    kpj_number: str | None,
    scheme: str,
    programs: list[str],
    funding_source: str,
    coverage_start: datetime.date,
    paid_until: datetime.date,
    npp: str = "",
    evidence_reconciliation: int | None = None,
) -> dict[str, Any]:
    """What `enrollment_activate` hands the transition table (also for `enrollments_transition`)."""
    return {
        "kpj_number": kpj_number,
        "scheme": scheme,
        "programs": programs,
        "npp": npp,
        "funding_source": funding_source,
        "coverage_start": coverage_start,
        "paid_until": paid_until,
        "evidence_reconciliation": evidence_reconciliation,
    }


def renewal_params(*, paid_until: datetime.date, funding_source: str | None = None) -> dict[str, Any]:
    """What `enrollment_renew` hands the transition table (also for `enrollments_transition`)."""
    return {"paid_until": paid_until, "funding_source": funding_source}


def enrollment_activate(
    *,
    actor: Actor,
    worker_id: int,
    kpj_number: str | None,
    scheme: str,
    programs: list[str],
    funding_source: str,
    coverage_start: datetime.date,
    paid_until: datetime.date,
    npp: str = "",
    expected_version: int | None = None,
    effective_date: datetime.date | None = None,
    evidence_reconciliation: int | None = None,
) -> ApparatusWorker:
    """The branch office records the membership: KPJ number, scheme, programs, funding, period.
    With `evidence_reconciliation` (the reconciliation whose BPJS extract confirmed the status),
    the KPJ number may be left out (`rules.rule_membership`)."""
    # Whether the KPJ number is free is the unique index's answer, also against a concurrent
    # activation: asking first would cost a statement on every activation. The refusal is told
    # by the error itself, whenever it arrives: the writes may be sent with the COMMIT of the
    # request's transaction (core.db.WriteBatch.send), where nothing more can be asked.
    with refusals(_kpj_refused):
        return _transition(
            actor=actor,
            worker_id=worker_id,
            kind=EventKind.ACTIVATED,
            expected_version=expected_version,
            effective_date=effective_date,
            params=activation_params(
                kpj_number=kpj_number,
                scheme=scheme,
                programs=programs,
                npp=npp,
                funding_source=funding_source,
                coverage_start=coverage_start,
                paid_until=paid_until,
                evidence_reconciliation=evidence_reconciliation,
            ),
        )


def _kpj_refused(exc: DatabaseError) -> None:
    """(`refusals`) The KPJ numbers' unique index refused the activation's number."""
    if isinstance(exc, IntegrityError) and _kpj_index_refused(exc):
        raise ConflictError(
            _("The KPJ number is already recorded for another worker."), field="kpj_number", code="kpj_taken"
        ) from exc


def enrollment_renew(
    *,
    actor: Actor,
    worker_id: int,
    paid_until: datetime.date,
    funding_source: str | None = None,
    expected_version: int | None = None,
    effective_date: datetime.date | None = None,
) -> ApparatusWorker:
    """Contributions paid further: extends paid-until; a lapsed membership becomes active again."""
    return _transition(
        actor=actor,
        worker_id=worker_id,
        kind=EventKind.RENEWED,
        expected_version=expected_version,
        effective_date=effective_date,
        params=renewal_params(paid_until=paid_until, funding_source=funding_source),
    )


def enrollment_lapse(
    *, actor: Actor, worker_id: int, expected_version: int | None = None, effective_date: datetime.date | None = None
) -> ApparatusWorker:
    """Contributions stopped: the worker is no longer protected from the effective date."""
    return _transition(
        actor=actor,
        worker_id=worker_id,
        kind=EventKind.LAPSED,
        expected_version=expected_version,
        effective_date=effective_date,
    )


def worker_end_service(
    *, actor: Actor, worker_id: int, expected_version: int | None = None, effective_date: datetime.date | None = None
) -> ApparatusWorker:
    """The worker leaves office: no longer serving, enrollment ended; the record and history stay."""
    return _transition(
        actor=actor,
        worker_id=worker_id,
        kind=EventKind.SERVICE_ENDED,
        expected_version=expected_version,
        effective_date=effective_date,
    )


def enrollments_expire(*, as_of: datetime.date | None = None) -> int:
    """Lapse every active membership whose paid-until plus the grace period has passed.

    Each lapse is its own transaction and event (source `system`), effective the day after
    paid-until plus grace, or the date of the worker's last event if that is later (history never
    goes backwards; without this a later edit kept the membership active for ever). Returns how
    many were lapsed.
    """
    as_of = as_of or today()
    grace = datetime.timedelta(days=settings.UCJ_LAPSE_GRACE_DAYS)
    due = (
        # The memberships a lapse is allowed from (active ones) whose paid-until and grace have passed.
        Enrollment.objects.filter(
            status__in=transitions.TABLE[EventKind.LAPSED].allowed_from, paid_until__lt=as_of - grace
        )
        .annotate(last_event=Max("worker__events__effective_date"))
        .values_list("worker_id", "paid_until", "last_event")
    )
    lapsed = 0
    for worker_id, paid_until, last_event in due.iterator():
        # Never None: `paid_until__lt` matches no NULL, and an active membership has a paid-until
        # (check constraint enrollment_member_has_evidence_and_period).
        assert paid_until is not None
        lapse_date = paid_until + grace + datetime.timedelta(days=1)
        try:
            enrollment_lapse(
                actor=Actor.system(),
                worker_id=worker_id,
                effective_date=max(lapse_date, last_event or lapse_date, EARLIEST_DATE),
            )
        except ServiceError:
            continue  # changed meanwhile (renewed or ended): nothing to lapse
        lapsed += 1
    return lapsed


def terms_expire(*, as_of: datetime.date | None = None) -> int:
    """End the service of workers whose recorded term end has passed (source `system`).

    Counters count a worker as serving until its service is ended; this keeps them equal to
    "serving on the date" once a planned term end goes by. Returns how many were ended.
    """
    as_of = as_of or today()
    due = ApparatusWorker.objects.filter(serving=True, term_end__lt=as_of).values_list("pk", "term_end")
    ended = 0
    for worker_id, term_end in due.iterator():
        assert term_end is not None  # `term_end__lt` matches no NULL
        last = EnrollmentEvent.objects.filter(worker_id=worker_id).aggregate(last=Max("effective_date"))["last"]
        try:
            worker_end_service(
                actor=Actor.system(), worker_id=worker_id, effective_date=max(term_end, last or term_end)
            )
        except ServiceError:
            continue  # changed meanwhile
        ended += 1
    return ended


def terms_start(*, as_of: datetime.date | None = None) -> int:
    """Count the workers whose term start has come since they were registered ahead of it.

    Their state periods already begin at the term start (written at registration), so coverage
    on any past date is exact without this; today's counters count a worker only once this has
    run on or after its term start (the daily `expire_enrollments` runs it first), so counters
    always equal a recount, which counts the same flag. Each start is its own transaction; no
    history event is written (nothing about the worker changed: its term simply began).
    Returns how many terms were started.
    """
    as_of = as_of or today()
    due = ApparatusWorker.objects.filter(serving=True, term_started=False, term_start__lte=as_of)
    started = 0
    for worker_id in due.values_list("pk", flat=True).iterator():
        with worker_locked(worker_id) as locked:
            worker = locked.worker
            if not worker.serving or worker.term_started or worker.term_start > as_of:
                continue  # changed meanwhile
            worker.term_started = True
            locked.writes.save(worker, update_fields=["term_started"])
            locked.count(None)
        started += 1
    return started
