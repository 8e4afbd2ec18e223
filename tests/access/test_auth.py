"""Token login, logout and expiry, integration clients and their commands, failed-login lockout
and rate limits."""

from __future__ import annotations

import datetime
import io
import time
import types

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS

from access.models import RateCount
from access.throttling import WindowCountThrottle
from enrollment.models import ApparatusWorker, EnrollmentEvent

from .conftest import (
    ADMIN,
    CLIENT_RO,
    CLIENT_RW,
    OWN,
    PASSWORD,
    PROVINCE_OFFICER,
    REGENCY_OFFICER,
    SIBLING,
    USERNAME,
    VILLAGE,
    token_client,
    worker_payload,
)


def login(client, username: str, password: str = PASSWORD):
    return client.post(reverse("auth-login"), {"username": username, "password": password}, format="json")


@pytest.fixture
def officer(shared, world):
    """The regency officer: (user, token)."""
    return shared.users[REGENCY_OFFICER]


# -- login, me, logout -------------------------------------------------------------------------


def test_login_returns_working_expiring_token(api_client, officer):
    before = timezone.now()
    response = login(api_client, USERNAME[REGENCY_OFFICER])

    assert response.status_code == 200
    token = response.json()["token"]
    expiry = datetime.datetime.fromisoformat(response.json()["expiry"])
    ttl = django_settings.REST_KNOX["TOKEN_TTL"]
    assert before + ttl - datetime.timedelta(seconds=5) <= expiry <= timezone.now() + ttl
    me = token_client(token).get(reverse("auth-me"))
    assert me.status_code == 200
    assert me.json()["username"] == USERNAME[REGENCY_OFFICER]


def test_login_stores_only_the_token_digest(api_client, officer):
    token = login(api_client, USERNAME[REGENCY_OFFICER]).json()["token"]

    stored = AuthToken.objects.filter(user=officer[0]).exclude(digest=hash_token(officer[1])).get()
    assert stored.digest == hash_token(token)
    assert token not in (stored.digest, stored.token_key)
    assert not AuthToken.objects.filter(digest=token).exists()


def test_login_with_wrong_password_is_unauthorized(api_client, officer):
    response = login(api_client, USERNAME[REGENCY_OFFICER], "wrong-password")

    assert response.status_code == 401
    assert "token" not in response.json()


def test_login_of_unknown_user_is_unauthorized(api_client, world):
    assert login(api_client, "nobody").status_code == 401


def test_login_of_inactive_user_is_unauthorized(api_client, officer):
    get_user_model().objects.filter(pk=officer[0].pk).update(is_active=False)

    assert login(api_client, USERNAME[REGENCY_OFFICER]).status_code == 401


def test_login_with_unknown_field_is_rejected(api_client, officer):
    response = api_client.post(
        reverse("auth-login"),
        {"username": USERNAME[REGENCY_OFFICER], "password": PASSWORD, "is_superuser": True},
        format="json",
    )

    assert response.status_code == 400


def test_me_describes_role_capabilities_and_regions(officer):
    data = token_client(officer[1]).get(reverse("auth-me")).json()

    assert data == {
        "username": USERNAME[REGENCY_OFFICER],
        "role": "regency_officer",
        "capabilities": ["export", "read_coverage", "read_workers", "write_workers"],
        "provinces": [],
        "regencies": [OWN],
        "view_personal_data": False,
    }


def test_me_of_admin_covers_everything(client_for):
    data = client_for(ADMIN).get(reverse("auth-me")).json()

    assert (data["role"], data["provinces"], data["view_personal_data"]) == ("admin", ["*"], True)
    assert "admin" in data["capabilities"]


def test_unauthenticated_request_gets_401_with_token_challenge(api_client, world):
    response = api_client.get(reverse("worker-list"))

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("header", ["Token", "Token not-a-real-token", "Token a b", "Token " + "x" * 64])
def test_bad_token_header_is_unauthorized(api_client, world, header):
    response = api_client.get(reverse("auth-me"), HTTP_AUTHORIZATION=header)

    assert response.status_code == 401


