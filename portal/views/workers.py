"""Workers: the list (the API's filters and search), one worker with its enrollment and history,
the register and edit forms, and the enrollment's transitions as buttons.

Everything goes through what the API uses: the list's selector, filterset and scope
(WorkerViewSet.list), its serializers for the shape of what is sent, the services for every
write (with the portal as the event's source), the same masking and access log."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from rest_framework import serializers

from access.choices import AccessKind, Capability
from access.context import may_see_personal_data, scope_for
from access.masking import nik_mask
from access.services import access_log_write, nik_lookups_record
from core.api.pagination import BoundedPaginator
from core.codes import code_prefix, region_code
from core.errors import ServiceError, StaleVersionError
from core.routing import replica_reads
from enrollment import selectors, services, transitions
from enrollment.api.serializers import ActivateSerializer, RenewSerializer, TransitionSerializer, WorkerWriteSerializer
from enrollment.choices import EnrollmentStatus, EventKind, EventSource, Institution, Program
from enrollment.filtersets import WorkerFilterSet
from enrollment.masking import changes_masked
from enrollment.models import ApparatusWorker, EnrollmentEvent
from enrollment.nik import phone_mask
from villages.models import IN_FORCE, Village

from ..language import in_portal_language
from ..permissions import capability_required
from ..worker_forms import (
    ActivateForm,
    RenewForm,
    TransitionForm,
    WorkerForm,
    serializer_data,
    serializer_errors,
    service_errors,
)
from .common import codes_dotted

PAGE_SIZE = 50
# The villages a register form lists without a search (a regency's all; a province's first ones).
VILLAGES_LISTED = 500
VILLAGES_FOUND = 20
REGION_FILTERS = ("province", "regency", "district", "village")

Service = Callable[..., ApparatusWorker]


def actor_for(request: HttpRequest) -> services.Actor:
    return services.Actor(user=request.user, source=EventSource.PORTAL)  # type: ignore[arg-type]  # logged in


def _worker_or_404(request: HttpRequest, pk: int) -> ApparatusWorker:
    """The worker if it is in the caller's regions (WorkerViewSet.get_queryset), else 404."""
    worker = scope_for(request.user).filter(selectors.worker_list()).filter(pk=pk).first()
    if worker is None:
        raise Http404
    return worker


def _page_of(queryset: Any, number: str | None) -> Any:
    """A page of 50, counted as the API counts (up to UCJ_LIST_COUNT_LIMIT); a page that is not
    there is the first."""
    paginator = BoundedPaginator(queryset, PAGE_SIZE, limit=settings.UCJ_LIST_COUNT_LIMIT)
    try:
        return paginator.page(number or 1)
    except (EmptyPage, PageNotAnInteger):
        return paginator.page(1)


# --- the list ------------------------------------------------------------------------------------


@login_required
@codes_dotted(*REGION_FILTERS)
@in_portal_language
@capability_required(Capability.READ_WORKERS)
@replica_reads()  # the page may come from a replica (core.routing)
def workers(request: HttpRequest) -> HttpResponse:
    """The workers of the caller's regions, 50 a page with their count: searched by a part of
    the name or a whole NIK, filtered as the API's list is (the same parameters)."""
    scope = scope_for(request.user)
    personal = may_see_personal_data(request.user)
    filters = QueryDict(mutable=True)
    for name in WorkerFilterSet.base_filters:
        if name in request.GET:
            filters.setlist(name, request.GET.getlist(name))
    filterset = WorkerFilterSet(data=filters, queryset=scope.filter(selectors.worker_page()), request=request)
    errors: list[str] = []
    page = None
    try:
        if filterset.is_valid():
            page = _page_of(filterset.qs.order_by("id"), request.GET.get("halaman"))
        else:
            errors = [f"{name}: {message}" for name, items in filterset.errors.items() for message in items]
    except ServiceError as exc:  # too many NIK lookups (access.services.nik_lookups_record)
        errors = [exc.message]
    rows = list(page) if page is not None else []
    names = dict(Village.objects.filter(pk__in={w.village_id for w in rows}).values_list("pk", "name"))
    if rows and personal:
        access_log_write(request=request, kind=AccessKind.PERSONAL_DATA, worker_ids=[w.pk for w in rows])
    kept = {name: values for name, values in filters.lists() if any(values)}
    context = {
        "page": page,
        "count": page.paginator.count if page is not None else 0,
        "count_limit": settings.UCJ_LIST_COUNT_LIMIT,
        "rows": [
            {
                "worker": w,
                "nik": w.nik if personal else nik_mask(w.nik),
                "village_name": names.get(w.village_id, ""),
            }
            for w in rows
        ],
        "errors": errors,
        "search": request.GET.get("search", ""),
        "statuses": EnrollmentStatus.choices,
        "status": request.GET.getlist("status"),
        "institutions": Institution.choices,
        "institution": request.GET.getlist("institution"),
        "protected": request.GET.get("protected", ""),
        "serving": request.GET.get("serving", ""),
        "regions": [(name, kept[name][0]) for name in REGION_FILTERS if name in kept],
        "query": urlencode([(k, v) for k, values in kept.items() for v in values]),
        "can_register": scope.can(Capability.WRITE_WORKERS),
    }
    return render(request, "portal/workers.html", context)


