"""The portal's background job (jobs.registry): a long worklist's spreadsheet, made as the page
makes it. Registered in `PortalConfig.ready()`."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import QueryDict
from django.utils import translation
from django.utils.translation import gettext as _

from access.choices import AccessKind, Capability
from access.context import may_see_personal_data, scope_for
from access.services import access_log_record
from core.errors import ServiceError
from jobs.models import Job
from jobs.registry import Outcome, Progress
from jobs.services import job_file_store

from .reports import XLSX_TYPE
from .views.worklists import WORKLISTS, worklist_workbook


class JobForbidden(ServiceError):
    status_code = 403
    default_code = "permission_denied"


def export_worklist_run(job: Job, progress: Progress, prepared: object = None) -> Outcome:
    """A worklist's spreadsheet (params: `worklist`, the page's `query`, `path` and `language`), as
    the page makes it at once (`worklist_workbook`): the requester's capabilities asked again (read
    workers, export), its scope and personal-data right as they are now, every exported worker in
    the access log as the page's request. The file is kept as the job's, in the job's one
    transaction: a run cut short leaves neither file nor log."""
    user = job.created_by
    scope = scope_for(user)
    if not isinstance(user, User) or not (scope.can(Capability.READ_WORKERS) and scope.can(Capability.EXPORT)):
        raise JobForbidden(_("You may not export lists."))
    params = job.params
    path, query = str(params.get("path", "")), str(params.get("query", ""))
    with translation.override(str(params.get("language") or "id")):
        worklist = WORKLISTS[str(params["worklist"])](scope, QueryDict(query))
        content, name, rows = worklist_workbook(
            user=user,
            worklist=worklist,
            logged=lambda ids: access_log_record(
                user=user, kind=AccessKind.EXPORT, path=path, query=query, worker_ids=ids
            ),
            progress=progress.report,
        )
    result = job_file_store(
        job=job,
        name=name,
        content_type=XLSX_TYPE,
        data=content,
        rows=rows,
        personal_data=may_see_personal_data(user),
        capability=Capability.EXPORT,
    )
    return Outcome(result)
