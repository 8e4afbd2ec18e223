"""Serializer building blocks shared by every app: strict JSON types and no unknown fields."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.codes import SPELLINGS_PATTERN, levels_named, region_code, region_code_depth

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    # What the mixins below are mixed into, for the type checker only.
    _Serializer = serializers.Serializer[Any]
    _ChoiceField = serializers.ChoiceField
else:
    _Serializer = _ChoiceField = object


class StrictCharField(serializers.CharField):
    """A string field that refuses numbers, booleans, lists and objects instead of coercing them."""

    default_error_messages: ClassVar[dict[str, StrOrPromise]] = {"not_a_string": _("Must be a string, not {type}.")}

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string", type=type(data).__name__)
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A whole-number field that refuses strings, booleans and fractions."""

    default_error_messages: ClassVar[dict[str, StrOrPromise]] = {
        "not_an_integer": _("Must be a whole number, not {type}.")
    }

    def to_internal_value(self, data: object) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("not_an_integer", type=type(data).__name__)
        return super().to_internal_value(data)


class RejectUnknownFieldsMixin(_Serializer):
    """Name fields the endpoint does not know instead of silently dropping them (typos)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - {name for name, f in self.fields.items() if not f.read_only})
            if unknown:
                raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})
        return super().to_internal_value(data)


class KeptFieldsMixin(_Serializer):
    """A flat serializer's fields built once per class. DRF deep-copies every declared field into
    each new serializer (choices, labels and messages with them), which cost more than validating
    a transition's few fields; the fields built once are copied shallowly instead, and binding
    names each copy and its parent. Not for a serializer with nested serializers (their own
    fields would be shared), which is refused."""

    _kept: ClassVar[dict[type, dict[str, serializers.Field[Any, Any, Any, Any]]]] = {}

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        kept = KeptFieldsMixin._kept.get(type(self))
        if kept is None:
            kept = super().get_fields()  # deep copies, never bound
            if any(isinstance(field, serializers.BaseSerializer) for field in kept.values()):
                raise TypeError(f"{type(self).__name__} has nested serializers: its fields cannot be kept")
            KeptFieldsMixin._kept[type(self)] = kept
        return {name: copy.copy(field) for name, field in kept.items()}


class _ChoicesListed(_ChoiceField):
    """A refused choice names the allowed values, so a caller need not look them up."""

    default_error_messages: ClassVar[dict[str, StrOrPromise]] = {
        "invalid_choice": _('"{input}" is not a valid choice; choose one of: {choices}.')
    }

    def fail(self, key: str, **kwargs: Any) -> NoReturn:
        if key == "invalid_choice":
            kwargs["choices"] = ", ".join(str(choice) for choice in self.choices)
        super().fail(key, **kwargs)


class ChoiceField(_ChoicesListed, serializers.ChoiceField):
    pass


class MultipleChoiceField(_ChoicesListed, serializers.MultipleChoiceField):
    pass


@extend_schema_field({"type": "string", "pattern": SPELLINGS_PATTERN, "example": "15.08"})
class RegionCodeField(StrictCharField):
    """A region code in either spelling (`15.08` or `1508`, core.codes), given on as the dotted
    code; `depths` (1 province ... 4 village) narrows the levels taken."""

    default_error_messages: ClassVar[dict[str, StrOrPromise]] = {
        "not_a_code": _("Must be a region code such as 15.08 or 1508 (15, 15.08, 15.08.01, 15.08.01.2001)."),
        "wrong_level": _("Must be the code of a %(levels)s."),
    }

    def __init__(self, *, depths: tuple[int, ...] = (1, 2, 3, 4), **kwargs: Any) -> None:
        self.depths = depths
        kwargs.setdefault("trim_whitespace", False)  # core.codes drops spaces and tabs, as the schema says
        super().__init__(**kwargs)

    def to_internal_value(self, data: object) -> str:
        code = region_code(super().to_internal_value(data))
        if code is None:
            self.fail("not_a_code")
        if region_code_depth(code) not in self.depths:
            raise serializers.ValidationError(
                self.error_messages["wrong_level"] % {"levels": levels_named(self.depths)}, code="wrong_level"
            )
        return code


class CodeRelatedField(serializers.SlugRelatedField):  # type: ignore[type-arg]
    """A region named by its code, in either spelling (`15.08.01.2001` or `1508012001`,
    core.codes): a value that cannot be a code (not text, `15.8`, a NUL character, which
    PostgreSQL cannot even compare) is refused before any lookup."""

    default_error_messages: ClassVar[dict[str, StrOrPromise]] = {
        "not_a_code": _("Must be a region code such as 15.08.01.2001 or 1508012001."),
    }

    def to_internal_value(self, data: Any) -> Any:
        code = region_code(data)
        if code is None:
            self.fail("not_a_code")
        return super().to_internal_value(code)
