"""OpenAPI: our token authentication is documented as knox's (same header, same scheme); the
anonymous rate limit, an authentication class that authenticates no one, is no scheme at all."""

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class TokenScheme(KnoxTokenScheme):
    target_class = "access.authentication.TokenAuthentication"


class AnonymousRateLimitScheme(OpenApiAuthenticationExtension):
    target_class = "access.throttling.AnonymousRateLimit"
    name: list[str] = []  # no security scheme of its own

    def get_security_requirement(self, auto_schema):
        return None

    def get_security_definition(self, auto_schema):
        return []
