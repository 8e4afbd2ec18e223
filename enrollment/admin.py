"""Admin for Dinas PMD and BPJS officers: search and filter workers; every change goes through
`enrollment.services`, so the admin writes history and counters like the API does. What each
caller may open, run and see follows the API's rules through the same code: capabilities and
regions from `access.scope.scope_for`, masks from `access.personal_data` and `enrollment.masking`."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from access.admin_scope import MaskedFieldsMixin, RegionInScopeFilter, ScopedAdminMixin
from access.choices import AccessKind, Capability
from access.context import can_see_personal_data, scope_for
from access.services import access_log_write, nik_lookups_record
from core.errors import ServiceError, StaleVersionError
from villages.models import Village

from . import services
from .choices import EventSource, FundingSource, Program, Scheme
from .masking import changes_masked
from .models import ApparatusWorker, Enrollment, EnrollmentEvent
from .nik import birth_date_mask, nik_compact, nik_mask, phone_mask
from .transitions import MEMBERSHIP_FIELDS

# A worker's personal fields and the read-only masked columns shown instead to a caller without
# the personal-data right.
MASKED = {"nik": "masked_nik", "birth_date": "masked_birth_date", "phone": "masked_phone"}
STALE_FORM = _(
    "Someone else changed this worker after you opened this page, so nothing was saved. "
    "Reload the page to see their change, then make yours again."
)
OUTDATED_FORM = _("This page is out of date, so nothing was saved. Reload it and make your changes again.")
# Worker scope columns of tables that hang off a worker.
WORKER_SCOPE = {"province": "worker__province_id", "regency": "worker__regency_id"}


def admin_actor(request) -> services.Actor:
    return services.Actor(user=request.user, source=EventSource.ADMIN)


class WorkerAdminForm(forms.ModelForm):
    # The version the change form was opened at: the service refuses the save if the worker has
    # changed since (optimistic concurrency, as the API's If-Match).
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    class Meta:
        model = ApparatusWorker
        fields = list(services.WORKER_FIELDS)


class MaskedWorkerFields:
    """Read-only columns of a worker's personal data, masked as the API masks them."""

    @admin.display(description=_("NIK"))
    def masked_nik(self, worker):
        return nik_mask(worker.nik)

    @admin.display(description=_("birth date"))
    def masked_birth_date(self, worker):
        return birth_date_mask(worker.birth_date)

    @admin.display(description=_("phone"))
    def masked_phone(self, worker):
        return phone_mask(worker.phone)


def _shown(fields, request) -> list[str]:
    """`fields` as the caller may see them: personal ones masked without the right."""
    if can_see_personal_data(request):
        return list(fields)
    return [MASKED.get(field, field) for field in fields]


class EnrollmentInline(ScopedAdminMixin, admin.StackedInline):
    model = Enrollment
    view_capability = Capability.READ_WORKERS
    scope_columns = None  # shown on a worker page, which is scoped
    can_delete = False
    extra = 0
    readonly_fields = ["status", *MEMBERSHIP_FIELDS]


class EventChangesMasked(MaskedFieldsMixin):
    """An event's `changes` with NIK, birth date and phone hidden from a caller without the right."""

    masked_fields = {"changes": "masked_changes"}

    @admin.display(description=_("changes"))
    def masked_changes(self, event):
        return changes_masked(event.changes)


class EventInline(ScopedAdminMixin, EventChangesMasked, admin.TabularInline):
    model = EnrollmentEvent
    view_capability = Capability.READ_WORKERS
    scope_columns = None  # shown on a worker page, which is scoped
    can_delete = False
    extra = 0
    fields = ["kind", "effective_date", "recorded_at", "actor_label", "source", "from_status", "to_status", "changes"]
    ordering = ["id"]


