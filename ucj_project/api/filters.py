"""A list's query parameters are the ones it documents: an unknown one (a typo, a filter the
list does not have, such as `?nik=` where `search=` is meant) is a 400 naming it, instead of an
answer that silently ignores it and lists everything."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import serializers
from rest_framework.filters import BaseFilterBackend, OrderingFilter, SearchFilter
from rest_framework.settings import api_settings


class KnownParametersOnly(BaseFilterBackend):
    """Runs first among a view's filter backends and refuses parameters none of them (nor the
    pagination, nor the format suffix) reads."""

    def filter_queryset(self, request, queryset, view):
        unknown = sorted(set(request.query_params) - self.known(request, queryset, view))
        if unknown:
            raise serializers.ValidationError({name: [_("Unknown parameter.")] for name in unknown})
        return queryset

    @staticmethod
    def known(request, queryset, view) -> set[str]:
        known = {api_settings.URL_FORMAT_OVERRIDE}
        paginator = getattr(view, "paginator", None)
        for name in ("page_query_param", "page_size_query_param"):
            if getattr(paginator, name, None):
                known.add(getattr(paginator, name))
        for backend_class in getattr(view, "filter_backends", []):
            backend = backend_class()
            if isinstance(backend, DjangoFilterBackend):
                filterset_class = backend.get_filterset_class(view, queryset)
                if filterset_class is not None:
                    known |= set(filterset_class.base_filters)
            elif isinstance(backend, SearchFilter) and getattr(view, "search_fields", None):
                known.add(backend.search_param)
            elif isinstance(backend, OrderingFilter) and getattr(view, "ordering_fields", None):
                known.add(backend.ordering_param)
        known |= set(getattr(view, "extra_query_parameters", ()))
        return known
