"""Worklists: what a branch or an office has to act on, each with its count and filters."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from access.choices import AccessKind, Capability
from access.context import may_see_personal_data, scope_for
from access.scope import Scope
from access.services import access_log_export, access_log_write
from core.api.renderers import neutralise_cell
from core.clock import today
from core.errors import ServiceError
from core.routing import replica_reads
from coverage.figures import coverage_pct
from coverage.selectors.unprotected import UnprotectedVillageRow, unprotected_villages
from enrollment import selectors
from enrollment.choices import EnrollmentStatus, FundingSource, Institution, Position, Sex
from enrollment.exports import rows_counted, workers_export_count, workers_export_ids
from enrollment.filtersets import WorkerFilterSet
from enrollment.models import ApparatusWorker
from enrollment.nik import birth_date_mask, nik_mask, phone_mask
from jobs.services import job_enqueue
from villages.models import IN_FORCE, Regency

from ..language import in_portal_language
from ..maps import choropleth
from ..permissions import capability_required, export_required
from ..reports import Column, Report, title_details, xlsx_response
from .common import codes_dotted, scope_label
from .workers import activate_form_for

PAGE_SIZE = 50
# The background job that makes a long worklist's spreadsheet (portal.jobs).
EXPORT_WORKLIST = "export_worklist"
DAYS = 30  # how far ahead (and back) the renewal and term worklists look


@login_required
@codes_dotted("kabupaten", "desa")
@in_portal_language
@capability_required(Capability.READ_COVERAGE)
@replica_reads()  # the figures may come from a replica (core.routing)
def unprotected(request: HttpRequest) -> HttpResponse:
    """The villages with unprotected workers today, most unprotected first: the caller's (a
    branch's territory), or one of its regencies; a page of 50 at a time, with the count."""
    scope = scope_for(request.user)
    regencies = list(
        scope.filter(Regency.objects.filter(IN_FORCE), regency="pk").order_by("code").values_list("code", "name")
    )
    regency = request.GET.get("kabupaten") or None
    if regency not in {code for code, _name in regencies}:
        regency = None
    rows = unprotected_villages(scope=scope, regency=regency)
    if request.GET.get("unduh") == "xlsx":
        return _unprotected_report(request, rows, regency=dict(regencies).get(regency) if regency else None)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("halaman"))
    villages = [
        SimpleNamespace(
            code=row["village__code"],
            name=row["village__name"],
            serving=row["serving_sum"],
            protected=row["protected_sum"],
            unprotected=row["unprotected"],
            coverage_pct=coverage_pct(row["protected_sum"], row["serving_sum"]),
        )
        for row in rows
    ]
    context = {
        "page": page,
        "count": page.paginator.count,
        # Every village of the list (not only this page's), by its unprotected workers.
        "map": choropleth(
            villages, "village", measure="unprotected", link=lambda code: reverse("portal:coverage", args=[code])
        ),
        "regencies": regencies,
        "regency": regency,
        "today": today(),
        "may_export": scope.can(Capability.EXPORT),
    }
    return render(request, "portal/unprotected.html", context)


def _unprotected_report(
    request: HttpRequest, rows: Iterable[UnprotectedVillageRow], regency: str | None
) -> HttpResponse:
    """The worklist as a spreadsheet for people: every village of the list (not a page of it)."""
    export_required(request)
    region = scope_label(request.user) + (f" — {regency}" if regency else "")
    report = Report(
        title=_("Villages with unprotected workers — %(region)s, %(date)s")
        % {"region": region, "date": date_format(today(), "j F Y")},
        details=title_details(region=region, as_of=today(), user=request.user, generated=localtime()),
        columns=[
            Column(_("Village code"), width=15),
            Column(_("Village")),
            Column(_("District")),
            Column(_("Regency/city")),
            Column(_("Serving"), "integer"),
            Column(_("Protected"), "integer"),
            Column(_("Unprotected"), "integer"),
            Column(_("Coverage"), "percent"),
        ],
        sheet=_("Unprotected villages"),
    )
    listed = [
        (
            row["village__code"],
            row["village__name"],
            row["district__name"],
            row["regency__name"],
            row["serving_sum"],
            row["protected_sum"],
            row["unprotected"],
            coverage_pct(row["protected_sum"], row["serving_sum"]),
        )
        for row in rows
    ]
    access_log_export(request=request, rows=len(listed))
    return xlsx_response(report.workbook(listed), f"desa-belum-terlindungi-{today().isoformat()}.xlsx")


