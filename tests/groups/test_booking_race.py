"""A real race on PostgreSQL: many organisers released together for the last rooms of a stay."""

import datetime as dt
import threading

import pytest
from django.db import connection, connections

from bases.models import NightInventory
from groups import bookings
from groups.access import actor_of
from groups.bookings import RoomRequest
from groups.models import Booking, BookingLine
from retreat.errors import Busy, Conflict
from tests.groups.conftest import ARRIVAL, NOW, make_batch

THREADS = 60


def run_together(count, work):
    barrier = threading.Barrier(count)
    results = [None] * count

    def thread_main(index):
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as error:  # reported below, never swallowed
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=thread_main, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


def leftover_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE a.datname = current_database() AND l.pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.django_db(transaction=True)
def test_many_organisers_race_for_the_last_rooms(users, union_tree, twin):
    # Ten rooms a night; the middle night already has 3 booked, so 7 rooms are left for the whole stay.
    NightInventory.objects.filter(room_type=twin, night=ARRIVAL + dt.timedelta(days=1)).update(rooms_booked=3, people_booked=6)
    organiser = actor_of(users["factory_organiser"])
    batches = [make_batch(union_tree["factory"], users["factory_organiser"], f"批次{i}") for i in range(THREADS)]
    rooms_wanted = [1 + i % 2 for i in range(THREADS)]  # a mix of one- and two-room groups

    def hold(index):
        for _attempt in range(20):  # a client retries "busy"
            try:
                return bookings.booking_hold(
                    actor=organiser, batch_id=batches[index].pk, base_id=twin.base_id, arrival=ARRIVAL, nights=3,
                    rooms=[RoomRequest(twin.pk, rooms_wanted[index], rooms_wanted[index] * 2)], now=NOW,
                )
            except Busy:
                continue
        raise AssertionError("still busy after 20 attempts")

    results = run_together(THREADS, hold)

    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, Conflict)]
    assert unexpected == []
    won = [r for r in results if isinstance(r, Booking)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert {r.code for r in refused} == {"insufficient_inventory"}
    assert sum(b.rooms for b in won) <= 7
    # Exactly right: nobody who was refused could have fitted into what is left.
    left = 7 - sum(b.rooms for b in won)
    assert all(rooms_wanted[i] > left for i, r in enumerate(results) if isinstance(r, Conflict))
    assert Booking.objects.filter(status="held").count() == len(won)

    for night in NightInventory.objects.filter(room_type=twin, night__range=(ARRIVAL, ARRIVAL + dt.timedelta(days=2))):
        lines = BookingLine.objects.filter(booking__status="held", room_type=twin)
        assert night.rooms_held == sum(line.rooms for line in lines)
        assert night.people_held == sum(line.people for line in lines)
        assert night.rooms_held + night.rooms_booked <= night.rooms
    assert leftover_locks() == 0


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.django_db(transaction=True)
def test_racing_cancellations_and_confirmations_keep_the_counts(users, union_tree, twin):
    organiser = actor_of(users["factory_organiser"])
    batches = [make_batch(union_tree["factory"], users["factory_organiser"], f"批次{i}") for i in range(10)]
    held = [
        bookings.booking_hold(actor=organiser, batch_id=b.pk, base_id=twin.base_id, arrival=ARRIVAL, nights=3,
                              rooms=[RoomRequest(twin.pk, 1, 2)], now=NOW)
        for b in batches
    ]

    def cancel_twice(index):
        outcomes = []
        for _ in range(2):  # two racers per booking: one wins, the other is told it is already cancelled
            try:
                outcomes.append(bookings.booking_cancel(actor=organiser, booking_id=held[index // 2].pk, now=NOW).status)
            except Busy:
                outcomes.append("busy")
            except Conflict as refusal:
                outcomes.append(refusal.code)
        return outcomes

    run_together(20, cancel_twice)
    assert Booking.objects.filter(status="cancelled").count() == 10
    assert set(NightInventory.objects.filter(room_type=twin).values_list("rooms_held", "people_held")) == {(0, 0)}
    assert leftover_locks() == 0


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.django_db(transaction=True)
def test_exactly_as_many_one_room_groups_win_as_there_are_rooms_left(users, union_tree, twin, single):
    """60 groups, each wanting one twin and one single room for three nights; the last night has 5 twins and 4
    singles left, so exactly 4 win (the singles run out), every other group is refused and nothing is taken."""
    last = ARRIVAL + dt.timedelta(days=2)
    NightInventory.objects.filter(room_type=twin, night=last).update(rooms_booked=5, people_booked=10)
    organiser = actor_of(users["factory_organiser"])
    batches = [make_batch(union_tree["factory"], users["factory_organiser"], f"批次{i}") for i in range(THREADS)]

    def hold(index):
        for _attempt in range(20):
            try:
                return bookings.booking_hold(
                    actor=organiser, batch_id=batches[index].pk, base_id=twin.base_id, arrival=ARRIVAL, nights=3,
                    rooms=[RoomRequest(twin.pk, 1, 2), RoomRequest(single.pk, 1, 1)], now=NOW,
                )
            except Busy:
                continue
        raise AssertionError("still busy after 20 attempts")

    results = run_together(THREADS, hold)
    assert [r for r in results if isinstance(r, Exception) and not isinstance(r, Conflict)] == []
    assert sum(isinstance(r, Booking) for r in results) == 4
    assert sum(isinstance(r, Conflict) and r.code == "insufficient_inventory" for r in results) == THREADS - 4
    assert Booking.objects.count() == 4 and BookingLine.objects.count() == 8
    for room_type in (twin, single):
        for night in NightInventory.objects.filter(room_type=room_type, night__range=(ARRIVAL, last)):
            assert (night.rooms_held, night.people_held) == (4, 4 * (2 if room_type == twin else 1))
            assert night.rooms_held + night.rooms_booked <= night.rooms
    assert leftover_locks() == 0
