"""The forms of the worker pages: they draw the inputs and keep what was typed; they validate
nothing themselves. What a person sends is checked by the API's own serializers
(enrollment.api.serializers) and then by the services, and their errors are shown next to the
field they name: the portal accepts and refuses exactly what the API does."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django import forms
from django.forms.utils import ErrorDict
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.codes import region_code
from core.errors import ServiceError
from enrollment.choices import FundingSource, Institution, Position, Program, Scheme, Sex, WageBasis


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


def _blank_first(choices: Iterable[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [("", "—"), *choices]


class CheckedElsewhereForm(forms.Form):
    """A form that draws inputs only: `full_clean` checks nothing (the serializer and the service
    do), and `errors_attach` puts their errors next to the fields they name (the others above
    the form)."""

    def full_clean(self) -> None:
        self._errors = ErrorDict()
        self.cleaned_data = {}

    def errors_attach(self, errors: Mapping[str | None, Sequence[str]]) -> None:
        self.full_clean()
        for field, messages in errors.items():
            target = field if field in self.fields and not self.fields[field].widget.is_hidden else None
            for message in messages:
                self.add_error(target, str(message))


class VillageCodeField(forms.ChoiceField):
    """One of the villages offered, named by its code in either spelling (`15.08.01.2001` or
    `1508012001`, core.codes): cleaned to the dotted code the choices hold."""

    def to_python(self, value: Any) -> str:
        text = super().to_python(value)
        return region_code(text) or text


class WorkerForm(CheckedElsewhereForm):
    """Register or edit a worker: the fields of the API's WorkerWriteSerializer."""

    village = VillageCodeField(label=_("Village"), required=False)
    nik = forms.CharField(label=_("NIK"), required=False, max_length=32)
    full_name = forms.CharField(label=_("Full name"), required=False, max_length=150)
    sex = forms.ChoiceField(label=_("Sex"), required=False, choices=_blank_first(Sex.choices))
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=DateInput())
    phone = forms.CharField(label=_("Phone"), required=False, max_length=20)
    institution = forms.ChoiceField(label=_("Institution"), required=False, choices=_blank_first(Institution.choices))
    position = forms.ChoiceField(label=_("Position"), required=False, choices=_blank_first(Position.choices))
    term_start = forms.DateField(label=_("Term start"), required=False, widget=DateInput())
    term_end = forms.DateField(label=_("Term end"), required=False, widget=DateInput())
    wage_basis = forms.ChoiceField(label=_("Wage basis"), required=False, choices=_blank_first(WageBasis.choices))
    monthly_wage = forms.CharField(
        label=_("Monthly wage (Rp)"), required=False, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, villages: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["village"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = _blank_first(villages)


class TransitionForm(CheckedElsewhereForm):
    """Submit, lapse or end the service: the version read (and, optionally, the effective date)."""

    effective_date = forms.DateField(label=_("Effective date"), required=False, widget=DateInput())
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class ActivateForm(TransitionForm):
    """The membership a branch records: the fields of the API's ActivateSerializer."""

    field_order = ("kpj_number", "scheme", "npp", "programs", "funding_source", "coverage_start", "paid_until")

    kpj_number = forms.CharField(label=_("KPJ number"), required=False, max_length=11)
    scheme = forms.ChoiceField(label=_("Scheme"), required=False, choices=_blank_first(Scheme.choices))
    npp = forms.CharField(label=_("NPP (PU only)"), required=False, max_length=20)
    programs = forms.MultipleChoiceField(
        label=_("Programs"), required=False, choices=Program.choices, widget=forms.CheckboxSelectMultiple
    )
    funding_source = forms.ChoiceField(
        label=_("Funding source"), required=False, choices=_blank_first(FundingSource.choices)
    )
    coverage_start = forms.DateField(label=_("Coverage start"), required=False, widget=DateInput())
    paid_until = forms.DateField(label=_("Paid until"), required=False, widget=DateInput())


class RenewForm(TransitionForm):
    """Contributions paid further: the fields of the API's RenewSerializer."""

    field_order = ("paid_until", "funding_source")

    paid_until = forms.DateField(label=_("Paid until"), required=False, widget=DateInput())
    funding_source = forms.ChoiceField(
        label=_("Funding source (only if it changed)"), required=False, choices=_blank_first(FundingSource.choices)
    )


def _whole_number(value: str) -> int | str:
    """A typed whole number (Indonesian thousands dots and spaces allowed) as an int; anything
    else as typed, for the serializer to refuse."""
    digits = value.replace(".", "").replace(" ", "").strip()
    return int(digits) if digits.isascii() and digits.isdigit() else value


def serializer_data(
    posted: QueryDict, serializer: serializers.Serializer[Any], *, blanks: bool = False
) -> tuple[dict[str, Any], set[str]]:
    """What a form posted, shaped as the API's JSON body for `serializer`: only its fields, whole
    numbers as numbers, several choices as a list. An empty input is left out (the serializer's
    default applies) unless `blanks` (an edit): then it clears a field that may be empty (null or
    "") and is returned among the blank ones otherwise."""
    data: dict[str, Any] = {}
    blank: set[str] = set()
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        if isinstance(field, serializers.MultipleChoiceField):
            data[name] = posted.getlist(name)
            continue
        value = posted.get(name)
        if value is None:
            continue
        if not value.strip():
            if not blanks:
                continue
            if field.allow_null:
                data[name] = None
            elif getattr(field, "allow_blank", False):
                data[name] = ""
            else:
                blank.add(name)
            continue
        data[name] = _whole_number(value) if isinstance(field, serializers.IntegerField) else value
    return data, blank


def serializer_errors(errors: Mapping[str, Any]) -> dict[str | None, list[str]]:
    """A serializer's errors by field (None: the form's own)."""
    shaped: dict[str | None, list[str]] = {}
    for field, messages in errors.items():
        key = None if field == "non_field_errors" else field
        items = messages if isinstance(messages, list) else [messages]
        shaped.setdefault(key, []).extend(str(message) for message in items)
    return shaped


def service_errors(exc: ServiceError) -> dict[str | None, list[str]]:
    """A service's refusal by field (one error may name several problems)."""
    shaped: dict[str | None, list[str]] = {}
    for error in exc.errors:
        shaped.setdefault(error.field, []).append(str(error.message))
    return shaped
