from core.api.routers import Router

from .views import JobViewSet

router = Router(trailing_slash=True)
router.register("jobs", JobViewSet, basename="job")

urlpatterns = router.urls
