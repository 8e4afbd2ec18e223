"""The enrollment state machine, declared: every transition, from which statuses, to which status,
what it writes on the worker and on the enrollment, and the rules it checks.

This table is the only place a transition is defined. The engine (`services._transition`) reads
it and has no case of its own; the import, the demo and the synthetic generator take their
target statuses from it (`target`); the tests of legal and illegal transitions are generated
from it. To add a transition, see CONTRIBUTING.md ("Add a transition").

A registration is not a transition (nothing exists before it): it creates the enrollment in
`INITIAL_STATUS`.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import rules
from .choices import EnrollmentStatus, EventKind, Program, Scheme

if TYPE_CHECKING:
    from .models import ApparatusWorker, Enrollment

S = EnrollmentStatus
INITIAL_STATUS: str = S.NOT_REGISTERED
# The membership an activation records: the enrollment's fields beside its status.
MEMBERSHIP_FIELDS = (
    "kpj_number",
    "scheme",
    "npp",
    "program_jht",
    "program_jp",
    "funding_source",
    "coverage_start",
    "paid_until",
)


class _EffectiveDate:
    """A worker field's value that is the transition's effective date."""

    def __repr__(self) -> str:
        return "EFFECTIVE_DATE"


EFFECTIVE_DATE = _EffectiveDate()


@dataclass(frozen=True)
class Attempt:
    """One transition asked for: the locked worker and enrollment, the effective date, today, and
    what the caller sent (the service's own keyword arguments, such as `paid_until`)."""

    worker: ApparatusWorker
    enrollment: Enrollment
    date: datetime.date
    now: datetime.date
    params: Mapping[str, Any]


Validator = Callable[[Attempt], None]


@dataclass(frozen=True)
class Transition:
    """One kind of change of an enrollment's status.

    `to_status` None keeps the status as it is. `worker_sets` are the worker fields the
    transition writes (a value, or `EFFECTIVE_DATE`); those in `worker_recorded` also go into the
    history event's changes. `enrollment_fields` are the enrollment fields it may set, and
    `enrollment_values` computes them from what the caller sent (only changed ones are written).
    """

    kind: str
    allowed_from: frozenset[str]
    to_status: str | None
    validator: Validator | None = None
    worker_sets: Mapping[str, Any] = field(default_factory=dict)
    worker_recorded: tuple[str, ...] = ()
    enrollment_fields: tuple[str, ...] = ()
    enrollment_values: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None

    def allows(self, status: str) -> bool:
        return status in self.allowed_from

    def target(self, status: str) -> str:
        """The status this transition leads to from `status` (which it must allow)."""
        return status if self.to_status is None else self.to_status


class IllegalTransition(ValueError):
    """A transition asked for from a status it does not allow (a seeder's or generator's bug)."""


# --- validators: each names the public rules (`enrollment.rules`) the transition checks --------


def validate_activation(attempt: Attempt) -> None:
    """The membership record, then its period as of the effective date. A reconciliation given as
    evidence (`evidence_reconciliation`) stands for the KPJ number (see `rules.rule_membership`)."""
    p = attempt.params
    rules.rule_membership(
        kpj_number=p["kpj_number"],
        scheme=p["scheme"],
        programs=p["programs"],
        npp=p["npp"],
        confirmed=p.get("evidence_reconciliation") is not None,
    )
    rules.rule_period(p["coverage_start"], p["paid_until"], attempt.date, now=attempt.now)


def validate_renewal(attempt: Attempt) -> None:
    """Paid further than now, and the membership's period with the new paid-until."""
    paid_until = attempt.params["paid_until"]
    enrollment = attempt.enrollment
    # An active or lapsed membership has its period (constraint enrollment_member_has_evidence_and_period).
    if enrollment.coverage_start is None or enrollment.paid_until is None:
        raise ValueError(f"Enrollment {enrollment.pk} is {enrollment.status} without a membership period.")
    rules.rule_paid_until_later(enrollment.paid_until, paid_until)
    rules.rule_period(enrollment.coverage_start, paid_until, attempt.date, now=attempt.now)


def validate_service_end(attempt: Attempt) -> None:
    rules.rule_service_ends_after_term_start(attempt.worker.term_start, attempt.date)


# --- the enrollment fields a transition sets, from what the caller sent ----------------------


def activation_values(params: Mapping[str, Any]) -> dict[str, Any]:
    programs = set(params["programs"])
    scheme = params["scheme"]
    values: dict[str, Any] = {}
    evidence = params.get("evidence_reconciliation")
    if evidence is not None:  # only then: writers of whole histories (import, demo) never send one
        values["evidence_reconciliation_id"] = evidence
    return values | {
        "kpj_number": params["kpj_number"] or None,
        "scheme": scheme,
        "npp": params["npp"] if scheme == Scheme.PU else "",
        "program_jht": Program.JHT in programs,
        "program_jp": Program.JP in programs,
        "funding_source": params["funding_source"],
        "coverage_start": params["coverage_start"],
        "paid_until": params["paid_until"],
    }


def renewal_values(params: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {"paid_until": params["paid_until"]}
    if params.get("funding_source"):
        values["funding_source"] = params["funding_source"]
    return values


# --- the table ---------------------------------------------------------------------------------

TABLE: dict[str, Transition] = {
    t.kind: t
    for t in (
        # The Dinas PMD submits a registered worker to BPJS Ketenagakerjaan.
        Transition(kind=EventKind.SUBMITTED, allowed_from=frozenset({S.NOT_REGISTERED}), to_status=S.SUBMITTED),
        # The branch office records the membership (submitted first or not).
        Transition(
            kind=EventKind.ACTIVATED,
            allowed_from=frozenset({S.NOT_REGISTERED, S.SUBMITTED}),
            to_status=S.ACTIVE,
            validator=validate_activation,
            enrollment_fields=(*MEMBERSHIP_FIELDS, "evidence_reconciliation_id"),
            enrollment_values=activation_values,
        ),
        # Contributions paid further: a lapsed membership becomes active again.
        Transition(
            kind=EventKind.RENEWED,
            allowed_from=frozenset({S.ACTIVE, S.LAPSED}),
            to_status=S.ACTIVE,
            validator=validate_renewal,
            enrollment_fields=("paid_until", "funding_source"),
            enrollment_values=renewal_values,
        ),
        # Contributions stopped (by hand, or `enrollments_expire` past paid-until and grace).
        Transition(kind=EventKind.LAPSED, allowed_from=frozenset({S.ACTIVE}), to_status=S.LAPSED),
        # The worker leaves office, whatever its enrollment; an ended service accepts nothing more.
        Transition(
            kind=EventKind.SERVICE_ENDED,
            allowed_from=frozenset(set(S.values) - {S.ENDED}),
            to_status=S.ENDED,
            validator=validate_service_end,
            worker_sets={"serving": False, "term_end": EFFECTIVE_DATE},
            worker_recorded=("term_end",),
        ),
    )
}

# The worker fields any transition writes besides its status: the engine writes the same columns
# for every kind (one statement shape), so a new field set by a new row is written by all.
WORKER_FIELDS_SET: tuple[str, ...] = tuple(sorted({name for t in TABLE.values() for name in t.worker_sets}))


def target(kind: str, status: str) -> str:
    """The status `kind` leads to from `status`; `IllegalTransition` if the table does not allow it.

    For writers that build histories themselves (the demo, the synthetic generator, the bulk
    import): what they write is then a path the services would have taken."""
    transition = TABLE[kind]
    if not transition.allows(status):
        raise IllegalTransition(f"{kind} is not allowed from {status}")
    return transition.target(status)


def path(kinds: list[str], start: str = INITIAL_STATUS) -> list[tuple[str, str, str]]:
    """(kind, from status, to status) of each step of `kinds` taken in turn from `start`."""
    steps = []
    status = start
    for kind in kinds:
        to_status = target(kind, status)
        steps.append((kind, status, to_status))
        status = to_status
    return steps


def ends_service(kind: str) -> bool:
    """Whether a change of this kind ends the worker's service (a registration does not)."""
    transition = TABLE.get(kind)
    return transition is not None and transition.worker_sets.get("serving", True) is False
