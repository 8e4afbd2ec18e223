from django.urls import path

from core.api.routers import Router

from .views import AccessLogViewSet, LoginView, LogoutView, MeView

router = Router(trailing_slash=True)
router.register("audit/access-log", AccessLogViewSet, basename="access-log")

urlpatterns = [
    path("auth/login/", LoginView.as_view(), name="auth-login"),
    path("auth/logout/", LogoutView.as_view(), name="auth-logout"),
    path("auth/me/", MeView.as_view(), name="auth-me"),
    *router.urls,
]
