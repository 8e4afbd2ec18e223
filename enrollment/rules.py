"""The rules an enrollment transition checks, one public function each.

Each rule raises a `ServiceError` naming every problem it finds, and reads nothing but its
arguments and the settings: "today" is passed in (`now`), so the services, the import and the
transition table all check the same thing the same way. `transitions.TABLE` says which rules each
transition runs.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Collection, Mapping
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from core.errors import FieldError, ServiceError

from .choices import POSITIONS_BY_INSTITUTION, Institution, Position, Program, Scheme
from .nik import nik_problems

# The earliest birth date (and date in a history) the records take.
EARLIEST_DATE = datetime.date(1900, 1, 1)

# ASCII digits only: str.isdigit() also takes full-width and other Unicode digits, which the
# database check constraint then refuses (an IntegrityError reported as "KPJ taken").
KPJ_FULL_RE = re.compile(r"[0-9]{11}")


def horizon(days_setting: str, now: datetime.date) -> datetime.date:
    """The last date a setting such as `UCJ_FUTURE_HORIZON_DAYS` lets a date be, seen from `now`."""
    return now + datetime.timedelta(days=getattr(settings, days_setting))


def rule_period(
    coverage_start: datetime.date, paid_until: datetime.date, date: datetime.date, *, now: datetime.date
) -> None:
    """A membership period: it starts within the horizon, and is paid from its start, at least up
    to the change's effective `date` and at most the paid-until horizon ahead."""
    problems = []
    if coverage_start > horizon("UCJ_FUTURE_HORIZON_DAYS", now):
        problems.append(
            FieldError("coverage_start", "too_far_in_future", _("The coverage start is too far in the future."))
        )
    if paid_until < coverage_start:
        problems.append(
            FieldError("paid_until", "before_coverage_start", _("Paid-until is before the coverage start."))
        )
    elif paid_until < date:
        problems.append(
            FieldError(
                "paid_until",
                "already_past",
                _(
                    "Paid-until (%(paid)s) is before the effective date (%(date)s): "
                    "the membership would already be lapsed."
                )
                % {"paid": paid_until.isoformat(), "date": date.isoformat()},
            )
        )
    if paid_until > horizon("UCJ_PAID_UNTIL_HORIZON_DAYS", now):
        problems.append(
            FieldError(
                "paid_until",
                "too_far_in_future",
                _("Paid-until is more than %(days)d days ahead.") % {"days": settings.UCJ_PAID_UNTIL_HORIZON_DAYS},
            )
        )
    if problems:
        raise ServiceError.many(problems)


def rule_membership(
    *, kpj_number: str | None, scheme: str, programs: Collection[str], npp: str, confirmed: bool = False
) -> None:
    """A membership record itself (its period is `rule_period`'s): an 11-digit KPJ number, JKK and
    JKM, no JP for a BPU member, an NPP for a PU member. `confirmed`: the status is confirmed by a
    reconciliation with BPJS's own list, which is evidence enough without the KPJ number (BPJS
    confirms a status but does not hand out the number); a number given must still be one."""
    problems = []
    if not (confirmed and not kpj_number) and not KPJ_FULL_RE.fullmatch(kpj_number or ""):
        problems.append(FieldError("kpj_number", "kpj_shape", _("The KPJ number must have 11 digits.")))
    missing = {Program.JKK, Program.JKM} - set(programs)
    if missing:
        problems.append(
            FieldError(
                "programs",
                "required_programs",
                _("JKK and JKM are required; missing: %s") % ", ".join(sorted(p.upper() for p in missing)),
            )
        )
    if scheme == Scheme.BPU and Program.JP in programs:
        problems.append(FieldError("programs", "jp_not_for_bpu", _("JP (pension) is not available for BPU.")))
    if scheme == Scheme.PU and not npp:
        problems.append(FieldError("npp", "required", _("A PU membership needs the village government's NPP.")))
    if problems:
        raise ServiceError.many(problems)


def rule_paid_until_later(current: datetime.date, new: datetime.date) -> None:
    """A renewal pays further than the membership is paid today."""
    if new <= current:
        raise ServiceError(
            _("The new paid-until must be later than the current one (%(date)s).") % {"date": current.isoformat()},
            field="paid_until",
            code="not_later",
        )


def rule_service_ends_after_term_start(term_start: datetime.date, date: datetime.date) -> None:
    """A service ends on or after the day its term started."""
    if date < term_start:
        raise ServiceError(
            _("Service cannot end before the term start (%(date)s).") % {"date": term_start.isoformat()},
            field="effective_date",
            code="before_term_start",
        )


def rule_worker(data: Mapping[str, Any], *, now: datetime.date) -> None:
    """A worker's own data (the fields of `services.WORKER_FIELDS`): a NIK that agrees with the birth
    date and sex, dates in order and in range, a position of its institution, a wage not negative.
    Raises one ServiceError listing every problem."""
    problems: list[FieldError] = list(nik_problems(data["nik"], birth_date=data["birth_date"], sex=data["sex"]))
    birth_date, term_start, term_end = data["birth_date"], data["term_start"], data["term_end"]
    if birth_date > now:
        problems.append(FieldError("birth_date", "future_date", _("The birth date is in the future.")))
    elif birth_date < EARLIEST_DATE:
        problems.append(FieldError("birth_date", "date_too_early", _("The birth date is before 1900.")))
    if term_start <= birth_date:
        problems.append(FieldError("term_start", "before_birth", _("The term cannot start before the birth date.")))
    if term_start > horizon("UCJ_FUTURE_HORIZON_DAYS", now):
        problems.append(
            FieldError(
                "term_start",
                "too_far_in_future",
                _("The term start is more than %(days)d days ahead.") % {"days": settings.UCJ_FUTURE_HORIZON_DAYS},
            )
        )
    if term_end is not None and term_end < term_start:
        problems.append(FieldError("term_end", "before_start", _("The term end is before the term start.")))
    if data["position"] not in POSITIONS_BY_INSTITUTION[data["institution"]]:
        problems.append(
            FieldError(
                "position",
                "position_not_in_institution",
                _("The position %(position)s does not exist in the institution %(institution)s.")
                % {
                    "position": Position(data["position"]).label,
                    "institution": Institution(data["institution"]).label,
                },
            )
        )
    if data.get("monthly_wage") is not None and data["monthly_wage"] < 0:
        problems.append(FieldError("monthly_wage", "negative", _("The monthly wage cannot be negative.")))
    if problems:
        raise ServiceError.many(problems)
