"""Password login with throttled failures, for the admin and the API token login alike."""

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError

from .authentication import user_with_id
from .context import Counted, caller_context, request_context
from .throttling import TokenRateThrottle, count_statement


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
        """The session's user with its access profile and its personal-data right, in one
        hand-written statement (access.authentication): the profile's scope and rate limit are
        read on every request (`access.scope`, `access.throttling`). For a view that counts its
        caller (`counted_per_user`, the portal's pages), the request is counted in the same
        round trip."""
        from django.contrib.auth import get_user_model

        try:
            user_id = get_user_model()._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        context = request_context()
        throttle = TokenRateThrottle()
        along = []
        if context is not None and context.user_counted_along and context.rate_counted is None and throttle.rate:
            along.append(count_statement(throttle.user_key(user_id), *throttle.window()))
        found, returned = user_with_id(user_id, along=along)
        if found is None:
            return None
        user, personal_data = found
        if not self.user_can_authenticate(user):
            return None
        context = caller_context(user)
        if context is not None:  # what was read with the user, for the rest of the request
            context.personal_data = personal_data
            if along:
                context.rate_counted = Counted(hits=returned[0][0], now=throttle.now)
        return user

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD
