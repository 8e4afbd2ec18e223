"""The read-only region API: /api/v1/provinces/, regencies/, districts/, villages/, branches/."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from villages.models import BranchOffice, District, Province, Regency, Village

pytestmark = pytest.mark.django_db


def codes(response) -> list[str]:
    return [row["code"] for row in response.json()["results"]]


def add_villages(count: int, *, district_code: str = "15.01.01", first: int = 2100) -> None:
    district = District.objects.get(code=district_code)
    Village.objects.bulk_create(
        Village(
            code=f"{district_code}.{number}",
            name=f"Desa Uji {number}",
            kind="desa",
            district=district,
            regency_id=district.regency_id,
            province_id=district.province_id,
        )
        for number in range(first, first + count)
    )


@pytest.fixture
def many_villages(small_regions) -> int:
    """606 villages: the 6 of the small fixture and 600 desa 15.01.01.2100-2699."""
    add_villages(600)
    return 606


# -- lists and filters --------------------------------------------------------------------


def test_province_list_returns_code_and_name(api_client, small_regions):
    response = api_client.get(reverse("province-list"))

    assert response.status_code == 200
    assert response.json() == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [{"code": "15", "name": "Jambi"}, {"code": "16", "name": "Sumatera Selatan"}],
    }


def test_regency_list_filters_by_province_after_demo_load(api_client, demo, small_regions):
    response = api_client.get(reverse("regency-list"), {"province": "15"})

    assert response.status_code == 200
    assert response.json()["count"] == 11
    assert codes(response) == [
        "15.01", "15.02", "15.03", "15.04", "15.05", "15.06", "15.07", "15.08", "15.09", "15.71", "15.72",
    ]  # fmt: skip
    assert response.json()["results"][0] == {
        "code": "15.01",
        "name": "Kabupaten Kerinci",
        "kind": "kabupaten",
        "province": "15",
    }


def test_regency_list_filters_by_kind(api_client, demo, small_regions):
    response = api_client.get(reverse("regency-list"), {"kind": "kota"})

    assert response.status_code == 200
    assert response.json()["results"] == [
        {"code": "15.71", "name": "Kota Jambi", "kind": "kota", "province": "15"},
        {"code": "15.72", "name": "Kota Sungai Penuh", "kind": "kota", "province": "15"},
    ]


def test_district_list_filters_by_regency(api_client, small_regions):
    response = api_client.get(reverse("district-list"), {"regency": "15.71"})

    assert response.status_code == 200
    assert response.json()["results"] == [
        {"code": "15.71.01", "name": "Kota Baru", "regency": "15.71", "province": "15"},
    ]


def test_village_list_filters_by_district_and_kind(api_client, small_regions):
    response = api_client.get(reverse("village-list"), {"district": "15.01.01", "kind": "desa"})

    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert response.json()["results"] == [
        {
            "code": "15.01.01.2001",
            "name": "Lempur Tengah",
            "kind": "desa",
            "district": "15.01.01",
            "regency": "15.01",
            "province": "15",
        },
        {
            "code": "15.01.01.2002",
            "name": "Lempur Mudik, Hilir",
            "kind": "desa",
            "district": "15.01.01",
            "regency": "15.01",
            "province": "15",
        },
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "desa_adat"}, ["15.01.01.3001"]),
        ({"kind": "kelurahan"}, ["15.71.01.1001", "15.71.01.1002"]),
        ({"regency": "16.01"}, ["16.01.01.2001"]),
        ({"province": "15", "kind": "desa"}, ["15.01.01.2001", "15.01.01.2002"]),
        ({"district": "99.99.99"}, []),
    ],
)
def test_village_list_filters_by_region_code_and_kind(api_client, small_regions, params, expected):
    response = api_client.get(reverse("village-list"), params)

    assert response.status_code == 200
    assert codes(response) == expected


def test_village_list_searches_by_name(api_client, small_regions):
    response = api_client.get(reverse("village-list"), {"search": "lempur"})

    assert response.status_code == 200
    assert codes(response) == ["15.01.01.2001", "15.01.01.2002"]


def test_regency_list_orders_by_name_when_asked(api_client, small_regions):
    response = api_client.get(reverse("regency-list"), {"ordering": "-name"})

    assert response.status_code == 200
    assert codes(response) == ["15.71", "16.01", "15.01"]


# -- one region by its code ---------------------------------------------------------------


def test_regency_retrieved_by_code(api_client, small_regions):
    url = reverse("regency-detail", args=["15.01"])
    response = api_client.get(url)

    assert url == "/api/v1/regencies/15.01/"
    assert response.status_code == 200
    assert response.json() == {"code": "15.01", "name": "Kabupaten Kerinci", "kind": "kabupaten", "province": "15"}


def test_village_retrieved_by_dotted_code(api_client, small_regions):
    url = reverse("village-detail", args=["15.01.01.2001"])
    response = api_client.get(url)

    assert url == "/api/v1/villages/15.01.01.2001/"
    assert response.status_code == 200
    assert response.json() == {
        "code": "15.01.01.2001",
        "name": "Lempur Tengah",
        "kind": "desa",
        "district": "15.01.01",
        "regency": "15.01",
        "province": "15",
    }


@pytest.mark.parametrize(
    ("basename", "code"),
    [
        ("province", "99"),
        ("regency", "15.99"),
        ("regency", "15.01.01"),
        ("district", "15.01.09"),
        ("village", "15.01.01.2999"),
        ("branch", "kupang"),
    ],
)
def test_unknown_code_answers_404_in_standard_error_shape(api_client, small_regions, basename, code):
    response = api_client.get(reverse(f"{basename}-detail", args=[code]))

    assert response.status_code == 404
    body = response.json()
    assert body["type"] == "client_error"
    assert [error["code"] for error in body["errors"]] == ["not_found"]
    assert body["errors"][0]["attr"] is None
    assert body["errors"][0]["detail"]


@pytest.mark.parametrize("basename", ["regency", "village"])
def test_invalid_kind_filter_answers_400_naming_kind(api_client, small_regions, basename):
    response = api_client.get(reverse(f"{basename}-list"), {"kind": "metropolis"})

    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert [(error["code"], error["attr"]) for error in body["errors"]] == [("invalid_choice", "kind")]


def test_region_list_refuses_writes(api_client, small_regions):
    response = api_client.post(reverse("province-list"), {"code": "17", "name": "Bengkulu"}, format="json")

    assert response.status_code == 405
    assert response.json()["type"] == "client_error"
    assert Province.objects.filter(code="17").exists() is False


# -- pagination ---------------------------------------------------------------------------


def test_village_list_pages_by_50_when_no_page_size(api_client, many_villages):
    response = api_client.get(reverse("village-list"))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == many_villages
    assert len(body["results"]) == 50
    assert body["next"].endswith("/api/v1/villages/?page=2")
    assert body["previous"] is None


def test_village_list_last_page_links_back_only(api_client, many_villages):
    response = api_client.get(reverse("village-list"), {"page": 13})

    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) == 6  # 606 = 12 x 50 + 6
    assert body["next"] is None
    assert "page=12" in body["previous"]
    assert codes(response)[-1] == "16.01.01.2001"


@pytest.mark.parametrize("page", [1, 2, 3, 13])
def test_village_list_links_are_the_address_with_the_page_replaced(api_client, many_villages, page):
    """The page links (core.api.pagination, each made once for an address) are DRF's: the same
    address, its parameters sorted and written again, the page replaced (removed for the first)."""
    from rest_framework.utils.urls import remove_query_param, replace_query_param

    query = {"page_size": 50, "page": page, "format": "json"}
    address = "http://testserver" + reverse("village-list")
    response = api_client.get(reverse("village-list"), query)
    asked = response.wsgi_request.build_absolute_uri()

    assert response.status_code == 200
    body = response.json()
    assert asked.startswith(address + "?")
    assert body["next"] == (replace_query_param(asked, "page", page + 1) if page < 13 else None)
    if page == 1:
        previous = None
    elif page == 2:
        previous = remove_query_param(asked, "page")
    else:
        previous = replace_query_param(asked, "page", page - 1)
    assert body["previous"] == previous


def test_village_list_caps_page_size_at_500(api_client, many_villages):
    response = api_client.get(reverse("village-list"), {"page_size": 1000})

    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) == 500
    assert body["count"] == many_villages
    assert "page=2" in body["next"]


def test_village_list_honours_page_size_below_cap(api_client, many_villages):
    response = api_client.get(reverse("village-list"), {"page_size": 120})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 120


def test_village_list_answers_404_when_page_past_end(api_client, many_villages):
    response = api_client.get(reverse("village-list"), {"page": 99})

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


# -- branch offices -----------------------------------------------------------------------


def test_branch_list_shows_regencies_served(api_client, demo):
    response = api_client.get(reverse("branch-list"))

    assert response.status_code == 200
    branches = response.json()["results"]
    assert [branch["code"] for branch in branches] == ["jambi", "muara-bungo"]
    assert branches[1] == {
        "code": "muara-bungo",
        "name": "BPJS Ketenagakerjaan Cabang Muara Bungo",
        "regencies": [
            {"code": "15.02", "name": "Kabupaten Merangin"},
            {"code": "15.08", "name": "Kabupaten Bungo"},
        ],
    }
    assert [regency["code"] for regency in branches[0]["regencies"]] == [
        "15.01", "15.03", "15.04", "15.05", "15.06", "15.07", "15.09", "15.71", "15.72",
    ]  # fmt: skip


def test_branch_list_filters_by_regency_served(api_client, demo):
    response = api_client.get(reverse("branch-list"), {"regency": "15.08"})

    assert response.status_code == 200
    assert codes(response) == ["muara-bungo"]


def test_branch_retrieved_by_code(api_client, demo):
    response = api_client.get(reverse("branch-detail", args=["muara-bungo"]))

    assert response.status_code == 200
    assert [regency["code"] for regency in response.json()["regencies"]] == ["15.02", "15.08"]


# -- queries do not grow with rows --------------------------------------------------------


def queries_for(client, url: str, params: dict | None = None) -> tuple[int, int]:
    """(queries run, rows shown) for one GET."""
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(context.captured_queries), len(response.json()["results"])


def test_village_list_query_count_same_for_5_and_50_rows(api_client, small_regions):
    url = reverse("village-list")
    api_client.get(url)  # warm up: first-request work (throttle cache row) is not per row
    params = {"district": "15.01.01", "kind": "desa"}
    add_villages(3, first=2500)
    few = queries_for(api_client, url, params)
    add_villages(45, first=2600)
    many = queries_for(api_client, url, params)

    assert (few[1], many[1]) == (5, 50)
    assert many[0] == few[0]


def test_district_list_query_count_same_for_few_and_many_rows(api_client, small_regions):
    url = reverse("district-list")
    api_client.get(url)
    few = queries_for(api_client, url)
    regency = Regency.objects.get(code="15.01")
    District.objects.bulk_create(
        District(code=f"15.01.{n:02d}", name=f"Kecamatan {n}", regency=regency, province_id=regency.province_id)
        for n in range(2, 42)
    )
    many = queries_for(api_client, url)

    assert (few[1], many[1]) == (3, 43)
    assert many[0] == few[0]


def test_regency_list_query_count_same_for_few_and_many_rows(api_client, small_regions, demo):
    url = reverse("regency-list")
    api_client.get(url)
    few = queries_for(api_client, url, {"province": "16"})
    many = queries_for(api_client, url, {"province": "15"})

    assert (few[1], many[1]) == (1, 11)
    assert many[0] == few[0]


def test_branch_list_query_count_same_for_few_and_many_branches(api_client, demo):
    url = reverse("branch-list")
    api_client.get(url)
    few = queries_for(api_client, url)
    regencies = list(Regency.objects.order_by("code"))
    for n in range(8):
        branch = BranchOffice.objects.create(code=f"cabang-{n}", name=f"Cabang {n}")
        branch.regencies.set(regencies[n : n + 3])
    many = queries_for(api_client, url)

    assert (few[1], many[1]) == (2, 10)
    assert many[0] == few[0]