def test_logout_revokes_only_the_current_token(officer):
    user, token = officer
    _other, second = AuthToken.objects.create(user)
    response = token_client(token).post(reverse("auth-logout"))

    assert response.status_code == 204
    assert token_client(token).get(reverse("auth-me")).status_code == 401
    assert token_client(second).get(reverse("auth-me")).status_code == 200


def test_logout_all_revokes_every_token_of_the_user(officer, shared):
    user, token = officer
    _other, second = AuthToken.objects.create(user)
    _neighbour, neighbour_token = shared.users[PROVINCE_OFFICER]
    response = token_client(token).post(reverse("auth-logout") + "?all=true")

    assert response.status_code == 204
    assert token_client(token).get(reverse("auth-me")).status_code == 401
    assert token_client(second).get(reverse("auth-me")).status_code == 401
    assert token_client(neighbour_token).get(reverse("auth-me")).status_code == 200
    assert not AuthToken.objects.filter(user=user).exists()


def test_logout_with_an_unreadable_all_is_a_400_and_revokes_nothing(officer):
    """`all=yes please` logged out the one token, as if `all` had not been sent."""
    user, token = officer
    response = token_client(token).post(reverse("auth-logout") + "?all=yes+please")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "all"
    assert token_client(token).get(reverse("auth-me")).status_code == 200


def test_logout_without_token_is_unauthorized(api_client, world):
    assert api_client.post(reverse("auth-logout")).status_code == 401


def test_expired_token_is_unauthorized_and_deleted(officer):
    user, token = officer
    AuthToken.objects.filter(user=user).update(expiry=timezone.now() - datetime.timedelta(seconds=1))
    response = token_client(token).get(reverse("auth-me"))

    assert response.status_code == 401
    assert not AuthToken.objects.filter(user=user).exists()


def test_token_just_before_expiry_still_works(officer):
    user, token = officer
    AuthToken.objects.filter(user=user).update(expiry=timezone.now() + datetime.timedelta(seconds=30))

    assert token_client(token).get(reverse("auth-me")).status_code == 200


def test_token_of_deactivated_user_is_unauthorized(officer):
    user, token = officer
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)

    assert token_client(token).get(reverse("auth-me")).status_code == 401


def test_a_token_request_checks_the_caller_in_one_statement(shared, world):
    _admin, token = shared.users[ADMIN]
    client = token_client(token)
    etag = client.get(reverse("coverage-list"), {"level": "province"})["ETag"]

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("coverage-list"), {"level": "province"}, HTTP_IF_NONE_MATCH=etag)

    token_reads = [q["sql"] for q in queries if "knox_authtoken" in q["sql"]]
    assert response.status_code == 304
    assert len(token_reads) == 1
    # The token, the rate-limit count and the data version: nothing else before the 304. On
    # PostgreSQL the count and the version ride in the token's statement (core.db.fetch_joined).
    if connection.vendor == "postgresql":
        [statement] = [q["sql"] for q in queries]
        assert "access_ratecount" in statement
        assert "coverage_data_version_seq" in statement
    else:
        assert len(queries) == 3


@pytest.mark.parametrize(("method", "reads_version"), [("get", True), ("head", True), ("post", False)])
def test_a_safe_token_request_reads_the_data_version_with_the_token(shared, world, method, reads_version):
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from access.authentication import TokenAuthentication
    from access.context import request_context_open
    from core.data_version import versions

    _admin, token = shared.users[ADMIN]
    raw = getattr(APIRequestFactory(), method)("/api/v1/coverage/", HTTP_AUTHORIZATION=f"Token {token}")

    with request_context_open() as context:
        user, _auth = TokenAuthentication().authenticate(Request(raw))

    assert user.is_authenticated
    assert context.user_id == user.pk
    assert context.versions == (versions() if reads_version else None)
    assert context.rate_counted is not None
    assert context.rate_counted.hits == 1
    assert context.personal_data is True  # a superuser


