"""Password login with throttled failures, for the admin and the API token login alike."""

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied


def _key(username: str) -> str:
    return f"ucj-login-failures:{(username or '').strip().lower()}"


def login_locked(username: str) -> bool:
    """Too many recent failures for this username: refuse even a right password for a while."""
    return cache.get(_key(username), 0) >= settings.UCJ_LOGIN_MAX_FAILURES


class ThrottledModelBackend(ModelBackend):
    """ModelBackend that counts failed passwords per username (in the shared cache, so every
    server process sees them) and locks the username for UCJ_LOGIN_LOCK_SECONDS after
    UCJ_LOGIN_MAX_FAILURES failures."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(self._username_field())
        if login_locked(username):
            raise PermissionDenied("too many failed logins")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        key = _key(username)
        if user is None:
            # Not cache.incr(): it stores the new count with the default cache timeout (300 s),
            # so the lock would last 300 s whatever UCJ_LOGIN_LOCK_SECONDS says.
            cache.set(key, cache.get(key, 0) + 1, timeout=settings.UCJ_LOGIN_LOCK_SECONDS)
        else:
            cache.delete(key)
        return user

    def get_user(self, user_id):
        """The session's user with its access profile, in one query: the profile's scope and
        rate limit are read on every request (`access.scope`, `access.throttling`)."""
        from django.contrib.auth import get_user_model

        try:
            user = get_user_model()._default_manager.select_related("access_profile").get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD
