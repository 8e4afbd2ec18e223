"""Admin for roles and scopes (on the user page) and the read-only access log."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from access.masking import query_with_niks_masked

from .admin_scope import MaskedFieldsMixin, ScopedAdminMixin
from .choices import Capability
from .models import AccessLog, AccessProfile

User = get_user_model()


class AccessProfileInline(admin.StackedInline):
    model = AccessProfile
    can_delete = True
    extra = 0
    max_num = 1
    autocomplete_fields = ["province", "regency"]


class AdminRoleRequired:
    """Users, groups and roles are managed by the admin role (as in the API): Django's model
    permissions alone do not let an officer grant himself a role or the personal-data right."""

    def _admin_role(self, request) -> bool:
        return ScopedAdminMixin.capable(request, Capability.ADMIN)

    def has_module_permission(self, request):
        return self._admin_role(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._admin_role(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return self._admin_role(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return self._admin_role(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._admin_role(request) and super().has_delete_permission(request, obj)


admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class UcjUserAdmin(AdminRoleRequired, UserAdmin):
    inlines = [*UserAdmin.inlines, AccessProfileInline]


@admin.register(Group)
class UcjGroupAdmin(AdminRoleRequired, GroupAdmin):
    pass


@admin.register(AccessLog)
class AccessLogAdmin(ScopedAdminMixin, MaskedFieldsMixin, admin.ModelAdmin):
    """Read-only; for admins, as `/api/v1/audit/access-log/`."""

    view_capability = Capability.ADMIN
    scope_columns = None  # admins cover everything
    list_display = ["at", "user", "kind", "path", "rows"]
    list_filter = ["kind"]
    search_fields = ["user__username", "path"]
    list_select_related = ["user"]
    fields = ["user", "at", "kind", "path", "query", "worker_ids", "rows"]
    # A logged query can hold a NIK (a search, a NIK looked up): masked, as in the API, for an
    # admin by role without the personal-data right, who may not filter on it either.
    masked_fields = {"query": "masked_query"}

    @admin.display(description=_("query"))
    def masked_query(self, entry: AccessLog) -> str:
        return query_with_niks_masked(entry.query)
