"""A filter set that does per request only what the request needs.

django-filter's FilterSet deep-copies every declared filter (with its choices, labels and
querysets), builds a form class from them and validates a new form, on every request: for the
worker list that was about a fifth of the request's CPU, the same work for the same query string
every time. `KeptFilterSet` copies its filters shallowly (each gets this filter set as its parent,
so a `method` filter still sees this request), builds its form class once per class, and keeps the
validated form of a valid query string (in a small per-class LRU): the same query again is not
validated again. Invalid query strings are validated every time, since their errors are in the
caller's language.

Use it only for filter sets whose fields do not depend on the request (no queryset callables of
the request): a form is shared by every request that sends the same query string.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from typing import Any, ClassVar

import django_filters
from django import forms
from django.http import QueryDict

KEPT_FORMS = 512  # valid query strings kept per filter set class


class KeptFilterSet(django_filters.FilterSet):
    _form_class: ClassVar[type[forms.Form] | None] = None
    _valid_forms: ClassVar[OrderedDict[tuple[Any, ...], forms.Form]]
    _lock: ClassVar[threading.Lock]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._form_class = None
        cls._valid_forms = OrderedDict()
        cls._lock = threading.Lock()

    def __init__(self, data: Any = None, queryset: Any = None, *, request: Any = None, prefix: Any = None) -> None:
        meta: Any = getattr(self, "_meta")  # noqa: B009 (set by django-filter's metaclass, untyped)
        if queryset is None:
            queryset = meta.model._default_manager.all()
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        model = queryset.model
        self.filters = OrderedDict()
        for name, declared in self.base_filters.items():
            filter_: Any = copy.copy(declared)
            filter_.model = model
            filter_.parent = self
            if declared.method:
                # The copy's method filter must call this filter set's method, not the declared one's.
                filter_.method = declared.method
            self.filters[name] = filter_

    def get_form_class(self) -> type[forms.Form]:
        cls = type(self)
        if cls._form_class is None:
            fields = OrderedDict((name, declared.field) for name, declared in self.base_filters.items())
            meta: Any = getattr(self, "_meta")  # noqa: B009
            cls._form_class = type(f"{cls.__name__}Form", (meta.form,), fields)
        return cls._form_class

    def _key(self) -> tuple[Any, ...]:
        data: Any = self.data
        items = data.lists() if isinstance(data, QueryDict) else ((k, [v]) for k, v in data.items())
        return (self.form_prefix, tuple(sorted((k, tuple(v)) for k, v in items)))

    @property
    def form(self) -> forms.Form:
        if not hasattr(self, "_form"):
            cls = type(self)
            if not self.is_bound:
                self._form = self.get_form_class()(prefix=self.form_prefix)
                return self._form
            key = self._key()
            with cls._lock:
                kept = cls._valid_forms.get(key)
                if kept is not None:
                    cls._valid_forms.move_to_end(key)
            if kept is not None:
                self._form = kept
                return kept
            form = self.get_form_class()(self.data, prefix=self.form_prefix)
            if form.is_valid():
                with cls._lock:
                    cls._valid_forms[key] = form
                    while len(cls._valid_forms) > KEPT_FORMS:
                        cls._valid_forms.popitem(last=False)
            self._form = form
        return self._form
