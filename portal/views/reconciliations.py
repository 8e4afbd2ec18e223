"""Reconciliation with BPJS Ketenagakerjaan's membership list (sanding data): upload an extract,
see its outcomes row by row, accept those to apply.

Everything goes through what the API uses (enrollment.api.reconciliations): the same capability
(RECONCILE to upload and read, MANAGE_ENROLLMENT to apply), the same size limit before the body is
read, `reconcile_services.reconciliation_record` with the NIK lookups counted for a caller without
the personal-data right, `reconciliations_visible` / `rows_visible` for what the caller sees, the
API's row serializer (so NIK and birth date are masked exactly as the API masks them) with the
same access log, and `reconciliation_apply` called with the API's validated body. The result's
spreadsheet is the API's own XLSX (the page links it).
"""

from __future__ import annotations

from typing import Any

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

from access.choices import AccessKind, Capability
from access.context import can_see_personal_data, scope_for
from access.services import access_log_write, nik_lookups_record
from core.errors import ServiceError
from enrollment import reconcile_services
from enrollment.api.reconciliations import ApplySerializer, ReconciliationRowSerializer, RejectSerializer
from enrollment.choices import (
    EnrollmentStatus,
    EventKind,
    EventSource,
    ReconciliationDecision,
    ReconciliationOutcome,
)
from enrollment.imports import UPLOAD_OVERHEAD, ImportFileError, upload_size_check
from enrollment.models import ApparatusWorker, Reconciliation
from enrollment.recording import Actor

from ..language import in_portal_language
from ..permissions import capability_required

PAGE_SIZE = 50
Out = ReconciliationOutcome
# The tabs, in the order a clerk works through them.
OUTCOMES = [Out.ACTIVATE, Out.LAPSE, Out.RENEW, Out.PROBABLE_MATCH, Out.NOT_IN_REGISTRY, Out.BAD_ROW, Out.SAME]
APPLICABLE = {str(Out.ACTIVATE), str(Out.LAPSE), str(Out.RENEW)}
REJECTABLE = {*APPLICABLE, str(Out.PROBABLE_MATCH)}


class ReconciliationUploadForm(forms.Form):
    berkas = forms.FileField(label=gettext_lazy("File"))
    hash_nik = forms.BooleanField(label=gettext_lazy("The file holds keyed hashes of NIKs"), required=False)


def _signed_in(request: HttpRequest) -> AbstractBaseUser:
    """The caller (`login_required` lets no anonymous one in; said for the type checker)."""
    user = request.user
    if not isinstance(user, AbstractBaseUser):
        raise PermissionDenied
    return user


def _list_page(request: HttpRequest, form: ReconciliationUploadForm, *, refused: str | None = None) -> HttpResponse:
    user = request.user
    visible = reconcile_services.reconciliations_visible(user=user, scope=scope_for(user)).order_by("-id")
    page = Paginator(visible, PAGE_SIZE).get_page(request.GET.get("halaman"))
    records = [(record, _counted(record.counts or {})) for record in page]
    errors = [refused] if refused else list(form["berkas"].errors)
    context = {
        "form": form,
        "file_errors": errors,
        "hash_errors": list(form["hash_nik"].errors),
        "page": page,
        "records": records,
        "outcomes": [(str(o), o.label) for o in OUTCOMES],
    }
    return render(request, "portal/reconciliations.html", context)


def _counted(counts: dict[str, Any]) -> list[tuple[str, str, int]]:
    """The counts by outcome, in the tabs' order: (outcome, label, count)."""
    return [(str(o), str(o.label), int(counts.get(str(o), 0))) for o in OUTCOMES]


@csrf_exempt  # checked by `_upload`, once the request's size is known to be acceptable
@login_required
@in_portal_language
@capability_required(Capability.RECONCILE)
def reconciliations(request: HttpRequest) -> HttpResponseBase:
    """The template to fill, the upload form and the caller's reconciliations."""
    if request.method != "POST":
        return _list_page(request, ReconciliationUploadForm())
    try:
        # As the API: a request too large is refused before its body is read.
        upload_size_check(
            int(request.META.get("CONTENT_LENGTH") or 0),
            overhead=UPLOAD_OVERHEAD,
            limit=settings.UCJ_RECONCILE_MAX_BYTES,
        )
    except ImportFileError as exc:
        return _list_page(request, ReconciliationUploadForm(), refused=exc.message)
    return _upload(request)


