"""The admins' audit trail: every change to workers and enrollments, who made it, when and from
where (`/api/v1/audit/events/`). The access log beside it is access's."""

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from access.api.permissions import CapabilityRequired
from access.choices import AccessKind, Capability
from access.context import can_see_personal_data
from access.services import access_log_write
from core.api.filter_fields import RegionCodeFilter
from core.api.filtersets import KeptFilterSet
from enrollment.models import EnrollmentEvent
from enrollment.services import PERSONAL_FIELDS

from . import examples as worker_examples
from .serializers import EnrollmentEventSerializer


class AuditEventFilterSet(KeptFilterSet):
    actor = django_filters.CharFilter(field_name="actor_label", label="Actor (username or client)")
    source = django_filters.CharFilter(label="Where it came from: api, import, admin or system")
    province = RegionCodeFilter(field_name="worker__province__code", label="Province code (`15`)", depths=(1,))
    regency = RegionCodeFilter(
        field_name="worker__regency__code", label="Regency/city code (`15.08` or `1508`)", depths=(2,)
    )
    start = django_filters.DateFilter(
        field_name="recorded_at", lookup_expr="date__gte", label="Recorded on or after this day"
    )
    end = django_filters.DateFilter(
        field_name="recorded_at", lookup_expr="date__lte", label="Recorded on or before this day"
    )

    class Meta:
        model = EnrollmentEvent
        fields = ["actor", "source", "kind", "province", "regency", "start", "end"]


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "activated",
            summary="The branch office activated a membership",
            value={"worker": 98991, "regency": "15.08", **worker_examples.ACTIVATED_EVENT},
        )
    ]
)
class AuditEventSerializer(EnrollmentEventSerializer):
    """A history event with its worker and regency, for the audit trail: the worker's history
    serializer (nulls and masks included) and two fields more."""

    worker = serializers.IntegerField(source="worker_id", help_text=_("The worker's id."))
    regency = serializers.CharField(source="worker.regency.code", help_text=_("Regency/city code."))

    class Meta(EnrollmentEventSerializer.Meta):
        fields = ["id", "worker", "regency", *EnrollmentEventSerializer.Meta.fields[1:]]


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """Every change to workers and enrollments: who, when, from where (admins)."""

    queryset = EnrollmentEvent.objects.select_related("worker__regency")  # regency code shown per row
    serializer_class = AuditEventSerializer
    permission_classes = [CapabilityRequired]
    required_capabilities = {"list": Capability.ADMIN, "retrieve": Capability.ADMIN}
    filterset_class = AuditEventFilterSet
    ordering_fields = ["id", "recorded_at"]
    ordering = ["-id"]

    def _log_personal_data(self, rows) -> None:
        """Events whose `changes` showed a NIK, birth date or phone in full go to the access log."""
        if not can_see_personal_data(self.request):
            return
        worker_ids = list(dict.fromkeys(r["worker"] for r in rows if set(PERSONAL_FIELDS) & set(r["changes"])))
        if worker_ids:
            access_log_write(request=self.request, kind=AccessKind.PERSONAL_DATA, worker_ids=worker_ids)

    def list(self, request: Request, *args, **kwargs) -> Response:
        response = super().list(request, *args, **kwargs)
        self._log_personal_data(response.data.get("results", []))
        return response

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        response = super().retrieve(request, *args, **kwargs)
        self._log_personal_data([response.data])
        return response
