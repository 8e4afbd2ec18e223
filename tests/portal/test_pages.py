"""The portal's first pages through Django's test client: login and logout with messages that
say what happened, Indonesian whatever the browser asks, a language switch remembered per
user, and a home page whose figures are the API's for the caller's regions."""

import datetime

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from access.models import AccessProfile
from portal.models import Preference
from tests.enrollment.factories import VILLAGE, WorkerFactory, bring_to, village
from villages.models import BranchOffice, Province, Regency

pytestmark = pytest.mark.django_db

PASSWORD = "pw-portal-123"
HOME, LOGIN, LOGOUT, LANGUAGE = (reverse(f"portal:{name}") for name in ("home", "login", "logout", "language"))


def make_user(username: str, role: str | None = None, **region) -> object:
    user = get_user_model().objects.create_user(username, password=PASSWORD)
    if role is not None:
        AccessProfile.objects.create(user=user, role=role, **region)
    return user


@pytest.fixture
def kerinci(regions):
    return make_user("pmd.kerinci", "regency_officer", regency=Regency.objects.get(code="15.01"))


@pytest.fixture
def browser() -> Client:
    """A browser set to English: the portal must answer in Indonesian all the same."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def log_in(client: Client, username: str, password: str = PASSWORD):
    return client.post(LOGIN, {"username": username, "password": password})


def test_the_root_url_sends_a_visitor_to_the_login_page(browser, regions):
    response = browser.get("/")

    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/"


def test_the_login_page_is_indonesian_whatever_the_browser_asks(browser, regions):
    response = browser.get(LOGIN)

    assert response.status_code == 200
    assert response["Content-Language"] == "id"
    assert "Nama pengguna" in response.text
    assert "Kata sandi" in response.text


def test_a_wrong_password_is_said_plainly(browser, kerinci):
    response = log_in(browser, "pmd.kerinci", "wrong-password")

    assert response.status_code == 200
    assert "Nama pengguna atau kata sandi salah" in response.text


def test_a_locked_account_is_told_it_is_locked_even_with_the_right_password(browser, kerinci, settings):
    for _ in range(settings.UCJ_LOGIN_MAX_FAILURES):
        log_in(browser, "pmd.kerinci", "wrong-password")

    response = log_in(browser, "pmd.kerinci")

    assert response.status_code == 200
    assert "akun ini dikunci" in response.text
    assert "_auth_user_id" not in browser.session


def test_an_ended_session_is_said_to_have_ended(browser, regions):
    browser.cookies[settings.SESSION_COOKIE_NAME] = "expired-session-key"

    response = browser.get(LOGIN, {"next": "/"})

    assert response.status_code == 200
    assert "Sesi Anda telah berakhir" in response.text


def test_login_leads_home_and_logout_ends_the_session(browser, kerinci):
    response = log_in(browser, "pmd.kerinci")
    assert response.status_code == 302
    assert response["Location"] == HOME

    logged_out = browser.post(LOGOUT)

    assert logged_out.status_code == 200
    assert "Anda sudah keluar" in logged_out.text
    assert browser.get(HOME).status_code == 302


def test_the_home_page_shows_the_callers_regions_with_the_apis_figures(browser, kerinci, admin_user, api_client):
    for status in ("active", "active", "submitted"):
        bring_to(WorkerFactory(village=village(VILLAGE)), status)
    log_in(browser, "pmd.kerinci")

    page = browser.get(HOME)
    api_client.force_authenticate(admin_user)
    figures = api_client.get(reverse("coverage-detail", args=["15.01"])).json()

    assert page.status_code == 200
    region = page.text.split('data-code="15.01"', 1)[1]
    assert f'class="serving">{figures["serving"]}<' in region
    assert f'class="protected">{figures["protected"]}<' in region
    assert f'class="unprotected">{figures["unprotected"]}<' in region
    assert "Premium" not in page.text
    assert "Iuran per bulan" in page.text
    assert 'data-code="15.08"' not in page.text  # Bungo is outside a Kerinci officer's region


def test_a_branch_clerk_sees_each_regency_of_its_territory(browser, regions):
    make_user("bpjs.bungo", "branch_officer", branch=BranchOffice.objects.get(code="muara-bungo"))
    log_in(browser, "bpjs.bungo")

    page = browser.get(HOME)

    assert page.status_code == 200
    assert 'data-code="15.08"' in page.text
    assert 'data-code="15.01"' not in page.text


def test_an_administrator_sees_every_province(browser, regions, admin_user):
    log_in(browser, "admin", "pw-admin-123")

    page = browser.get(HOME)

    assert page.status_code == 200
    assert "Semua provinsi" in page.text
    for name in Province.objects.values_list("name", flat=True):
        assert name in page.text


def test_the_change_since_a_date_is_shown_and_a_future_date_refused(browser, kerinci, today):
    log_in(browser, "pmd.kerinci")

    shown = browser.get(HOME, {"sejak": (today - datetime.timedelta(days=30)).isoformat()})
    refused = browser.get(HOME, {"sejak": (today + datetime.timedelta(days=1)).isoformat()})

    assert shown.status_code == refused.status_code == 200
    assert "Perubahan sejak" in shown.text
    assert 'class="change"' in shown.text
    assert "Pilih tanggal sebelum hari ini" in refused.text


def test_the_language_switch_is_remembered_for_the_user(browser, kerinci):
    log_in(browser, "pmd.kerinci")

    switched = browser.post(LANGUAGE, {"language": "en", "next": HOME})
    english = browser.get(HOME)
    browser.post(LOGOUT)
    elsewhere = Client(HTTP_ACCEPT_LANGUAGE="id")  # another browser, set to Indonesian
    log_in(elsewhere, "pmd.kerinci")
    again = elsewhere.get(HOME)

    assert switched.status_code == 302
    assert Preference.objects.get(user__username="pmd.kerinci").language == "en"
    assert english["Content-Language"] == again["Content-Language"] == "en"
    assert "Coverage today" in again.text


def test_the_language_switch_does_not_redirect_elsewhere(browser, regions):
    response = browser.post(LANGUAGE, {"language": "en", "next": "https://example.com/"})

    assert response.status_code == 302
    assert response["Location"] == HOME
