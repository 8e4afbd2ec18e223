"""A long worklist's spreadsheet being made in the background: its page shows the progress bar
the imports' pages show (htmx polls it), then the link to the file (the API's
`/api/v1/jobs/{id}/file/`, for its requester only, until it expires)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render

from access.choices import Capability
from jobs.models import Job
from jobs.selectors import jobs_visible

from ..language import in_portal_language
from ..permissions import capability_required
from .worklists import EXPORT_WORKLIST


def _job_or_404(request: HttpRequest, pk: int) -> Job:
    # One's own only: the file is its requester's (an admin who sees every job too).
    return get_object_or_404(
        jobs_visible(user=request.user).filter(kind=EXPORT_WORKLIST, created_by_id=request.user.pk), pk=pk
    )


def _context(job: Job) -> dict[str, Any]:
    result = job.result or {}
    failed = job.state == "failed"
    query = QueryDict(str(job.params.get("query", "")), mutable=True)
    query.pop("unduh", None)
    return {
        "job": job,
        "back": f"{job.params.get('path', '')}?{query.urlencode()}",
        "file": result if job.state == "succeeded" else None,
        "job_errors": [e.get("detail", "") for e in result.get("errors", [])] if failed else [],
    }


@login_required
@in_portal_language
@capability_required(Capability.EXPORT)
def export_job(request: HttpRequest, pk: int) -> HttpResponse:
    """The spreadsheet being made: a progress bar htmx keeps up to date, then its link."""
    return render(request, "portal/export_job.html", _context(_job_or_404(request, pk)))


@login_required
@in_portal_language
@capability_required(Capability.EXPORT)
def export_job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar alone (htmx polls it), then the link to the file."""
    return render(request, "portal/export_job_progress.html", _context(_job_or_404(request, pk)))
