"""Real races on PostgreSQL around the waitlist: servers released together never offer the same capacity twice."""

import datetime as dt

import pytest
from django.db import connection  # noqa: F401  (skipif evaluates "connection")

from bases.models import NightInventory
from groups import bookings
from groups.access import actor_of
from groups.bookings import RoomRequest
from groups.models import Booking, BookingLine, WaitlistEntry
from retreat.errors import Busy, Conflict
from tests.groups.conftest import ARRIVAL, NOW, make_batch
from tests.groups.test_booking_race import leftover_locks, run_together

pytestmark = [pytest.mark.skipif("connection.vendor != 'postgresql'"), pytest.mark.django_db(transaction=True)]
STAY = (ARRIVAL, ARRIVAL + dt.timedelta(days=2))


def retrying(work):
    for _attempt in range(30):
        try:
            return work()
        except Busy:
            continue
    raise AssertionError("still busy after 30 attempts")


@pytest.fixture
def freed_house(users, union_tree, twin, monkeypatch):
    """Ten rooms were all held, six batches of two rooms wait, then the holder let go; serving is left to the test."""
    monkeypatch.setattr(bookings, "_serve_waitlist_after_commit", lambda base_ids: None)
    organiser = actor_of(users["factory_organiser"])
    holder = bookings.booking_hold(actor=organiser, batch_id=make_batch(union_tree["factory"], users["factory_organiser"], "先到").pk,
                                   base_id=twin.base_id, arrival=ARRIVAL, nights=3, rooms=[RoomRequest(twin.pk, 10, 20)], now=NOW)
    entries = [
        bookings.waitlist_join(actor=organiser, batch_id=make_batch(union_tree["factory"], users["factory_organiser"], f"候补{i}").pk,
                               base_id=twin.base_id, room_type_id=twin.pk, arrival=ARRIVAL, nights=3, rooms=2, people=4, now=NOW)
        for i in range(6)
    ]
    bookings.booking_cancel(actor=organiser, booking_id=holder.pk, now=NOW)
    assert set(WaitlistEntry.objects.values_list("status", flat=True)) == {"waiting"}
    return organiser, entries


def assert_counts_add_up(twin):
    for night in NightInventory.objects.filter(room_type=twin, night__range=STAY):
        lines = BookingLine.objects.filter(booking__status="held", room_type=twin, first_night__lte=night.night)
        assert night.rooms_held == sum(line.rooms for line in lines)
        assert night.people_held == sum(line.people for line in lines)
        assert 0 <= night.rooms_held + night.rooms_booked <= night.rooms


def test_servers_released_together_offer_each_freed_room_once_in_joining_order(freed_house, twin):
    _organiser, entries = freed_house
    results = run_together(20, lambda _i: retrying(lambda: bookings.waitlist_serve(base_id=twin.base_id, now=NOW)))
    assert [r for r in results if isinstance(r, Exception)] == []
    offered = [entry.pk for result in results for entry in result]
    assert sorted(offered) == [e.pk for e in entries[:5]]  # each offer made by exactly one server, the first five in order
    statuses = dict(WaitlistEntry.objects.values_list("pk", "status"))
    assert [statuses[e.pk] for e in entries] == ["offered"] * 5 + ["waiting"]
    assert Booking.objects.filter(status="held").count() == 5
    assert set(NightInventory.objects.filter(room_type=twin, night__range=STAY).values_list("rooms_held", flat=True)) == {10}
    assert_counts_add_up(twin)
    assert leftover_locks() == 0


def test_servers_and_direct_holds_racing_never_oversell(freed_house, users, union_tree, twin):
    organiser, _entries = freed_house
    walk_ins = [make_batch(union_tree["factory"], users["factory_organiser"], f"散客{i}") for i in range(10)]

    def work(index):
        if index % 2:
            return retrying(lambda: bookings.waitlist_serve(base_id=twin.base_id, now=NOW))
        try:
            return retrying(lambda: bookings.booking_hold(actor=organiser, batch_id=walk_ins[index // 2].pk, base_id=twin.base_id,
                                                          arrival=ARRIVAL, nights=3, rooms=[RoomRequest(twin.pk, 1, 2)], now=NOW))
        except Conflict as refusal:
            return refusal

    results = run_together(20, work)
    assert [r for r in results if isinstance(r, Exception) and not isinstance(r, Conflict)] == []
    assert {r.code for r in results if isinstance(r, Conflict)} <= {"insufficient_inventory"}
    offers = WaitlistEntry.objects.filter(status="offered")
    assert offers.count() == len({entry.offered_booking_id for entry in offers})  # one booking per offer
    held = sum(Booking.objects.filter(status="held").values_list("rooms", flat=True))
    assert held <= 10
    assert set(NightInventory.objects.filter(room_type=twin, night__range=STAY).values_list("rooms_held", flat=True)) == {held}
    assert_counts_add_up(twin)
    assert leftover_locks() == 0
