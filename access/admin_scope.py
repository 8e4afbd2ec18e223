"""The API's rules in the admin: which admin pages a staff user may open, and which rows they
hold, come from the same `access.scope.scope_for(user)` as every API view (capabilities and the
regions covered), not from Django's model permissions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _

from villages.models import Province

from .context import can_see_personal_data, scope_for

if TYPE_CHECKING:
    # What the mixin below is mixed into (a model admin or an inline), for the type checker only.
    _ModelAdmin = admin.options.BaseModelAdmin[Any]
else:
    _ModelAdmin = object


class ScopedAdminMixin:
    """For a ModelAdmin or an inline. `view_capability` opens its pages, `write_capability` (none:
    read-only) adds and changes; `scope_columns` (keyword arguments of `Scope.q`) keep the rows of
    the caller's regions, `None` for tables that are not regional. Nothing is ever deleted here.
    An object outside the scope answers 404, like the API, instead of the admin's redirect."""

    view_capability: str | None = None
    write_capability: str | None = None
    scope_columns: dict[str, str] | None = {}

    @staticmethod
    def capable(request, capability: str | None) -> bool:
        return capability is not None and scope_for(request.user).can(capability)

    def has_module_permission(self, request) -> bool:
        return self.capable(request, self.view_capability) or self.capable(request, self.write_capability)

    def has_view_permission(self, request, obj=None) -> bool:
        return self.capable(request, self.view_capability) or self.has_change_permission(request, obj)

    def has_add_permission(self, request, *args) -> bool:  # inlines pass the parent object too
        return self.capable(request, self.write_capability)

    def has_change_permission(self, request, obj=None) -> bool:
        return self.capable(request, self.write_capability)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if self.scope_columns is None:
            return queryset
        return scope_for(request.user).filter(queryset, **self.scope_columns)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Saving a change without the capability to write answers 403 whatever the object.
        if request.method == "POST" and object_id is not None and not self.has_change_permission(request):
            raise PermissionDenied
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_object(self, request, object_id, from_field=None):
        # A missing capability answers 403 whatever the object, as in the API; Django would look
        # the object up first (and answer 404 for one outside the regions).
        if not self.has_view_permission(request):
            raise PermissionDenied
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(_("Not found."))
        return obj


class MaskedFieldsMixin(_ModelAdmin):
    """Read-only pages whose personal fields a caller without the personal-data right sees
    through a masking method instead: `masked_fields` maps each field to that method's name
    (`fields` is a flat list of names)."""

    masked_fields: dict[str, str] = {}

    def get_fields(self, request, obj=None):
        if can_see_personal_data(request):
            return self.fields
        return [self.masked_fields.get(field, field) for field in self.fields]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def lookup_allowed(self, lookup, value, request=None):
        # Filtering on a masked field (?changes__nik__startswith=...) would find what it hides.
        if lookup.split("__")[0] in self.masked_fields and not can_see_personal_data(request):
            return False
        return super().lookup_allowed(lookup, value, request)


class RegionInScopeFilter(admin.RelatedFieldListFilter):
    """A list filter on a province or regency that offers only the caller's regions (Django's
    offers every region of the country)."""

    def field_choices(self, field, request, model_admin):
        scope = scope_for(request.user)
        if scope.everything:
            limit = Q()
        elif field.related_model is Province:
            limit = Q(pk__in=scope.province_ids | scope.parent_province_ids)
        else:
            limit = scope.q(province="province_id", regency="id")
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(include_blank=False, ordering=ordering, limit_choices_to=limit)
