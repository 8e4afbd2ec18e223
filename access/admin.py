"""Admin for roles and scopes (on the user page) and the read-only access log."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from .models import AccessLog, AccessProfile

User = get_user_model()


class AccessProfileInline(admin.StackedInline):
    model = AccessProfile
    can_delete = True
    extra = 0
    max_num = 1
    autocomplete_fields = ["province", "regency"]


admin.site.unregister(User)


@admin.register(User)
class UcjUserAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, AccessProfileInline]


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    list_display = ["at", "user", "kind", "path", "rows"]
    list_filter = ["kind"]
    search_fields = ["user__username", "path"]
    list_select_related = ["user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
