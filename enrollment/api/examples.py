"""Examples of the worker endpoints for the schema, told as one story on the Jambi demo: a village
secretary of Pedukun (15.08.01.2001, Kabupaten Bungo) is registered, edited, submitted,
activated by the Muara Bungo branch, renewed, lapses and ends her service.

Each request example is one the API accepts when sent in that order to a new worker (the
`version` each sends is the one the step before left), so a client or a fuzzer that sends them
gets a 2xx, not a refusal: tests/api/test_schema_examples.py sends them all. The NIK is valid
(district 15.08.01, born 12 March 1985, a woman: day 12 + 40) and not one the demo gives out.

Dates that the API checks against today (a membership must be paid until today or later, and at
most `UCJ_PAID_UNTIL_HORIZON_DAYS` ahead) are computed from today when the schema is built, so
the examples stay accepted whatever day they are sent.
"""

from __future__ import annotations

import calendar
import datetime
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample

from enrollment.nik import birth_date_mask, nik_mask, phone_mask


def _month_end(day: datetime.date, months_ahead: int) -> datetime.date:
    """The last day of the month `months_ahead` after `day`'s month."""
    year, month = divmod(day.month - 1 + months_ahead, 12)
    year, month = day.year + year, month + 1
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


TODAY = timezone.localdate()
COVERAGE_START = TODAY.replace(day=1)
PAID_UNTIL = _month_end(TODAY, 5)  # six months paid at activation
RENEWED_UNTIL = _month_end(TODAY, 11)  # within the paid-until horizon (400 days)
RECORDED_AT = timezone.localtime().replace(microsecond=0).isoformat()

REGISTRATION: dict[str, Any] = {
    "village": "15.08.01.2001",
    "nik": "1508015203850021",
    "full_name": "Siti Rahmawati",
    "sex": "female",
    "birth_date": "1985-03-12",
    "phone": "081278451203",
    "institution": "pemerintah_desa",
    "position": "sekretaris_desa",
    "term_start": "2025-01-06",
    "term_end": "2031-01-05",
    "wage_basis": "siltap",
    "monthly_wage": 2224420,
}
NEW_PHONE = "082175513364"
NEW_WAGE = 2_300_000
ACTIVATION: dict[str, Any] = {
    "kpj_number": "25080100217",
    "scheme": "pu",
    "npp": "90001234",
    "programs": ["jkk", "jkm", "jht"],
    "funding_source": "apbdes",
    "coverage_start": COVERAGE_START.isoformat(),
    "paid_until": PAID_UNTIL.isoformat(),
}
RENEWAL: dict[str, Any] = {"paid_until": RENEWED_UNTIL.isoformat(), "funding_source": "apbdes"}

NOT_REGISTERED = {
    "status": "not_registered",
    "kpj_number": None,
    "scheme": None,
    "npp": None,
    "programs": ["jkk", "jkm"],
    "funding_source": None,
    "coverage_start": None,
    "paid_until": None,
    "evidence": None,
}
ACTIVE = {
    "status": "active",
    **{field: ACTIVATION[field] for field in ("kpj_number", "scheme", "npp", "funding_source", "coverage_start")},
    "programs": ["jkk", "jkm", "jht"],
    "paid_until": PAID_UNTIL.isoformat(),
    "evidence": {"kind": "kpj_number", "reconciliation": None},
}