# --- worklists of workers --------------------------------------------------------------------
# Each reads the workers an API list would give the caller (its scope, the API's selectors and
# filterset), needs the capability the API's worker list needs (`read_workers`), and downloads as
# the API's worker export does: the `export` capability, every exported worker named in the access
# log, NIK, birth date and phone masked for a caller without the personal-data right.


@dataclass(frozen=True)
class Filters:
    """What a worklist is narrowed to: a regency of the caller's (`kabupaten`), a village by its
    code (`desa`), an institution (`lembaga`); the regencies the caller may choose from."""

    regencies: list[tuple[str, str]]
    regency: str | None
    village: str | None
    institution: str | None

    @classmethod
    def read(cls, query: QueryDict, scope: Scope) -> Filters:
        """The filters of a worklist's query (the page's, or the one its export job was asked with)."""
        regencies = list(
            scope.filter(Regency.objects.filter(IN_FORCE), regency="pk").order_by("code").values_list("code", "name")
        )
        regency = query.get("kabupaten") or None
        if regency not in {code for code, _name in regencies}:
            regency = None  # not one of the caller's: the whole list, as the unprotected villages do
        institution = query.get("lembaga") or None
        if institution not in Institution.values:
            institution = None
        village = (query.get("desa") or "").strip()[:20] or None  # dotted (codes_dotted)
        return cls(regencies=regencies, regency=regency, village=village, institution=institution)

    def applied(self, rows: QuerySet[ApparatusWorker]) -> QuerySet[ApparatusWorker]:
        """`rows` narrowed by the API's own worker filters (enrollment.filtersets); none of them
        looks a NIK up, so no request is needed to count one."""
        data = QueryDict(mutable=True)
        for name, value in (("regency", self.regency), ("village", self.village), ("institution", self.institution)):
            if value:
                data[name] = value
        filterset = WorkerFilterSet(data=data, queryset=rows)
        # A village that is no code (`desa=15.8`) names no village: nothing, not the whole list.
        return filterset.qs if filterset.is_valid() else rows.none()

    def query(self, **extra: str) -> str:
        """The filters as a query string (for the pages' and the download's links)."""
        data = QueryDict(mutable=True)
        for name, value in (
            *extra.items(),
            ("kabupaten", self.regency),
            ("desa", self.village),
            ("lembaga", self.institution),
        ):
            if value:
                data[name] = value
        return data.urlencode()

    def label(self) -> str:
        """The filters, as a report's title block names them."""
        parts = [name for code, name in self.regencies if code == self.regency]
        if self.village:
            parts.append(self.village)
        if self.institution:
            parts.append(str(Institution(self.institution).label))
        return ", ".join(parts)


@dataclass(frozen=True)
class Row:
    """A worker as a worklist shows it: its NIK as the caller may see it."""

    worker: ApparatusWorker
    nik: str
    form: Any = None  # the activation form of the queue's row, for those who may activate


# A worklist's own columns in its spreadsheet: the column and how a worker fills it.
Extra = tuple[Column, Callable[[ApparatusWorker], Any]]