def test_personal_data_right_through_a_group_reaches_a_token_caller(shared, world):
    user, token = shared.users[REGENCY_OFFICER]
    worker = ApparatusWorker.objects.filter(regency__code=OWN, serving=True).first()
    group = Group.objects.create(name="pd-readers")
    group.permissions.add(Permission.objects.get(codename="view_personal_data"))
    url = reverse("worker-detail", args=[worker.pk])
    masked = token_client(token).get(url).json()["nik"]

    user.groups.add(group)
    full = token_client(token).get(url).json()["nik"]
    me = token_client(token).get(reverse("auth-me")).json()

    assert masked != worker.nik
    assert full == worker.nik
    assert me["view_personal_data"] is True


def test_token_of_a_user_without_access_profile_authenticates_but_may_do_nothing(world):
    user = get_user_model().objects.create_user("no-profile", password=PASSWORD)
    _instance, token = AuthToken.objects.create(user)

    with CaptureQueriesContext(connection) as queries:
        response = token_client(token).get(reverse("worker-list"))

    assert response.status_code == 403
    assert not [q for q in queries if "access_accessprofile" in q["sql"] and "knox_authtoken" not in q["sql"]]


# -- integration clients ------------------------------------------------------------------------


def create_client(*args: str) -> str:
    out = io.StringIO()
    call_command("create_client", *args, stdout=out)
    return out.getvalue()


def printed_token(output: str) -> str:
    return output.splitlines()[1].strip()


def test_create_client_prints_a_working_token(world):
    output = create_client("sipd-bungo", "--region", SIBLING, "--write")
    token = printed_token(output)

    me = token_client(token).get(reverse("auth-me"))
    assert me.status_code == 200
    assert me.json()["username"] == "client:sipd-bungo"
    assert me.json()["role"] == "integration"
    assert me.json()["regencies"] == [SIBLING]
    assert "write_workers" in me.json()["capabilities"]
    assert "read-write" in output


def test_create_client_stores_only_the_digest(world):
    token = printed_token(create_client("sipd-bungo", "--region", SIBLING))

    stored = list(AuthToken.objects.filter(user__username="client:sipd-bungo").values_list("digest", "token_key"))
    assert len(stored) == 1
    assert token not in {value for row in stored for value in row}
    assert stored[0][0] == hash_token(token)
    assert not any(token in str(value) for row in AuthToken.objects.values_list() for value in row)


def test_create_client_token_lasts_the_days_asked(world):
    create_client("sipd-bungo", "--region", "15", "--days", "7")

    expiry = AuthToken.objects.get(user__username="client:sipd-bungo").expiry
    assert abs(expiry - (timezone.now() + datetime.timedelta(days=7))) < datetime.timedelta(minutes=1)


def test_create_client_defaults_to_read_only_without_personal_data(world):
    token = printed_token(create_client("siskeudes", "--region", "15"))
    me = token_client(token).get(reverse("auth-me")).json()

    assert me["capabilities"] == ["export", "read_coverage", "read_workers"]
    assert me["provinces"] == ["15"]
    assert me["view_personal_data"] is False


def test_create_client_with_personal_data_gets_the_right(world):
    token = printed_token(create_client("siskeudes", "--region", "15", "--personal-data"))

    assert token_client(token).get(reverse("auth-me")).json()["view_personal_data"] is True


def test_create_client_twice_fails(world):
    create_client("siskeudes", "--region", "15")

    with pytest.raises(CommandError, match="already exists"):
        create_client("siskeudes", "--region", "16")
    assert AuthToken.objects.filter(user__username="client:siskeudes").count() == 1


def test_create_client_for_unknown_region_fails(world):
    with pytest.raises(CommandError, match="99"):
        create_client("siskeudes", "--region", "99")
    assert not get_user_model().objects.filter(username="client:siskeudes").exists()


def test_revoke_client_makes_its_token_unauthorized(world):
    token = printed_token(create_client("siskeudes", "--region", "15"))
    out = io.StringIO()
    call_command("revoke_client", "siskeudes", stdout=out)

    assert token_client(token).get(reverse("auth-me")).status_code == 401
    assert "1 tokens revoked" in out.getvalue()
    assert get_user_model().objects.get(username="client:siskeudes").is_active is False
    assert not AuthToken.objects.filter(user__username="client:siskeudes").exists()


