"""Fixtures for worker tests (the region tree, the admin and `actor` are in tests/conftest.py)."""

import datetime

import pytest

from enrollment.services import worker_register


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
