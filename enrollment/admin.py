"""Admin for Dinas PMD officers: search and filter workers; every change goes through
`enrollment.services`, so the admin writes history and counters like the API does."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from access.scope import scope_for
from ucj_project.errors import ServiceError

from . import services
from .choices import EventSource, FundingSource, Program, Scheme
from .models import ApparatusWorker, Enrollment, EnrollmentEvent


def admin_actor(request) -> services.Actor:
    return services.Actor(user=request.user, source=EventSource.ADMIN)


class WorkerAdminForm(forms.ModelForm):
    class Meta:
        model = ApparatusWorker
        fields = list(services.WORKER_FIELDS)


class EnrollmentInline(admin.StackedInline):
    model = Enrollment
    can_delete = False
    extra = 0
    readonly_fields = [
        "status",
        "kpj_number",
        "scheme",
        "npp",
        "program_jht",
        "program_jp",
        "funding_source",
        "coverage_start",
        "paid_until",
    ]

    def has_add_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = EnrollmentEvent
    can_delete = False
    extra = 0
    fields = ["kind", "effective_date", "recorded_at", "actor_label", "source", "from_status", "to_status", "changes"]
    readonly_fields = fields
    ordering = ["id"]

    def has_add_permission(self, request, obj=None):
        return False


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


@admin.register(ApparatusWorker)
class ApparatusWorkerAdmin(admin.ModelAdmin):
    form = WorkerAdminForm
    list_display = ["full_name", "nik", "village", "institution", "position", "enrollment_status", "serving"]
    list_filter = ["regency", "institution", "enrollment_status", "serving"]
    search_fields = ["full_name", "=nik"]
    list_select_related = ["village"]
    autocomplete_fields = ["village"]
    inlines = [EnrollmentInline, EventInline]
    show_full_result_count = False
    actions = ["submit_action", "lapse_action", "end_service_action", "activate_action", "renew_action"]

    def has_delete_permission(self, request, obj=None):
        return False  # ending service is the way out; history stays

    def get_queryset(self, request):
        # The same regional scope as the API: officers see only their own region's workers.
        return scope_for(request.user).filter(super().get_queryset(request))

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.serving:
            return list(services.WORKER_FIELDS)
        return []

    # The form is validated by the service itself: run it in a savepoint during validation,
    # so rule violations appear as form errors and a valid form is saved exactly once.
    def _save_through_service(self, request, form, change):
        data = {field: form.cleaned_data.get(field) for field in services.WORKER_FIELDS}
        data["phone"] = data["phone"] or ""
        village = data["village"]
        if not scope_for(request.user).contains(province_id=village.province_id, regency_id=village.regency_id):
            raise ServiceError(_("No village with this code in your region."), field="village")
        if change:
            return services.worker_update(
                actor=admin_actor(request),
                worker_id=form.instance.pk,
                changes=data,
                expected_version=None,
            )
        return services.worker_register(actor=admin_actor(request), **data)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        model_admin = self

        class ServiceForm(form_class):
            def _post_clean(self):
                # The service validates and writes; the model's own full_clean is not repeated.
                if self.errors:
                    return
                try:
                    with transaction.atomic():
                        self._saved = model_admin._save_through_service(request, self, change)
                        transaction.set_rollback(True)
                except ServiceError as exc:
                    for error in exc.errors:
                        field = error.field if error.field in self.fields else None
                        self.add_error(field, ValidationError(error.message, code=error.code))

        return ServiceForm

    def save_model(self, request, obj, form, change):
        worker = self._save_through_service(request, form, change)
        for field in ApparatusWorker._meta.concrete_fields:
            setattr(obj, field.attname, getattr(worker, field.attname))
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        for formset in formsets:  # inlines are read-only: nothing to save
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def _run(self, request, queryset, service, done_message, **kwargs):
        done = 0
        for worker in queryset:
            try:
                service(actor=admin_actor(request), worker_id=worker.pk, **kwargs)
                done += 1
            except ServiceError as exc:
                self.message_user(request, f"{worker}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)

    @admin.action(description=_("Submit for enrollment"))
    def submit_action(self, request, queryset):
        self._run(request, queryset, services.enrollment_submit, _("%(count)d workers submitted."))

    @admin.action(description=_("Mark membership lapsed"))
    def lapse_action(self, request, queryset):
        self._run(request, queryset, services.enrollment_lapse, _("%(count)d memberships lapsed."))

    @admin.action(description=_("End service"))
    def end_service_action(self, request, queryset):
        self._run(request, queryset, services.worker_end_service, _("Service ended for %(count)d workers."))

    def _form_action(self, request, queryset, form_class, title, service, done_message, prepare=dict):
        form = form_class(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            self._run(request, queryset, service, done_message, **prepare(form.cleaned_data))
            return redirect(request.get_full_path())
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "form": form,
            "queryset": queryset,
            "action": request.POST.get("action"),
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/enrollment/action_form.html", context)

    @admin.action(description=_("Activate membership"))
    def activate_action(self, request, queryset):
        def prepare(data):
            return {**data, "programs": sorted(data["programs"])}

        return self._form_action(
            request,
            queryset,
            ActivateForm,
            _("Activate membership"),
            services.enrollment_activate,
            _("%(count)d memberships activated."),
            prepare,
        )

    @admin.action(description=_("Renew membership"))
    def renew_action(self, request, queryset):
        return self._form_action(
            request,
            queryset,
            RenewForm,
            _("Renew membership"),
            services.enrollment_renew,
            _("%(count)d memberships renewed."),
        )


@admin.register(EnrollmentEvent)
class EnrollmentEventAdmin(admin.ModelAdmin):
    list_display = ["worker", "kind", "effective_date", "recorded_at", "actor_label", "source"]
    list_filter = ["kind", "source"]
    search_fields = ["=worker__nik", "worker__full_name"]
    list_select_related = ["worker"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
