from __future__ import annotations

import pytest
from django.test import Client

pytestmark = [
    pytest.mark.django_db,
    # WhiteNoise warns when static files were never collected; irrelevant to a JSON API.
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

BASE = "/api/v1/catalog"


@pytest.fixture
def api() -> Client:
    return Client()


def _error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert body["message_vi"] and body["message_en"]


def test_it_lists_procedures_with_their_forms(api, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        response = api.get(f"{BASE}/procedures")
    assert response.status_code == 200
    procedures = {p["code"]: p for p in response.json()}
    assert {"600", "600a", "601", "630c"} <= procedures.keys()
    assert procedures["600"]["forms"][0] == {
        "code": "D02-LT",
        "portal_id": "D02-TS",
        "name": "Báo cáo tình hình sử dụng lao động và danh sách tham gia BHXH, BHYT, BHTN",
        "kind": "declaration",
        "required": True,
    }


def test_it_filters_procedures_by_field(api):
    codes = [p["code"] for p in api.get(f"{BASE}/procedures", {"field": "benefits"}).json()]
    assert codes == ["630a", "630b", "630c"]


def test_it_returns_one_procedure(api):
    body = api.get(f"{BASE}/procedures/600").json()
    assert (body["time_limit_days"], body["time_limit_confirmed"], body["channels"]) == (
        5,
        True,
        ["web", "api"],
    )
    assert [f["code"] for f in body["forms"] if f["required"]] == ["D02-LT"]


def test_it_answers_404_for_an_unknown_procedure(api):
    _error(api.get(f"{BASE}/procedures/999"), 404, "CAT-NOT-FOUND")


def test_it_lists_forms(api):
    forms = {f["code"]: f for f in api.get(f"{BASE}/forms").json()}
    assert forms["TK1-TS"]["signature_node"] == "TK1-TS/Cky"


def test_it_lists_a_change_type_list(api):
    body = api.get(f"{BASE}/change-types", {"list": "600"}).json()
    assert len(body) == 26
    assert {
        "list_code": "600",
        "code": "TM",
        "name": "Tăng mới",
        "direction": "increase",
    }.items() <= next(row for row in body if row["code"] == "TM").items()


def test_it_answers_404_for_an_unknown_change_type_list(api):
    _error(api.get(f"{BASE}/change-types", {"list": "999"}), 404, "CAT-NOT-FOUND")


def test_it_answers_the_regions_of_a_period(api):
    body = api.get(f"{BASE}/regions", {"period": "2026-07"}).json()
    assert body["period"] == "07/2026"
    assert [(r["region"], r["minimum_wage"]) for r in body["regions"]] == [
        (1, 5_310_000),
        (2, 4_730_000),
        (3, 4_140_000),
        (4, 3_700_000),
    ]


def test_it_answers_400_for_a_malformed_period(api):
    _error(api.get(f"{BASE}/regions", {"period": "13-2026"}), 400, "CAT-PERIOD-FORMAT")
    _error(
        api.get(f"{BASE}/parameters", {"period": "13-2026", "region": "1"}),
        400,
        "CAT-PERIOD-FORMAT",
    )


def test_it_answers_the_parameters_of_a_period_and_region(api):
    body = api.get(f"{BASE}/parameters", {"period": "2026-07", "region": "1"}).json()
    assert body["minimum_wage"] == body["floor"] == 5_310_000
    assert body["reference_salary"] == 2_530_000
    assert (body["cap_bhxh_bhyt"], body["cap_bhtn"]) == (50_600_000, 106_200_000)
    assert (body["employer_total"], body["employee_total"]) == ("0.215", "0.105")
    rates = {r["fund"]: r for r in body["rates"]}
    assert (rates["pension"]["employer_rate"], rates["pension"]["employee_rate"]) == (
        "0.14",
        "0.08",
    )
    assert rates["unemployment"]["cap"] == 106_200_000


def test_it_answers_400_for_a_bad_region_and_404_when_nothing_is_in_force(api):
    _error(api.get(f"{BASE}/parameters", {"period": "2026-07", "region": "5"}), 400, "CAT-REGION")
    _error(api.get(f"{BASE}/parameters", {"period": "01/2020", "region": "1"}), 404, "CAT-NO-VALUE")


def test_it_lists_agencies(api):
    agencies = {a["code"]: a for a in api.get(f"{BASE}/agencies").json()}
    assert agencies["00000"]["parent"] is None
    assert (
        agencies["07906"]["name"],
        agencies["07906"]["parent"],
        agencies["07906"]["province"],
    ) == (
        "Bảo hiểm xã hội Cơ sở Bình Thạnh",
        "07900",
        "79",
    )
    assert [a["code"] for a in api.get(f"{BASE}/agencies", {"level": "provincial"}).json()] == [
        "00100",
        "07900",
    ]


def test_it_lists_provinces_with_their_legacy_codes(api):
    provinces = {p["code"]: p for p in api.get(f"{BASE}/provinces").json()}
    assert len(provinces) == 34
    assert [c["code"] for c in provinces["79"]["legacy_codes"]] == ["74", "77", "79"]


def test_it_lists_the_communes_of_a_province(api):
    response = api.get(f"{BASE}/provinces/79/communes")
    assert response.status_code == 200
    communes = response.json()
    assert len(communes) > 100
    assert all(c["province"] == "79" for c in communes)
    _error(api.get(f"{BASE}/provinces/99/communes"), 404, "CAT-NOT-FOUND")


def test_it_lists_legacy_provinces(api):
    rows = {r["code"]: r for r in api.get(f"{BASE}/legacy-provinces").json()}
    assert len(rows) == 63
    assert rows["74"] == {
        "code": "74",
        "name": "Bình Dương",
        "successor": "79",
        "successor_name": "Thành phố Hồ Chí Minh",
    }


@pytest.mark.parametrize(
    ("path", "count", "first"),
    [
        ("ivan-providers", 15, {"code": "00001", "name": "Công Ty Cổ Phần TS24"}),
        ("ethnicities", 55, {"code": "01", "name": "Kinh"}),
    ],
)
def test_it_lists_simple_catalogues(api, path, count, first):
    body = api.get(f"{BASE}/{path}").json()
    assert len(body) == count
    assert body[0] == first


def test_it_lists_nationalities(api):
    body = {n["code"]: n["name"] for n in api.get(f"{BASE}/nationalities").json()}
    assert body["VN"] == "Việt Nam"
    assert len(body) >= 40


def test_it_needs_no_login(api):
    assert api.get(f"{BASE}/procedures").status_code == 200


def test_openapi_lists_the_catalog_paths(api):
    paths = api.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "procedures",
        "procedures/{code}",
        "forms",
        "change-types",
        "regions",
        "parameters",
        "agencies",
        "provinces",
        "provinces/{code}/communes",
        "legacy-provinces",
        "ivan-providers",
        "ethnicities",
        "nationalities",
    ):
        assert f"/api/v1/catalog/{path}" in paths
    params = {p["name"] for p in paths["/api/v1/catalog/change-types"]["get"]["parameters"]}
    assert params == {"list", "period"}
