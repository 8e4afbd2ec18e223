"""Rate limits: per token (or session user) and per anonymous IP; counts live in the shared
database cache so every server process enforces the same limit. DRF answers 429 with
Retry-After."""

from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle


class TokenRateThrottle(SimpleRateThrottle):
    """Per API token; session users (the browsable API) are limited per user."""

    scope = "token"

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        token_key = getattr(request.auth, "token_key", None)
        ident = f"t{token_key}" if token_key else f"u{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonymousRateThrottle(AnonRateThrottle):
    scope = "anon"


class LoginRateThrottle(AnonRateThrottle):
    """Login attempts per IP, whatever the username."""

    scope = "login"
