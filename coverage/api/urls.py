from django.urls import path

from core.api.routers import Router
from core.codes import register_region_converter

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

# A region code in either spelling (`15.08` or `1508`), given to the view dotted (core.codes).
register_region_converter()

urlpatterns = [
    path("coverage/", CoverageRowsView.as_view(), name="coverage-list"),
    path("coverage/geo/", CoverageGeoView.as_view(), name="coverage-geo"),
    path("coverage/exports/dhis2/", CoverageDhis2ExportView.as_view(), name="coverage-export-dhis2"),
    path("coverage/exports/adx/", CoverageAdxExportView.as_view(), name="coverage-export-adx"),
    path("coverage/unprotected-villages/", UnprotectedVillagesView.as_view(), name="coverage-unprotected-villages"),
    path("coverage/<region:code>/", CoverageDetailView.as_view(), name="coverage-detail"),
    path("coverage/<region:code>/trend/", CoverageTrendView.as_view(), name="coverage-trend"),
    *router.urls,
]
