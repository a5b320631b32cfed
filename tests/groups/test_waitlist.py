import datetime as dt
import importlib

import pytest
from django.apps import apps as django_apps

from bases.models import NightInventory
from groups import bookings
from groups.access import actor_of
from groups.bookings import RoomRequest
from groups.models import Booking, BookingEvent, WaitlistEntry
from tests.groups.conftest import ARRIVAL, NOW, make_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def full_house(users, union_tree, twin):
    """All ten rooms held by one batch; two more batches wait, the first for 4 rooms, the second for 2."""
    organiser = actor_of(users["factory_organiser"])
    first = make_batch(union_tree["factory"], users["factory_organiser"], "先到")
    holder = bookings.booking_hold(actor=organiser, batch_id=first.pk, base_id=twin.base_id, arrival=ARRIVAL, nights=3,
                                   rooms=[RoomRequest(twin.pk, 10, 20)], now=NOW)
    waiting = []
    for title, rooms in (("候补一", 4), ("候补二", 2)):
        batch = make_batch(union_tree["factory"], users["factory_organiser"], title)
        waiting.append(bookings.waitlist_join(actor=organiser, batch_id=batch.pk, base_id=twin.base_id, room_type_id=twin.pk,
                                              arrival=ARRIVAL, nights=3, rooms=rooms, people=rooms * 2, now=NOW))
    return organiser, holder, waiting


def test_nothing_is_offered_while_there_is_no_room(full_house, twin):
    _organiser, _holder, waiting = full_house
    assert bookings.waitlist_serve(base_id=twin.base_id, now=NOW) == []
    assert set(WaitlistEntry.objects.values_list("status", flat=True)) == {"waiting"}


def test_freed_rooms_are_offered_in_order_as_a_hold_and_never_twice(full_house, twin, django_capture_on_commit_callbacks):
    organiser, holder, waiting = full_house
    with django_capture_on_commit_callbacks(execute=True):
        bookings.booking_reduce(actor=organiser, booking_id=holder.pk, rooms=[RoomRequest(twin.pk, 5, 10)], now=NOW)
    first, second = (WaitlistEntry.objects.get(pk=e.pk) for e in waiting)
    # 5 rooms freed: the first (4 rooms) gets an offer; 1 left is not enough for the second (2 rooms).
    assert first.status == "offered" and second.status == "waiting"
    offer = first.offered_booking
    assert offer.status == "held" and offer.rooms == 4
    assert offer.hold_expires_at == first.offer_expires_at
    assert [n.rooms_held for n in NightInventory.objects.filter(room_type=twin, night__range=(ARRIVAL, ARRIVAL + dt.timedelta(days=2)))] == [9, 9, 9]
    # Serving again finds nothing new to offer: the capacity went with the first offer.
    assert bookings.waitlist_serve(base_id=twin.base_id, now=NOW) == []
    assert Booking.objects.filter(status="held").count() == 2


def _free_a_room_for_the_first_waiting(full_house, twin, capture_on_commit) -> WaitlistEntry:
    """The holder gives back a room; the first on the waitlist is offered it."""
    organiser, holder, waiting = full_house
    with capture_on_commit(execute=True):
        bookings.booking_reduce(actor=organiser, booking_id=holder.pk, rooms=[RoomRequest(twin.pk, 6, 12)], now=NOW)
    first = WaitlistEntry.objects.get(pk=waiting[0].pk)
    assert first.status == "offered"
    return first


def test_an_expired_offer_frees_its_hold_and_serves_the_next(full_house, twin, django_capture_on_commit_callbacks):
    waiting = full_house[2]
    first = _free_a_room_for_the_first_waiting(full_house, twin, django_capture_on_commit_callbacks)
    later = first.offer_expires_at
    with django_capture_on_commit_callbacks(execute=True):
        assert bookings.holds_release_lapsed(now=later) == [first.offered_booking_id]
    first.refresh_from_db()
    second = WaitlistEntry.objects.get(pk=waiting[1].pk)
    assert first.status == "expired"
    assert first.offered_booking.status == "lapsed"
    assert second.status == "offered" and second.offered_booking.rooms == 2
    # 6 held by the holder + 2 by the second offer; the expired offer's 4 went back and 2 of them on.
    assert set(NightInventory.objects.filter(room_type=twin, night__range=(ARRIVAL, ARRIVAL + dt.timedelta(days=2)))
               .values_list("rooms_held", flat=True)) == {8}