def worker(*, full: bool, version: int, enrollment: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The worker of the story as an answer shows it: in full, or masked (no personal-data right)."""
    data = {**REGISTRATION, **changes}
    return {
        "id": 98991,
        "village": data["village"],
        "district": "15.08.01",
        "regency": "15.08",
        "province": "15",
        "nik": data["nik"] if full else nik_mask(data["nik"]),
        "full_name": data["full_name"],
        "sex": data["sex"],
        "birth_date": data["birth_date"] if full else birth_date_mask(data["birth_date"]),
        "phone": data["phone"] if full else phone_mask(data["phone"]),
        "institution": data["institution"],
        "position": data["position"],
        "term_start": data["term_start"],
        "term_end": data["term_end"],
        "wage_basis": data["wage_basis"],
        "monthly_wage": data["monthly_wage"],
        "serving": data.get("serving", True),
        "protected": enrollment["status"] == "active" and data.get("serving", True),
        "enrollment": enrollment,
        "version": version,
        "created_at": "2025-01-06T09:12:44+07:00",
        "updated_at": RECORDED_AT if version > 1 else "2025-01-06T09:12:44+07:00",
    }


def answers(summary: str, **state: Any) -> list[OpenApiExample]:
    """The two ways an answer shows the worker: masked, and as a branch officer sees it."""
    return [
        OpenApiExample(
            "masked",
            summary=f"{summary} (without the personal-data right)",
            description="NIK reduced to its first four digits, no birth date, the phone as stars.",
            value=worker(full=False, **state),
            response_only=True,
        ),
        OpenApiExample(
            "full",
            summary=f"{summary} (as a branch officer sees it)",
            description="A branch officer, or a caller with the personal-data right, sees the personal data.",
            value=worker(full=True, **state),
            response_only=True,
        ),
    ]


def request(name: str, summary: str, value: dict[str, Any]) -> OpenApiExample:
    return OpenApiExample(name, summary=summary, value=value, request_only=True)


EDITED = {"phone": NEW_PHONE, "monthly_wage": NEW_WAGE}
ACTIVE_STATE = {"version": 5, "enrollment": ACTIVE, **EDITED}

# The worker as lists and detail show it (serializer examples).
WORKER_EXAMPLES = answers("An active member", **ACTIVE_STATE)

# One list per operation, in the order of the story (view examples).
CREATE_EXAMPLES = [
    request("register", "A village secretary of Pedukun, Bungo", REGISTRATION),
    *answers("Registered, not yet enrolled", version=1, enrollment=NOT_REGISTERED),
]
UPDATE_EXAMPLES = [
    request(
        "replace", "Every field again, with a new phone number", {**REGISTRATION, "phone": NEW_PHONE, "version": 1}
    ),
    *answers("Edited", version=2, enrollment=NOT_REGISTERED, phone=NEW_PHONE),
]
PARTIAL_UPDATE_EXAMPLES = [
    request(
        "edit",
        "Only the fields that change (a new siltap), and the version read",
        {"monthly_wage": NEW_WAGE, "version": 2},
    ),
    *answers("Edited", version=3, enrollment=NOT_REGISTERED, **EDITED),
]
SUBMIT_EXAMPLES = [
    request("submit", "Submit today", {"version": 3}),
    *answers("Submitted", version=4, enrollment={**NOT_REGISTERED, "status": "submitted"}, **EDITED),
]
ACTIVATE_EXAMPLES = [
    request("activate", "A PU membership paid from the village budget", {**ACTIVATION, "version": 4}),
    *answers("Active", **ACTIVE_STATE),
]
RENEW_EXAMPLES = [
    request("renew", "Contributions paid for another six months", {**RENEWAL, "version": 5}),
    *answers("Renewed", version=6, enrollment={**ACTIVE, "paid_until": RENEWAL["paid_until"]}, **EDITED),
]
LAPSE_EXAMPLES = [
    request("lapse", "Contributions stopped today", {"version": 6}),
    *answers(
        "Lapsed",
        version=7,
        enrollment={**ACTIVE, "status": "lapsed", "paid_until": RENEWAL["paid_until"]},
        **EDITED,
    ),
]
END_SERVICE_EXAMPLES = [
    request("end-service", "She leaves office today", {"version": 7}),
    *answers(
        "Service ended",
        version=8,
        enrollment={**ACTIVE, "status": "ended", "paid_until": RENEWAL["paid_until"]},
        **EDITED,
        serving=False,
        term_end=TODAY.isoformat(),
    ),
]

# History events of the story (the history list and the audit trail).
ACTIVATED_EVENT = {
    "id": 301877,
    "kind": "activated",
    "effective_date": TODAY.isoformat(),
    "recorded_at": RECORDED_AT,
    "actor": "bpjs.muarabungo",
    "source": "api",
    "from_status": "submitted",
    "to_status": "active",
    "changes": {
        "status": ["submitted", "active"],
        "kpj_number": ["", ACTIVATION["kpj_number"]],
        "scheme": ["", "pu"],
        "npp": ["", ACTIVATION["npp"]],
        "program_jht": [False, True],
        "funding_source": ["", "apbdes"],
        "coverage_start": [None, ACTIVATION["coverage_start"]],
        "paid_until": [None, ACTIVATION["paid_until"]],
    },
}
