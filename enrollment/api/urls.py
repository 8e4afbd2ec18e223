from rest_framework.routers import SimpleRouter

from .views import WorkerViewSet

router = SimpleRouter(trailing_slash=True)
router.register("workers", WorkerViewSet, basename="worker")

urlpatterns = router.urls
