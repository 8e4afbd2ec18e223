"""Writes of the access app: the access log, integration clients and their tokens."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from knox.models import AuthToken

from access.throttling import NikLookupRate
from core.codes import region_code as dotted_code
from core.db import Statement, with_commit
from core.errors import ConflictError, ServiceError
from villages.models import Province, Regency

from .choices import AccessKind, Role
from .context import may_see_personal_data
from .models import AccessLog, AccessProfile

CLIENT_PREFIX = "client:"


class NikLookupsThrottled(ServiceError):
    """More exact-NIK lookups than `UCJ_RATE_NIK_LOOKUP` allows a caller without the
    personal-data right (HTTP 429, with Retry-After)."""

    status_code = 429
    default_code = "nik_lookups_throttled"

    def __init__(self, message: str, *, retry_after: int, field: str | None = None):
        super().__init__(message, field=field)
        self.retry_after = retry_after


def _logged_user(request: HttpRequest) -> User:
    """The caller the access log names: only signed-in callers are shown or look up personal data."""
    user = request.user
    if isinstance(user, AnonymousUser):
        raise ValueError("The access log records signed-in callers only.")
    return user


def access_log_write(*, request: HttpRequest, kind: str, worker_ids: list[int], rows: int | None = None) -> None:
    """Record that `request.user` was shown full personal data of `worker_ids`, exported them
    (every id, so the log tells whose data left) or looked NIKs up."""
    access_log_record(
        user=_logged_user(request),
        kind=kind,
        path=request.path,
        query=request.META.get("QUERY_STRING", ""),
        worker_ids=worker_ids,
        rows=rows,
    )


def access_log_record(
    *, user: User, kind: str, path: str, query: str, worker_ids: list[int], rows: int | None = None
) -> None:
    """`access_log_write` for a caller known without its request (a background job run for it:
    `path` and `query` are those of the request that asked for it)."""
    _log_insert(
        user_id=user.pk,
        kind=kind,
        path=path,
        query=query,
        worker_ids=worker_ids,
        rows=len(worker_ids) if rows is None else rows,
    )


# One row of the access log, by a statement of our own: every answer showing personal data
# writes one, and the ORM's model instance and compiled INSERT cost more than the statement runs.
_LOG_INSERT = (
    f"INSERT INTO {AccessLog._meta.db_table} (user_id, at, kind, path, query, worker_ids, rows) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s)"
)
_LOG_INSERT_WHERE = (
    f"INSERT INTO {AccessLog._meta.db_table} (user_id, at, kind, path, query, worker_ids, rows) "
    "SELECT %s, %s, %s, %s, %s, %s, %s WHERE {condition} RETURNING 1"
)


def _log_values(*, user_id: int, kind: str, path: str, query: str, worker_ids: list[int], rows: int) -> list[Any]:
    ops = connection.ops
    return [
        user_id,
        ops.adapt_datetimefield_value(timezone.now()),
        kind,
        path[:300],
        query[:1000],
        ops.adapt_json_value(list(worker_ids), None),
        rows,
    ]


def access_log_insert_where(
    *, request: HttpRequest, kind: str, worker_ids: list[int], condition: Statement
) -> Statement:
    """The statement that writes `access_log_write`'s row where `condition` (SQL and its
    parameters) holds, and returns 1 if it did: for a caller that sends it with the read whose
    rows it logs, in one round trip, the condition being that the read finds what it shows
    (PostgreSQL)."""
    sql, params = condition
    values = _log_values(
        user_id=_logged_user(request).pk,
        kind=kind,
        path=request.path,
        query=request.META.get("QUERY_STRING", ""),
        worker_ids=worker_ids,
        rows=len(worker_ids),
    )
    return _LOG_INSERT_WHERE.format(condition=sql), [*values, *params]


def _log_insert(*, user_id: int, kind: str, path: str, query: str, worker_ids: list[int], rows: int) -> None:
    params = _log_values(user_id=user_id, kind=kind, path=path, query=query, worker_ids=worker_ids, rows=rows)
    # In a request's write (core.db.all_or_nothing), the row goes with the COMMIT: it and the
    # change it shows are kept together or not at all, as if it were written now.
    if with_commit((_LOG_INSERT, params)):
        return
    with connection.cursor() as cursor:
        cursor.execute(_LOG_INSERT, params)


def access_log_write_for(*, user: User, kind: str, path: str, query: str, worker_ids: list[int]) -> None:
    """`access_log_write` for a caller known without its request (a webhook delivered for its
    owner: `path` and `query` say what carried the data)."""
    access_log_record(user=user, kind=kind, path=path, query=query, worker_ids=worker_ids)


def nik_lookups_record(*, request: HttpRequest, lookups: int, field: str = "nik", looked_up: str = "") -> None:
    """Count and log `lookups` exact-NIK lookups of a caller without the personal-data right.

    Whether a NIK is registered (a search, a registration's "NIK already serving" answer, an
    import row matched or not) tells such a caller something it was not shown, so each NIK looked
    up counts against `UCJ_RATE_NIK_LOOKUP` and is written to the access log. Beyond the rate
    nothing is looked up: `NikLookupsThrottled` (429). Call it before the transaction that looks
    the NIKs up, so a rolled-back write (a dry run, a refused registration) still counts.
    `looked_up` says what was looked up where the request's query does not (`nik=…`, or the
    checksum of an import's file, which is kept with the import).
    """
    if lookups <= 0 or may_see_personal_data(request.user):
        return
    query = "&".join(part for part in (request.META.get("QUERY_STRING", ""), looked_up) if part)
    nik_lookups_count(user=_logged_user(request), lookups=lookups, field=field, path=request.path, query=query)


def nik_lookups_count(*, user: User, lookups: int, field: str, path: str, query: str) -> None:
    """`nik_lookups_record` for a caller known without its request (a background job run for
    it: `path` and `query` say what it asked for)."""
    if lookups <= 0 or may_see_personal_data(user):
        return
    rate = NikLookupRate()
    if not rate.count(user.pk, lookups):
        raise NikLookupsThrottled(
            _("Too many NIK lookups: without the right to see personal data the limit is %(rate)s. Try again later.")
            % {"rate": rate.rate},
            retry_after=int(rate.wait()),
            field=field,
        )
    _log_insert(user_id=user.pk, kind=AccessKind.NIK_LOOKUP, path=path, query=query, worker_ids=[], rows=lookups)


def access_log_export(*, request: HttpRequest, rows: int) -> None:
    access_log_write(request=request, kind=AccessKind.EXPORT, worker_ids=[], rows=rows)


@transaction.atomic
def client_create(
    *,
    name: str,
    region_code: str,
    can_write: bool,
    personal_data: bool = False,
    days: int = 365,
    rate_limit: int | None = None,
) -> tuple[AccessProfile, str]:
    """An integration client for a province or regency, with a token valid `days` days and
    `rate_limit` requests a minute (None: the server's default).

    Returns the profile and the token, which is shown once: only its hash is stored.
    """
    if days < 1:  # a token that is already expired would be printed as if it worked
        raise ServiceError(f"A client token must be valid for at least 1 day, not {days}.", field="days")
    if rate_limit is not None and rate_limit < 1:
        raise ServiceError(f"A rate limit must be at least 1 request a minute, not {rate_limit}.", field="rate_limit")
    user_model = get_user_model()
    username = f"{CLIENT_PREFIX}{name}"
    if user_model.objects.filter(username=username).exists():
        raise ConflictError(f"A client named {name!r} already exists.", field="name")
    code = dotted_code(region_code) or region_code  # `1508` is 15.08 (core.codes)
    province = Province.objects.filter(code=code).first()
    regency = Regency.objects.filter(code=code).first() if province is None else None
    if province is None and regency is None:
        raise ServiceError(f"No province or regency has the code {code}.", field="region")
    user = user_model.objects.create(username=username)
    user.set_unusable_password()
    user.save(update_fields=["password"])
    if personal_data:
        from django.contrib.auth.models import Permission

        user.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    profile = AccessProfile.objects.create(
        user=user,
        role=Role.INTEGRATION,
        province=province,
        regency=regency,
        can_write=can_write,
        rate_limit=rate_limit,
    )
    _instance, token = AuthToken.objects.create(user=user, expiry=datetime.timedelta(days=days))
    return profile, token


@transaction.atomic
def client_revoke(*, name: str) -> int:
    """Delete every token of the client and deactivate it; returns the number of tokens revoked."""
    user = get_user_model().objects.filter(username=f"{CLIENT_PREFIX}{name}").first()
    if user is None:
        raise ServiceError(f"No client named {name!r}.", field="name")
    revoked: int
    revoked, _ = AuthToken.objects.filter(user=user).delete()
    user.is_active = False
    user.save(update_fields=["is_active"])
    return revoked
