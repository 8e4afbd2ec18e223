"""Production: every secret from the environment, HTTPS enforced (see README "Production").
SECRET_KEY and ALLOWED_HOSTS are required."""

from .base import *  # noqa: F403
from .base import MIDDLEWARE, env

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

# Plain-HTTP requests are redirected (301) to https unless SECURE_SSL_REDIRECT=0 (a deployment
# whose TLS is enforced elsewhere). The health probe is exempt: load balancers probe over plain
# HTTP and must see 200/503, not a redirect.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]


def proxy_ssl_header(name: str) -> tuple[str, str] | None:
    """`X-Forwarded-Proto` -> ("HTTP_X_FORWARDED_PROTO", "https"); empty -> None (no header trusted)."""
    name = name.strip()
    if not name:
        return None
    return "HTTP_" + name.upper().replace("-", "_"), "https"


# Behind a TLS-terminating proxy every request reaches the app as plain HTTP; the proxy's header
# says what the client used. Off by default: without a proxy that sets (and strips) the header,
# any client could claim https by sending it. Set UCJ_PROXY_SSL_HEADER=X-Forwarded-Proto there,
# or SECURE_SSL_REDIRECT redirects every request for ever.
SECURE_PROXY_SSL_HEADER = proxy_ssl_header(env.str("UCJ_PROXY_SSL_HEADER", default=""))
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Static files (the offline Swagger UI and ReDoc among them) served by the app itself.
_AFTER = MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1
MIDDLEWARE = [*MIDDLEWARE[:_AFTER], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[_AFTER:]]
