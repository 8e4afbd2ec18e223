"""Worker and enrollment representations. Writes are validated here for shape and types;
business rules live in `enrollment.services`."""

import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

# `can_see_personal_data` lives in access (the admin asks it too); the API imports it from here.
from access.context import can_see_personal_data
from core.api.fields import (
    ChoiceField,
    CodeRelatedField,
    KeptFieldsMixin,
    MultipleChoiceField,
    RejectUnknownFieldsMixin,
    StrictCharField,
    StrictIntegerField,
)
from enrollment.choices import EnrollmentStatus, FundingSource, Institution, Position, Program, Scheme, Sex, WageBasis
from enrollment.imports import MAX_WAGE
from enrollment.masking import changes_masked
from enrollment.models import ApparatusWorker, Enrollment, EnrollmentEvent
from enrollment.nik import birth_date_mask, nik_compact, nik_mask, nik_problems, phone_mask
from enrollment.selectors import WorkerRow
from villages.models import IN_FORCE, District, Province, Regency, Village

from . import examples

PHONE_REGEX = r"^\+?[0-9][0-9 -]{5,18}$"


def _or_null(value: str) -> str | None:
    """An empty text as it is sent: null (a client's enum has no ""; "no value" is null)."""
    return value or None


@extend_schema_field(
    {
        "type": "object",
        "nullable": True,
        "required": ["kind", "reconciliation"],
        "properties": {
            "kind": {
                "type": "string",
                "enum": ["kpj_number", "reconciliation"],
                "description": "`kpj_number`: its KPJ number is recorded; `reconciliation`: BPJS's list "
                "confirmed its status without the number.",
            },
            "reconciliation": {
                "type": "integer",
                "nullable": True,
                "description": "The reconciliation that confirmed it (`/api/v1/reconciliations/{id}/`).",
            },
        },
    }
)
class EvidenceField(serializers.ReadOnlyField):
    """What shows a membership exists (Enrollment.evidence)."""


class EnrollmentSerializer(serializers.ModelSerializer):
    """A membership as read: what it does not have yet (never activated) is null, not ""."""

    evidence = EvidenceField(
        help_text=_("What shows the membership exists: its KPJ number or a reconciliation; null until activated."),
    )

    programs = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text=_("JKK and JKM always; JHT and JP when taken.")
    )
    kpj_number = serializers.CharField(
        read_only=True, allow_null=True, help_text=_("The membership number (KPJ), 11 digits; null until activated.")
    )
    scheme = ChoiceField(
        choices=Scheme.choices,
        read_only=True,
        allow_null=True,
        help_text=_("PU (wage earner) or BPU (non-wage earner); null until activated."),
    )
    npp = serializers.CharField(
        read_only=True, allow_null=True, help_text=_("The village government's employer number (NPP), for PU only.")
    )
    funding_source = ChoiceField(
        choices=FundingSource.choices,
        read_only=True,
        allow_null=True,
        help_text=_("Who pays the contributions; null until activated."),
    )

    class Meta:
        model = Enrollment
        fields = [
            "status",
            "kpj_number",
            "scheme",
            "npp",
            "programs",
            "funding_source",
            "coverage_start",
            "paid_until",
            "evidence",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "paid_until": {"help_text": _("Contributions are paid up to this day; the membership lapses after it.")}
        }

    def to_representation(self, instance: Enrollment) -> dict[str, Any]:
        # What `WorkerSerializer.to_representation` writes out by hand: an empty text is null.
        data = super().to_representation(instance)
        for name in ("kpj_number", "scheme", "npp", "funding_source"):
            data[name] = _or_null(data[name])
        return data


@extend_schema_serializer(examples=examples.WORKER_EXAMPLES)
class WorkerSerializer(serializers.ModelSerializer):
    """A worker as read; NIK, birth date and phone are masked without `view_personal_data`."""

    village: serializers.SlugRelatedField[Village] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text=_("Village code.")
    )
    district: serializers.SlugRelatedField[District] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text=_("District code.")
    )
    regency: serializers.SlugRelatedField[Regency] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text=_("Regency/city code.")
    )
    province: serializers.SlugRelatedField[Province] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text=_("Province code.")
    )
    birth_date = serializers.SerializerMethodField()
    enrollment = EnrollmentSerializer(read_only=True)
    protected = serializers.SerializerMethodField(
        help_text=_("Serving, its term begun and its membership active: what coverage counts as protected.")
    )

    class Meta:
        model = ApparatusWorker
        fields = [
            "id",
            "village",
            "district",
            "regency",
            "province",
            "nik",
            "full_name",
            "sex",
            "birth_date",
            "phone",
            "institution",
            "position",
            "term_start",
            "term_end",
            "wage_basis",
            "monthly_wage",
            "serving",
            "protected",
            "enrollment",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "nik": {
                "help_text": _(
                    "The NIK; only its first four digits (`1508************`) without the personal-data right."
                )
            },
            "phone": {"help_text": _("Shown as stars without the personal-data right.")},
            "monthly_wage": {"help_text": _("Rupiah a month; null when not known.")},
            "serving": {"help_text": _("Still in office (false once the service ended).")},
            "version": {"help_text": _("Send it back as If-Match (or `version`) to edit or act on the worker.")},
        }

    def get_birth_date(self, worker: ApparatusWorker) -> str | None:
        """Full date (YYYY-MM-DD) for those who may see personal data, else null."""
        if self._full:
            return worker.birth_date.isoformat()
        return birth_date_mask(worker.birth_date)

    def get_protected(self, worker: ApparatusWorker) -> bool:
        return worker.serving and worker.term_started and worker.enrollment_status == "active"

    @property
    def _full(self) -> bool:
        # Decided once per request (access.context), whatever the number of rows.
        return can_see_personal_data(self.context.get("request"))

    def to_representation(self, worker: ApparatusWorker) -> dict[str, Any]:
        # Written out rather than left to the declared fields (`worker_row_data`): building a
        # model serializer's fields costs more than a transition's SQL; the declared fields still
        # describe the schema, and the API tests pin every key and value.
        return worker_row_data(WorkerRow.of(worker), full=self._full)


