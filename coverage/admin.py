"""Read-only view of the coverage counters (they change only through the services)."""

from django.contrib import admin

from access.admin_scope import RegionInScopeFilter, ScopedAdminMixin
from access.choices import Capability

from .models import VillageCoverage


@admin.register(VillageCoverage)
class VillageCoverageAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Read-only; coverage readers see the counters of their regions, as in the API."""

    view_capability = Capability.READ_COVERAGE
    list_display = ["village", "institution", "serving", "protected"]
    list_filter = ["institution", ("province", RegionInScopeFilter)]
    search_fields = ["village__code", "village__name"]
    list_select_related = ["village"]
    show_full_result_count = False
