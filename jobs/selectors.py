"""Reads of background jobs."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from access.context import may_see_personal_data, scope_for
from core.errors import NotFoundError, ServiceError

from .models import Job, JobFile


class FileRefused(ServiceError):
    status_code = 403
    default_code = "permission_denied"


def jobs_visible(*, user: Any) -> QuerySet[Job]:
    """The jobs `user` may see, newest first, without their input files: all of them (the
    scheduled ones too) for an admin of every region who may see personal data, one's own for
    everyone else (an import's result quotes its rows)."""
    # select_related: created_by (its username is shown).
    queryset = Job.objects.select_related("created_by").defer("data").order_by("-id")
    if scope_for(user).everything and may_see_personal_data(user):
        return queryset
    return queryset.filter(created_by=user)


def job_file_for(*, user: Any, job_id: int) -> JobFile:
    """The file job `job_id` made, as `user` may download it now: its requester's only (anyone
    else, an admin too, finds nothing: 404), before it expires (then 404), within the regions the
    requester still has (404 if they shrank since), while the requester still holds the file's
    capability (`export`) and, for a file with personal data unmasked, the personal-data right
    (403 otherwise): the rules of the export it holds, asked again when it leaves."""
    # select_related: job (its requester's regions are checked).
    found = (
        JobFile.objects.select_related("job")
        .filter(job_id=job_id, job__created_by_id=getattr(user, "pk", None), expires_at__gt=timezone.now())
        .first()
    )
    if found is None:
        raise NotFoundError(_("No such file: it is not yours, was not made, or has expired."))
    job, scope = found.job, scope_for(user)
    if (job.everywhere and not scope.everything) or not all(scope.contains_code(c) for c in job.region_codes):
        raise NotFoundError(_("No such file: it is not yours, was not made, or has expired."))
    if not scope.can(found.capability):
        raise FileRefused(_("You may no longer download this file."))
    if found.personal_data and not may_see_personal_data(user):
        raise FileRefused(_("The file holds personal data you may no longer see."))
    return found
