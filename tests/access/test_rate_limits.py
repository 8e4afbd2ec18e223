"""A client's own rate limit (`AccessProfile.rate_limit`): raised or lowered for each of its tokens
and its browser session, read with the caller (no query of its own), and announced in the
RateLimit-* headers of every answer to a counted caller."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from access.models import AccessProfile
from access.throttling import WindowCountThrottle

from .conftest import ADMIN, CLIENT_RO, CLIENT_RW, REGENCY_OFFICER, VIEWER, token_client

# The start of a minute: every test's requests fall in one window, whenever it runs.
WINDOW_START = 60.0 * 28_000_000


@pytest.fixture
def clock(monkeypatch):
    """The throttles' clock, stopped at the start of a minute; `clock[0] += s` moves it."""
    now = [WINDOW_START]
    monkeypatch.setattr(WindowCountThrottle, "timer", lambda self: now[0])
    return now


def limit(user, per_minute: int | None) -> None:
    AccessProfile.objects.filter(user=user).update(rate_limit=per_minute)


def statuses(client: APIClient, n: int, url_name: str = "auth-me") -> list[int]:
    return [client.get(reverse(url_name)).status_code for _ in range(n)]


def session_client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)  # a browser session, through access.backends (the profile with the user)
    return client


def test_a_raised_limit_lets_a_client_through_where_the_default_throttles(shared, world, rates, clock):
    rates(token="3/min")
    raised, default = shared.users[CLIENT_RO], shared.users[CLIENT_RW]
    limit(raised[0], 6)

    assert statuses(token_client(raised[1]), 6) == [200] * 6
    assert statuses(token_client(default[1]), 4) == [200, 200, 200, 429]
    assert token_client(raised[1]).get(reverse("auth-me")).status_code == 429  # the 7th


def test_a_lowered_limit_throttles_at_its_own_rate_with_retry_after(shared, world, rates, clock):
    rates(token="600/min")
    user, token = shared.users[CLIENT_RW]
    limit(user, 2)
    client = token_client(token)
    allowed = statuses(client, 2)
    clock[0] += 20
    refused = client.get(reverse("worker-list"), HTTP_ACCEPT_LANGUAGE="en")

    assert allowed == [200, 200]
    assert refused.status_code == 429
    assert refused["Retry-After"] == "40"
    assert refused.json() == {
        "type": "client_error",
        "errors": [
            {"code": "throttled", "detail": "Request was throttled. Expected available in 40 seconds.", "attr": None}
        ],
    }


def test_the_default_still_holds_for_callers_without_a_limit_of_their_own(shared, world, rates, clock):
    rates(token="2/min")
    limit(shared.users[CLIENT_RO][0], 100)

    assert statuses(token_client(shared.users[REGENCY_OFFICER][1]), 3) == [200, 200, 429]
    assert statuses(token_client(shared.users[ADMIN][1]), 3) == [200, 200, 429]  # no profile at all


def test_a_clients_limit_holds_for_each_of_its_tokens(shared, world, rates, clock):
    rates(token="600/min")
    user, first = shared.users[CLIENT_RO]
    limit(user, 2)
    _instance, second = AuthToken.objects.create(user)

    assert statuses(token_client(first), 3) == [200, 200, 429]
    assert statuses(token_client(second), 3) == [200, 200, 429]


@pytest.mark.parametrize(("per_minute", "expected"), [(2, [200, 200, 429]), (4, [200, 200, 200, 200, 429])])
def test_a_session_user_has_its_own_limit_too(shared, world, rates, clock, per_minute, expected):
    rates(token="3/min")
    user, _token = shared.users[REGENCY_OFFICER]
    limit(user, per_minute)

    assert statuses(session_client(user), len(expected)) == expected


def test_a_limit_is_scaled_to_the_window_of_the_default_rate(shared, world, rates, clock):
    rates(token="1000/hour")
    user, token = shared.users[CLIENT_RO]
    limit(user, 1)  # a minute's worth: 60 in the hour's window

    response = token_client(token).get(reverse("auth-me"))

    assert response["RateLimit-Limit"] == "60"


def test_a_token_request_reads_the_clients_limit_with_the_token(shared, world, rates, clock):
    rates(token="600/min")
    user, token = shared.users[CLIENT_RO]
    client = token_client(token)
    client.get(reverse("auth-me"))
    with CaptureQueriesContext(connection) as default_rate:
        client.get(reverse("auth-me"))
    limit(user, 5)

    with CaptureQueriesContext(connection) as own_rate:
        response = client.get(reverse("auth-me"))

    assert response["RateLimit-Limit"] == "5"
    assert len(own_rate) == len(default_rate)
    assert [q["sql"] for q in own_rate if "access_accessprofile" in q["sql"]] == [
        q["sql"] for q in own_rate if "knox_authtoken" in q["sql"]
    ]


