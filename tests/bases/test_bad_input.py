"""Bad input on the bases endpoints is a clear 4xx in the one error shape and changes nothing.

Each case here was a 500 before: a NUL character reaching PostgreSQL, a month the
calendar arithmetic overflowed on, an offset beyond what the database holds, a
cancellation policy charging 500 %, a search in the past or past the horizon.
"""

import datetime as dt
import json

import pytest
from django.utils import timezone

from bases.models import Base, CertificationEvent, NightInventory, RoomType, Route, RouteDay, RouteDeparture
from bases.selectors import available_bases, parse_month
from groups.access import actor_of
from retreat.errors import ValidationFailed
from tests.factories import open_nights

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
HUGE = 10**20  # beyond a bigint


def state():
    return [
        list(model.objects.order_by("pk").values())
        for model in (Base, RoomType, NightInventory, CertificationEvent, Route, RouteDay, RouteDeparture)
    ]


def send(client, method, path, body=None):
    if body is None:
        return getattr(client, method)(path)
    return getattr(client, method)(path, json.dumps(body), content_type="application/json")


def assert_error(response, status, code="validation_error"):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    answer = response.json()
    assert set(answer) == {"code", "message", "detail"} and answer["code"] == code and answer["message"]
    return answer


@pytest.fixture
def stocked(heyuan_base):
    open_nights(heyuan_base.room_types.get(), TODAY, 10)
    return heyuan_base


NUL_BODIES = [
    ("patch", "/api/v1/bases/{base}", {"name": "河源\x00基地"}, "name"),
    ("patch", "/api/v1/bases/{base}", {"description": "a\x00b"}, "description"),
    ("patch", "/api/v1/bases/{base}", {"themes": ["hot-spring\x00"]}, "themes"),
    ("post", "/api/v1/bases/{base}/room-types", {"name": "大床\x00房", "beds_per_room": 2, "rooms": 1, "price_per_night": "1"}, "name"),
    ("post", "/api/v1/bases/{base}/certification/apply", {"reason": "\x00"}, "reason"),
    ("post", "/api/v1/bases/routes", {"title": "三日\x00游", "price_per_head": "1", "days": [{"number": 1}]}, "title"),
    ("post", "/api/v1/bases/routes", {"title": "三日游", "price_per_head": "1",
                                      "days": [{"number": 1, "items": [{"time": "09:00", "place": "湖\x00", "activity": "游"}]}]}, "place"),
]


@pytest.mark.parametrize("method, path, body, field", NUL_BODIES)
def test_a_nul_character_in_a_body_is_a_422_naming_the_field(users, client_for, stocked, method, path, body, field):
    before = state()
    answer = assert_error(send(client_for(users["operator"]), method, path.format(base=stocked.pk), body), 422)
    assert field in answer["message"] and answer["detail"][0]["type"] == "nul_character"
    assert state() == before


@pytest.mark.parametrize(
    "query",
    ["/api/v1/bases?q=%00", "/api/v1/bases?theme=a%00", "/api/v1/bases/routes?q=%00",
     f"/api/v1/bases/availability?first_night={TODAY}&nights=2&people=1&rooms=1&theme=%00"],
)
def test_a_nul_character_in_a_query_is_a_422(users, client_for, query):
    answer = assert_error(client_for(users["dongguan_organiser"]).get(query), 422)
    assert answer["detail"][0]["loc"][0] == "query"


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("get", "/api/v1/bases/{huge}", None),
        ("patch", "/api/v1/bases/{huge}", {"name": "x"}),
        ("post", "/api/v1/bases/{huge}/certification/suspend", {"reason": "x"}),
        ("post", "/api/v1/bases/{base}/room-types/{huge}/inventory/close", {"first_night": str(TODAY), "last_night": str(TODAY)}),
        ("get", "/api/v1/bases/routes/{huge}", None),
        ("post", "/api/v1/bases/routes/{huge}/departures", {"date": str(TODAY), "seats": 1}),
    ],
)
def test_ids_beyond_a_bigint_are_a_404(users, client_for, stocked, method, path, body):
    before = state()
    assert_error(send(client_for(users["operator"]), method, path.format(base=stocked.pk, huge=HUGE), body), 404, "not_found")
    assert state() == before


@pytest.mark.parametrize("path", ["/api/v1/bases/-1", "/api/v1/bases/abc/room-types", "/api/v1/bases/routes/-5/departures"])
def test_a_negative_or_non_numeric_id_is_a_404_in_the_error_shape(users, client_for, path):
    assert_error(client_for(users["operator"]).get(path), 404, "not_found")


def test_an_offset_beyond_the_database_is_a_422(users, client_for):
    assert_error(client_for(users["operator"]).get(f"/api/v1/bases?offset={HUGE}"), 422)
    assert_error(client_for(users["operator"]).get(f"/api/v1/bases/routes?offset={HUGE}"), 422)


def test_a_body_that_is_not_json_is_a_400_in_the_error_shape(users, client_for, stocked):
    before = state()
    response = client_for(users["operator"]).patch(f"/api/v1/bases/{stocked.pk}", "{not json", content_type="application/json")
    assert_error(response, 400, "bad_request")
    assert state() == before


# --- the inventory calendar's month ----------------------------------------------------------


@pytest.mark.parametrize("month", ["9999-12", "0000-01", "1999-12", (TODAY + dt.timedelta(days=800)).strftime("%Y-%m")])
def test_a_month_outside_what_the_calendar_shows_is_a_422(users, client_for, stocked, month):
    answer = assert_error(client_for(users["operator"]).get(f"/api/v1/bases/{stocked.pk}/inventory?month={month}"), 422)
    assert month in answer["message"]


