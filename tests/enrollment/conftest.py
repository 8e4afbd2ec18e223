"""Fixtures for worker tests: a small region tree and users, built through the real services."""

import datetime

import pytest
from django.contrib.auth import get_user_model

from enrollment.services import Actor, worker_register
from villages.services import regions_import

REGIONS = b"""code,name
15,Jambi
15.01,Kabupaten Kerinci
15.01.01,Gunung Raya
15.01.01.2001,Lempur Tengah
15.01.01.2002,Lempur Mudik
15.08,Kabupaten Bungo
15.08.01,Pelepat
15.08.01.2001,Rantau Keloyang
"""


@pytest.fixture
def regions(db):
    regions_import(data=REGIONS)


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser("admin", "admin@example.id", "pw-admin-123")


@pytest.fixture
def admin_client(api_client, admin_user):
    api_client.force_authenticate(admin_user)
    return api_client


@pytest.fixture
def actor(admin_user):
    return Actor(user=admin_user)


def worker_data(**overrides):
    """Valid registration data for a man born 1980-05-17 (NIK 150101 170580 0001)."""
    data = {
        "village": "15.01.01.2001",
        "nik": "1501011705800001",
        "full_name": "Budi Santoso",
        "sex": "male",
        "birth_date": "1980-05-17",
        "institution": "pemerintah_desa",
        "position": "kepala_desa",
        "term_start": "2024-01-01",
        "wage_basis": "siltap",
        "monthly_wage": 2_500_000,
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_worker(regions, actor):
    from villages.models import Village

    counter = {"n": 0}

    def make(**overrides):
        counter["n"] += 1
        data = worker_data(nik=f"15010117058{counter['n']:05d}", **overrides)
        data["village"] = Village.objects.get(code=data["village"])
        for field in ("birth_date", "term_start", "term_end"):
            if isinstance(data.get(field), str):
                data[field] = datetime.date.fromisoformat(data[field])
        return worker_register(actor=actor, **data)

    return make