# --- one worker ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sentence:
    date: datetime.date
    text: str
    kind: str


def _actor(event: EnrollmentEvent) -> str:
    if event.source == EventSource.SYSTEM:
        return _("the system")
    return event.actor_label or _("someone")


def _value(value: Any) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, str) and len(value) == 10 and value[4:5] == "-":
        try:
            return formats.date_format(datetime.date.fromisoformat(value), "j M Y")
        except ValueError:
            return value
    return str(value)


def _field_label(name: str) -> str:
    try:
        field = ApparatusWorker._meta.get_field(name)
    except FieldDoesNotExist:  # a field no longer there
        return name.replace("_", " ")
    return str(getattr(field, "verbose_name", name))


def history_sentences(events: list[EnrollmentEvent], *, personal: bool) -> list[Sentence]:
    """A worker's history as sentences ("3 Mar 2024 — activated by bpjs.muarabungo, KPJ …"),
    its changes masked as the API's history masks them for a caller without the right."""
    sentences = []
    for event in events:
        changes = event.changes if personal else changes_masked(event.changes)
        new = {field: values[1] for field, values in changes.items()}
        who = {"actor": _actor(event)}
        if event.kind == EventKind.REGISTERED:
            text = _("registered by %(actor)s in village %(village)s") % {**who, "village": new.get("village", "—")}
        elif event.kind == EventKind.UPDATED:
            changed = "; ".join(
                f"{_field_label(field)}: {_value(values[0])} → {_value(values[1])}" for field, values in changes.items()
            )
            text = _("data changed by %(actor)s: %(changes)s") % {**who, "changes": changed}
        elif event.kind == EventKind.SUBMITTED:
            text = _("submitted for enrollment by %(actor)s") % who
        elif event.kind == EventKind.ACTIVATED:
            text = _("activated by %(actor)s, KPJ %(kpj)s") % {**who, "kpj": new.get("kpj_number", "—")}
        elif event.kind == EventKind.RENEWED:
            text = _("renewed by %(actor)s, paid until %(date)s") % {**who, "date": _value(new.get("paid_until"))}
        elif event.kind == EventKind.LAPSED:
            text = _("membership lapsed, recorded by %(actor)s") % who
        elif event.kind == EventKind.SERVICE_ENDED:
            text = _("service ended, recorded by %(actor)s") % who
        else:
            text = f"{event.get_kind_display()} ({_actor(event)})"
        sentences.append(Sentence(date=event.effective_date, text=text, kind=event.kind))
    return sentences


# The transitions a worker's page offers: its URL name, the table's kind, the capability the
# API's action needs (WorkerViewSet.required_capabilities) and the button's label.
ACTIONS: tuple[tuple[str, str, str], ...] = (
    ("worker_submit", EventKind.SUBMITTED, Capability.WRITE_WORKERS),
    ("worker_activate", EventKind.ACTIVATED, Capability.MANAGE_ENROLLMENT),
    ("worker_renew", EventKind.RENEWED, Capability.MANAGE_ENROLLMENT),
    ("worker_lapse", EventKind.LAPSED, Capability.MANAGE_ENROLLMENT),
    ("worker_end_service", EventKind.SERVICE_ENDED, Capability.WRITE_WORKERS),
)


def actions_allowed(request: HttpRequest, worker: ApparatusWorker) -> set[str]:
    """The transitions the caller may do (its capability) that the table allows from the status."""
    scope = scope_for(request.user)
    status = worker.enrollment.status
    return {
        name for name, kind, capability in ACTIONS if scope.can(capability) and transitions.TABLE[kind].allows(status)
    }