def test_revoke_unknown_client_fails(world):
    with pytest.raises(CommandError, match="nobody"):
        call_command("revoke_client", "nobody", stdout=io.StringIO())


def test_revoked_client_cannot_get_a_new_token_by_password(api_client, world):
    create_client("siskeudes", "--region", "15")
    # A client has no usable password; give it one, so only the revocation can refuse the login.
    user = get_user_model().objects.get(username="client:siskeudes")
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    assert login(api_client, "client:siskeudes").status_code == 200
    call_command("revoke_client", "siskeudes", stdout=io.StringIO())

    response = login(api_client, "client:siskeudes")

    assert response.status_code == 401
    assert [error["code"] for error in response.json()["errors"]] == ["authentication_failed"]
    assert not AuthToken.objects.filter(user__username="client:siskeudes").exists()


def test_read_only_client_cannot_write(client_for, world):
    client = client_for(CLIENT_RO)
    response = client.post(reverse("worker-list"), worker_payload(VILLAGE[OWN]), format="json")
    patch = client.patch(
        reverse("worker-detail", args=[world.new[OWN].pk]), {"full_name": "X", "version": 1}, format="json"
    )

    assert response.status_code == 403
    assert patch.status_code == 403
    assert client.get(reverse("worker-list")).status_code == 200
    assert ApparatusWorker.objects.count() == sum(len(w) for w in world.workers.values())


def test_write_client_registers_in_its_regency(client_for, world):
    client = client_for(CLIENT_RW)
    response = client.post(reverse("worker-list"), worker_payload(VILLAGE[OWN]), format="json")

    assert response.status_code == 201
    event = EnrollmentEvent.objects.get(worker_id=response.json()["id"])
    assert (event.actor_label, event.actor, event.source) == (USERNAME[CLIENT_RW], client.user, "api")


def test_write_client_cannot_register_in_another_regency(client_for, world):
    client = client_for(CLIENT_RW)
    before = ApparatusWorker.objects.count()
    response = client.post(reverse("worker-list"), worker_payload(VILLAGE[SIBLING]), format="json")

    assert response.status_code == 400
    assert [e["attr"] for e in response.json()["errors"]] == ["village"]
    assert ApparatusWorker.objects.count() == before


def test_write_client_cannot_move_a_worker_to_another_regency(client_for, world):
    worker = world.new[OWN]
    response = client_for(CLIENT_RW).patch(
        reverse("worker-detail", args=[worker.pk]),
        {"village": VILLAGE[SIBLING], "version": worker.version},
        format="json",
    )

    assert response.status_code == 400
    assert [e["attr"] for e in response.json()["errors"]] == ["village"]
    worker.refresh_from_db()
    assert worker.regency.code == OWN


# -- failed-login lockout -----------------------------------------------------------------------


@pytest.fixture
def lockout(settings):
    settings.UCJ_LOGIN_MAX_FAILURES = 3
    settings.UCJ_LOGIN_LOCK_SECONDS = 900
    cache.clear()
    return settings


def test_login_locks_after_max_failures_even_with_right_password(api_client, officer, lockout):
    username = USERNAME[REGENCY_OFFICER]
    statuses = [login(api_client, username, "wrong").status_code for _ in range(3)]
    locked = login(api_client, username)

    assert statuses == [401, 401, 401]
    assert locked.status_code == 429
    assert locked["Retry-After"] == "900"  # as every 429 says when to try again
    assert "token" not in locked.json()
    assert AuthToken.objects.filter(user=officer[0]).count() == 1  # only the fixture's


def test_login_is_not_locked_before_max_failures(api_client, officer, lockout):
    username = USERNAME[REGENCY_OFFICER]
    for _ in range(2):
        login(api_client, username, "wrong")

    assert login(api_client, username).status_code == 200


def test_successful_login_resets_the_failure_count(api_client, officer, lockout):
    username = USERNAME[REGENCY_OFFICER]
    for _ in range(2):
        login(api_client, username, "wrong")
    assert login(api_client, username).status_code == 200
    for _ in range(2):
        login(api_client, username, "wrong")

    assert login(api_client, username).status_code == 200


