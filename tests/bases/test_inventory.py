import datetime as dt

import pytest
from django.test import override_settings

from bases import services
from bases.models import NightInventory
from groups.access import actor_of
from retreat.errors import Conflict, NotFound, ValidationFailed
from tests.factories import open_nights

pytestmark = pytest.mark.django_db


def snapshot(room_type):
    return list(NightInventory.objects.filter(room_type=room_type).order_by("night").values_list("night", "rooms", "closed"))


@pytest.fixture
def operator(users):
    return actor_of(users["operator"])


@pytest.fixture
def room_type(heyuan_base):
    return heyuan_base.room_types.get()


def hold(room_type, night, rooms, people, booked=False):
    prefix = "booked" if booked else "held"
    NightInventory.objects.filter(room_type=room_type, night=night).update(**{f"rooms_{prefix}": rooms, f"people_{prefix}": people})


def test_open_season_creates_every_night_then_extends(operator, room_type, today):
    first = today + dt.timedelta(days=1)
    change = services.inventory_open_season(
        actor=operator, base_id=room_type.base_id, room_type_id=room_type.pk, first_night=first,
        last_night=first + dt.timedelta(days=9), rooms=8,
    )
    assert (change.nights_created, change.nights_changed) == (10, 0)
    extended = services.inventory_open_season(
        actor=operator, base_id=room_type.base_id, room_type_id=room_type.pk, first_night=first + dt.timedelta(days=5),
        last_night=first + dt.timedelta(days=14),
    )
    assert (extended.nights_created, extended.nights_changed) == (5, 5)
    rooms = dict(NightInventory.objects.filter(room_type=room_type).values_list("night", "rooms"))
    assert len(rooms) == 15
    assert rooms[first] == 8 and rooms[first + dt.timedelta(days=5)] == room_type.rooms


def test_close_reopen_and_change_capacity(operator, room_type, today):
    open_nights(room_type, today, 10, rooms=10)
    args = {"actor": operator, "base_id": room_type.base_id, "room_type_id": room_type.pk}
    closed = services.inventory_close(**args, first_night=today + dt.timedelta(days=2), last_night=today + dt.timedelta(days=4))
    assert closed.nights_changed == 3
    assert NightInventory.objects.filter(room_type=room_type, closed=True).count() == 3
    reopened = services.inventory_reopen(**args, first_night=today, last_night=today + dt.timedelta(days=9))
    assert reopened.nights_changed == 3
    resized = services.inventory_change_capacity(**args, first_night=today, last_night=today + dt.timedelta(days=1), rooms=4)
    assert resized.nights_changed == 2
    assert sorted(NightInventory.objects.filter(room_type=room_type).values_list("rooms", flat=True))[:3] == [4, 4, 10]


def test_closing_held_or_booked_nights_is_refused_naming_each_night_and_the_shortfall(operator, room_type, today):
    open_nights(room_type, today, 10, rooms=10)
    held_night, booked_night = today + dt.timedelta(days=3), today + dt.timedelta(days=5)
    hold(room_type, held_night, rooms=2, people=4)
    hold(room_type, booked_night, rooms=3, people=5, booked=True)
    before = snapshot(room_type)

    with pytest.raises(Conflict) as refused:
        services.inventory_close(
            actor=operator, base_id=room_type.base_id, room_type_id=room_type.pk,
            first_night=today + dt.timedelta(days=1), last_night=today + dt.timedelta(days=8),
        )

    error = refused.value
    assert error.code == "inventory_shortfall"
    assert str(held_night) in error.message and str(booked_night) in error.message
    assert error.detail["nights"] == [
        {"night": held_night.isoformat(), "rooms_taken": 2, "rooms_left": 0, "rooms_short": 2, "beds_taken": 4, "beds_left": 0, "beds_short": 4},
        {"night": booked_night.isoformat(), "rooms_taken": 3, "rooms_left": 0, "rooms_short": 3, "beds_taken": 5, "beds_left": 0, "beds_short": 5},
    ]
    assert snapshot(room_type) == before  # the free nights of the range were not closed either


def test_capacity_below_what_is_taken_is_refused_and_nothing_changes(operator, room_type, today):
    open_nights(room_type, today, 5, rooms=10)
    hold(room_type, today + dt.timedelta(days=2), rooms=6, people=12)
    before = snapshot(room_type)
    for change in (services.inventory_change_capacity, services.inventory_open_season):
        with pytest.raises(Conflict) as refused:
            change(actor=operator, base_id=room_type.base_id, room_type_id=room_type.pk, first_night=today,
                   last_night=today + dt.timedelta(days=4), rooms=4)
        [short] = refused.value.detail["nights"]
        assert (short["night"], short["rooms_taken"], short["rooms_left"], short["rooms_short"]) == (
            (today + dt.timedelta(days=2)).isoformat(), 6, 4, 2,
        )
        assert snapshot(room_type) == before
    # Exactly what is taken is fine.
    services.inventory_change_capacity(
        actor=operator, base_id=room_type.base_id, room_type_id=room_type.pk, first_night=today,
        last_night=today + dt.timedelta(days=4), rooms=6,
    )


