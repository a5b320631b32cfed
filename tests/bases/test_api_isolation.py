"""Every bases endpoint, called on another tenant's object: a 404 in the error shape, and nothing changed."""

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from bases import services
from bases.models import Base, CertificationEvent, NightInventory, RoomType, Route, RouteDay, RouteDeparture
from groups.access import actor_of
from tests.factories import BaseFactory, RoomTypeFactory, open_nights

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
RANGE = {"first_night": str(TODAY + dt.timedelta(days=1)), "last_night": str(TODAY + dt.timedelta(days=3))}

# (method, path, body); {base}, {room_type}, {route}, {departure} are the other operator's.
BASE_ENDPOINTS = [
    ("patch", "/api/v1/bases/{base}", {"name": "改名"}),
    ("delete", "/api/v1/bases/{base}", None),
    ("get", "/api/v1/bases/{base}/certification/events", None),
    ("post", "/api/v1/bases/{base}/certification/apply", {"reason": "x"}),
    ("post", "/api/v1/bases/{base}/certification/certify", {"level": "city", "certificate_number": "Z9", "valid_from": str(TODAY), "valid_until": str(TODAY + dt.timedelta(days=9))}),
    ("post", "/api/v1/bases/{base}/certification/suspend", {"reason": "x"}),
    ("post", "/api/v1/bases/{base}/certification/reinstate", {"reason": "x"}),
    ("post", "/api/v1/bases/{base}/certification/revoke", {"reason": "x"}),
    ("post", "/api/v1/bases/{base}/certification/renew", {"valid_until": str(TODAY + dt.timedelta(days=5000))}),
    ("post", "/api/v1/bases/{base}/room-types", {"name": "新房型", "beds_per_room": 2, "rooms": 3, "price_per_night": "100"}),
    ("patch", "/api/v1/bases/{base}/room-types/{room_type}", {"rooms": 99}),
    ("delete", "/api/v1/bases/{base}/room-types/{room_type}", None),
    ("get", "/api/v1/bases/{base}/inventory?month=" + TODAY.strftime("%Y-%m"), None),
    ("post", "/api/v1/bases/{base}/room-types/{room_type}/inventory/open-season", {**RANGE, "rooms": 1}),
    ("post", "/api/v1/bases/{base}/room-types/{room_type}/inventory/close", RANGE),
    ("post", "/api/v1/bases/{base}/room-types/{room_type}/inventory/reopen", RANGE),
    ("post", "/api/v1/bases/{base}/room-types/{room_type}/inventory/capacity", {**RANGE, "rooms": 1}),
]
# Reading these is fine for a certified base, so they are checked on the draft only.
DRAFT_READ_ENDPOINTS = [
    ("get", "/api/v1/bases/{base}", None),
    ("get", "/api/v1/bases/{base}/room-types", None),
]
ROUTE_ENDPOINTS = [
    ("get", "/api/v1/bases/routes/{route}", None),
    ("patch", "/api/v1/bases/routes/{route}", {"title": "改名"}),
    ("post", "/api/v1/bases/routes/{route}/publish", None),
    ("post", "/api/v1/bases/routes/{route}/unpublish", None),
    ("get", "/api/v1/bases/routes/{route}/departures", None),
    ("post", "/api/v1/bases/routes/{route}/departures", {"date": str(TODAY + dt.timedelta(days=20)), "seats": 5}),
    ("patch", "/api/v1/bases/routes/{route}/departures/{departure}", {"seats": 1}),
    ("delete", "/api/v1/bases/routes/{route}/departures/{departure}", None),
]


