from django.urls import path

from core.api.routers import Router

from .subscriptions import SubscriptionViewSet
from .views import ChangesView

router = Router(trailing_slash=True)
router.register("subscriptions", SubscriptionViewSet, basename="subscription")

urlpatterns = [
    path("changes/", ChangesView.as_view(), name="changes"),
    *router.urls,
]