@csrf_protect
def _upload(request: HttpRequest) -> HttpResponse:
    """The extract matched with the registry (nothing but the reconciliation is written): its
    result page, or the form with why the file is refused."""
    form = ReconciliationUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _list_page(request, form)
    upload = form.cleaned_data["berkas"]
    try:
        upload_size_check(upload.size, limit=settings.UCJ_RECONCILE_MAX_BYTES)
        record = reconcile_services.reconciliation_record(
            actor=Actor(user=_signed_in(request), source=EventSource.RECONCILIATION),
            file_name=upload.name or "",
            data=upload.read(),
            nik_hashed=form.cleaned_data["hash_nik"],
            before_matching=None
            if can_see_personal_data(request)
            else lambda rows, checksum: nik_lookups_record(
                request=request, lookups=rows, field="berkas", looked_up=f"file_sha256={checksum}"
            ),
        )
    except ImportFileError as exc:
        form.add_error("berkas", exc.message)
        return _list_page(request, form)
    except ServiceError as exc:  # no branch secret for keyed hashes; too many NIK lookups
        form.add_error("hash_nik" if exc.field == "nik_hashed" else "berkas", exc.message)
        return _list_page(request, form)
    return redirect("portal:reconciliation", pk=record.pk)


def _visible(request: HttpRequest, pk: int) -> Reconciliation:
    user = request.user
    return get_object_or_404(reconcile_services.reconciliations_visible(user=user, scope=scope_for(user)), pk=pk)


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _rows_shown(request: HttpRequest, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The API's rows with what the registry holds of each matched worker and candidate (village,
    status, paid-until, name), read in one query within the caller's scope."""
    ids = {row["worker"] for row in rows if row["worker"] is not None}
    for row in rows:
        ids.update(c["worker"] for c in row["candidates"] or [])
    workers = {
        values["pk"]: values
        for values in scope_for(request.user)
        .filter(ApparatusWorker.objects.filter(pk__in=ids))
        .values("pk", "full_name", "village__name", "enrollment_status", "enrollment__paid_until")
    }
    shown = []
    for row in rows:
        worker = workers.get(row["worker"]) if row["worker"] is not None else None
        candidates = []
        for candidate in row["candidates"] or []:
            values = workers.get(candidate["worker"])
            if values is not None:
                candidates.append({**candidate, "name": values["full_name"], "village": values["village__name"]})
        shown.append(
            {
                **row,
                "registry": worker,
                "registry_status": _label(EnrollmentStatus, worker["enrollment_status"]) if worker else "",
                "proposed_label": _label(EventKind, row["proposed"]) if row["proposed"] else "",
                "decision_label": _label(ReconciliationDecision, row["decision"]),
                "shown_candidates": candidates,
                "choosable": row["outcome"] in REJECTABLE and row["decision"] == ReconciliationDecision.PENDING,
            }
        )
    return shown


@login_required
@in_portal_language
@capability_required(Capability.RECONCILE)
def reconciliation(request: HttpRequest, pk: int) -> HttpResponse:
    """One reconciliation: its counts by outcome (tabs) and the rows of one outcome, 50 a page;
    for those who may apply, the rows to choose and the buttons that accept them."""
    record = _visible(request, pk)
    counts = record.counts or {}
    outcome = request.GET.get("hasil", "")
    if outcome not in Out.values:
        outcome = next((str(o) for o in OUTCOMES if counts.get(str(o))), str(Out.ACTIVATE))
    user = request.user
    rows = reconcile_services.rows_visible(record, user=user, scope=scope_for(user)).filter(outcome=outcome)
    page = Paginator(rows.order_by("id"), PAGE_SIZE).get_page(request.GET.get("halaman"))
    data = ReconciliationRowSerializer(list(page), many=True, context={"request": request}).data
    # As the API's rows: full personal data shown is logged.
    worker_ids = [row["worker"] for row in data if row["worker"] is not None]
    if worker_ids and can_see_personal_data(request):
        access_log_write(request=request, kind=AccessKind.PERSONAL_DATA, worker_ids=worker_ids)
    may_apply = scope_for(user).can(Capability.MANAGE_ENROLLMENT)
    shown = _rows_shown(request, [dict(row) for row in data])
    context = {
        "record": record,
        "counts": _counted(counts),
        "outcome": outcome,
        "outcome_label": _label(Out, outcome),
        "page": page,
        "rows": shown,
        "applicable": outcome in APPLICABLE,
        "may_apply": may_apply and outcome in APPLICABLE,
        "choosable": may_apply and any(row["choosable"] for row in shown),
        "pending": rows.filter(decision=ReconciliationDecision.PENDING).count() if outcome in APPLICABLE else 0,
    }
    return render(request, "portal/reconciliation.html", context)


