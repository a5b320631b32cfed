"""Capacity an operator puts on sale goes to waiting groups at once, not at the next periodic sweep."""

import datetime as dt

import pytest

from bases import services
from bases.models import NightInventory
from groups import bookings
from groups.access import actor_of
from groups.models import Batch, Booking, WaitlistEntry

pytestmark = pytest.mark.django_db

NIGHTS = 3


@pytest.fixture
def arrival(today) -> dt.date:
    return today + dt.timedelta(days=30)


@pytest.fixture
def room_type(heyuan_base, arrival):
    """Two of the twenty double rooms on sale for a week around the stay."""
    room_type = heyuan_base.room_types.get()
    for offset in range(-2, 5):
        NightInventory.objects.create(room_type=room_type, night=arrival + dt.timedelta(days=offset), rooms=2)
    return room_type


@pytest.fixture
def waiting(users, union_tree, room_type, arrival, django_capture_on_commit_callbacks):
    """A batch of eight waiting for four rooms: more than is on sale, so joining offers nothing."""
    batch = Batch.objects.create(union=union_tree["factory"], title="2026 冬季劳模疗休养", arrival=arrival, nights=NIGHTS,
                                 created_by=users["factory_organiser"])
    with django_capture_on_commit_callbacks(execute=True):
        entry = bookings.waitlist_join(
            actor=actor_of(users["factory_organiser"]), batch_id=batch.pk, base_id=room_type.base_id,
            room_type_id=room_type.pk, arrival=arrival, nights=NIGHTS, rooms=4, people=8,
        )
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.WAITING
    return entry


def stay(arrival: dt.date) -> tuple[dt.date, dt.date]:
    return arrival, arrival + dt.timedelta(days=NIGHTS - 1)


def assert_offered(entry: WaitlistEntry, room_type, arrival: dt.date) -> Booking:
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.OFFERED
    offer = entry.offered_booking
    assert (offer.status, offer.rooms, offer.people, offer.arrival) == (Booking.Status.HELD, 4, 8, arrival)
    held = NightInventory.objects.filter(room_type=room_type, night__range=stay(arrival)).values_list("rooms_held", flat=True)
    assert list(held) == [4] * NIGHTS
    return offer


def test_more_capacity_is_offered_to_the_waiting_group_at_once(users, waiting, room_type, arrival, django_capture_on_commit_callbacks):
    first, last = stay(arrival)
    with django_capture_on_commit_callbacks(execute=True):
        services.inventory_change_capacity(
            actor=actor_of(users["operator"]), base_id=room_type.base_id, room_type_id=room_type.pk,
            first_night=first, last_night=last, rooms=6,
        )
    assert_offered(waiting, room_type, arrival)


def test_reopened_nights_are_offered_to_the_waiting_group(users, waiting, room_type, arrival, django_capture_on_commit_callbacks):
    operator = actor_of(users["operator"])
    first, last = stay(arrival)
    NightInventory.objects.filter(room_type=room_type, night__range=(first, last)).update(rooms=6, closed=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.inventory_reopen(actor=operator, base_id=room_type.base_id, room_type_id=room_type.pk, first_night=first, last_night=last)
    assert_offered(waiting, room_type, arrival)


def test_a_new_season_is_offered_to_the_waiting_group(users, waiting, room_type, arrival, django_capture_on_commit_callbacks):
    first, last = stay(arrival)
    NightInventory.objects.filter(room_type=room_type, night=last).delete()  # the last night was never on sale
    with django_capture_on_commit_callbacks(execute=True):
        services.inventory_open_season(
            actor=actor_of(users["operator"]), base_id=room_type.base_id, room_type_id=room_type.pk,
            first_night=first, last_night=last, rooms=5,
        )
    assert_offered(waiting, room_type, arrival)


def test_the_calendar_page_serves_the_waitlist_when_capacity_grows(
    users, client_for, waiting, room_type, arrival, django_capture_on_commit_callbacks
):
    first, last = stay(arrival)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(users["operator"]).post(
            f"/bases/{room_type.base_id}/calendar/",
            {"operation": "capacity", "capacity-room_type": room_type.pk, "capacity-first_night": first,
             "capacity-last_night": last, "capacity-rooms": 4},
        )
    assert response.status_code == 302
    assert_offered(waiting, room_type, arrival)


def test_taking_capacity_away_starts_nothing(users, waiting, room_type, arrival, django_capture_on_commit_callbacks):
    operator = actor_of(users["operator"])
    first, last = stay(arrival)
    where = {"actor": operator, "base_id": room_type.base_id, "room_type_id": room_type.pk, "first_night": first, "last_night": last}
    with django_capture_on_commit_callbacks() as started:
        services.inventory_change_capacity(**where, rooms=1)
        services.inventory_close(**where)
        services.inventory_open_season(**where, rooms=0)
    assert started == []
    waiting.refresh_from_db()
    assert waiting.status == WaitlistEntry.Status.WAITING


def test_capacity_that_still_falls_short_leaves_the_group_waiting(
    users, waiting, room_type, arrival, django_capture_on_commit_callbacks
):
    first, last = stay(arrival)
    with django_capture_on_commit_callbacks(execute=True) as started:
        services.inventory_change_capacity(
            actor=actor_of(users["operator"]), base_id=room_type.base_id, room_type_id=room_type.pk,
            first_night=first, last_night=last, rooms=3,
        )
    assert len(started) == 1  # served, but three rooms do not take a group that needs four
    waiting.refresh_from_db()
    assert waiting.status == WaitlistEntry.Status.WAITING
    assert not Booking.objects.exists()
