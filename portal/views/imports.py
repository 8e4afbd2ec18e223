"""Spreadsheet upload: the template, a dry run shown as a table, the write once confirmed, and
the caller's past imports, each with its result.

The file goes through the API's import service (enrollment.import_services.workers_import), with
the API's rules: the same capability, the size check before the body is read, NIK lookups counted
and logged for a caller without the personal-data right, all or nothing.

Confirming a dry run does not ask for the file again. The dry run's import record already keeps
the file, byte for byte, in the database (for audit, as every import does); confirming writes
that file again, this time for real. It may be confirmed only by whoever uploaded it, from the
same session, once (the session lists the dry runs still waiting for a confirmation), and only if
the file's checksum is still the one recorded: what is written is exactly what was checked, no
copy of it lies in a temporary folder, and nothing the browser sends can swap it.
"""

from __future__ import annotations

import hashlib

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from access.choices import Capability
from access.context import scope_for
from access.services import nik_lookups_record
from core.errors import ServiceError
from enrollment import import_services
from enrollment.choices import EventSource
from enrollment.imports import UPLOAD_OVERHEAD, ImportFileError, upload_size_check
from enrollment.jobs import IMPORT_WORKERS
from enrollment.models import WorkerImport
from enrollment.selectors import worker_imports_visible
from enrollment.services import Actor
from jobs.choices import FINISHED
from jobs.models import Job
from jobs.selectors import jobs_visible
from jobs.services import job_enqueue

from ..language import in_portal_language
from ..permissions import capability_required

PAGE_SIZE = 50
# The session's dry runs still waiting for "Confirm and write" (their import ids, newest last).
PENDING = "portal_import_dry_runs"
PENDING_KEPT = 20
# The session's dry runs running as background jobs (job ids): once done, their imports join PENDING.
PENDING_JOBS = "portal_import_dry_run_jobs"


class ImportUploadForm(forms.Form):
    berkas = forms.FileField(label=gettext_lazy("File"))


def _pending(request: HttpRequest) -> list[int]:
    return [int(pk) for pk in request.session.get(PENDING, [])]


def _pending_set(request: HttpRequest, ids: list[int]) -> None:
    request.session[PENDING] = ids[-PENDING_KEPT:]


def _signed_in(request: HttpRequest) -> AbstractBaseUser:
    """The caller (`login_required` lets no anonymous one in; said for the type checker)."""
    user = request.user
    if not isinstance(user, AbstractBaseUser):
        raise PermissionDenied
    return user


def _import(request: HttpRequest, *, file_name: str, data: bytes, dry_run: bool) -> WorkerImport:
    """The file through the API's import service, all or nothing, as the caller (the portal)."""
    record, _summary = import_services.workers_import(
        actor=Actor(user=_signed_in(request), source=EventSource.PORTAL),
        file_name=file_name,
        data=data,
        dry_run=dry_run,
        all_or_nothing=True,
        # As the API: whether a row matches a worker tells that NIK's holder (see workers_import).
        before_matching=lambda rows, checksum: nik_lookups_record(
            request=request, lookups=rows, field="berkas", looked_up=f"file_sha256={checksum}"
        ),
    )
    return record


def _in_background(data_size: int) -> bool:
    """Whether a file this large is imported as a background job, with a progress bar."""
    return data_size > settings.UCJ_IMPORT_JOB_BYTES


def _import_job(request: HttpRequest, *, file_name: str, data: bytes, dry_run: bool) -> Job:
    """The same import as `_import`, as a background job (enrollment.jobs.import_workers_run): the
    caller's capability and scope again when it runs, NIK lookups counted for it, all or nothing."""
    user = _signed_in(request)
    job = job_enqueue(
        kind=IMPORT_WORKERS,
        user=user,  # type: ignore[arg-type]  # a signed-in User
        scope=scope_for(user),
        data=data,
        params={
            "file_name": file_name,
            "dry_run": dry_run,
            "all_or_nothing": True,
            "source": EventSource.PORTAL,
            "field": "berkas",
            "path": request.path,
            "query": request.META.get("QUERY_STRING", ""),
        },
    )
    if dry_run:
        request.session[PENDING_JOBS] = [*request.session.get(PENDING_JOBS, []), job.pk][-PENDING_KEPT:]
    return job


def _imports_page(request: HttpRequest, form: ImportUploadForm, *, refused: str | None = None) -> HttpResponse:
    """The page; `refused`: why the file was refused before it was read (shown at the field)."""
    page = Paginator(worker_imports_visible(user=request.user), PAGE_SIZE).get_page(request.GET.get("halaman"))
    errors = [refused] if refused else list(form["berkas"].errors)
    return render(request, "portal/imports.html", {"form": form, "file_errors": errors, "page": page})


@csrf_exempt  # checked by `_upload`, once the request's size is known to be acceptable
@login_required
@in_portal_language
@capability_required(Capability.WRITE_WORKERS)
def imports(request: HttpRequest) -> HttpResponseBase:
    """The template to fill, the upload form (a dry run first) and the caller's past imports."""
    if request.method != "POST":
        return _imports_page(request, ImportUploadForm())
    try:
        # As the API: a request too large is refused before its body is read (Django's CSRF
        # check would read it all, into temporary files, to find the token among the fields).
        upload_size_check(int(request.META.get("CONTENT_LENGTH") or 0), overhead=UPLOAD_OVERHEAD)
    except ImportFileError as exc:
        return _imports_page(request, ImportUploadForm(), refused=exc.message)
    return _upload(request)