def activate_form_for(worker: ApparatusWorker, data: QueryDict | None = None) -> ActivateForm:
    """The activation form of `worker`: empty (its version read now, the two required programs
    ticked), or with what was posted. What a page embedding `portal/activate_form.html` passes
    as `form`; its inputs' ids name the worker, so that a page may hold the forms of many."""
    auto_id = f"activate-{worker.pk}-%s"
    if data is not None:
        return ActivateForm(data, auto_id=auto_id)
    return ActivateForm(initial={"version": worker.version, "programs": ["jkk", "jkm"]}, auto_id=auto_id)


def _worker_page(
    request: HttpRequest,
    worker: ApparatusWorker,
    *,
    activate_form: ActivateForm | None = None,
    renew_form: RenewForm | None = None,
    status: int = 200,
) -> HttpResponse:
    personal = may_see_personal_data(request.user)
    events = list(selectors.worker_history(worker_id=worker.pk))
    enrollment = worker.enrollment
    context = {
        "worker": worker,
        "enrollment": enrollment,
        "nik": worker.nik if personal else nik_mask(worker.nik),
        "birth_date": worker.birth_date if personal else None,
        "phone": worker.phone if personal else phone_mask(worker.phone),
        "personal": personal,
        "programs": [label for value, label in _program_labels() if value in enrollment.programs]
        if enrollment.kpj_number
        else [],
        "history": history_sentences(events, personal=personal),
        "actions": actions_allowed(request, worker),
        "can_edit": scope_for(request.user).can(Capability.WRITE_WORKERS) and worker.serving,
        "activate_form": activate_form or activate_form_for(worker),
        "renew_form": renew_form or RenewForm(initial={"version": worker.version}),
        "transition_form": TransitionForm(initial={"version": worker.version}),
    }
    if personal:
        access_log_write(request=request, kind=AccessKind.PERSONAL_DATA, worker_ids=[worker.pk])
    return render(request, "portal/worker.html", context, status=status)


def _program_labels() -> list[tuple[str, str]]:
    return [(str(value), str(label)) for value, label in Program.choices]


@login_required
@in_portal_language
@capability_required(Capability.READ_WORKERS)
def worker(request: HttpRequest, pk: int) -> HttpResponse:
    """One worker (masked as the API masks), its enrollment, its history as sentences, and the
    buttons of the transitions the caller may do from its status."""
    return _worker_page(request, _worker_or_404(request, pk))


# --- transitions ---------------------------------------------------------------------------------


def changed_by(worker_id: int) -> dict[str, str]:
    """Who last changed the worker and at what time (its last event): for "changed by X at 10:42"."""
    last = selectors.worker_history(worker_id=worker_id).last()
    if last is None:
        return {"user": _("someone"), "time": ""}
    return {"user": _actor(last), "time": formats.time_format(timezone.localtime(last.recorded_at), "H:i")}


def stale_message(worker_id: int) -> str:
    return _("Changed by %(user)s at %(time)s") % changed_by(worker_id)


def _transition_written(
    request: HttpRequest,
    worker: ApparatusWorker,
    serializer_class: type[serializers.Serializer[Any]],
    service: Service,
) -> tuple[ApparatusWorker | None, dict[str | None, list[str]]]:
    """Validate what was posted with the API's serializer, then call the service (as
    WorkerViewSet._transition does): the worker written, or the errors by field."""
    data, _blank = serializer_data(request.POST, serializer_class())
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        return None, serializer_errors(serializer.errors)
    values = dict(serializer.validated_data)
    version = values.pop("version", None)
    if "programs" in values:
        values["programs"] = sorted(values["programs"])
    try:
        written = service(actor=actor_for(request), worker_id=worker.pk, expected_version=version, **values)
    except StaleVersionError:
        return None, {None: [f"{stale_message(worker.pk)} — {_('reload')}"]}
    except ServiceError as exc:
        return None, service_errors(exc)
    return written, {}


DONE: dict[str, Callable[[], str]] = {
    EventKind.SUBMITTED: lambda: _("Submitted for enrollment."),
    EventKind.ACTIVATED: lambda: _("Membership activated."),
    EventKind.RENEWED: lambda: _("Membership renewed."),
    EventKind.LAPSED: lambda: _("Membership lapsed."),
    EventKind.SERVICE_ENDED: lambda: _("Service ended."),
}


def _to_worker(pk: int) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("portal:worker", args=[pk]))


