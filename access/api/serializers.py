"""Login, the caller's own profile, and the audit trail."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from access.models import AccessLog
from access.personal_data import can_see_personal_data
from enrollment.masking import changes_masked, query_with_niks_masked
from enrollment.models import EnrollmentEvent
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


class AuditEventSerializer(serializers.ModelSerializer):
    worker = serializers.IntegerField(source="worker_id")
    regency = serializers.CharField(source="worker.regency.code")
    actor = serializers.CharField(source="actor_label")

    class Meta:
        model = EnrollmentEvent
        fields = [
            "id",
            "worker",
            "regency",
            "kind",
            "effective_date",
            "recorded_at",
            "actor",
            "source",
            "from_status",
            "to_status",
            "changes",
        ]

    def to_representation(self, event):
        # NIK, birth date and phone in `changes` are masked like everywhere else: an admin
        # profile does not by itself carry the `view_personal_data` right.
        data = super().to_representation(event)
        if not can_see_personal_data(self.context.get("request")):
            data["changes"] = changes_masked(data["changes"])
        return data


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
