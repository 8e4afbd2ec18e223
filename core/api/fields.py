"""Serializer building blocks shared by every app: strict JSON types and no unknown fields."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

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


class CodeRelatedField(serializers.SlugRelatedField):  # type: ignore[type-arg]
    """A region named by its code: a value that cannot be a code (not text, or with a NUL
    character, which PostgreSQL cannot even compare) is refused before any lookup."""

    default_error_messages: ClassVar[dict[str, StrOrPromise]] = {
        "not_a_code": _("Must be a region code such as 15.08.01.2001."),
    }

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str) or "\x00" in data:
            self.fail("not_a_code")
        return super().to_internal_value(data)