@login_required
@in_portal_language
@capability_required(Capability.MANAGE_ENROLLMENT)
@require_POST
def reconciliation_apply(request: HttpRequest, pk: int) -> HttpResponse:
    """Accept every row of one outcome (`hasil`) or the rows chosen (`baris`): first a page that
    says what will be applied, then (with `yakin`) `reconciliation_apply` as the API calls it.
    Every row of an outcome some of whose rows were rejected is its pending rows, by id."""
    record = _visible(request, pk)
    outcome = request.POST.get("hasil", "")
    chosen = request.POST.getlist("baris")
    data: dict[str, list[Any]] = {"rows": chosen} if chosen else {"outcomes": [outcome]}
    if not chosen and outcome in APPLICABLE:
        user = request.user
        of_outcome = reconcile_services.rows_visible(record, user=user, scope=scope_for(user)).filter(outcome=outcome)
        if of_outcome.filter(decision=ReconciliationDecision.REJECTED).exists():
            data = {
                "rows": list(of_outcome.filter(decision=ReconciliationDecision.PENDING).values_list("pk", flat=True))
            }
    body = ApplySerializer(data=data)
    back = redirect(f"{_detail_url(record.pk)}?hasil={outcome}" if outcome in Out.values else _detail_url(record.pk))
    if not body.is_valid():
        messages.error(request, _("Choose the rows to accept, or accept every row of one outcome."))
        return back
    if not request.POST.get("yakin"):
        user = request.user
        rows = reconcile_services.rows_visible(record, user=user, scope=scope_for(user))
        count = rows.filter(pk__in=body.validated_data["rows"]).count() if chosen else 0
        if not chosen:
            count = rows.filter(outcome=outcome, decision=ReconciliationDecision.PENDING).count()
        context = {
            "record": record,
            "outcome": outcome,
            "outcome_label": _label(Out, outcome) if outcome in Out.values else "",
            "chosen": chosen,
            "count": count,
        }
        return render(request, "portal/reconciliation_confirm.html", context)
    try:
        applied = reconcile_services.reconciliation_apply(
            actor=Actor(user=_signed_in(request), source=EventSource.RECONCILIATION),
            reconciliation=record,
            outcomes=body.validated_data.get("outcomes"),
            row_ids=body.validated_data.get("rows"),
        )
    except ServiceError as exc:  # 409: already applied, or a worker changed since the check
        messages.error(request, exc.message)
        return back
    messages.success(
        request,
        _("Applied: %(activate)d activated, %(renew)d renewed, %(lapse)d lapsed.")
        % {key: applied.get(key, 0) for key in ("activate", "renew", "lapse")},
    )
    return back


def _detail_url(pk: int) -> str:
    return reverse("portal:reconciliation", args=[pk])


@login_required
@in_portal_language
@capability_required(Capability.MANAGE_ENROLLMENT)
@require_POST
def reconciliation_reject(request: HttpRequest, pk: int) -> HttpResponse:
    """Reject the rows chosen (`baris`) as the API's reject does: only their decision changes."""
    record = _visible(request, pk)
    outcome = request.POST.get("hasil", "")
    back = redirect(f"{_detail_url(record.pk)}?hasil={outcome}" if outcome in Out.values else _detail_url(record.pk))
    body = RejectSerializer(data={"rows": request.POST.getlist("baris")})
    if not body.is_valid():
        messages.error(request, _("Choose the rows to reject."))
        return back
    try:
        rejected = reconcile_services.reconciliation_rows_reject(
            actor=Actor(user=_signed_in(request), source=EventSource.RECONCILIATION),
            reconciliation=record,
            row_ids=body.validated_data["rows"],
        )
    except ServiceError as exc:  # 409: already applied
        messages.error(request, exc.message)
        return back
    messages.success(request, _("Rejected: %(n)d rows.") % {"n": rejected})
    return back
