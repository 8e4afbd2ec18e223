"""API token authentication: django-rest-knox tokens (hashed, expiring, revocable), checked in
one statement that also brings the user, its access profile and whether it may see personal
data: everything a request needs to know about its caller."""

from __future__ import annotations

import binascii
from collections.abc import Callable, Sequence
from hmac import compare_digest
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router
from django.db.models import Field, ManyToManyField, Model
from django.db.models.fields.mixins import FieldCacheMixin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS, knox_settings
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS

from access.throttling import AnonymousRateLimit, TokenRateThrottle, count_joined
from core.data_version import version_joined, versions_of
from core.db import Joined, Statement, checking_the_connection, fetch_joined
from core.routing import position_read, position_statement

from .context import Counted, caller_context
from .models import AccessProfile
from .personal_data import PERSONAL_DATA_PERMISSION, personal_data_decided

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.expressions import Col
    from django.db.models.fields.reverse_related import ForeignObjectRel
    from django.db.models.options import Options
    from rest_framework.request import Request

# A column as read, and what the ORM applies to its value (each called with value, column, connection).
_Converters = list[tuple["Col", list[Callable[..., Any]]]]
# The statement, its columns' converters (none: every value arrives as the ORM would have it)
# and the token and user models.
_Plan = tuple[str, _Converters, tuple[type[Model], type[Model]]]

# Per database alias: the statement and each column's converters, made once per process from
# the models' metadata.
_plans: dict[str, _Plan] = {}


def _many_to_many(model: type[Model], name: str) -> tuple[Options[Any], type[Model]]:
    """The table behind `model`'s many-to-many field `name`, and the model it points to."""
    field = model._meta.get_field(name)
    if not isinstance(field, ManyToManyField) or field.remote_field.through is None:
        raise ImproperlyConfigured(f"{model._meta.label}.{name} is not a many-to-many field.")
    return field.remote_field.through._meta, field.related_model


def _relation(model: type[Model], name: str) -> FieldCacheMixin:
    """`model`'s relation `name` (either side), whose cache holds the related object once read."""
    field = model._meta.get_field(name)
    if not isinstance(field, FieldCacheMixin):
        raise ImproperlyConfigured(f"{model._meta.label}.{name} is not a relation.")
    return field


def _column(field: Field[Any, Any] | ForeignObjectRel) -> str:
    """The column of a field (the reverse side of a relation and a many-to-many field have none)."""
    if not isinstance(field, Field) or field.column is None:
        raise ImproperlyConfigured(f"{field} has no column.")
    return field.column


def _converters(model: type[Model], connection: BaseDatabaseWrapper) -> _Converters:
    """What the ORM would apply to each column of `model` as read (e.g. aware datetimes on SQLite)."""
    result = []
    for f in model._meta.concrete_fields:
        col = f.get_col(model._meta.db_table)
        result.append((col, connection.ops.get_db_converters(col) + col.get_db_converters(connection)))
    return result


