from rest_framework import viewsets
from rest_framework.permissions import IsAuthenticated

from access.api.permissions import CapabilityRequired
from core.api.permissions import PUBLIC
from jobs.models import Job
from jobs.selectors import jobs_visible

from .serializers import JobSerializer


class JobViewSet(viewsets.ReadOnlyModelViewSet):
    """Background jobs: one's own (all of them for an admin of every region who may see personal
    data), newest first; another's job is 404. Poll a job's address until `state` is `succeeded`
    or `failed`."""

    serializer_class = JobSerializer
    login_required = True  # any signed-in caller (its own jobs); an anonymous one gets 401
    queryset = Job.objects.none()  # see get_queryset
    permission_classes = [IsAuthenticated, CapabilityRequired]
    required_capabilities = {"list": PUBLIC, "retrieve": PUBLIC}
    ordering = ["-id"]
    ordering_fields = ["id", "created_at"]

    def get_queryset(self):
        return jobs_visible(user=self.request.user)
