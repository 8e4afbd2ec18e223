"""Admin for regions and branch offices. Regions normally change through `import_regions`."""

from django.contrib import admin

from .models import BranchOffice, District, Province, Regency, Village


@admin.register(Province)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Regency)
class RegencyAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "province"]
    list_filter = ["kind", "province"]
    search_fields = ["code", "name"]
    list_select_related = ["province"]
    autocomplete_fields = ["province"]


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "regency", "province"]
    list_filter = ["province"]
    search_fields = ["code", "name"]
    list_select_related = ["regency", "province"]
    autocomplete_fields = ["regency", "province"]


@admin.register(Village)
class VillageAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "district", "regency"]
    list_filter = ["kind", "province"]
    search_fields = ["code", "name"]
    list_select_related = ["district", "regency"]
    autocomplete_fields = ["district", "regency", "province"]
    show_full_result_count = False


@admin.register(BranchOffice)
class BranchOfficeAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]
    filter_horizontal = ["regencies"]
