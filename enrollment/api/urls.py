from django.urls import path

from core.api.routers import Router

from .audit import AuditEventViewSet
from .imports import WorkerImportTemplateView, WorkerImportUploadView, WorkerImportViewSet
from .reconciliations import ReconciliationViewSet
from .views import WorkerViewSet

router = Router(trailing_slash=True)
router.register("workers", WorkerViewSet, basename="worker")
router.register("imports", WorkerImportViewSet, basename="import")
router.register("reconciliations", ReconciliationViewSet, basename="reconciliation")
router.register("audit/events", AuditEventViewSet, basename="audit-event")

urlpatterns = [
    path("imports/workers/", WorkerImportUploadView.as_view(), name="import-workers"),
    path("imports/workers/template/", WorkerImportTemplateView.as_view(), name="import-template"),
    *router.urls,
]