def _worker_columns(extra: Sequence[Extra], personal_data: bool) -> tuple[list[Column], Callable[..., list[Any]]]:
    """The columns every worker report has (as the API's export: NIK, birth date and phone masked
    for a caller without the personal-data right), then the list's own."""
    columns = [
        Column(_("Worker ID"), "integer", width=11),
        Column(_("NIK"), width=19),
        Column(_("Full name"), width=28),
        Column(_("Sex"), width=11),
        Column(_("Birth date"), "date"),
        Column(_("Phone"), width=16),
        Column(_("Institution"), width=28),
        Column(_("Position"), width=20),
        Column(_("Village code"), width=15),
        Column(_("Village")),
        Column(_("District")),
        Column(_("Regency/city")),
        Column(_("Term start"), "date"),
        Column(_("Term end"), "date"),
        Column(_("Enrollment status"), width=16),
        *(column for column, _value in extra),
    ]

    def row(worker: ApparatusWorker) -> list[Any]:
        # Text a person typed (a name) is kept from being read as a formula, as the API's export does.
        return [neutralise_cell(value) for value in _values(worker)]

    def _values(worker: ApparatusWorker) -> list[Any]:
        return [
            worker.pk,
            worker.nik if personal_data else nik_mask(worker.nik),
            worker.full_name,
            str(Sex(worker.sex).label),
            worker.birth_date if personal_data else birth_date_mask(worker.birth_date),
            worker.phone if personal_data else phone_mask(worker.phone),
            str(Institution(worker.institution).label),
            str(Position(worker.position).label),
            worker.village.code,
            worker.village.name,
            worker.district.name,
            worker.regency.name,
            worker.term_start,
            worker.term_end,
            str(EnrollmentStatus(worker.enrollment_status).label),
            *(value(worker) for _column, value in extra),
        ]

    return columns, row


@dataclass(frozen=True)
class Worklist:
    """A worklist of workers as its query gives it: its rows (the caller's, filtered), its filters,
    and what its spreadsheet is called and holds beyond the columns every worker report has."""

    name: str  # its key in WORKLISTS (what an export job is asked for)
    rows: QuerySet[ApparatusWorker]
    filters: Filters
    title: str
    sheet: str
    filename: str
    extra: Sequence[Extra] = ()
    context: dict[str, Any] = field(default_factory=dict)  # what its page shows besides


def worklist_workbook(
    *,
    user: Any,
    worklist: Worklist,
    logged: Callable[[list[int]], object],
    progress: Callable[[str, int, int | None], None] | None = None,
) -> tuple[bytes, str, int]:
    """Every worker of the worklist (not a page of it) as a spreadsheet for people, its file name
    and its rows: an export as the API's worker export is (enrollment.exports): bounded
    (`export_too_large`), every exported worker given to `logged` (the access log) before the file
    is made, personal data masked as `user`'s rights require. The page answers it at once, or an
    export job makes it (portal.jobs) for a list longer than `UCJ_EXPORT_JOB_ROWS`."""
    ids = workers_export_ids(worklist.rows)
    logged(ids)
    personal_data = may_see_personal_data(user)
    columns, row = _worker_columns(worklist.extra, personal_data)
    region = scope_label(user)
    details = title_details(region=region, as_of=today(), user=user, generated=localtime())
    if worklist.filters.label():
        details.append((_("Filters"), worklist.filters.label()))
    report = Report(
        title=f"{worklist.title} — {region}, {date_format(today(), 'j F Y')}",
        details=details,
        columns=columns,
        sheet=worklist.sheet,
    )
    rows: Iterable[ApparatusWorker] = worklist.rows
    if progress is not None:
        rows = rows_counted(worklist.rows, total=len(ids), report=progress)
    content = report.workbook(row(worker) for worker in rows)
    return content, f"{worklist.filename}-{today().isoformat()}.xlsx", len(ids)