@pytest.mark.parametrize("role", [REGENCY_OFFICER, ADMIN])
def test_a_session_request_reads_the_limit_with_the_user(shared, world, rates, clock, role):
    rates(token="600/min")
    user, _token = shared.users[role]
    AccessProfile.objects.filter(user=user).update(rate_limit=7)
    client = session_client(user)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("province-list"))  # public: nothing else reads the profile

    profile_reads = [q["sql"] for q in queries if "access_accessprofile" in q["sql"]]
    assert response.status_code == 200
    assert response["RateLimit-Limit"] == ("7" if role == REGENCY_OFFICER else "600")
    assert len(profile_reads) == 1
    assert "auth_user" in profile_reads[0]  # joined to the session's user


# -- RateLimit-* headers -----------------------------------------------------------------------------


def test_token_answers_say_the_limit_what_is_left_and_when_the_window_ends(shared, world, rates, clock):
    rates(token="600/min")
    user, token = shared.users[CLIENT_RW]
    limit(user, 3)
    client = token_client(token)
    answers = []
    for _ in range(4):
        answers.append(client.get(reverse("auth-me")))
        clock[0] += 10

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a["RateLimit-Limit"] for a in answers] == ["3"] * 4
    assert [a["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert [a["RateLimit-Reset"] for a in answers] == ["60", "50", "40", "30"]
    assert answers[3]["Retry-After"] == "30"


def test_the_default_limit_is_announced_to_callers_without_their_own(shared, world, rates, clock):
    rates(token="600/min")

    response = token_client(shared.users[REGENCY_OFFICER][1]).get(reverse("worker-list"))

    assert (response["RateLimit-Limit"], response["RateLimit-Remaining"]) == ("600", "599")


def test_refused_token_requests_are_counted_and_announced_too(shared, world, rates, clock):
    rates(token="600/min")
    client = token_client(shared.users[VIEWER][1])  # may read coverage, not workers
    client.get(reverse("auth-me"))

    refused = client.get(reverse("worker-list"))

    assert refused.status_code == 403
    assert refused["RateLimit-Remaining"] == "598"


def test_anonymous_answers_carry_no_rate_limit_headers(api_client, world, rates, clock):
    rates(anon="60/min")

    response = api_client.get(reverse("province-list"))

    assert response.status_code == 200
    assert not [h for h in response.headers if h.lower().startswith("ratelimit")]


# -- setting a limit ---------------------------------------------------------------------------------


def test_create_client_sets_the_clients_limit(world):
    out = io.StringIO()
    call_command("create_client", "sipd-sync", "--region", "15.01", "--rate-limit", "3000", stdout=out)

    assert AccessProfile.objects.get(user__username="client:sipd-sync").rate_limit == 3000


def test_create_client_refuses_a_limit_below_one(world):
    with pytest.raises(CommandError, match="at least 1 request a minute"):
        call_command("create_client", "sipd-sync", "--region", "15.01", "--rate-limit", "0", stdout=io.StringIO())

    assert not AccessProfile.objects.filter(user__username="client:sipd-sync").exists()


def test_a_limit_below_one_is_refused_by_the_form_and_the_database(shared, world):
    profile = AccessProfile.objects.get(user=shared.users[CLIENT_RO][0])
    profile.rate_limit = 0

    with pytest.raises(ValidationError) as refused:
        profile.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        AccessProfile.objects.filter(pk=profile.pk).update(rate_limit=0)

    assert list(refused.value.message_dict) == ["rate_limit"]


def test_an_admin_sets_a_clients_limit_on_the_user_page(shared, world, client):
    admin, _token = shared.users[ADMIN]
    client.force_login(admin)
    user = shared.users[CLIENT_RO][0]

    page = client.get(reverse("admin:auth_user_change", args=[user.pk]), HTTP_ACCEPT_LANGUAGE="id")

    assert page.status_code == 200
    assert 'name="access_profile-0-rate_limit"' in page.content.decode()
    assert "Batas laju (permintaan per menit)" in page.content.decode()


def test_retry_after_rounds_up_so_a_client_that_waits_it_finds_the_next_window(shared, world, rates, clock):
    rates(token="1/min")
    client = token_client(shared.users[CLIENT_RO][1])
    client.get(reverse("auth-me"))
    clock[0] += 20.5
    refused = client.get(reverse("auth-me"))
    clock[0] += int(refused["Retry-After"])

    assert refused.status_code == 429
    assert (refused["Retry-After"], refused["RateLimit-Reset"]) == ("40", "40")
    assert client.get(reverse("auth-me")).status_code == 200
