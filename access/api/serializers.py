"""Login, the caller's own profile, and the access log (the audit trail of changes is
enrollment.api.audit)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from access.context import can_see_personal_data
from access.masking import query_with_niks_masked
from access.models import AccessLog
from core.api.fields import RejectUnknownFieldsMixin, StrictCharField


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "regency-officer",
            summary="The Bungo regency officer of the demo",
            value={"username": "pmd.bungo", "password": "ganti-kata-sandi-ini"},
            request_only=True,
        )
    ]
)
class LoginSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """A user's or a client's username and password."""

    username = StrictCharField(max_length=150)
    password = StrictCharField(max_length=128, style={"input_type": "password"}, trim_whitespace=False)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "token",
            summary="A new token",
            value={
                "token": "3f9c1e7a5b2d48f0c6a1e9b7d3f5a2c8e4b6d0f1a3c5e7b9d2f4a6c8e0b1d3f5",
                "expiry": "2026-12-05T19:52:44.118204+07:00",
            },
            response_only=True,
        )
    ]
)
class TokenSerializer(serializers.Serializer):
    """An API token, given once at login."""

    token = serializers.CharField(help_text=_("send as `Authorization: Token <token>`; shown once"))
    expiry = serializers.DateTimeField(help_text=_("When the token stops working; log in again then."))


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "regency-officer",
            summary="The Bungo regency officer",
            value={
                "username": "pmd.bungo",
                "role": "regency_officer",
                "capabilities": ["export", "read_coverage", "read_workers", "write_workers"],
                "provinces": [],
                "regencies": ["15.08"],
                "view_personal_data": True,
            },
        )
    ]
)
class MeSerializer(serializers.Serializer):
    """The caller: its role, what it may do, and the regions it covers."""

    username = serializers.CharField()
    role = serializers.CharField(
        help_text=_("admin, province_officer, regency_officer, branch_officer, viewer or integration.")
    )
    capabilities = serializers.ListField(child=serializers.CharField(), help_text=_("What the role may do."))
    provinces = serializers.ListField(
        child=serializers.CharField(), help_text=_("Codes of the provinces covered whole; `*` for every region.")
    )
    regencies = serializers.ListField(child=serializers.CharField(), help_text=_("Codes of the regencies covered."))
    view_personal_data = serializers.BooleanField(help_text=_("Whether NIK, birth date and phone are shown in full."))


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "personal-data",
            summary="A branch officer read a worker in full",
            value={
                "id": 5120,
                "user": "bpjs.muarabungo",
                "at": "2026-12-05T10:31:07.552019+07:00",
                "kind": "personal_data",
                "path": "/api/v1/workers/98991/",
                "query": "",
                "worker_ids": [98991],
                "rows": 1,
            },
        )
    ]
)
class AccessLogSerializer(serializers.ModelSerializer):
    """One response that showed full personal data, one export, or one exact-NIK lookup."""

    user = serializers.CharField(source="user.username", help_text=_("Who was answered."))

    class Meta:
        model = AccessLog
        fields = ["id", "user", "at", "kind", "path", "query", "worker_ids", "rows"]
        extra_kwargs = {
            "query": {"help_text": _("The query string; a searched NIK masked without the personal-data right.")},
            "worker_ids": {"help_text": _("The ids of the workers shown.")},
            "rows": {"help_text": _("How many rows: workers shown, rows exported, or NIKs looked up.")},
        }

    def to_representation(self, entry):
        # A logged query can hold a searched NIK: masked for an admin profile without the right.
        data = super().to_representation(entry)
        if not can_see_personal_data(self.context.get("request")):
            data["query"] = query_with_niks_masked(data["query"])
        return data


class LogoutQuerySerializer(serializers.Serializer):
    """The query of a logout."""

    all = serializers.BooleanField(
        default=False, help_text="`true`: revoke every token of the caller, not only the one sent."
    )
