from core.api.routers import Router

from .views import BranchOfficeViewSet, DistrictViewSet, ProvinceViewSet, RegencyViewSet, VillageViewSet

router = Router(trailing_slash=True)
router.register("provinces", ProvinceViewSet, basename="province")
router.register("regencies", RegencyViewSet, basename="regency")
router.register("districts", DistrictViewSet, basename="district")
router.register("villages", VillageViewSet, basename="village")
router.register("branches", BranchOfficeViewSet, basename="branch")

urlpatterns = router.urls