def worker_row_data(row: WorkerRow, *, full: bool, zone: datetime.tzinfo | None = None) -> dict[str, Any]:
    """A worker as the API shows it, from its row (`enrollment.selectors.worker_rows`), its
    personal data masked unless `full`: what `WorkerSerializer` answers, for an instance or a
    row alike. `zone`: the current time zone, looked up once by a caller of many rows."""
    if zone is None:
        zone = timezone.get_current_timezone()
    return {
        "id": row.id,
        "village": row.village,
        "district": row.district,
        "regency": row.regency,
        "province": row.province,
        "nik": row.nik if full else nik_mask(row.nik),
        "full_name": row.full_name,
        "sex": row.sex,
        "birth_date": row.birth_date.isoformat() if full else birth_date_mask(row.birth_date),
        "phone": row.phone if full else phone_mask(row.phone),
        "institution": row.institution,
        "position": row.position,
        "term_start": _date(row.term_start),
        "term_end": _date(row.term_end),
        "wage_basis": row.wage_basis,
        "monthly_wage": row.monthly_wage,
        "serving": row.serving,
        # What coverage counts as protected (WorkerSerializer.get_protected).
        "protected": row.serving and row.term_started and row.status == EnrollmentStatus.ACTIVE,
        "enrollment": {
            "status": row.status,
            "kpj_number": row.kpj_number or None,
            "scheme": row.scheme or None,
            "npp": row.npp or None,
            "programs": _PROGRAMS[row.program_jht, row.program_jp],
            "funding_source": row.funding_source or None,
            "coverage_start": _date(row.coverage_start),
            "paid_until": _date(row.paid_until),
            "evidence": (
                _KPJ_EVIDENCE
                if row.kpj_number
                else None
                if row.evidence_reconciliation is None
                else {"kind": "reconciliation", "reconciliation": row.evidence_reconciliation}
            ),
        },
        "version": row.version,
        "created_at": _datetime(row.created_at, zone),
        "updated_at": _datetime(row.updated_at, zone),
    }


# Enrollment.programs and Enrollment.evidence, as the rows give them.
_PROGRAMS = {
    (jht, jp): ["jkk", "jkm"] + (["jht"] if jht else []) + (["jp"] if jp else [])
    for jht in (False, True)
    for jp in (False, True)
}
_KPJ_EVIDENCE = {"kind": "kpj_number", "reconciliation": None}


def _datetime(value: datetime.datetime, zone: datetime.tzinfo) -> str:
    """As DRF's DateTimeField writes it (ISO 8601 in the current time zone `zone`, `Z` for UTC),
    which a test holds it to; without the field's per-value checks."""
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _date(value):
    return value.isoformat() if value is not None else None


class NikField(StrictCharField):
    """A NIK, separators dropped, checked on its own here (digits, length, serial, birth-date
    digits), so that its problems come in the same answer as every other field's; what it must
    agree with (birth date, sex) the service checks once all fields are there."""

    def to_internal_value(self, data):
        nik = nik_compact(super().to_internal_value(data))
        problems = nik_problems(nik)
        if problems:
            raise serializers.ValidationError(problems[0].message, code=problems[0].code)
        return nik