def test_accepting_an_offer_is_confirming_it(full_house, twin, django_capture_on_commit_callbacks):
    from tests.groups.conftest import add_participant

    organiser, holder, waiting = full_house
    with django_capture_on_commit_callbacks(execute=True):
        bookings.booking_cancel(actor=organiser, booking_id=holder.pk, now=NOW)
    entries = [WaitlistEntry.objects.get(pk=e.pk) for e in waiting]
    assert [e.status for e in entries] == ["offered", "offered"]  # 10 rooms free: both fit
    offer = entries[1].offered_booking
    for i in range(offer.people):
        add_participant(offer.batch, sequence=i + 1)
    bookings.booking_confirm(actor=organiser, booking_id=offer.pk, now=offer.hold_expires_at - dt.timedelta(hours=1))
    assert WaitlistEntry.objects.get(pk=entries[1].pk).status == "accepted"


def test_a_batch_waits_once_and_not_while_it_has_a_booking(full_house, users, twin):
    organiser, holder, waiting = full_house
    from retreat.errors import Conflict

    with pytest.raises(Conflict, match="该批次已在候补中"):
        bookings.waitlist_join(actor=organiser, batch_id=waiting[0].batch_id, base_id=twin.base_id, room_type_id=twin.pk,
                               arrival=ARRIVAL, nights=3, rooms=1, people=2, now=NOW)
    with pytest.raises(Conflict, match="该批次已有有效预订"):
        bookings.waitlist_join(actor=organiser, batch_id=holder.batch_id, base_id=twin.base_id, room_type_id=twin.pk,
                               arrival=ARRIVAL, nights=3, rooms=1, people=2, now=NOW)


def test_leaving_the_waitlist_declines_an_outstanding_offer_and_serves_the_next(full_house, twin, django_capture_on_commit_callbacks):
    from retreat.errors import Conflict

    organiser, _, waiting = full_house
    first = _free_a_room_for_the_first_waiting(full_house, twin, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        left = bookings.waitlist_cancel(actor=organiser, entry_id=first.pk, now=NOW)
    assert left.status == "cancelled" and left.offered_booking.status == "cancelled"
    assert left.offered_booking.events.get(action="cancel").detail["reason"] == "放弃候补名额"
    second = WaitlistEntry.objects.get(pk=waiting[1].pk)
    assert second.status == "offered"  # the declined 4 rooms went on to the next in line
    assert set(NightInventory.objects.filter(room_type=twin, night__range=(ARRIVAL, ARRIVAL + dt.timedelta(days=2)))
               .values_list("rooms_held", flat=True)) == {8}
    with pytest.raises(Conflict) as refused:
        bookings.waitlist_cancel(actor=organiser, entry_id=first.pk, now=NOW)
    assert refused.value.code == "not_waiting" and refused.value.detail == {"status": "cancelled"}


@pytest.mark.parametrize("old, new", [("declined waitlist offer", "放弃候补名额"),
                                      ("统筹安排被放弃 (plan declined)", "放弃统筹安排的名额"),
                                      ("行程调整 (plan declined)", "行程调整 (plan declined)")])
def test_cancel_reasons_stored_bilingual_are_rewritten_in_the_site_language(full_house, old, new):
    migration = importlib.import_module("groups.migrations.0004_cancel_reasons_in_site_language")
    organiser, holder, _ = full_house
    bookings.booking_cancel(actor=organiser, booking_id=holder.pk, reason="x", now=NOW)
    event = holder.events.get(action="cancel")
    BookingEvent.objects.filter(pk=event.pk).update(detail={**event.detail, "reason": old})

    migration.forwards(django_apps, None)

    event.refresh_from_db()
    assert event.detail["reason"] == new and "fee" in event.detail


def test_leaving_while_waiting(full_house, twin):
    organiser, _holder, waiting = full_house
    assert bookings.waitlist_cancel(actor=organiser, entry_id=waiting[1].pk, now=NOW).status == "cancelled"
    assert bookings.waitlist_serve(base_id=twin.base_id, now=NOW) == []
