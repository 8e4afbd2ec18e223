"""Top-level URL map: admin, the v1 API of every app, the OpenAPI schema and docs, health, the portal."""

from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from core.api.errors import page_not_found
from core.api.health import healthz

# The busiest first: each request walks the patterns in order until one matches.
api_v1 = [
    path("", include("coverage.api.urls")),
    path("", include("enrollment.api.urls")),
    path("", include("villages.api.urls")),
    path("", include("access.api.urls")),
    path("", include("jobs.api.urls")),
    path("", include("integrations.api.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("healthz", healthz, name="healthz"),
    # Any other API address (a malformed id, a region code with odd characters) is the API's
    # JSON 404 here, not Django's page: a resolver 404 would be its debug page with DEBUG on,
    # which `make run` has. Only paths ending in "/": one without it is first redirected to
    # its "/" form, as Django does for every address.
    # No CSRF check first: a DELETE with a session cookie would get the CSRF page (403, HTML).
    re_path(r"^api/.*/$", csrf_exempt(page_not_found)),
    # The portal for people, at the root.
    path("", include("portal.urls")),
]

# Unmatched URLs elsewhere: Django's page; under /api/ (without a "/" at the end) the JSON shape.
handler404 = "core.api.errors.page_not_found"
