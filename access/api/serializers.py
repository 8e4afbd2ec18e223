"""Login, the caller's own profile, and the audit trail."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from access.models import AccessLog
from access.personal_data import can_see_personal_data
from enrollment.api.serializers import EnrollmentEventSerializer
from enrollment.masking import query_with_niks_masked
from ucj_project.api.fields import RejectUnknownFieldsMixin, StrictCharField


class LoginSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    username = StrictCharField(max_length=150)
    password = StrictCharField(max_length=128, style={"input_type": "password"}, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text=_("send as `Authorization: Token <token>`; shown once"))
    expiry = serializers.DateTimeField()


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    role = serializers.CharField()
    capabilities = serializers.ListField(child=serializers.CharField())
    provinces = serializers.ListField(child=serializers.CharField())
    regencies = serializers.ListField(child=serializers.CharField())
    view_personal_data = serializers.BooleanField()


class AuditEventSerializer(EnrollmentEventSerializer):
    """A history event with its worker and regency, for the audit trail: the worker's history
    serializer (nulls and masks included) and two fields more."""

    worker = serializers.IntegerField(source="worker_id")
    regency = serializers.CharField(source="worker.regency.code")

    class Meta(EnrollmentEventSerializer.Meta):
        fields = ["id", "worker", "regency", *EnrollmentEventSerializer.Meta.fields[1:]]


class AccessLogSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username")

    class Meta:
        model = AccessLog
        fields = ["id", "user", "at", "kind", "path", "query", "worker_ids", "rows"]

    def to_representation(self, entry):
        # A logged query can hold a searched NIK: masked for an admin profile without the right.
        data = super().to_representation(entry)
        if not can_see_personal_data(self.context.get("request")):
            data["query"] = query_with_niks_masked(data["query"])
        return data