def test_lockout_is_per_username(api_client, officer, lockout):
    for _ in range(3):
        login(api_client, USERNAME[REGENCY_OFFICER], "wrong")

    assert login(api_client, USERNAME[PROVINCE_OFFICER]).status_code == 200
    assert login(api_client, USERNAME[REGENCY_OFFICER].upper()).status_code == 429


def test_lockout_also_refuses_admin_site_login(client, world, lockout):
    for _ in range(3):
        client.post(reverse("admin:login"), {"username": "admin", "password": "wrong"})
    response = client.post(reverse("admin:login"), {"username": "admin", "password": PASSWORD})

    assert response.status_code == 200  # the form again, not a redirect into the admin
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("admin:index")).status_code == 302


def test_admin_site_login_works_when_not_locked(client, world, lockout):
    assert client.post(reverse("admin:login"), {"username": "admin", "password": PASSWORD}).status_code == 302


def test_lockout_lasts_the_configured_time(api_client, officer, lockout, monkeypatch):
    import django.core.cache.backends.db as db_cache

    username = USERNAME[REGENCY_OFFICER]
    for _ in range(3):
        login(api_client, username, "wrong")
    start = timezone.now()

    monkeypatch.setattr(db_cache, "tz_now", lambda: start + datetime.timedelta(seconds=880))
    assert login(api_client, username).status_code == 429
    monkeypatch.setattr(db_cache, "tz_now", lambda: start + datetime.timedelta(seconds=920))
    assert login(api_client, username).status_code == 200


# -- rate limits --------------------------------------------------------------------------------


def test_anonymous_requests_beyond_rate_get_429_with_retry_after(api_client, world, rates):
    rates(anon="3/min")
    statuses = [api_client.get(reverse("province-list")).status_code for _ in range(3)]
    limited = api_client.get(reverse("province-list"))

    assert statuses == [200, 200, 200]
    assert limited.status_code == 429
    assert 0 < int(limited["Retry-After"]) <= 60
    assert limited.json()["errors"][0]["code"] == "throttled"


@pytest.mark.parametrize("header", [None, "Token not-a-real-token"])
def test_anonymous_limit_counts_unauthorized_requests_too(api_client, world, rates, header):
    rates(anon="2/min")
    headers = {"HTTP_AUTHORIZATION": header} if header else {}
    first = [api_client.get(reverse("worker-list"), **headers).status_code for _ in range(2)]

    assert first == [401, 401]
    assert api_client.get(reverse("worker-list"), **headers).status_code == 429


def test_anonymous_limit_does_not_hold_back_token_users(api_client, officer, rates):
    rates(anon="1/min")
    api_client.get(reverse("province-list"))

    assert api_client.get(reverse("province-list")).status_code == 429
    assert token_client(officer[1]).get(reverse("province-list")).status_code == 200


def test_token_requests_beyond_rate_get_429_per_token(officer, rates):
    rates(token="3/min")
    client = token_client(officer[1])
    statuses = [client.get(reverse("auth-me")).status_code for _ in range(3)]
    limited = client.get(reverse("worker-list"))
    _instance, second = AuthToken.objects.create(officer[0])

    assert statuses == [200, 200, 200]
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    assert token_client(second).get(reverse("auth-me")).status_code == 200


def test_token_counts_start_again_in_the_next_window(officer, rates, monkeypatch):
    rates(token="2/min")
    now = [60.0 * 28_000_000]  # the start of a minute
    monkeypatch.setattr(WindowCountThrottle, "timer", lambda self: now[0])
    client = token_client(officer[1])
    statuses = [client.get(reverse("auth-me")).status_code for _ in range(2)]
    now[0] += 45
    limited = client.get(reverse("auth-me"))
    now[0] += 15
    next_window = client.get(reverse("auth-me"))

    assert statuses == [200, 200]
    assert limited.status_code == 429
    assert limited["Retry-After"] == "15"
    assert next_window.status_code == 200


def test_each_caller_has_one_count_row(officer, rates):
    rates(token="100/min")
    client = token_client(officer[1])
    for _ in range(3):
        client.get(reverse("auth-me"))

    counts = list(RateCount.objects.filter(key__startswith="throttle_token_").values_list("hits", flat=True))

    assert counts == [3]