def _worker_report(request: HttpRequest, worklist: Worklist) -> HttpResponse:
    """The worklist's spreadsheet (`?unduh=xlsx`): made at once, or for a list longer than
    `UCJ_EXPORT_JOB_ROWS` by a background job whose page shows a progress bar, then the link to
    the file. A list too large for any export is refused either way, before anything is logged."""
    export_required(request)
    user = request.user
    if not isinstance(user, User):  # login_required lets no anonymous caller in
        raise PermissionDenied
    try:
        if workers_export_count(worklist.rows) > settings.UCJ_EXPORT_JOB_ROWS:
            job = job_enqueue(
                kind=EXPORT_WORKLIST,
                user=user,
                scope=scope_for(user),
                params={
                    "worklist": worklist.name,
                    "query": request.META.get("QUERY_STRING", ""),
                    "path": request.path,
                    "language": get_language(),
                },
            )
            return redirect("portal:export-job", pk=job.pk)
        content, filename, _rows = worklist_workbook(
            user=user,
            worklist=worklist,
            logged=lambda ids: access_log_write(request=request, kind=AccessKind.EXPORT, worker_ids=ids),
        )
    except ServiceError as exc:  # export_too_large
        messages.error(request, exc.message)
        return redirect(f"{request.path}?{worklist.filters.query(**_kind_of(request))}")
    return xlsx_response(content, filename)


def _kind_of(request: HttpRequest) -> dict[str, str]:
    kind = request.GET.get("jenis")
    return {"jenis": kind} if kind else {}


def _worker_page(
    request: HttpRequest,
    rows: QuerySet[ApparatusWorker],
    template: str,
    filters: Filters,
    form_for: Callable[[ApparatusWorker], Any] | None = None,
    **context: Any,
) -> HttpResponse:
    """A page of 50 of the worklist, with its count and filters. A caller who sees full NIKs is
    logged as shown them, as the API's list logs the workers of its page."""
    scope = scope_for(request.user)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("halaman"))
    personal_data = may_see_personal_data(request.user)
    workers: list[ApparatusWorker] = list(page.object_list)
    if personal_data and workers:
        access_log_write(request=request, kind=AccessKind.PERSONAL_DATA, worker_ids=[w.pk for w in workers])
    extra_query = {"jenis": context["kind"]} if context.get("kind") else {}
    context.update(
        page=page,
        rows=[
            Row(
                worker=w,
                nik=w.nik if personal_data else nik_mask(w.nik),
                form=form_for(w) if form_for is not None else None,
            )
            for w in workers
        ],
        count=page.paginator.count,
        filters=filters,
        institutions=Institution.choices,
        query=filters.query(**extra_query),
        today=today(),
        may_export=scope.can(Capability.EXPORT),
        # A long list's spreadsheet is a page with a progress bar, not a file (`_worker_report`).
        export_in_background=page.paginator.count > settings.UCJ_EXPORT_JOB_ROWS,
    )
    return render(request, template, context)


def _activation_queue(scope: Scope, query: QueryDict) -> Worklist:
    filters = Filters.read(query, scope)
    return Worklist(
        name="activation_queue",
        rows=filters.applied(scope.filter(selectors.activation_queue())),
        filters=filters,
        title=_("Workers waiting for activation"),
        sheet=_("Waiting for activation"),
        filename="menunggu-aktivasi",
        extra=[(Column(_("Submitted on"), "date"), lambda w: getattr(w, "submitted_on", None))],
    )


@login_required
@codes_dotted("kabupaten", "desa")
@in_portal_language
@capability_required(Capability.READ_WORKERS)
@replica_reads()
def activation_queue(request: HttpRequest) -> HttpResponse:
    """Workers submitted and waiting for activation, oldest submission first: a branch's queue
    (its territory), each row with the activation form for those who may activate."""
    scope = scope_for(request.user)
    worklist = _activation_queue(scope, request.GET)
    if request.GET.get("unduh") == "xlsx":
        return _worker_report(request, worklist)
    may_activate = scope.can(Capability.MANAGE_ENROLLMENT)
    return _worker_page(
        request,
        worklist.rows,
        "portal/activation_queue.html",
        worklist.filters,
        form_for=activate_form_for if may_activate else None,
        may_activate=may_activate,
    )


