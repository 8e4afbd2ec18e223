"""Filters that refuse a value they cannot read, instead of ignoring it and listing everything."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

TRUE = ("true", "1")
FALSE = ("false", "0")


class StrictBooleanField(forms.Field):
    """`true`/`false` (or 1/0); anything else is an error naming the values allowed. django-filter's
    own boolean reads "null", "yes" or a typo as "no filter" and answers every row."""

    default_error_messages = {"invalid": _("Use true or false.")}

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    # django-filter takes any form field; its stubs narrow a BooleanFilter's to NullBooleanField.
    field_class = StrictBooleanField  # type: ignore[assignment]


class IntegerFilter(django_filters.NumberFilter):
    """A whole number: `year=0.5` is an error, not a filter that matches nothing."""

    # django-filter takes any form field; its stubs narrow a NumberFilter's to DecimalField.
    field_class = forms.IntegerField  # type: ignore[assignment]