def test_a_bad_token_is_counted_by_address_and_not_held_against_good_tokens(api_client, officer, rates):
    rates(anon="2/min", token="2/min")
    bad = {"HTTP_AUTHORIZATION": "Token " + "x" * 64}
    refused = [api_client.get(reverse("auth-me"), **bad).status_code for _ in range(2)]
    good = token_client(officer[1])

    assert refused == [401, 401]
    assert api_client.get(reverse("auth-me"), **bad).status_code == 429
    assert [good.get(reverse("auth-me")).status_code for _ in range(2)] == [200, 200]
    assert good.get(reverse("auth-me")).status_code == 429


@pytest.fixture
def cleanup_clock(monkeypatch):
    """The clock by which each process deletes long-gone counts at most once a minute, set to
    a cleanup's being due now; move it on with `.now`."""
    from access import throttling

    clock = types.SimpleNamespace(now=1_000_000.0)
    monkeypatch.setattr(throttling, "_clock", lambda: clock.now)
    monkeypatch.setattr(throttling, "_next_cleanup", 0.0)
    return clock


@pytest.mark.requires_postgres
def test_counts_of_windows_long_gone_are_deleted_by_later_requests(officer, rates, cleanup_clock):
    rates(token="100/min")
    now = int(time.time())
    RateCount.objects.create(key="throttle_anon_10.0.0.1", window_no=1, hits=5, expires=now - 2 * 3600)
    RateCount.objects.create(key="throttle_anon_10.0.0.2", window_no=1, hits=5, expires=now - 60)

    assert token_client(officer[1]).get(reverse("auth-me")).status_code == 200
    assert (
        set(RateCount.objects.values_list("key", flat=True))
        == {
            "throttle_anon_10.0.0.2",  # within the last hour: kept
            f"throttle_token_t{officer[1][: CONSTANTS.TOKEN_KEY_LENGTH]}",
        }
    )


def test_login_attempts_beyond_rate_get_429(api_client, officer, rates):
    rates(login="2/min")
    statuses = [login(api_client, f"user{n}", "wrong").status_code for n in range(2)]
    limited = login(api_client, USERNAME[REGENCY_OFFICER])

    assert statuses == [401, 401]
    assert limited.status_code == 429
    assert "Retry-After" in limited
    assert "token" not in limited.json()


def test_default_rates_are_configured():
    configured = django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]

    assert set(configured) >= {"token", "anon", "login"}
    assert django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] == [
        "access.throttling.TokenRateThrottle",
    ]
    # The anonymous limit is checked with authentication, after every real method failed.
    assert django_settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"][-1] == (
        "access.throttling.AnonymousRateLimit"
    )
    assert django_settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"


@pytest.mark.parametrize("days", ["0", "-3"])
def test_create_client_refuses_a_token_that_never_works(world, days):
    with pytest.raises(CommandError, match="at least 1 day"):
        create_client("siskeudes", "--region", "15", "--days", days)
    assert not get_user_model().objects.filter(username="client:siskeudes").exists()


@pytest.mark.requires_postgres
def test_a_process_deletes_long_gone_counts_at_most_once_a_minute(officer, rates, cleanup_clock):
    from access.throttling import CLEANUP_EVERY_SECONDS

    rates(token="100/min")
    client = token_client(officer[1])
    assert client.get(reverse("auth-me")).status_code == 200  # deletes what is long gone
    gone = int(time.time()) - 2 * 3600
    RateCount.objects.create(key="throttle_anon_10.0.0.1", window_no=1, hits=5, expires=gone)

    cleanup_clock.now += CLEANUP_EVERY_SECONDS - 1
    assert client.get(reverse("auth-me")).status_code == 200
    kept = RateCount.objects.filter(key="throttle_anon_10.0.0.1").exists()
    cleanup_clock.now += 1
    assert client.get(reverse("auth-me")).status_code == 200

    assert kept  # within the minute: left for the next cleanup
    assert not RateCount.objects.filter(key="throttle_anon_10.0.0.1").exists()