def test_the_calendar_shows_every_month_from_2000_to_the_horizon():
    assert parse_month("2000-01", today=TODAY) == dt.date(2000, 1, 1)
    last = (TODAY + dt.timedelta(days=730)).replace(day=1)
    assert parse_month(f"{last:%Y-%m}", today=TODAY) == last
    for bad in ("", None, "2026-1", "2026-13", "december", "2026-02-01"):
        with pytest.raises(ValidationFailed):
            parse_month(bad, today=TODAY)


@pytest.mark.parametrize("month", ["9999-12", "0001-01", "2000-01"])
def test_the_calendar_page_never_fails_on_a_far_month(users, client_for, stocked, month):
    response = client_for(users["operator"]).get(f"/bases/{stocked.pk}/calendar/?month={month}")
    assert response.status_code == 200


# --- availability in the past or past the horizon ------------------------------------------


@pytest.mark.parametrize(
    "first_night, nights",
    [
        (TODAY - dt.timedelta(days=1), 2),
        (dt.date(1, 1, 1), 2),
        (TODAY + dt.timedelta(days=730), 1),  # the horizon night itself is fine ...
        (TODAY + dt.timedelta(days=729), 3),  # ... but the stay must end by it
        (dt.date(9999, 12, 31), 5),
    ],
)
def test_a_search_in_the_past_or_past_the_horizon_is_a_422(users, client_for, first_night, nights):
    query = f"first_night={first_night.isoformat()}&nights={nights}&people=2&rooms=1"
    response = client_for(users["dongguan_organiser"]).get(f"/api/v1/bases/availability?{query}")
    if first_night == TODAY + dt.timedelta(days=730):
        assert response.status_code == 200, response.content
        return
    answer = assert_error(response, 422)
    assert "today" in answer["detail"] or "horizon" in answer["detail"]  # in the past, or past the horizon
    assert_error(client_for(users["dongguan_organiser"]).get(f"/api/v1/bases?{query}"), 422)


def test_the_search_takes_a_fixed_today(users, heyuan_base):
    open_nights(heyuan_base.room_types.get(), dt.date(2027, 3, 1), 3)
    actor = actor_of(users["dongguan_organiser"])
    found = available_bases(actor=actor, first_night=dt.date(2027, 3, 1), nights=3, people=2, rooms=1, today=dt.date(2027, 2, 1))
    assert [item.base.pk for item in found] == [heyuan_base.pk]
    with pytest.raises(ValidationFailed):
        available_bases(actor=actor, first_night=dt.date(2027, 3, 1), nights=3, people=2, rooms=1, today=dt.date(2027, 3, 2))


# --- cancellation policy --------------------------------------------------------------------


@pytest.mark.parametrize(
    "policy, problem",
    [
        ([[-5, 20]], "不能为负数"),
        ([[7, 500]], "0 到 100"),
        ([[7, -1]], "0 到 100"),
        ([[7, 20], [7, 30]], "重复"),
        ([[7]], "cancellation_policy"),  # the schema already wants two numbers
    ],
)
def test_a_cancellation_policy_that_makes_no_sense_is_a_422(users, client_for, stocked, policy, problem):
    before = state()
    answer = assert_error(send(client_for(users["operator"]), "patch", f"/api/v1/bases/{stocked.pk}", {"cancellation_policy": policy}), 422)
    assert problem in answer["message"]
    assert state() == before


def test_a_sensible_cancellation_policy_is_kept(users, client_for, stocked):
    policy = [[30, 0], [7, 20], [0, 100]]
    response = send(client_for(users["operator"]), "patch", f"/api/v1/bases/{stocked.pk}", {"cancellation_policy": policy})
    assert response.status_code == 200 and response.json()["cancellation_policy"] == policy


# --- route filters ----------------------------------------------------------------------------


def test_a_departure_window_that_ends_before_it_starts_is_a_422(users, client_for):
    query = f"departing_from={TODAY + dt.timedelta(days=9)}&departing_until={TODAY + dt.timedelta(days=2)}"
    answer = assert_error(client_for(users["dongguan_organiser"]).get(f"/api/v1/bases/routes?{query}"), 422)
    assert "出发日期范围的起点" in answer["message"] and "晚于终点" in answer["message"]


def test_the_route_directory_page_says_so_instead_of_failing(users, client_for):
    # Only an end before today: the search starts from today, so the window is empty.
    response = client_for(users["dongguan_organiser"]).get(f"/bases/routes/?departing_until={TODAY - dt.timedelta(days=3)}")
    assert response.status_code == 422


def test_the_calendar_refuses_a_capacity_beyond_what_the_database_holds(users, client_for, stocked):
    room_type = stocked.room_types.get()
    before = state()
    response = client_for(users["operator"]).post(f"/bases/{stocked.pk}/calendar/", {
        "operation": "capacity", "capacity-room_type": room_type.pk, "capacity-first_night": TODAY, "capacity-last_night": TODAY,
        "capacity-rooms": HUGE,
    })
    assert response.status_code == 422
    assert state() == before


@pytest.mark.parametrize("field", ["city_code", "county_code", "description", "contact_name", "contact_email", "name", "latitude"])
def test_an_explicit_null_in_a_base_patch_is_a_422_naming_the_field(users, client_for, stocked, field):
    before = state()
    answer = assert_error(send(client_for(users["operator"]), "patch", f"/api/v1/bases/{stocked.pk}", {field: None}), 422)
    assert field in answer["message"]
    assert state() == before