RENEWALS_LAPSED = "lewat"


def _renewals(scope: Scope, query: QueryDict) -> Worklist:
    filters = Filters.read(query, scope)
    lapsed = query.get("jenis") == RENEWALS_LAPSED
    if lapsed:
        listed = selectors.memberships_lapsed(as_of=today(), days=DAYS)
    else:
        listed = selectors.memberships_due(as_of=today(), days=DAYS)
    extra: list[Extra] = [
        (Column(_("Membership number (KPJ)"), width=14), lambda w: w.enrollment.kpj_number),
        (Column(_("Funding source"), width=24), lambda w: _funding(w.enrollment.funding_source)),
        (Column(_("Paid until"), "date"), lambda w: w.enrollment.paid_until),
    ]
    if lapsed:
        extra.append((Column(_("Lapsed on"), "date"), lambda w: getattr(w, "lapsed_on", None)))
    return Worklist(
        name="renewals",
        rows=filters.applied(scope.filter(listed)),
        filters=filters,
        title=_("Memberships lapsed in the last 30 days") if lapsed else _("Memberships due in the next 30 days"),
        sheet=_("Lapsed memberships") if lapsed else _("Due for renewal"),
        filename="lewat-jatuh-tempo" if lapsed else "jatuh-tempo",
        extra=extra,
        context={"kind": RENEWALS_LAPSED if lapsed else "", "lapsed": lapsed},
    )


@login_required
@codes_dotted("kabupaten", "desa")
@in_portal_language
@capability_required(Capability.READ_WORKERS)
@replica_reads()
def renewals(request: HttpRequest) -> HttpResponse:
    """Memberships whose paid-until falls in the next 30 days (soonest first), or with
    `?jenis=lewat` those lapsed in the last 30 days (latest first): what a branch renews."""
    worklist = _renewals(scope_for(request.user), request.GET)
    if request.GET.get("unduh") == "xlsx":
        return _worker_report(request, worklist)
    return _worker_page(request, worklist.rows, "portal/renewals.html", worklist.filters, **worklist.context)


def _funding(value: str) -> str:
    return str(FundingSource(value).label) if value else ""


TERMS_ENDING = "segera"


def _terms_ended(scope: Scope, query: QueryDict) -> Worklist:
    filters = Filters.read(query, scope)
    ending = query.get("jenis") == TERMS_ENDING
    if ending:
        listed = selectors.terms_ending(as_of=today(), days=DAYS)
    else:
        listed = selectors.terms_ended_serving(as_of=today())
    return Worklist(
        name="terms_ended",
        rows=filters.applied(scope.filter(listed)),
        filters=filters,
        title=_("Terms ending in the next 30 days") if ending else _("Terms ended, service still open"),
        sheet=_("Terms ending") if ending else _("Terms ended"),
        filename="masa-jabatan-segera-berakhir" if ending else "masa-jabatan-berakhir",
        context={"kind": TERMS_ENDING if ending else "", "ending": ending},
    )


@login_required
@codes_dotted("kabupaten", "desa")
@in_portal_language
@capability_required(Capability.READ_WORKERS)
@replica_reads()
def terms_ended(request: HttpRequest) -> HttpResponse:
    """Workers whose term has ended but whose service is still open (oldest term end first); with
    `?jenis=segera`, those whose term ends in the next 30 days, which the daily run will end unless
    a new term end is recorded."""
    worklist = _terms_ended(scope_for(request.user), request.GET)
    if request.GET.get("unduh") == "xlsx":
        return _worker_report(request, worklist)
    return _worker_page(request, worklist.rows, "portal/terms_ended.html", worklist.filters, **worklist.context)


# The worklists of workers an export job may be asked for (portal.jobs), by name.
WORKLISTS: dict[str, Callable[[Scope, QueryDict], Worklist]] = {
    "activation_queue": _activation_queue,
    "renewals": _renewals,
    "terms_ended": _terms_ended,
}