class ActivateForm(forms.Form):
    kpj_number = forms.RegexField(regex=r"^[0-9]{11}$", label=_("KPJ number"))
    scheme = forms.ChoiceField(choices=Scheme.choices, label=_("scheme"))
    npp = forms.CharField(required=False, max_length=20, label=_("employer registration number (NPP)"))
    programs = forms.MultipleChoiceField(
        choices=Program.choices,
        initial=[Program.JKK, Program.JKM],
        widget=forms.CheckboxSelectMultiple,
        label=_("programs"),
    )
    funding_source = forms.ChoiceField(choices=FundingSource.choices, label=_("funding source"))
    coverage_start = forms.DateField(label=_("coverage start"))
    paid_until = forms.DateField(label=_("paid until"))


class RenewForm(forms.Form):
    paid_until = forms.DateField(label=_("paid until"))


# Each action and the capability it needs: the same as the API's endpoint for it.
ACTION_CAPABILITIES = {
    "submit_action": Capability.WRITE_WORKERS,
    "end_service_action": Capability.WRITE_WORKERS,
    "activate_action": Capability.MANAGE_ENROLLMENT,
    "renew_action": Capability.MANAGE_ENROLLMENT,
    "lapse_action": Capability.MANAGE_ENROLLMENT,
}


@admin.register(ApparatusWorker)
class ApparatusWorkerAdmin(ScopedAdminMixin, MaskedWorkerFields, admin.ModelAdmin):
    form = WorkerAdminForm
    view_capability = Capability.READ_WORKERS
    write_capability = Capability.WRITE_WORKERS
    list_display = ["full_name", "nik", "village", "institution", "position", "enrollment_status", "serving"]
    list_filter = [("regency", RegionInScopeFilter), "institution", "enrollment_status", "serving"]
    search_fields = ["full_name", "=nik"]
    list_select_related = ["village"]
    autocomplete_fields = ["village"]
    inlines = [EnrollmentInline, EventInline]
    show_full_result_count = False
    actions = ["submit_action", "lapse_action", "end_service_action", "activate_action", "renew_action"]

    # -- what the caller may see ------------------------------------------------------------

    def get_list_display(self, request):
        return _shown(self.list_display, request)

    def get_search_fields(self, request):
        # Finding a worker by exact NIK needs the personal-data right; others search by name.
        if can_see_personal_data(request):
            return self.search_fields
        return [field for field in self.search_fields if field.lstrip("=^@") != "nik"]

    def has_change_permission(self, request, obj=None):
        # An ended service is history: its page is read-only (the service refuses edits of it).
        return super().has_change_permission(request, obj) and (obj is None or obj.serving)

    def lookup_allowed(self, lookup, value, request=None):
        # The changelist takes any field lookup from its URL (?birth_date=..., ?nik__startswith=...):
        # without the right, none on personal data, or rows would tell what the mask hides.
        if lookup.split("__")[0] in services.PERSONAL_FIELDS and not can_see_personal_data(request):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_fields(self, request, obj=None):
        if obj is None:  # a new worker: the caller types the personal data in
            return list(services.WORKER_FIELDS)
        fields = _shown(services.WORKER_FIELDS, request)
        return [*fields, "version"] if self.has_change_permission(request, obj) else fields

    def get_readonly_fields(self, request, obj=None):
        return [field for field in self.get_fields(request, obj) if field in MASKED.values()]

    def _log_personal_data(self, request, worker_ids) -> None:
        """Full personal data shown: written to the access log, as the API does."""
        if worker_ids and can_see_personal_data(request):
            access_log_write(request=request, kind=AccessKind.PERSONAL_DATA, worker_ids=list(worker_ids))

    def changelist_view(self, request, extra_context=None):
        self._check_action(request)
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            self._log_personal_data(request, [worker.pk for worker in changelist.result_list])
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if getattr(response, "context_data", None) is not None:  # the page was shown
            self._log_personal_data(request, [int(object_id)])
        return response

    # -- writes --------------------------------------------------------------------------------

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        # A NIK may be typed with spaces, dots or dashes, as the API and imports take it: the
        # field takes them, and the service is given the digits (enrollment.nik).
        if db_field.name == "nik":
            kwargs["max_length"] = 32
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # The village picker and the form offer the villages of the caller's regions only; its
        # autocomplete (villages.admin.VillageAdmin) asks this method for them.
        if db_field.name == "village":
            kwargs["queryset"] = scope_for(request.user).filter(Village.objects.all())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # The form is validated by the service itself: run it in a savepoint during validation,
    # so rule violations appear as form errors and a valid form is saved exactly once.
    def _save_through_service(self, request, form, change):
        data = {field: form.cleaned_data.get(field) for field in services.WORKER_FIELDS if field in form.fields}
        if "phone" in data:
            data["phone"] = data["phone"] or ""
        if data.get("nik"):
            data["nik"] = nik_compact(data["nik"])
        if change:
            return services.worker_update(
                actor=admin_actor(request),
                worker_id=form.instance.pk,
                changes=data,
                expected_version=form.cleaned_data["version"],
            )
        return services.worker_register(actor=admin_actor(request), **data)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        model_admin = self

        class ServiceForm(form_class):
            def _post_clean(self):
                # The service validates and writes; the model's own full_clean is not repeated.
                if change and "version" in self.fields and self.cleaned_data.get("version") is None:
                    self.errors.pop("version", None)
                    self.add_error(None, ValidationError(OUTDATED_FORM, code="version_required"))
                if self.errors:
                    return
                try:
                    with transaction.atomic():
                        self._saved = model_admin._save_through_service(request, self, change)
                        transaction.set_rollback(True)
                except StaleVersionError:
                    self.add_error(None, ValidationError(STALE_FORM, code="stale_version"))
                except ServiceError as exc:
                    for error in exc.errors:
                        shown = error.field in self.fields and not self.fields[error.field].widget.is_hidden
                        self.add_error(error.field if shown else None, ValidationError(error.message, code=error.code))

        return ServiceForm

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The form was checked by a trial run of the service; if the real run is refused all the
        # same (someone changed or registered the worker in between), nothing was written: say
        # so above the page instead of an error page.
        try:
            nik = request.POST.get("nik") if request.method == "POST" else None
            if nik:  # counted and logged (for callers who may not see NIKs) outside the page's
                # transaction, which a refused save rolls back
                nik_lookups_record(request=request, lookups=1, looked_up=urlencode({"nik": nik}))
            return super().changeform_view(request, object_id, form_url, extra_context)
        except StaleVersionError:
            self.message_user(request, STALE_FORM, messages.ERROR)
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        return redirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        worker = self._save_through_service(request, form, change)
        for field in ApparatusWorker._meta.concrete_fields:
            setattr(obj, field.attname, getattr(worker, field.attname))
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        for formset in formsets:  # inlines are read-only: nothing to save
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    # -- actions: each needs the capability of its API endpoint ----------------------------------

    def has_write_workers_permission(self, request) -> bool:
        return self.capable(request, Capability.WRITE_WORKERS)

    def has_manage_enrollment_permission(self, request) -> bool:
        return self.capable(request, Capability.MANAGE_ENROLLMENT)

    def _check_action(self, request) -> None:
        """An action the caller may not run is refused (403), not quietly ignored as Django
        does; selected workers outside the caller's regions are not found (404)."""
        if request.method != "POST":
            return
        names = [name for name in request.POST.getlist("action") if name in ACTION_CAPABILITIES]
        if not names:
            return
        if any(not self.capable(request, ACTION_CAPABILITIES[name]) for name in names):
            raise PermissionDenied
        selected = set(request.POST.getlist(ACTION_CHECKBOX_NAME))
        if request.POST.get("select_across") == "1" or not selected:
            return
        # Ids as the database can take them: "²" is a digit to isdigit(), and 23 digits overflow.
        ids_valid = all(v.isascii() and v.isdigit() and len(v) <= 18 for v in selected)
        found = self.get_queryset(request).filter(pk__in=selected).count() if ids_valid else -1
        if found != len(selected):
            raise Http404(_("Not found."))

    def _run(self, request, queryset, action, service, done_message, **kwargs):
        # Checked again here, whatever called the action: its capability, and each worker's region.
        scope = scope_for(request.user)
        if not scope.can(ACTION_CAPABILITIES[action]):
            raise PermissionDenied
        workers = list(queryset)
        if not all(scope.contains(province_id=w.province_id, regency_id=w.regency_id) for w in workers):
            raise Http404(_("Not found."))  # before anything is written
        done = 0
        for worker in workers:
            try:
                service(actor=admin_actor(request), worker_id=worker.pk, **kwargs)
                done += 1
            except ServiceError as exc:
                self.message_user(request, f"{worker}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)

    @admin.action(description=_("Submit for enrollment"), permissions=["write_workers"])
    def submit_action(self, request, queryset):
        self._run(request, queryset, "submit_action", services.enrollment_submit, _("%(count)d workers submitted."))

    @admin.action(description=_("Mark membership lapsed"), permissions=["manage_enrollment"])
    def lapse_action(self, request, queryset):
        self._run(request, queryset, "lapse_action", services.enrollment_lapse, _("%(count)d memberships lapsed."))

    @admin.action(description=_("End service"), permissions=["write_workers"])
    def end_service_action(self, request, queryset):
        self._run(
            request,
            queryset,
            "end_service_action",
            services.worker_end_service,
            _("Service ended for %(count)d workers."),
        )

    def _form_action(self, request, queryset, action, form_class, title, service, done_message, prepare=dict):
        if not self.capable(request, ACTION_CAPABILITIES[action]):
            raise PermissionDenied
        form = form_class(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            self._run(request, queryset, action, service, done_message, **prepare(form.cleaned_data))
            return redirect(request.get_full_path())
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "form": form,
            "queryset": queryset,
            "action": action,
            "opts": self.model._meta,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/enrollment/action_form.html", context)

    @admin.action(description=_("Activate membership"), permissions=["manage_enrollment"])
    def activate_action(self, request, queryset):
        def prepare(data):
            return {**data, "programs": sorted(data["programs"])}

        return self._form_action(
            request,
            queryset,
            "activate_action",
            ActivateForm,
            _("Activate membership"),
            services.enrollment_activate,
            _("%(count)d memberships activated."),
            prepare,
        )

    @admin.action(description=_("Renew membership"), permissions=["manage_enrollment"])
    def renew_action(self, request, queryset):
        return self._form_action(
            request,
            queryset,
            "renew_action",
            RenewForm,
            _("Renew membership"),
            services.enrollment_renew,
            _("%(count)d memberships renewed."),
        )


@admin.register(EnrollmentEvent)
class EnrollmentEventAdmin(ScopedAdminMixin, EventChangesMasked, admin.ModelAdmin):
    """The history pages: read-only, the events of the workers in the caller's regions."""

    view_capability = Capability.READ_WORKERS
    scope_columns = WORKER_SCOPE
    list_display = ["worker", "kind", "effective_date", "recorded_at", "actor_label", "source"]
    list_filter = ["kind", "source"]
    search_fields = ["=worker__nik", "worker__full_name"]
    list_select_related = ["worker"]
    show_full_result_count = False
    fields = [
        "worker",
        "kind",
        "effective_date",
        "recorded_at",
        "actor_label",
        "source",
        "from_status",
        "to_status",
        "changes",
        "import_batch",
    ]

    def get_search_fields(self, request):
        if can_see_personal_data(request):
            return self.search_fields
        return [field for field in self.search_fields if field.lstrip("=^@") != "worker__nik"]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        event = getattr(response, "context_data", {}).get("original")
        if event is not None and can_see_personal_data(request) and set(services.PERSONAL_FIELDS) & set(event.changes):
            access_log_write(request=request, kind=AccessKind.PERSONAL_DATA, worker_ids=[event.worker_id])
        return response
