"""Messages of the libraries under the API (Django REST framework, knox) are Indonesian by
default like ours, with English on `Accept-Language: en`; before, several fell back to English."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api():
    client = APIClient()
    client.force_authenticate(get_user_model().objects.create_superuser("root", "root@example.id", "pw-root-123"))
    return client


def details(response) -> list[str]:
    return [error["detail"] for error in response.json()["errors"]]


@pytest.mark.parametrize(
    ("language", "expected"),
    [(None, "Data dengan code=15.08.01.2999 tidak ada."), ("en", "Object with code=15.08.01.2999 does not exist.")],
)
def test_unknown_village_code(admin_api, language, expected):
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    response = admin_api.post(reverse("worker-list"), {"village": "1508012999"}, format="json", **headers)

    assert response.status_code == 400
    assert expected in details(response)


@pytest.mark.parametrize(
    ("language", "expected"),
    [(None, 'Metode "GET" tidak diizinkan.'), ("en", 'Method "GET" not allowed.')],
)
def test_method_not_allowed(language, expected):
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    response = APIClient().get(reverse("auth-login"), **headers)

    assert response.status_code == 405
    assert details(response) == [expected]


def test_invalid_token_is_indonesian_by_default():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "a" * 64)

    response = client.get(reverse("worker-list"))

    assert response.status_code == 401
    assert details(response) == ["Token tidak valid."]


def test_a_list_expected_is_indonesian_by_default():
    from enrollment.api.serializers import ActivateSerializer

    serializer = ActivateSerializer(data={"programs": "jkk"})

    assert not serializer.is_valid()
    assert [str(e) for e in serializer.errors["programs"]] == [
        'Diharapkan daftar (list), tetapi yang diterima bertipe "str".'
    ]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("scheme", "PU", '"PU" tidak ada dalam daftar pilihan; pilih salah satu dari: pu, bpu.'),
        ("programs", ["jkk", "JHT"], '"JHT" tidak ada dalam daftar pilihan; pilih salah satu dari: jkk, jkm, jht, jp.'),
    ],
)
def test_a_refused_choice_lists_the_allowed_values(field, value, expected):
    from enrollment.api.serializers import ActivateSerializer

    serializer = ActivateSerializer(data={field: value})

    assert not serializer.is_valid()
    assert [str(e) for e in serializer.errors[field]] == [expected]


def test_a_bearer_token_is_told_the_scheme_is_token():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer " + "a" * 64)

    response = client.get(reverse("worker-list"), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 401
    assert details(response) == ["Send the token as `Authorization: Token <token>`, not Bearer."]
