"""The API answers every 4xx in one shape, also when no endpoint was reached or the
input could never reach the database (a NUL character, a number beyond a bigint)."""

import json

import pytest
from django.db import connection

from retreat.parsers import nul_locations

pytestmark = pytest.mark.django_db


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    answer = response.json()
    assert set(answer) == {"code", "message", "detail"} and answer["code"] == code and answer["message"]
    return answer


@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v1/bases/-1", "/api/v1/bases/1/nothing", "/api/v1/billing/programmes/1/x/y"])
def test_an_unknown_api_path_is_a_404_in_the_error_shape(users, client_for, path):
    answer = assert_error(client_for(users["dongguan_organiser"]).get(path), 404, "not_found")
    assert answer["detail"]["path"] == path


def test_a_method_the_endpoint_does_not_take_is_a_405_in_the_error_shape(users, client_for):
    response = client_for(users["dongguan_organiser"]).put("/api/v1/bases", "{}", content_type="application/json")
    answer = assert_error(response, 405, "method_not_allowed")
    assert set(answer["detail"]["allowed"]) == {"GET", "POST"} and "GET" in response["Allow"]


def test_pages_outside_the_api_keep_their_own_404(users, client_for):
    response = client_for(users["dongguan_organiser"]).get("/no-such-page/")
    assert response.status_code == 404 and not response["Content-Type"].startswith("application/json")


def test_a_nul_character_in_any_apps_body_is_a_422(users, client_for):
    client = client_for(users["dongguan_organiser"])
    response = client.post("/api/v1/tokens", json.dumps({"name": "手机\x00"}), content_type="application/json")
    answer = assert_error(response, 422, "validation_error")
    assert answer["detail"] == [{"loc": ["body", "name"], "msg": answer["detail"][0]["msg"], "type": "nul_character"}]
    assert client.get("/api/v1/tokens").json()["count"] == 0


def test_a_nul_character_in_a_path_parameter_is_a_4xx(users, client_for):
    response = client_for(users["dongguan_organiser"]).get("/api/v1/itineraries/bookings/BK%00X")
    # PostgreSQL cannot even look the NUL up; SQLite looks and finds nothing.
    if connection.vendor == "postgresql":
        assert_error(response, 422, "validation_error")
    else:
        assert_error(response, 404, "not_found")


def test_a_nul_character_in_a_json_key_is_found_too():
    assert nul_locations({"a": [1, "x", {"b\x00": 2, "c": "d\x00"}], "e": "fine"}) == [("a", 2, "b\x00"), ("a", 2, "c")]
    assert nul_locations(["clean", 3, None, {"k": ["v"]}]) == []


def test_every_endpoint_declares_the_one_error_shape_for_its_4xx():
    from retreat.api import api

    schema = api.get_openapi_schema()
    undeclared = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = {str(code): answer for code, answer in operation["responses"].items()}
            for code in ("401", "403", "404", "409", "422"):
                ref = responses.get(code, {}).get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
                if not ref.endswith("/ErrorOut"):
                    undeclared.append((method.upper(), path, code))
    assert not undeclared, undeclared


def test_the_openapi_documentation_is_served(users, client_for):
    client = client_for(users["dongguan_organiser"])
    assert client.get("/api/docs").status_code == 200
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200 and "/api/v1/bases/availability" in schema.json()["paths"]


def test_a_value_the_database_cannot_hold_is_a_422_not_a_500():
    """The backstop behind the schemas' bounds: the database's own "out of range" (SQLSTATE class 22)."""
    from django.db import DataError
    from django.test import RequestFactory

    from retreat.api import on_database_error

    response = on_database_error(RequestFactory().get("/api/v1/bases"), DataError("bigint out of range"))
    assert response.status_code == 422
    assert json.loads(response.content) == {
        "code": "validation_error", "message": "请求参数超出可接受范围", "detail": None,
    }