@pytest.mark.parametrize(
    "first_offset, last_offset, problem",
    [(5, 4, "first_night"), (-1, 3, "first_night"), (0, 731, "last_night")],
)
@override_settings(INVENTORY_HORIZON_DAYS=730)
def test_bad_ranges_are_a_422_saying_what_and_where(operator, room_type, today, first_offset, last_offset, problem):
    open_nights(room_type, today, 3)
    before = snapshot(room_type)
    operations = [
        services.inventory_open_season, services.inventory_close, services.inventory_reopen,
        lambda **kw: services.inventory_change_capacity(rooms=1, **kw),
    ]
    for operation in operations:
        with pytest.raises(ValidationFailed) as refused:
            operation(actor=operator, base_id=room_type.base_id, room_type_id=room_type.pk,
                      first_night=today + dt.timedelta(days=first_offset), last_night=today + dt.timedelta(days=last_offset))
        assert problem in refused.value.detail
    assert snapshot(room_type) == before


def test_changing_capacity_of_unopened_nights_says_to_open_first(operator, room_type, today):
    with pytest.raises(ValidationFailed):
        services.inventory_change_capacity(actor=operator, base_id=room_type.base_id, room_type_id=room_type.pk,
                                           first_night=today, last_night=today, rooms=3)


def test_negative_rooms_are_refused(operator, room_type, today):
    with pytest.raises(ValidationFailed):
        services.inventory_open_season(actor=operator, base_id=room_type.base_id, room_type_id=room_type.pk,
                                       first_night=today, last_night=today, rooms=-1)
    assert not NightInventory.objects.exists()


def test_another_operators_room_type_is_not_found(users, room_type, shaoguan_base, today):
    other = actor_of(users["other_operator"])
    with pytest.raises(NotFound):
        services.inventory_open_season(actor=other, base_id=room_type.base_id, room_type_id=room_type.pk,
                                       first_night=today, last_night=today)
    # A room type of one base cannot be reached through another base's id either.
    own = actor_of(users["operator"])
    with pytest.raises(NotFound):
        services.inventory_open_season(actor=own, base_id=room_type.base_id, room_type_id=shaoguan_base.room_types.get().pk,
                                       first_night=today, last_night=today)
    assert not NightInventory.objects.exists()


def test_fewer_beds_per_room_is_refused_while_held_people_would_not_fit(operator, room_type, today):
    """Two-bed rooms with four people in two held rooms: one bed per room would strand two of them."""
    open_nights(room_type, today - dt.timedelta(days=2), 8)
    hold(room_type, today + dt.timedelta(days=3), rooms=2, people=4)
    hold(room_type, today + dt.timedelta(days=4), rooms=3, people=5, booked=True)
    hold(room_type, today - dt.timedelta(days=1), rooms=5, people=10, booked=True)  # a past stay does not block
    before = list(NightInventory.objects.order_by("pk").values())
    with pytest.raises(Conflict) as refused:
        services.room_type_update(actor=operator, base_id=room_type.base_id, room_type_id=room_type.pk, beds_per_room=1)
    assert refused.value.code == "inventory_shortfall"
    assert [(n["night"], n["beds_taken"], n["beds_left"], n["beds_short"]) for n in refused.value.detail["nights"]] == [
        (str(today + dt.timedelta(days=3)), 4, 2, 2),
        (str(today + dt.timedelta(days=4)), 5, 3, 2),
    ]
    assert str(today + dt.timedelta(days=3)) in refused.value.message
    room_type.refresh_from_db()
    assert room_type.beds_per_room == 2
    assert list(NightInventory.objects.order_by("pk").values()) == before


def test_beds_per_room_can_change_when_everyone_still_fits(operator, room_type, today, users, client_for):
    open_nights(room_type, today, 3)
    hold(room_type, today + dt.timedelta(days=1), rooms=2, people=2)
    updated = services.room_type_update(actor=operator, base_id=room_type.base_id, room_type_id=room_type.pk, beds_per_room=1)
    assert updated.beds_per_room == 1
    response = client_for(users["operator"]).patch(
        f"/api/v1/bases/{room_type.base_id}/room-types/{room_type.pk}", '{"beds_per_room": 3}', content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["beds_per_room"] == 3


def test_the_api_names_the_nights_when_fewer_beds_are_refused(users, client_for, room_type, today):
    open_nights(room_type, today, 3)
    hold(room_type, today + dt.timedelta(days=2), rooms=1, people=2, booked=True)
    response = client_for(users["operator"]).patch(
        f"/api/v1/bases/{room_type.base_id}/room-types/{room_type.pk}", '{"beds_per_room": 1}', content_type="application/json"
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "inventory_shortfall" and body["detail"]["nights"][0]["night"] == str(today + dt.timedelta(days=2))