def _caller_plan(alias: str, by: str) -> _Plan:
    """SELECT the caller's columns and whether it may see personal data: `by` "token", the token,
    its user and the user's profile for one token key; `by` "user", the user and its profile for
    one user id (a session's user, access.backends).

    Hand-written rather than compiled by the ORM on every request: compiling a three-table
    `select_related` costs more than running it, and it runs on every request."""
    plan = _plans.get(f"{alias}:{by}")
    if plan is not None:
        return plan
    connection = connections[alias]
    qn = connection.ops.quote_name
    token_model, user_model = get_token_model(), get_user_model()
    user_perms, _permission_model = _many_to_many(user_model, "user_permissions")
    user_groups, group_model = _many_to_many(user_model, "groups")
    group_perms, _permission_model = _many_to_many(group_model, "permissions")

    def table(meta: Options[Any]) -> str:
        return qn(meta.db_table)

    def col(meta: Options[Any], name: str) -> str:
        return qn(_column(meta.get_field(name)))

    def columns(model: type[Model], alias_name: str) -> str:
        return ", ".join(f"{alias_name}.{qn(_column(f))}" for f in model._meta.concrete_fields)

    token, user, profile = token_model._meta, user_model._meta, AccessProfile._meta
    permission, content_type = Permission._meta, ContentType._meta
    # Directly or through a group, like Django's ModelBackend (superusers are decided in Python).
    held_directly = (
        f"SELECT 1 FROM {table(user_perms)} up WHERE up.{col(user_perms, 'user')} = u.{col(user, 'id')} "
        f"AND up.{col(user_perms, 'permission')} = perm.{col(permission, 'id')}"
    )
    held_by_group = (
        f"SELECT 1 FROM {table(user_groups)} ug JOIN {table(group_perms)} gp "
        f"ON gp.{col(group_perms, 'group')} = ug.{col(user_groups, 'group')} "
        f"WHERE ug.{col(user_groups, 'user')} = u.{col(user, 'id')} "
        f"AND gp.{col(group_perms, 'permission')} = perm.{col(permission, 'id')}"
    )
    personal_data = (
        f"EXISTS (SELECT 1 FROM {table(permission)} perm "
        f"JOIN {table(content_type)} ct ON ct.{col(content_type, 'id')} = perm.{col(permission, 'content_type')} "
        f"WHERE perm.{col(permission, 'codename')} = %s AND ct.{col(content_type, 'app_label')} = %s "
        f"AND (EXISTS ({held_directly}) OR EXISTS ({held_by_group})))"
    )
    with_profile = f"LEFT JOIN {table(profile)} p ON p.{col(profile, 'user')} = u.{col(user, 'id')} "
    if by == "token":
        statement = (
            f"SELECT {columns(token_model, 't')}, {columns(user_model, 'u')}, {columns(AccessProfile, 'p')}, "
            f"{personal_data} "
            f"FROM {table(token)} t "
            f"JOIN {table(user)} u ON u.{col(user, 'id')} = t.{col(token, 'user')} "
            f"{with_profile}"
            f"WHERE t.{col(token, 'token_key')} = %s"
        )
        models: tuple[type[Model], ...] = (token_model, user_model, AccessProfile)
    else:
        statement = (
            f"SELECT {columns(user_model, 'u')}, {columns(AccessProfile, 'p')}, {personal_data} "
            f"FROM {table(user)} u {with_profile}"
            f"WHERE u.{col(user, 'id')} = %s"
        )
        models = (user_model, AccessProfile)
    converters = [converter for model in models for converter in _converters(model, connection)]
    if not any(functions for _col, functions in converters):
        converters = []  # PostgreSQL: every value arrives as the ORM would have it
    plan = _plans[f"{alias}:{by}"] = (statement, converters, (token_model, user_model))
    return plan


def _converted(row: Sequence[Any], converters: _Converters, connection: BaseDatabaseWrapper) -> list[Any]:
    values = list(row)
    for i, (col, functions) in enumerate(converters):
        for function in functions:
            values[i] = function(values[i], col, connection)
    return values


def _instance(model: type[Model], alias: str, values: Sequence[Any]) -> Any:
    return model.from_db(alias, [f.attname for f in model._meta.concrete_fields], values)


def _caller_rows(
    by: str, key: Any, along: Sequence[Statement], joined: Sequence[Joined] = ()
) -> tuple[list[Any], list[Any], str, _Plan]:
    alias = router.db_for_read(AccessProfile)
    plan = _caller_plan(alias, by)
    statement, converters, _models = plan
    # The caller's lookup is a request's first statement: it also tells whether the connection
    # still works, instead of a statement of Django's before it (core.db).
    rows, joined_rows, along_rows = checking_the_connection(
        alias,
        lambda: fetch_joined(
            alias, (statement, [PERSONAL_DATA_PERMISSION[1], PERSONAL_DATA_PERMISSION[0], key]), joined, along
        ),
    )
    returned = [*joined_rows, *along_rows]
    if converters:
        connection = connections[alias]
        rows = [(*_converted(row[:-1], converters, connection), row[-1]) for row in rows]
    return rows, returned, alias, plan


def _user_and_profile(alias: str, values: Sequence[Any]) -> tuple[Any, bool]:
    """The user of a row's user and profile columns (with its profile, or the knowledge that it
    has none, in the relation's cache) and whether it may see personal data (the row's last
    value, the permission; decided by the rule of access.personal_data)."""
    user_model = get_user_model()
    n_user = len(user_model._meta.concrete_fields)
    n_profile = len(AccessProfile._meta.concrete_fields)
    user = _instance(user_model, alias, values[:n_user])
    profile_values = values[n_user : n_user + n_profile]
    profile = _instance(AccessProfile, alias, profile_values) if profile_values[0] is not None else None
    if profile is not None:
        _relation(AccessProfile, "user").set_cached_value(profile, user)
    _relation(user_model, "access_profile").set_cached_value(user, profile)  # None: "no profile", without a query
    personal_data = personal_data_decided(
        is_superuser=user.is_superuser, role=profile.role if profile else None, has_permission=bool(values[-1])
    )
    return user, personal_data


