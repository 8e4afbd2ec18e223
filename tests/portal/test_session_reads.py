"""What a signed-in request reads about its caller, and how: the session (with the data version
along, for a reading request; access.sessions), then the user with its profile and personal-data
right (with the rate count along, for a portal page; access.backends). Two hand-written
statements, two round trips on PostgreSQL, and the same answers as Django's own store and backend:
an expired session, an unknown or deactivated user are no one; the count is made once."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from access.backends import ThrottledModelBackend
from access.models import AccessProfile
from access.personal_data import personal_data_right
from tests.wire import round_trips
from villages.models import Regency

from .test_pages import LOGIN, log_in, make_user

HOME = reverse("portal:home")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def officer(regions):
    return make_user("pmd.kerinci", "regency_officer", regency=Regency.objects.get(code="15.01"))


def fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["officer", "superuser"])
def test_the_session_user_is_the_orms_with_its_profile_and_right(officer, who):
    user = officer if who == "officer" else get_user_model().objects.create_superuser("root", password="x")
    user.last_login = timezone.now()
    user.save()

    loaded = ThrottledModelBackend().get_user(str(user.pk))  # as a session keeps it
    expected = get_user_model().objects.get(pk=user.pk)

    assert fields(loaded) == fields(expected)  # aware datetimes on SQLite too
    if who == "officer":
        assert fields(loaded.access_profile) == fields(AccessProfile.objects.get(user=user))
    else:
        with CaptureQueriesContext(connection) as queries:
            assert getattr(loaded, "access_profile", None) is None  # known to have none: no query
        assert len(queries) == 0
    assert personal_data_right(loaded) == personal_data_right(expected)


@pytest.mark.django_db
@pytest.mark.parametrize("user_id", ["not-a-number", "", "987654321"])
def test_a_session_naming_no_user_is_no_one(regions, user_id):
    assert ThrottledModelBackend().get_user(user_id) is None


@pytest.mark.django_db
def test_a_deactivated_users_session_ends(officer):
    client = signed_in(officer)
    assert client.get(HOME).status_code == 200
    get_user_model().objects.filter(pk=officer.pk).update(is_active=False)

    response = client.get(HOME)

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


@pytest.mark.django_db
def test_an_expired_session_is_no_session(officer):
    client = signed_in(officer)
    assert client.get(HOME).status_code == 200
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))

    response = client.get(HOME)

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


@pytest.mark.django_db
def test_a_session_read_by_the_store_keeps_what_login_wrote(officer):
    client = Client()
    log_in(client, "pmd.kerinci")

    page = client.get(HOME)

    assert page.status_code == 200
    assert page.wsgi_request.session["_auth_user_id"] == str(officer.pk)
    assert page.wsgi_request.user == officer


@pytest.mark.django_db
def test_a_portal_page_counts_its_caller_once_with_the_users_lookup(officer):
    AccessProfile.objects.filter(user=officer).update(rate_limit=7)
    client = signed_in(officer)

    remaining, counts, lookups = [], [], []
    for _ in range(3):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(HOME)
        remaining.append(response["RateLimit-Remaining"])
        counts.append(len([q for q in queries if "access_ratecount" in q["sql"]]))
        lookups.append(len([q for q in queries if '"auth_user"' in q["sql"]]))

    assert response["RateLimit-Limit"] == "7"
    assert remaining == ["6", "5", "4"]
    assert counts == [1, 1, 1]
    assert lookups == [1, 1, 1]


@pytest.mark.django_db
def test_an_admin_page_is_not_counted_against_the_users_rate(regions):
    admin = signed_in(get_user_model().objects.create_superuser("root", password="x"))
    with CaptureQueriesContext(connection) as queries:
        response = admin.get(reverse("admin:index"))

    assert response.status_code == 200
    assert "RateLimit-Remaining" not in response
    assert not [q for q in queries if "access_ratecount" in q["sql"]]


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_kept_portal_page_asks_the_database_twice(officer, through_proxy, monkeypatch):
    """The session with the data version; the user, its profile, its right and its count. Before
    the hand-written reads, four (the session, the user, the count, the version)."""
    client = signed_in(officer)
    through_proxy()
    # Statements run more than a few times on a connection are prepared once (UCJ_DB_PREPARED),
    # which costs a round trip of its own: measured once that is done, as on a working server.
    for _ in range(7):
        assert client.get(HOME).status_code == 200

    measured = [round_trips(lambda: client.get(HOME), monkeypatch) for _ in range(3)]
    trips, waited = min(measured)

    assert round(trips) == 2, "\n".join([f"{trips:.2f} round trips:", *waited])
