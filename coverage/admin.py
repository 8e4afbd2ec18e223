"""Read-only view of the coverage counters (they change only through the services)."""

from django.contrib import admin

from .models import VillageCoverage


@admin.register(VillageCoverage)
class VillageCoverageAdmin(admin.ModelAdmin):
    list_display = ["village", "institution", "serving", "protected"]
    list_filter = ["institution", "province"]
    search_fields = ["village__code", "village__name"]
    list_select_related = ["village"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
