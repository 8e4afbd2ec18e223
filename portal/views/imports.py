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
from django.contrib import messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from access.choices import Capability
from access.services import nik_lookups_record
from core.errors import ServiceError
from enrollment import import_services
from enrollment.choices import EventSource
from enrollment.imports import UPLOAD_OVERHEAD, ImportFileError, upload_size_check
from enrollment.models import WorkerImport
from enrollment.selectors import worker_imports_visible
from enrollment.services import Actor

from ..language import in_portal_language
from ..permissions import capability_required

PAGE_SIZE = 50
# The session's dry runs still waiting for "Confirm and write" (their import ids, newest last).
PENDING = "portal_import_dry_runs"
PENDING_KEPT = 20


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
    try:
        record = _import(request, file_name=dry_run.file_name, data=data, dry_run=False)
    except (ImportFileError, ServiceError) as exc:
        messages.error(request, exc.message)
        return redirect("portal:import", pk=dry_run.pk)
    return redirect("portal:import", pk=record.pk)
