"""Booking through a route: seats on a departure and the lodging of each of its nights, all or nothing."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from bases.models import NightInventory, Route, RouteDay, RouteDeparture, RouteItem
from groups.models import Batch, Booking
from tests.factories import BaseFactory, RoomTypeFactory, open_nights
from tests.groups.conftest import add_participant, make_batch

pytestmark = pytest.mark.django_db

PEOPLE = 10


def post(client, path, body=None):
    return client.post(path, json.dumps(body or {}), content_type="application/json")


@pytest.fixture
def departure_date() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=40)


@pytest.fixture
def hot_spring_twin(union_tree, departure_date):
    """Two nights at a Heyuan hot spring in double rooms."""
    base = BaseFactory(operator=union_tree["operator"], name="河源温泉疗休养基地", city_code="441600", county_code="441622")
    room_type = RoomTypeFactory(base=base, name="标准双床房", beds_per_room=2, rooms=10, price_per_night=Decimal("260.00"))
    open_nights(room_type, departure_date - dt.timedelta(days=3), 10)
    return room_type


@pytest.fixture
def danxia_triple(union_tree, departure_date):
    """The third night at a Shaoguan base in triple rooms."""
    base = BaseFactory(operator=union_tree["other_operator"], name="韶关丹霞疗休养基地", city_code="440200", county_code="440282")
    room_type = RoomTypeFactory(base=base, name="三人间", beds_per_room=3, rooms=8, price_per_night=Decimal("220.00"))
    open_nights(room_type, departure_date - dt.timedelta(days=3), 10)
    return room_type


@pytest.fixture
def departure(union_tree, hot_spring_twin, danxia_triple, departure_date):
    """Four days: nights 1-2 at the hot spring, night 3 at Danxia, home on day 4; twelve seats."""
    route = Route.objects.create(operator=union_tree["operator"], title="粤北温泉丹霞四日游", price_per_head=Decimal("1680.00"))
    for number, room_type in ((1, hot_spring_twin), (2, hot_spring_twin), (3, danxia_triple), (4, None)):
        day = RouteDay.objects.create(route=route, number=number, night_base=room_type.base if room_type else None,
                                      night_room_type=room_type)
        RouteItem.objects.create(day=day, time=dt.time(9), place="集合点", activity=f"第{number}天活动", meals="午餐")
    return RouteDeparture.objects.create(route=route, date=departure_date, seats=12)


@pytest.fixture
def route_batch(users, union_tree, departure):
    return Batch.objects.create(union=union_tree["factory"], title="2027 新年劳模疗休养", arrival=departure.date, nights=3,
                                route_departure=departure, created_by=users["factory_organiser"])


@pytest.fixture
def organiser(users, client_for):
    return client_for(users["factory_organiser"])


def hold(organiser, batch, departure, people=PEOPLE):
    return post(organiser, "/api/v1/bookings", {"batch_id": batch.pk, "route_departure_id": departure.pk, "people": people})


def lodging(room_type, first: dt.date, nights: int) -> list[tuple[int, int, int, int]]:
    """(rooms held, people held, rooms booked, people booked) for each night."""
    rows = NightInventory.objects.filter(room_type=room_type, night__range=(first, first + dt.timedelta(days=nights - 1)))
    return list(rows.order_by("night").values_list("rooms_held", "people_held", "rooms_booked", "people_booked"))


def seats(departure) -> tuple[int, int]:
    departure.refresh_from_db()
    return departure.seats_held, departure.seats_booked


def assert_nothing_taken(departure, *room_types):
    assert seats(departure) == (0, 0)
    for room_type in room_types:
        assert set(lodging(room_type, departure.date - dt.timedelta(days=3), 10)) == {(0, 0, 0, 0)}


def test_a_hold_takes_the_seats_and_each_nights_lodging_at_its_night_base(
    organiser, route_batch, departure, hot_spring_twin, danxia_triple
):
    response = hold(organiser, route_batch, departure)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["arrival"], body["nights"], body["people"]) == ("held", str(departure.date), 3, PEOPLE)
    assert seats(departure) == (PEOPLE, 0)
    day_3 = departure.date + dt.timedelta(days=2)
    # Ten people: five double rooms for the first two nights, four triple rooms (12 beds) on the third.
    assert lodging(hot_spring_twin, departure.date, 3) == [(5, 10, 0, 0), (5, 10, 0, 0), (0, 0, 0, 0)]
    assert lodging(danxia_triple, departure.date, 4) == [(0, 0, 0, 0), (0, 0, 0, 0), (4, 10, 0, 0), (0, 0, 0, 0)]
    booking = Booking.objects.get()
    assert [(line.room_type_id, line.first_night, line.nights, line.rooms) for line in booking.lines.order_by("first_night")] == [
        (hot_spring_twin.pk, departure.date, 2, 5), (danxia_triple.pk, day_3, 1, 4),
    ]


def test_too_few_seats_is_a_409_naming_the_departure_and_takes_nothing(
    organiser, route_batch, departure, hot_spring_twin, danxia_triple
):
    response = hold(organiser, route_batch, departure, people=13)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "insufficient_seats" and str(departure.date) in body["message"]
    assert body["detail"] == {"date": str(departure.date), "seats_wanted": 13, "seats_free": 12}
    assert_nothing_taken(departure, hot_spring_twin, danxia_triple)
    assert not Booking.objects.exists()


def test_one_short_night_refuses_the_whole_hold_naming_that_night(
    organiser, route_batch, departure, hot_spring_twin, danxia_triple
):
    day_3 = departure.date + dt.timedelta(days=2)
    NightInventory.objects.filter(room_type=danxia_triple, night=day_3).update(rooms=3)  # four triples needed
    response = hold(organiser, route_batch, departure)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "insufficient_inventory" and str(day_3) in body["message"]
    assert body["detail"]["nights"] == [{
        "night": str(day_3), "room_type_id": danxia_triple.pk, "room_type": "三人间",
        "rooms_wanted": 4, "rooms_free": 3, "rooms_short": 1,
    }]
    # The seats and the two hot-spring nights that did fit were not taken either.
    assert_nothing_taken(departure, hot_spring_twin, danxia_triple)
    assert not Booking.objects.exists()


def test_a_closed_night_refuses_the_whole_hold_naming_that_night(
    organiser, route_batch, departure, hot_spring_twin, danxia_triple
):
    day_2 = departure.date + dt.timedelta(days=1)
    NightInventory.objects.filter(room_type=hot_spring_twin, night=day_2).update(closed=True)
    response = hold(organiser, route_batch, departure)
    assert response.status_code == 409
    assert response.json()["code"] == "nights_not_open" and str(day_2) in response.json()["message"]
    assert_nothing_taken(departure, hot_spring_twin, danxia_triple)


def test_confirming_then_cancelling_frees_the_seats_and_every_night(
    organiser, route_batch, departure, hot_spring_twin, danxia_triple, django_capture_on_commit_callbacks
):
    for sequence in range(1, PEOPLE + 1):
        add_participant(route_batch, sequence=sequence)
    booking_id = hold(organiser, route_batch, departure).json()["id"]
    confirmed = post(organiser, f"/api/v1/bookings/{booking_id}/confirm")
    assert confirmed.status_code == 200, confirmed.content
    assert seats(departure) == (0, PEOPLE)
    assert lodging(hot_spring_twin, departure.date, 2) == [(0, 0, 5, 10)] * 2
    assert lodging(danxia_triple, departure.date + dt.timedelta(days=2), 1) == [(0, 0, 4, 10)]

    with django_capture_on_commit_callbacks(execute=True):
        cancelled = post(organiser, f"/api/v1/bookings/{booking_id}/cancel", {"reason": "疫情取消"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert_nothing_taken(departure, hot_spring_twin, danxia_triple)


def test_cancelling_a_hold_frees_the_seats_and_every_night(organiser, route_batch, departure, hot_spring_twin, danxia_triple):
    booking_id = hold(organiser, route_batch, departure).json()["id"]
    assert post(organiser, f"/api/v1/bookings/{booking_id}/cancel").status_code == 200
    assert_nothing_taken(departure, hot_spring_twin, danxia_triple)
    # The freed seats can be held again at once.
    assert hold(organiser, make_batch(route_batch.union, route_batch.created_by, "第二批"), departure, people=12).status_code == 201


def test_fewer_people_give_back_seats_and_the_rooms_no_longer_needed_each_night(
    organiser, route_batch, departure, hot_spring_twin, danxia_triple
):
    booking_id = hold(organiser, route_batch, departure).json()["id"]
    reduced = post(organiser, f"/api/v1/bookings/{booking_id}/reduce", {"people": 7})
    assert reduced.status_code == 200, reduced.content
    assert (reduced.json()["people"], reduced.json()["rooms"]) == (7, 4)
    assert seats(departure) == (7, 0)
    # Seven people: four double rooms (was five), three triple rooms (was four).
    assert lodging(hot_spring_twin, departure.date, 2) == [(4, 7, 0, 0)] * 2
    assert lodging(danxia_triple, departure.date + dt.timedelta(days=2), 1) == [(3, 7, 0, 0)]
    # A route booking loses people only; more people than booked is refused and changes nothing.
    refused = post(organiser, f"/api/v1/bookings/{booking_id}/reduce", {"people": 9})
    assert refused.status_code == 422
    assert seats(departure) == (7, 0)


def test_another_unions_batch_cannot_be_booked_on_a_route(users, client_for, route_batch, departure, hot_spring_twin, danxia_triple):
    response = hold(client_for(users["shenzhen_organiser"]), route_batch, departure)
    assert response.status_code == 404
    assert_nothing_taken(departure, hot_spring_twin, danxia_triple)


def test_an_unpublished_route_cannot_be_booked(organiser, route_batch, departure, hot_spring_twin, danxia_triple):
    Route.objects.filter(pk=departure.route_id).update(published=False)
    assert hold(organiser, route_batch, departure).status_code == 404
    assert_nothing_taken(departure, hot_spring_twin, danxia_triple)


# --- the organiser's pages ----------------------------------------------------------------


def test_the_availability_page_lists_departures_near_the_arrival_and_holds_one(organiser, route_batch, departure, hot_spring_twin):
    url = f"/batches/{route_batch.pk}/availability/"
    page = organiser.get(url, {"arrival": departure.date + dt.timedelta(days=3), "nights": 3, "people": PEOPLE}).content.decode()
    assert f'data-departure="{departure.pk}"' in page and "粤北温泉丹霞四日游" in page
    # A group bigger than the free seats is not offered the departure.
    crowded = organiser.get(url, {"arrival": departure.date, "nights": 3, "people": 13}).content.decode()
    assert f'data-departure="{departure.pk}"' not in crowded

    response = organiser.post(url, {"action": "hold_route", "departure_id": departure.pk, "people": PEOPLE})
    booking = Booking.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/bookings/{booking.pk}/"
    assert (booking.route_departure_id, booking.people, booking.status) == (departure.pk, PEOPLE, "held")
    assert seats(departure) == (PEOPLE, 0)


def test_a_refused_page_hold_explains_why_and_takes_nothing(organiser, route_batch, departure, hot_spring_twin, danxia_triple):
    response = organiser.post(
        f"/batches/{route_batch.pk}/availability/", {"action": "hold_route", "departure_id": departure.pk, "people": 13}
    )
    assert response.status_code == 200
    assert "座位不足" in response.content.decode() and str(departure.date) in response.content.decode()
    assert_nothing_taken(departure, hot_spring_twin, danxia_triple)


def test_the_route_page_offers_the_hold_for_a_chosen_batch(organiser, users, client_for, route_batch, departure):
    for sequence in range(1, 4):
        add_participant(route_batch, sequence=sequence)
    page = organiser.get(f"/bases/routes/{departure.route_id}/", {"batch": route_batch.pk}).content.decode()
    assert f'action="/batches/{route_batch.pk}/availability/"' in page
    assert 'name="action" value="hold_route"' in page and f'name="departure_id" value="{departure.pk}"' in page
    assert 'name="people" min="1" max="12" value="3"' in page  # the batch's three participants
    # Without a batch there is nothing to hold for; another union's batch is a 404.
    assert "hold_route" not in organiser.get(f"/bases/routes/{departure.route_id}/").content.decode()
    other = client_for(users["shenzhen_organiser"]).get(f"/bases/routes/{departure.route_id}/", {"batch": route_batch.pk})
    assert other.status_code == 404
