"""Helpers shared by every test folder: today's date as the services see it, valid NIKs, and an
API client that sends a real token."""

from __future__ import annotations

import datetime
from typing import Any

from knox.models import AuthToken
from rest_framework.test import APIClient

from enrollment import services


def today() -> datetime.date:
    """Today as the services see it (the default effective date of every change)."""
    return services.today()


def nik_for(birth_date: datetime.date, sex: str, serial: int, region: str = "150101") -> str:
    """A NIK that agrees with `birth_date` and `sex` (day + 40 for women)."""
    day = birth_date.day + (40 if sex == "female" else 0)
    return f"{region}{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}{serial:04d}"


def token_client(user: Any) -> APIClient:
    """An API client that signs in as `user` with a token of its own, as an integrator does (the
    token's lookup runs; `force_authenticate` would skip it)."""
    _instance, key = AuthToken.objects.create(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client