@csrf_protect
def _upload(request: HttpRequest) -> HttpResponse:
    """A dry run of the uploaded file: its result page, or the form with why the file is refused."""
    form = ImportUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _imports_page(request, form)
    upload = form.cleaned_data["berkas"]
    try:
        upload_size_check(upload.size)
        if _in_background(upload.size):
            job = _import_job(request, file_name=upload.name or "", data=upload.read(), dry_run=True)
            return redirect("portal:import-job", pk=job.pk)
        record = _import(request, file_name=upload.name or "", data=upload.read(), dry_run=True)
    except ImportFileError as exc:
        form.add_error("berkas", exc.message)
        return _imports_page(request, form)
    except ServiceError as exc:  # too many NIK lookups
        form.add_error("berkas", exc.message)
        return _imports_page(request, form)
    _pending_set(request, [*_pending(request), record.pk])
    return redirect("portal:import", pk=record.pk)


@login_required
@in_portal_language
@capability_required(Capability.WRITE_WORKERS)
def import_result(request: HttpRequest, pk: int) -> HttpResponse:
    """One import's result: counts, and the rows refused (row, column, message); for a dry run of
    the caller's waiting for a confirmation, the button that writes it."""
    record = get_object_or_404(worker_imports_visible(user=request.user), pk=pk)
    summary = record.summary or {}
    to_write = int(summary.get("created", 0)) + int(summary.get("updated", 0))
    confirmable = (
        record.dry_run
        and record.created_by_id == request.user.pk
        and record.pk in _pending(request)
        and not summary.get("rejected")
        and to_write > 0
    )
    context = {"record": record, "summary": summary, "confirmable": confirmable, "to_write": to_write}
    return render(request, "portal/import.html", context)


@login_required
@in_portal_language
@capability_required(Capability.WRITE_WORKERS)
@require_POST
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Write the file of the caller's dry run `pk` (all or nothing), then show what was written."""
    dry_run = get_object_or_404(
        worker_imports_visible(user=request.user).filter(created_by_id=request.user.pk, dry_run=True), pk=pk
    )
    pending = _pending(request)
    if dry_run.pk not in pending:
        messages.error(
            request, _("This check was already written, or was made in another session: upload the file again.")
        )
        return redirect("portal:import", pk=dry_run.pk)
    if (dry_run.summary or {}).get("rejected"):
        messages.error(request, _("Correct the rows with errors and upload the file again: nothing was written."))
        return redirect("portal:import", pk=dry_run.pk)
    data = bytes(WorkerImport.objects.filter(pk=dry_run.pk).values_list("data", flat=True).get())
    if hashlib.sha256(data).hexdigest() != dry_run.checksum:
        messages.error(request, _("The checked file cannot be read back: upload it again."))
        return redirect("portal:import", pk=dry_run.pk)
    # Once: a second click, or the back button, finds nothing left to confirm.
    _pending_set(request, [p for p in pending if p != dry_run.pk])
    if _in_background(len(data)):
        job = _import_job(request, file_name=dry_run.file_name, data=data, dry_run=False)
        return redirect("portal:import-job", pk=job.pk)
    try:
        record = _import(request, file_name=dry_run.file_name, data=data, dry_run=False)
    except (ImportFileError, ServiceError) as exc:
        messages.error(request, exc.message)
        return redirect("portal:import", pk=dry_run.pk)
    return redirect("portal:import", pk=record.pk)


def _job_or_404(request: HttpRequest, pk: int) -> Job:
    return get_object_or_404(jobs_visible(user=request.user).filter(kind=IMPORT_WORKERS), pk=pk)


def _finished(request: HttpRequest, job: Job) -> str | None:
    """Where a finished import job's page leads: its import's result (a dry run of the caller's,
    from this session, then waits there for its confirmation); None while it runs, or when the
    file was refused as a whole (the job's page says why)."""
    if job.state not in FINISHED:
        return None
    result = job.result or {}
    record_pk = result.get("import")
    if record_pk is None:
        return None
    waiting = [int(pk) for pk in request.session.get(PENDING_JOBS, [])]
    if job.pk in waiting:
        request.session[PENDING_JOBS] = [pk for pk in waiting if pk != job.pk]
        if result.get("dry_run") and job.created_by_id == request.user.pk:
            _pending_set(request, [*_pending(request), int(record_pk)])
    return reverse("portal:import", args=[record_pk])


def _job_context(job: Job) -> dict:
    errors = [e.get("detail", "") for e in (job.result or {}).get("errors", [])] if job.state == "failed" else []
    dry_run = bool(job.params.get("dry_run"))
    return {"job": job, "dry_run": dry_run, "job_errors": errors if "import" not in (job.result or {}) else []}


@login_required
@in_portal_language
@capability_required(Capability.WRITE_WORKERS)
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    """A large file being checked or written in the background: a progress bar that htmx keeps up
    to date (`import_job_progress`), then the import's result."""
    job = _job_or_404(request, pk)
    target = _finished(request, job)
    if target is not None:
        return redirect(target)
    return render(request, "portal/import_job.html", _job_context(job))


@login_required
@in_portal_language
@capability_required(Capability.WRITE_WORKERS)
def import_job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar alone (htmx polls it); once the job is done, to its result."""
    job = _job_or_404(request, pk)
    target = _finished(request, job)
    if target is not None:
        return HttpResponseClientRedirect(target)
    return render(request, "portal/import_job_progress.html", _job_context(job))
