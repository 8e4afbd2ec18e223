"""The enrollment app's background jobs (jobs.registry): an import of workers, an export of
workers, and the daily expiry of terms and memberships. Registered in `EnrollmentConfig.ready()`."""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.http import QueryDict
from django.utils.translation import gettext as _

from access.choices import AccessKind, Capability
from access.context import may_see_personal_data, scope_for
from access.services import access_log_record, nik_lookups_count
from core.clock import today
from core.errors import ServiceError
from jobs.models import Job
from jobs.registry import Outcome, Progress
from jobs.services import job_file_store

from . import import_services
from .choices import EventSource
from .exports import workers_export, workers_listed
from .imports import ImportFileError, ParsedRow
from .models import ApparatusWorker
from .services import Actor, enrollments_expire, terms_expire, terms_start

IMPORT_WORKERS = "import_workers"
EXPIRE_ENROLLMENTS = "expire_enrollments"
EXPORT_WORKERS = "export_workers"


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


def _requester(job: Job) -> User:
    user = job.created_by
    if not isinstance(user, User) or not user.is_active or not scope_for(user).can(Capability.WRITE_WORKERS):
        raise JobForbidden(_("You may not import workers."))
    return user


def import_workers_prepare(job: Job, progress: Progress) -> list[ParsedRow]:
    """Read the file and count its rows as NIK lookups of the requester, before the import's
    transaction and on their own, as the upload endpoint counts them before its transaction: the
    count and the job's note that it was made are committed together, so a job run again after
    its worker died does not count them twice, and the rate's row is not held for the import."""
    user = _requester(job)
    params = job.params
    field = str(params.get("field", "file"))
    data = bytes(job.data or b"")
    try:
        rows = import_services.read_file_rows(
            file_name=str(params.get("file_name", "")), data=data, progress=progress.report
        )
    except ImportFileError as exc:
        raise ServiceError(exc.message, field=field, code=exc.code) from exc
    lookups_count_once(job, user=user, lookups=len(rows), field=field, data=data)
    return rows


def lookups_count_once(job: Job, *, user: User, lookups: int, field: str, data: bytes) -> None:
    """Count `lookups` NIK lookups of the requester for the job's file, once per job: the count
    and the job's note that it was made are committed together, before the job's transaction
    (as an endpoint counts them before its own), so a job run again after its worker died does
    not count them twice and the rate's row is not held while the job works."""
    params = job.params
    with transaction.atomic():
        counted = Job.objects.select_for_update().values_list("params", flat=True).get(pk=job.pk)
        if not counted.get("lookups_counted"):
            checksum = hashlib.sha256(data).hexdigest()
            nik_lookups_count(
                user=user,
                lookups=lookups,
                field=field,
                path=str(params.get("path", "")),
                query="&".join(part for part in (str(params.get("query", "")), f"file_sha256={checksum}") if part),
            )
            Job.objects.filter(pk=job.pk).update(params={**counted, "lookups_counted": True})


def import_workers_run(job: Job, progress: Progress, rows: list[ParsedRow]) -> Outcome:
    """An import of a spreadsheet of workers for its requester, as the upload endpoint runs it:
    the same capability (asked again: it may have been taken away since), the requester's scope
    as it is now, all or nothing, the rows read and counted by `import_workers_prepare`. Runs in
    the job's one transaction: a run cut short leaves neither rows nor import record, and runs
    again from the start."""
    user = _requester(job)
    params = job.params
    record, summary = import_services.workers_import(
        actor=Actor(user=user, source=str(params.get("source", EventSource.IMPORT))),
        file_name=str(params.get("file_name", "")),
        data=bytes(job.data or b""),
        dry_run=bool(params.get("dry_run", False)),
        all_or_nothing=bool(params.get("all_or_nothing", True)),
        progress=progress.report,
        rows=rows,
    )
    body, status = import_body(record.pk, summary)
    return Outcome(body, status, failed=status >= 400)


def _exporter(job: Job) -> User:
    """The job's requester, if it may still read workers and export them (asked again when the
    job runs: either may have been taken away since it was asked for)."""
    user = job.created_by
    if not isinstance(user, User) or not user.is_active:
        raise JobForbidden(_("You may not export lists."))
    scope = scope_for(user)
    if not (scope.can(Capability.READ_WORKERS) and scope.can(Capability.EXPORT)):
        raise JobForbidden(_("You may not export lists."))
    return user


def export_workers_run(job: Job, progress: Progress, prepared: object = None) -> Outcome:
    """`GET /api/v1/workers/?format=csv|xlsx` (params: `format`, the request's `path` and `query`)
    as a background job, through the same export (`enrollment.exports.workers_export`): the list
    as the query gives it, read with the requester's scope and rights as they are now (a job never
    widens what its requester may see), every exported worker in the access log as the request's,
    masked unless the requester may see personal data. The file is kept as the job's
    (`jobs.services.job_file_store`) in the job's one transaction: a run cut short leaves neither
    file nor log, and the job run again writes them once."""
    user = _exporter(job)
    params = job.params
    path, query = str(params.get("path", "")), str(params.get("query", ""))
    queryset = workers_listed(queryset=scope_for(user).filter(ApparatusWorker.objects.all()), query=QueryDict(query))
    personal_data = may_see_personal_data(user)
    export = workers_export(
        queryset=queryset,
        kind=str(params.get("format", "csv")),
        personal_data=personal_data,
        logged=lambda ids: access_log_record(user=user, kind=AccessKind.EXPORT, path=path, query=query, worker_ids=ids),
        progress=progress.report,
    )
    data = b"".join(export.chunks)
    result = job_file_store(
        job=job,
        name=export.file_name,
        content_type=export.content_type,
        data=data,
        rows=len(export.ids),
        personal_data=personal_data,
        capability=Capability.EXPORT,
    )
    return Outcome(result)


def expire_enrollments_run(job: Job, progress: Progress, prepared: object = None) -> Outcome:
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