@extend_schema_serializer(examples=[examples.CREATE_EXAMPLES[0]])
class WorkerWriteSerializer(KeptFieldsMixin, RejectUnknownFieldsMixin, serializers.Serializer):
    """The fields a clerk fills in to register or edit a worker."""

    village: CodeRelatedField = CodeRelatedField(
        slug_field="code",
        queryset=Village.objects.filter(IN_FORCE),  # not a village a decree retired
        help_text=_("Code of the village served (`15.08.01.2001`), in your region."),
    )
    nik = NikField(
        max_length=32,
        help_text=_(
            "16 digits: the district code, the birth date as DDMMYY (women: day + 40), a serial; "
            "spaces, dots and dashes are dropped."
        ),
    )
    full_name = StrictCharField(max_length=150)
    sex = ChoiceField(choices=Sex.choices, help_text=_("Must agree with the NIK's birth day."))
    birth_date = serializers.DateField(help_text=_("Must agree with digits 7-12 of the NIK."))
    phone = StrictCharField(max_length=20, required=False, allow_blank=True, default="")
    institution = ChoiceField(choices=Institution.choices)
    position = ChoiceField(choices=Position.choices)
    term_start = serializers.DateField(
        help_text=_("First day in office; at most 31 days ahead (UCJ_FUTURE_HORIZON_DAYS).")
    )
    term_end = serializers.DateField(required=False, allow_null=True, default=None)
    wage_basis = ChoiceField(
        choices=WageBasis.choices, help_text=_("Fixed income (siltap) or honorarium: decides PU or BPU.")
    )
    monthly_wage = StrictIntegerField(
        min_value=0,
        max_value=MAX_WAGE,
        required=False,
        allow_null=True,
        default=None,
        help_text=_("Rupiah a month; null when not known."),
    )
    version = StrictIntegerField(min_value=1, required=False, help_text=_("the version you edited (or If-Match)"))

    def validate_phone(self, value: str) -> str:
        import re

        if value and not re.match(PHONE_REGEX, value):
            raise serializers.ValidationError(_("Enter a phone number: digits, optionally starting with +."))
        return value


@extend_schema_serializer(examples=[examples.SUBMIT_EXAMPLES[0]])
class TransitionSerializer(KeptFieldsMixin, RejectUnknownFieldsMixin, serializers.Serializer):
    """Common to every enrollment action: when it takes effect and the version acted on."""

    effective_date = serializers.DateField(required=False, help_text=_("default: today"))
    version = StrictIntegerField(min_value=1, required=False, help_text=_("the version you edited (or If-Match)"))


@extend_schema_serializer(examples=[examples.ACTIVATE_EXAMPLES[0]])
class ActivateSerializer(TransitionSerializer):
    """The membership the branch office records: KPJ number, scheme, programs, funding, period."""

    kpj_number = StrictCharField(
        max_length=11, min_length=11, help_text=_("The membership number (KPJ), 11 digits, not another worker's.")
    )
    scheme = ChoiceField(choices=Scheme.choices, help_text=_("PU (wage earner) or BPU (non-wage earner)."))
    npp = StrictCharField(
        max_length=20,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("The village government's employer number (NPP): required for PU."),
    )
    programs = MultipleChoiceField(
        choices=Program.choices, help_text=_("JKK and JKM are required; JHT and JP optional (JP not for BPU).")
    )
    funding_source = ChoiceField(choices=FundingSource.choices, help_text=_("Who pays the contributions."))
    coverage_start = serializers.DateField()
    paid_until = serializers.DateField(
        help_text=_("Paid up to this day: not before the effective date, at most 400 days ahead.")
    )

    def validate_kpj_number(self, value: str) -> str:
        if not value.isascii() or not value.isdigit():  # not full-width or other Unicode digits
            raise serializers.ValidationError(_("The KPJ number must have 11 digits."))
        return value


@extend_schema_serializer(examples=[examples.RENEW_EXAMPLES[0]])
class RenewSerializer(TransitionSerializer):
    """Contributions paid further: the new paid-until, and the funding source if it changed."""

    paid_until = serializers.DateField(help_text=_("Later than the current paid-until, at most 400 days ahead."))
    funding_source = ChoiceField(
        choices=FundingSource.choices, required=False, help_text=_("Only when who pays changes.")
    )


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "activated", summary="The branch office activated the membership", value=examples.ACTIVATED_EVENT
        )
    ]
)
class EnrollmentEventSerializer(serializers.ModelSerializer):
    """One entry of a worker's append-only history: what changed, when it took effect, who recorded it."""

    actor = serializers.CharField(
        source="actor_label", read_only=True, help_text=_("Who recorded it: a username, a client, or `system`.")
    )
    # Null for a worker's first event (there was no status before it).
    from_status = ChoiceField(choices=EnrollmentStatus.choices, read_only=True, allow_null=True)

    class Meta:
        model = EnrollmentEvent
        fields = [
            "id",
            "kind",
            "effective_date",
            "recorded_at",
            "actor",
            "source",
            "from_status",
            "to_status",
            "changes",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "changes": {
                "help_text": _(
                    "Each changed field as [before, after]; NIK, birth date and phone masked without the "
                    "personal-data right."
                )
            }
        }

    def to_representation(self, event):
        data = super().to_representation(event)
        data["from_status"] = _or_null(data["from_status"])
        if not can_see_personal_data(self.context.get("request")):
            data["changes"] = changes_masked(data["changes"])
        return data