def _simple_transition(request: HttpRequest, pk: int, kind: str, service: Service) -> HttpResponse:
    worker = _worker_or_404(request, pk)
    written, errors = _transition_written(request, worker, TransitionSerializer, service)
    if written is None:
        labels = {name: field.label for name, field in TransitionForm.base_fields.items() if field.label}
        for field, items in errors.items():
            for message in items:
                messages.error(request, f"{labels[field]}: {message}" if field in labels else message)
    else:
        messages.success(request, DONE[kind]())
    return _to_worker(pk)


@require_POST
@login_required
@in_portal_language
@capability_required(Capability.WRITE_WORKERS)
def worker_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _simple_transition(request, pk, EventKind.SUBMITTED, services.enrollment_submit)


@require_POST
@login_required
@in_portal_language
@capability_required(Capability.MANAGE_ENROLLMENT)
def worker_lapse(request: HttpRequest, pk: int) -> HttpResponse:
    return _simple_transition(request, pk, EventKind.LAPSED, services.enrollment_lapse)


@require_POST
@login_required
@in_portal_language
@capability_required(Capability.WRITE_WORKERS)
def worker_end_service(request: HttpRequest, pk: int) -> HttpResponse:
    return _simple_transition(request, pk, EventKind.SERVICE_ENDED, services.worker_end_service)


@require_POST
@login_required
@in_portal_language
@capability_required(Capability.MANAGE_ENROLLMENT)
def worker_activate(request: HttpRequest, pk: int) -> HttpResponse:
    """Activate a worker's membership from the form of `portal/activate_form.html`, on the worker's
    page or any page embedding it. Asked by htmx: the form again with its errors, or a short
    "activated" fragment; otherwise the worker's page (with the errors, or a message)."""
    worker = _worker_or_404(request, pk)
    written, errors = _transition_written(request, worker, ActivateSerializer, services.enrollment_activate)
    if written is not None:
        written.enrollment.refresh_from_db()
        if request.htmx:  # type: ignore[attr-defined]  # django-htmx's middleware
            return render(request, "portal/activate_done.html", {"worker": written})
        messages.success(request, DONE[EventKind.ACTIVATED]())
        return _to_worker(pk)
    form = activate_form_for(worker, request.POST)
    form.errors_attach(errors)
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "portal/activate_form.html", {"worker": worker, "form": form})
    return _worker_page(request, worker, activate_form=form, status=400)


@require_POST
@login_required
@in_portal_language
@capability_required(Capability.MANAGE_ENROLLMENT)
def worker_renew(request: HttpRequest, pk: int) -> HttpResponse:
    worker = _worker_or_404(request, pk)
    written, errors = _transition_written(request, worker, RenewSerializer, services.enrollment_renew)
    if written is not None:
        messages.success(request, DONE[EventKind.RENEWED]())
        return _to_worker(pk)
    form = RenewForm(request.POST)
    form.errors_attach(errors)
    return _worker_page(request, worker, renew_form=form, status=400)


# --- register and edit ---------------------------------------------------------------------------


def _villages(request: HttpRequest, chosen: str | None = None) -> list[tuple[str, str]]:
    """The villages a register form offers without a search: the caller's, up to
    VILLAGES_LISTED (with the one already chosen, if any, in scope)."""
    villages = (
        scope_for(request.user).filter(Village.objects.filter(IN_FORCE).select_related("district")).order_by("code")
    )
    listed = list(villages[:VILLAGES_LISTED])
    chosen = region_code(chosen) or chosen  # a form may send `1508012001` (core.codes)
    if chosen and all(v.code != chosen for v in listed):
        listed += list(villages.filter(code=chosen))
    return [(v.code, _village_label(v)) for v in listed]


def _village_label(village: Village) -> str:
    return f"{village.name} — {village.district.name} ({village.code})"


@require_GET
@login_required
@in_portal_language
@capability_required(Capability.WRITE_WORKERS)
def village_options(request: HttpRequest) -> HttpResponse:
    """The village picker's options (htmx): villages of the caller's regions whose name holds
    `q` or whose code starts with it, at most 20."""
    q = request.GET.get("q", "").strip()
    villages = scope_for(request.user).filter(Village.objects.filter(IN_FORCE).select_related("district"))
    if q:
        by_code = q.replace(" ", "")
        if by_code.replace(".", "").isdigit():  # the first digits of a code, either spelling (core.codes)
            villages = villages.filter(code__startswith=code_prefix(by_code))
        else:
            villages = villages.filter(name__icontains=q)
    found = [(v.code, _village_label(v)) for v in villages.order_by("name", "code")[:VILLAGES_FOUND]]
    return render(request, "portal/village_options.html", {"villages": found, "q": q})


