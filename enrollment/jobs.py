"""The enrollment app's background jobs (jobs.registry): an import of workers, and the daily
expiry of terms and memberships. Registered in `EnrollmentConfig.ready()`."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from access.choices import Capability
from access.context import scope_for
from access.services import nik_lookups_count
from core.clock import today
from core.errors import ServiceError
from jobs.models import Job
from jobs.registry import Outcome, Progress

from . import import_services
from .choices import EventSource
from .imports import ImportFileError
from .services import Actor, enrollments_expire, terms_expire, terms_start

IMPORT_WORKERS = "import_workers"
EXPIRE_ENROLLMENTS = "expire_enrollments"


class JobForbidden(ServiceError):
    status_code = 403
    default_code = "permission_denied"


def import_body(record_pk: int, summary: import_services.ImportSummary) -> tuple[dict[str, Any], int]:
    """The import's answer and its HTTP status, as the upload endpoint gives them."""
    body: dict[str, Any] = {"import": record_pk, **summary.as_dict()}
    if summary.rejected and not summary.committed and not summary.dry_run:
        body["type"] = "validation_error"
        body["errors"] = [
            {"code": "invalid_row", "detail": e.message, "attr": e.column, "row": e.row} for e in summary.errors
        ]
        return body, 400
    return body, 201 if summary.committed else 200


def import_workers_run(job: Job, progress: Progress) -> Outcome:
    """An import of a spreadsheet of workers for its requester, as the upload endpoint runs it:
    the same capability (asked again: it may have been taken away since), the requester's scope
    as it is now, NIK lookups counted, all or nothing. Runs in the job's one transaction: a run
    cut short leaves neither rows nor import record, and runs again from the start."""
    user = job.created_by
    params = job.params
    field = str(params.get("field", "file"))
    if not isinstance(user, User) or not user.is_active or not scope_for(user).can(Capability.WRITE_WORKERS):
        raise JobForbidden(_("You may not import workers."))
    data = bytes(job.data or b"")

    def before_matching(rows: int, checksum: str) -> None:
        nik_lookups_count(
            user=user,
            lookups=rows,
            field=field,
            path=str(params.get("path", "")),
            query="&".join(part for part in (str(params.get("query", "")), f"file_sha256={checksum}") if part),
        )

    try:
        record, summary = import_services.workers_import(
            actor=Actor(user=user, source=str(params.get("source", EventSource.IMPORT))),
            file_name=str(params.get("file_name", "")),
            data=data,
            dry_run=bool(params.get("dry_run", False)),
            all_or_nothing=bool(params.get("all_or_nothing", True)),
            progress=progress.report,
            before_matching=before_matching,
        )
    except ImportFileError as exc:
        raise ServiceError(exc.message, field=field, code=exc.code) from exc
    body, status = import_body(record.pk, summary)
    return Outcome(body, status, failed=status >= 400)


def expire_enrollments_run(job: Job, progress: Progress) -> Outcome:
    """`manage.py expire_enrollments`, for the day the schedule enqueued it (params `as_of`)."""
    as_of = datetime.date.fromisoformat(job.params["as_of"]) if job.params.get("as_of") else today()
    as_of = min(as_of, today())
    progress.report("expire", 0, None)
    result = {
        "as_of": as_of.isoformat(),
        "terms_started": terms_start(as_of=as_of),
        "memberships_lapsed": enrollments_expire(as_of=as_of),
        "services_ended": terms_expire(as_of=as_of),
    }
    return Outcome(result)
