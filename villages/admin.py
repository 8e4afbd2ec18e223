"""Admin for regions and branch offices. Regions normally change through `import_regions`."""

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.exceptions import NotRegistered
from django.core.exceptions import FieldDoesNotExist

from core.codes import code_prefix

from .models import BranchOffice, District, Province, Regency, Village


class RegionAdmin(admin.ModelAdmin):
    """A level of regions, searched by name or by code in either spelling: `1508` (the digits
    alone, as other systems write codes) finds 15.08 and what is under it, in the lists and in
    the pickers of other forms (an officer's or a branch office's territory)."""

    search_fields = ["code", "name"]

    def get_search_results(self, request, queryset, search_term):
        return super().get_search_results(request, queryset, code_prefix(search_term.strip()))


@admin.register(Province)
class ProvinceAdmin(RegionAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Regency)
class RegencyAdmin(RegionAdmin):
    list_display = ["code", "name", "kind", "province"]
    list_filter = ["kind", "province"]
    search_fields = ["code", "name"]
    list_select_related = ["province"]
    autocomplete_fields = ["province"]


@admin.register(District)
class DistrictAdmin(RegionAdmin):
    list_display = ["code", "name", "regency", "province"]
    list_filter = ["province"]
    search_fields = ["code", "name"]
    list_select_related = ["regency", "province"]
    autocomplete_fields = ["regency", "province"]


@admin.register(Village)
class VillageAdmin(RegionAdmin):
    list_display = ["code", "name", "kind", "district", "regency"]
    list_filter = ["kind", "province"]
    search_fields = ["code", "name"]
    list_select_related = ["district", "regency"]
    autocomplete_fields = ["district", "regency", "province"]
    show_full_result_count = False

    def _picker(self, request):
        """(admin of the form, its village field) when this request fills a form's village picker
        (Django's autocomplete view names the form's model and field), else None."""
        match = getattr(request, "resolver_match", None)
        if match is None or match.url_name != "autocomplete":
            return None
        try:
            model = apps.get_model(request.GET["app_label"], request.GET["model_name"])
            field = model._meta.get_field(request.GET["field_name"])
            form_admin = self.admin_site.get_model_admin(model)
        except (KeyError, LookupError, ValueError, FieldDoesNotExist, NotRegistered):
            return None
        if getattr(field.remote_field, "model", None) is not Village:
            return None
        return form_admin, field

    def has_view_permission(self, request, obj=None):
        # Whoever may fill in a form with a village (an officer who registers and edits workers)
        # may pick one, whatever Django's permissions on the region tables say.
        picker = self._picker(request)
        if picker is not None:
            form_admin, _field = picker
            return form_admin.has_add_permission(request) or form_admin.has_change_permission(request)
        return super().has_view_permission(request, obj)

    def get_queryset(self, request):
        # A picker offers the villages its form accepts: the form's admin decides (the worker
        # form takes the villages of the caller's regions), so the list and the form agree.
        queryset = super().get_queryset(request)
        picker = self._picker(request)
        if picker is not None:
            form_admin, field = picker
            choices = form_admin.formfield_for_foreignkey(field, request).queryset
            return queryset.filter(pk__in=choices.values("pk"))
        return queryset


@admin.register(BranchOffice)
class BranchOfficeAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]
    filter_horizontal = ["regencies"]