@pytest.fixture
def foreign(users, union_tree):
    """The other operator's draft base, certified base and unpublished route, with inventory."""
    draft = BaseFactory(operator=union_tree["other_operator"], status="draft", level="", certificate_number="", valid_from=None, valid_until=None)
    certified = BaseFactory(operator=union_tree["other_operator"], city_code="440200", county_code="440282")
    for base in (draft, certified):
        open_nights(RoomTypeFactory(base=base), TODAY, 10)
    other = actor_of(users["other_operator"])
    route = services.route_create(
        actor=other, title="丹霞三日", price_per_head=1200, published=False,
        days=[services.RouteDaySpec(number=1, night_base_id=certified.pk, night_room_type_id=certified.room_types.get().pk),
              services.RouteDaySpec(number=2)],
    )
    departure = services.departure_create(actor=other, route_id=route.pk, date=TODAY + dt.timedelta(days=30), seats=20)
    return {"draft": draft, "certified": certified, "route": route, "departure": departure}


def state():
    """Everything the bases endpoints could change."""
    return [
        list(model.objects.order_by("pk").values())
        for model in (Base, RoomType, NightInventory, CertificationEvent, Route, RouteDay, RouteDeparture)
    ]


def call(client, method, path, body):
    if body is None:
        return getattr(client, method)(path)
    return getattr(client, method)(path, json.dumps(body), content_type="application/json")


def fill(path, base, route=None, departure=None):
    return path.format(
        base=base.pk, room_type=base.room_types.first().pk if base.room_types.exists() else 0,
        route=route.pk if route else 0, departure=departure.pk if departure else 0,
    )


@pytest.mark.parametrize("which", ["draft", "certified"])
@pytest.mark.parametrize("method, path, body", BASE_ENDPOINTS)
def test_another_operators_base_is_a_404_and_unchanged(users, client_for, foreign, which, method, path, body):
    before = state()
    response = call(client_for(users["operator"]), method, fill(path, foreign[which]), body)
    assert response.status_code == 404, response.content
    assert set(response.json()) == {"code", "message", "detail"}
    assert state() == before


@pytest.mark.parametrize("who", ["operator", "dongguan_organiser", "dongguan_admin", "dongguan_fund"])
@pytest.mark.parametrize("method, path, body", DRAFT_READ_ENDPOINTS)
def test_an_uncertified_base_is_hidden_from_everyone_but_its_operator_and_its_administrators(users, client_for, foreign, who, method, path, body):
    response = call(client_for(users[who]), method, fill(path, foreign["draft"]), body)
    assert response.status_code == 404
    mine = call(client_for(users["other_operator"]), method, fill(path, foreign["draft"]), body)
    province = call(client_for(users["province_admin"]), method, fill(path, foreign["draft"]), body)
    assert (mine.status_code, province.status_code) == (200, 200)


@pytest.mark.parametrize("method, path, body", ROUTE_ENDPOINTS)
def test_another_operators_route_is_a_404_and_unchanged(users, client_for, foreign, method, path, body):
    before = state()
    response = call(client_for(users["operator"]), method, fill(path, foreign["certified"], foreign["route"], foreign["departure"]), body)
    assert response.status_code == 404, response.content
    assert state() == before


def test_lists_leave_out_what_the_actor_may_not_see(users, client_for, foreign, heyuan_base):
    organiser = client_for(users["dongguan_organiser"])
    names = {b["id"] for b in organiser.get("/api/v1/bases?limit=200").json()["items"]}
    assert names == {foreign["certified"].pk, heyuan_base.pk}
    assert organiser.get("/api/v1/bases/routes").json()["count"] == 0  # the route is unpublished
    operator = client_for(users["operator"])
    assert foreign["draft"].pk not in {b["id"] for b in operator.get("/api/v1/bases?limit=200&status=draft").json()["items"]}
    search = operator.get(f"/api/v1/bases/availability?first_night={TODAY}&nights=2&people=1&rooms=1").json()
    assert {item["base"]["id"] for item in search["items"]} == {foreign["certified"].pk}


