"""OpenAPI: our token authentication is documented as knox's (same header, same scheme)."""

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme


class TokenScheme(KnoxTokenScheme):
    target_class = "access.authentication.TokenAuthentication"
