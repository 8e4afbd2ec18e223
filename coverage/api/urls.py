from django.urls import path, re_path

from core.api.routers import Router

from .views import (
    CoverageAdxExportView,
    CoverageDetailView,
    CoverageDhis2ExportView,
    CoverageGeoView,
    CoverageRowsView,
    CoverageTrendView,
    TargetViewSet,
    UnprotectedVillagesView,
    WorkforceViewSet,
)

router = Router(trailing_slash=True)
router.register("targets", TargetViewSet, basename="target")
router.register("workforce", WorkforceViewSet, basename="workforce")

CODE = r"(?P<code>[0-9]{2}(?:\.[0-9]{2}){0,2}(?:\.[0-9]{4})?)"

urlpatterns = [
    path("coverage/", CoverageRowsView.as_view(), name="coverage-list"),
    path("coverage/geo/", CoverageGeoView.as_view(), name="coverage-geo"),
    path("coverage/exports/dhis2/", CoverageDhis2ExportView.as_view(), name="coverage-export-dhis2"),
    path("coverage/exports/adx/", CoverageAdxExportView.as_view(), name="coverage-export-adx"),
    path("coverage/unprotected-villages/", UnprotectedVillagesView.as_view(), name="coverage-unprotected-villages"),
    re_path(rf"^coverage/{CODE}/$", CoverageDetailView.as_view(), name="coverage-detail"),
    re_path(rf"^coverage/{CODE}/trend/$", CoverageTrendView.as_view(), name="coverage-trend"),
    *router.urls,
]