def tokens_with_key(
    token_key: str, *, joined: Sequence[Joined] = (), along: Sequence[Statement] = ()
) -> tuple[list[tuple[Any, bool]], list[Any]]:
    """The tokens whose key is `token_key`, each with `.user` (and its `access_profile`, or the
    knowledge that it has none) loaded, and whether that user may see personal data.

    The statements `joined` ride in the lookup's statement, and those `along` (SQL and
    parameters, each returning one row) are sent with it, in the same round trip on PostgreSQL
    (see core.db); their rows come back with the tokens, the joined ones' first."""
    rows, returned, alias, (_statement, _converters, (token_model, _user_model)) = _caller_rows(
        "token", token_key, along, joined
    )
    n_token = len(token_model._meta.concrete_fields)
    token_user = _relation(token_model, "user")
    tokens = []
    for row in rows:
        token = _instance(token_model, alias, row[:n_token])
        user, personal_data = _user_and_profile(alias, row[n_token:])
        token_user.set_cached_value(token, user)
        tokens.append((token, personal_data))
    return tokens, returned


def user_with_id(user_id: Any, *, along: Sequence[Statement] = ()) -> tuple[tuple[Any, bool] | None, list[Any]]:
    """The user whose primary key is `user_id` (None if there is none), with its `access_profile`
    loaded as `tokens_with_key` loads a token's, and whether it may see personal data; the rows
    of the statements `along`, sent in the same round trip."""
    rows, returned, alias, _plan = _caller_rows("user", user_id, along)
    return (_user_and_profile(alias, rows[0]) if rows else None), returned


class TokenAuthentication(KnoxTokenAuthentication):
    """Knox's check in one statement, without its per-request sweep of the user's other tokens
    (one more query on every request); expired tokens are still refused and deleted when
    presented, and the sweep happens at login (`access.api.views.LoginView`).

    The request is counted for the token's rate limit in the same round trip as the lookup
    (kept in the request's context, access.context, for `TokenRateThrottle`, with the rate of the user's access
    profile, which comes with the lookup). A request whose token is refused is counted by
    address, as anonymous requests are: guessing tokens uses up that rate.
    """

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        self.request_method = request.method
        scheme = request.META.get("HTTP_AUTHORIZATION", "").split(" ", 1)[0]
        if scheme.lower() == "bearer":  # the commonest mistake: say which scheme this API takes
            AnonymousRateLimit().authenticate(request)
            raise exceptions.AuthenticationFailed(_("Send the token as `Authorization: Token <token>`, not Bearer."))
        try:
            authenticated = super().authenticate(request)
        except exceptions.AuthenticationFailed:
            AnonymousRateLimit().authenticate(request)  # 429 instead, beyond the anonymous rate
            raise
        context = caller_context(authenticated[0]) if authenticated else None
        counted = context.rate_counted if context is not None else None
        if counted is not None:  # the RateLimit-* headers, on every answer to the token (403s too)
            TokenRateThrottle().settle(request, authenticated[0], counted)
        return authenticated

    def authenticate_credentials(self, token: bytes) -> tuple[Any, Any]:
        message = _("Invalid token.")
        token_text = token.decode("utf-8")
        token_key = token_text[: CONSTANTS.TOKEN_KEY_LENGTH]
        throttle = TokenRateThrottle()
        # The rate count and the data version ride in the lookup's statement (core.db.fetch_joined).
        joined: dict[str, Joined] = {}
        if throttle.rate is not None:
            joined["counted"] = count_joined(throttle.token_key(token_key), *throttle.window())
        if self.request_method in SAFE_METHODS:  # coverage answers start with the data version
            joined["data_version"] = version_joined()
        along: dict[str, Statement] = {}
        if (position := position_statement()) is not None:  # after the version (core.routing)
            along["position"] = position
        tokens, returned = tokens_with_key(token_key, joined=list(joined.values()), along=list(along.values()))
        read = dict(zip([*joined, *along], returned, strict=True))
        if "position" in read:
            position_read(read["position"])
        for auth_token, personal_data in tokens:
            if auth_token.expiry is not None and auth_token.expiry < timezone.now():
                auth_token.delete()
                continue
            try:
                digest = hash_token(token_text)
            except (TypeError, binascii.Error) as exc:
                raise exceptions.AuthenticationFailed(message) from exc
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                context = caller_context(auth_token.user)
                if context is not None:  # what was read with the token, for the rest of the request
                    context.personal_data = personal_data
                    if "counted" in read:
                        context.rate_counted = Counted(hits=read["counted"][0], now=throttle.now)
                    if read.get("data_version"):
                        context.versions = versions_of(read["data_version"])
                return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(message)
