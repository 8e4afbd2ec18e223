import pytest
from django.urls import reverse

from coverage.models import VillageCoverage
from coverage.services import counters_recount

from .conftest import worker_data

pytestmark = pytest.mark.django_db


def counters():
    return sorted(VillageCoverage.objects.values_list("village__code", "institution", "serving", "protected"))


def test_worker_lifecycle_through_api(admin_client, regions):
    response = admin_client.post(reverse("worker-list"), worker_data(), format="json")
    assert response.status_code == 201, response.json()
    worker = response.json()
    assert worker["enrollment"]["status"] == "not_registered"
    url = reverse("worker-submit", args=[worker["id"]])
    assert admin_client.post(url, {"effective_date": "2024-01-15"}, format="json").status_code == 200
    response = admin_client.post(
        reverse("worker-activate", args=[worker["id"]]),
        {
            "kpj_number": "12345678901",
            "scheme": "bpu",
            "programs": ["jkk", "jkm"],
            "funding_source": "apbdes",
            "coverage_start": "2024-02-01",
            "paid_until": "2026-12-31",
            "effective_date": "2024-02-01",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["protected"] is True
    assert counters() == [("15.01.01.2001", "pemerintah_desa", 1, 1)]
    history = admin_client.get(reverse("worker-history", args=[worker["id"]])).json()
    assert [e["kind"] for e in history["results"]] == ["registered", "submitted", "activated"]
    before = counters()
    counters_recount()
    assert counters() == before
