"""Content negotiation (core.api.negotiation): what is chosen for a view's renderers, a format and
an Accept header is remembered; requests asking otherwise still get what they ask for."""

from __future__ import annotations

import pytest

COVERAGE = "/api/v1/coverage/"


@pytest.mark.django_db
def test_each_request_gets_the_format_it_asks_for_in_any_order(admin_client):
    asked = [
        ({}, {}, "application/json"),
        ({}, {"HTTP_ACCEPT": "text/csv"}, "text/csv"),
        ({"format": "xlsx"}, {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ({}, {"HTTP_ACCEPT": "text/html"}, "text/html"),
        ({}, {"HTTP_ACCEPT": "application/json; indent=2"}, "application/json"),
        ({}, {}, "application/json"),
        ({}, {"HTTP_ACCEPT": "text/csv"}, "text/csv"),
        ({"format": "csv"}, {}, "text/csv"),
    ]
    for _round in range(2):  # the second time, each from what was remembered
        for query, headers, content_type in asked:
            response = admin_client.get(COVERAGE, {"level": "province", **query}, **headers)
            assert response.status_code == 200, (query, headers)
            assert response["Content-Type"].split(";")[0] == content_type, (query, headers)


@pytest.mark.django_db
def test_a_format_the_address_does_not_make_is_refused_each_time(admin_client):
    for _ in range(2):
        response = admin_client.get(COVERAGE, {"level": "province", "format": "pdf"})
        assert response.status_code == 400
        assert response.json()["errors"][0]["attr"] == "format"
        refused = admin_client.get(COVERAGE, {"level": "province"}, HTTP_ACCEPT="application/pdf")
        assert refused.status_code == 406
        # A format and an Accept header that exclude each other: nothing to send.
        crossed = admin_client.get(COVERAGE, {"level": "province", "format": "csv"}, HTTP_ACCEPT="application/json")
        assert crossed.status_code == 406


@pytest.mark.django_db
def test_what_is_remembered_stays_bounded(admin_client):
    from core.api import negotiation

    for i in range(negotiation.CHOSEN_ENTRIES + 5):
        admin_client.get(COVERAGE, {"level": "province"}, HTTP_ACCEPT=f"application/json; q=0.{i % 9 + 1}, x={i}")
    assert len(negotiation._chosen) <= negotiation.CHOSEN_ENTRIES
