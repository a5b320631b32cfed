"""Confirming commits the fund programmes' shares in the same transaction; cancelling gives them back,
reducing adjusts them. A programme that cannot cover its share refuses the confirmation and nothing changes."""

import datetime as dt
from decimal import Decimal

import pytest

from bases.models import NightInventory
from billing.models import FundProgramme, LedgerEntry
from groups import bookings
from groups.access import actor_of
from groups.bookings import RoomRequest
from groups.models import Booking
from retreat.errors import Conflict
from tests.billing.conftest import make_programme
from tests.groups.conftest import ARRIVAL, NOW, add_participant

pytestmark = pytest.mark.django_db


@pytest.fixture
def programme(union_tree, users):
    return make_programme(union=union_tree["dongguan"], user=users["dongguan_fund"], name="东莞市职工疗休养专项经费",
                          budget="50000.00", cap_per_person_day=Decimal("150.00"),
                          valid_from=dt.date(2027, 1, 1), valid_until=dt.date(2027, 12, 31))


def held_for_four(users, batch, twin):
    booking = bookings.booking_hold(actor=actor_of(users["factory_organiser"]), batch_id=batch.pk, base_id=twin.base_id,
                                    arrival=ARRIVAL, nights=3, rooms=[RoomRequest(twin.pk, 2, 4)], now=NOW)
    for i in range(4):
        add_participant(batch, sequence=i + 1)
    return booking


def test_confirm_commits_and_cancel_releases_the_programme(users, batch, twin, programme):
    organiser = actor_of(users["factory_organiser"])
    booking = held_for_four(users, batch, twin)
    bookings.booking_confirm(actor=organiser, booking_id=booking.pk, now=NOW)
    programme.refresh_from_db()
    assert programme.committed > 0 and programme.available == programme.budget - programme.committed
    committed = programme.committed
    bookings.booking_reduce(actor=organiser, booking_id=booking.pk, rooms=[RoomRequest(twin.pk, 1, 2)], now=NOW)
    programme.refresh_from_db()
    assert 0 < programme.committed < committed
    assert LedgerEntry.objects.filter(booking=booking, kind="adjustment").exists()
    bookings.booking_cancel(actor=organiser, booking_id=booking.pk, now=NOW)
    programme.refresh_from_db()
    assert programme.committed == 0 and programme.available == programme.budget


def test_a_programme_that_cannot_cover_its_share_refuses_the_confirmation_and_nothing_changes(users, batch, twin, programme):
    FundProgramme.objects.filter(pk=programme.pk).update(budget=Decimal("100.00"), available=Decimal("100.00"))
    booking = held_for_four(users, batch, twin)
    with pytest.raises(Conflict) as refused:
        bookings.booking_confirm(actor=actor_of(users["factory_organiser"]), booking_id=booking.pk, now=NOW)
    assert refused.value.code == "programme_overdrawn" and "东莞市职工疗休养专项经费" in refused.value.message
    assert Booking.objects.get(pk=booking.pk).status == "held"
    assert [(n.rooms_held, n.rooms_booked) for n in NightInventory.objects.filter(
        room_type=twin, night__range=(ARRIVAL, ARRIVAL + dt.timedelta(days=2)))] == [(2, 0)] * 3
    assert not LedgerEntry.objects.exists()
    assert FundProgramme.objects.get(pk=programme.pk).available == Decimal("100.00")


def test_letting_a_hold_go_touches_no_programme(users, batch, twin, programme):
    booking = held_for_four(users, batch, twin)
    bookings.booking_cancel(actor=actor_of(users["factory_organiser"]), booking_id=booking.pk, now=NOW)
    assert not LedgerEntry.objects.exists()
