"""Filters that refuse a value they cannot read, instead of ignoring it and listing everything."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from core.codes import levels_named, region_code, region_code_depth

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


class RegionCodeFormField(forms.CharField):
    """A region code in either spelling (`15.08` or `1508`, core.codes), cleaned to the dotted
    code; `depths` (1 province ... 4 village) narrows the levels taken. Anything else is an error
    naming the filter, not a filter that matches nothing."""

    default_error_messages = {
        "invalid": _("Must be a region code such as 15.08 or 1508 (15, 15.08, 15.08.01, 15.08.01.2001)."),
        "wrong_level": _("Must be the code of a %(levels)s."),
    }

    def __init__(self, *args: Any, depths: tuple[int, ...] = (1, 2, 3, 4), **kwargs: Any) -> None:
        self.depths = depths
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> str | None:
        if value in (None, ""):
            return None
        code = region_code(value)
        if code is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if region_code_depth(code) not in self.depths:
            raise forms.ValidationError(
                self.error_messages["wrong_level"], code="wrong_level", params={"levels": levels_named(self.depths)}
            )
        return code


class RegionCodeFilter(django_filters.CharFilter):
    """A filter by region code, either spelling (`?regency=1508` is `?regency=15.08`); the schema
    gives its pattern (core.api.schema), its label the description."""

    # django-filter takes any form field; its stubs narrow a CharFilter's to CharField.
    field_class = RegionCodeFormField