def test_a_city_admin_cannot_certify_or_see_another_citys_application(users, client_for):
    in_heyuan = BaseFactory(status="applied", city_code="441600", level="", certificate_number="", valid_from=None, valid_until=None)
    RoomTypeFactory(base=in_heyuan)
    dongguan = client_for(users["dongguan_admin"])
    body = {"level": "city", "certificate_number": "东莞001", "valid_from": str(TODAY), "valid_until": str(TODAY + dt.timedelta(days=30))}
    assert call(dongguan, "post", f"/api/v1/bases/{in_heyuan.pk}/certification/certify", body).status_code == 404
    assert dongguan.get(f"/api/v1/bases/{in_heyuan.pk}").status_code == 404
    assert dongguan.get("/api/v1/bases/certification-queue").json()["count"] == 0
    in_heyuan.refresh_from_db()
    assert in_heyuan.status == "applied"
    province = client_for(users["province_admin"])
    assert province.get("/api/v1/bases/certification-queue").json()["count"] == 1
    assert call(province, "post", f"/api/v1/bases/{in_heyuan.pk}/certification/certify", body).status_code == 200


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("get", "/api/v1/bases/999999", None),
        ("get", "/api/v1/bases/999999/room-types", None),
        ("post", "/api/v1/bases/999999/certification/suspend", {"reason": "x"}),
        ("post", "/api/v1/bases/{base}/room-types/999999/inventory/close", RANGE),
        ("get", "/api/v1/bases/routes/999999", None),
        ("patch", "/api/v1/bases/routes/999999/departures/1", {"seats": 3}),
    ],
)
def test_unknown_ids_are_a_404(users, client_for, heyuan_base, method, path, body):
    response = call(client_for(users["operator"]), method, path.format(base=heyuan_base.pk), body)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "path, body",
    [
        ("/inventory/close", {"first_night": "2026-02-30", "last_night": "2026-03-02"}),
        ("/inventory/close", {"first_night": "next week", "last_night": RANGE["last_night"]}),
        ("/inventory/open-season", {**RANGE, "rooms": -3}),
        ("/inventory/capacity", {**RANGE, "rooms": -1}),
        ("/inventory/open-season", {"first_night": str(TODAY), "last_night": str(TODAY + dt.timedelta(days=5000))}),
        ("/inventory/close", {"first_night": RANGE["last_night"], "last_night": RANGE["first_night"]}),
        ("/inventory/reopen", {"first_night": str(TODAY - dt.timedelta(days=3)), "last_night": str(TODAY)}),
    ],
)
def test_bad_inventory_input_is_a_clear_422_that_changes_nothing(users, client_for, heyuan_base, path, body):
    open_nights(heyuan_base.room_types.get(), TODAY, 5)
    before = state()
    response = call(client_for(users["operator"]), "post", f"/api/v1/bases/{heyuan_base.pk}/room-types/{heyuan_base.room_types.get().pk}{path}", body)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error" and response.json()["message"]
    assert state() == before


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "december", ""])
def test_a_malformed_month_is_a_422(users, client_for, heyuan_base, month):
    response = client_for(users["operator"]).get(f"/api/v1/bases/{heyuan_base.pk}/inventory?month={month}")
    assert response.status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "beds_per_room": 0, "rooms": 1, "price_per_night": "100"},
        {"name": "x", "beds_per_room": 2, "rooms": -1, "price_per_night": "100"},
        {"name": "x", "beds_per_room": 2, "rooms": 1, "price_per_night": "-1"},
        {"name": "", "beds_per_room": 2, "rooms": 1, "price_per_night": "100"},
    ],
)
def test_bad_room_types_are_a_422_that_changes_nothing(users, client_for, heyuan_base, body):
    before = state()
    response = call(client_for(users["operator"]), "post", f"/api/v1/bases/{heyuan_base.pk}/room-types", body)
    assert response.status_code == 422
    assert state() == before


def test_anonymous_callers_get_401(heyuan_base):
    assert Client().get("/api/v1/bases").status_code == 401
    assert Client().get(f"/api/v1/bases/{heyuan_base.pk}").status_code == 401