def _worker_form_page(
    request: HttpRequest, form: WorkerForm, *, worker: ApparatusWorker | None = None, **extra: Any
) -> HttpResponse:
    context = {"form": form, "worker": worker, "personal": may_see_personal_data(request.user), **extra}
    status = 400 if form.errors else 409 if extra.get("stale") else 200
    return render(request, "portal/worker_form.html", context, status=status)


@login_required
@in_portal_language
@capability_required(Capability.WRITE_WORKERS)
def worker_new(request: HttpRequest) -> HttpResponse:
    """Register a worker in one of the caller's villages, checked as the API's create checks it."""
    if request.method != "POST":
        return _worker_form_page(request, WorkerForm(villages=_villages(request)))
    form = WorkerForm(request.POST, villages=_villages(request, request.POST.get("village")))
    data, _blank = serializer_data(request.POST, WorkerWriteSerializer())
    data.pop("version", None)
    serializer = WorkerWriteSerializer(data=data)
    if not serializer.is_valid():
        form.errors_attach(serializer_errors(serializer.errors))
        return _worker_form_page(request, form)
    values = dict(serializer.validated_data)
    values.pop("version", None)
    try:
        nik_lookups_record(request=request, lookups=1, looked_up=urlencode({"nik": values["nik"]}))
        written = services.worker_register(actor=actor_for(request), **values)
    except ServiceError as exc:
        form.errors_attach(service_errors(exc))
        return _worker_form_page(request, form)
    messages.success(request, _("Worker %(name)s registered.") % {"name": written.full_name})
    return _to_worker(written.pk)


def _edit_initial(worker: ApparatusWorker, *, personal: bool) -> dict[str, Any]:
    initial = {name: getattr(worker, name) for name in services.WORKER_FIELDS}
    initial["village"] = worker.village.code
    initial["version"] = worker.version
    if not personal:  # never sent to a caller who may not see them: left empty, kept unless typed
        for name in services.PERSONAL_FIELDS:
            initial[name] = ""
    return initial


@login_required
@in_portal_language
@capability_required(Capability.WRITE_WORKERS)
def worker_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a worker's data, with the version read: a change by someone else meanwhile is
    explained ("changed by X at 10:42 — reload") and what was typed is kept."""
    worker = _worker_or_404(request, pk)
    personal = may_see_personal_data(request.user)
    extra = {"masked_nik": nik_mask(worker.nik), "has_phone": bool(worker.phone)}
    if not worker.serving:
        messages.error(request, _("This worker's service has ended; ended records cannot be edited."))
        return _to_worker(pk)
    if request.method != "POST":
        form = WorkerForm(
            initial=_edit_initial(worker, personal=personal), villages=_villages(request, worker.village.code)
        )
        return _worker_form_page(request, form, worker=worker, **extra)
    form = WorkerForm(request.POST, villages=_villages(request, request.POST.get("village")))
    write = WorkerWriteSerializer()
    data, blank = serializer_data(request.POST, write, blanks=True)
    if not personal:
        for name in services.PERSONAL_FIELDS:  # left empty: kept as it is
            if data.get(name) in ("", None):
                data.pop(name, None)
            blank.discard(name)
    serializer = WorkerWriteSerializer(data=data, partial=True)
    errors: dict[str | None, list[str]] = {}
    if not serializer.is_valid():
        errors = serializer_errors(serializer.errors)
    for name in sorted(blank):  # emptied: as the API's full update refuses a required field left out
        errors.setdefault(name, []).append(str(write.fields[name].error_messages["required"]))
    if errors:
        form.errors_attach(errors)
        return _worker_form_page(request, form, worker=worker, **extra)
    changes = dict(serializer.validated_data)
    version = changes.pop("version", None)
    try:
        if "nik" in changes:
            nik_lookups_record(request=request, lookups=1, looked_up=urlencode({"nik": changes["nik"]}))
        services.worker_update(actor=actor_for(request), worker_id=pk, changes=changes, expected_version=version)
    except StaleVersionError:
        form.errors_attach({})
        return _worker_form_page(request, form, worker=worker, stale=changed_by(pk), **extra)
    except ServiceError as exc:
        form.errors_attach(service_errors(exc))
        return _worker_form_page(request, form, worker=worker, **extra)
    messages.success(request, _("Changes saved."))
    return _to_worker(pk)
