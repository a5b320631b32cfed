"""The booking services move the ledger: commitment on confirmation, release on cancellation,
adjustment on partial cancellation, and a confirmation that would overdraw a programme is
refused with nothing changed.

``billing.services.funding_*_for_booking`` implement the postings (tests/billing/test_ledger.py);
these tests pin the contract that ``groups.bookings`` calls them inside its own transactions.
"""

import datetime as dt
from decimal import Decimal

import pytest

from billing.ledger import reconcile
from billing.models import FundProgramme, LedgerEntry
from groups import bookings
from groups.bookings import RoomRequest
from groups.models import Booking
from retreat.errors import Conflict
from tests.billing.conftest import make_booking

NOW = dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.timezone.utc)  # nine days before the stay (conftest.ARRIVAL)

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(world, union_tree, users):
    booking = make_booking(
        union=union_tree["factory"], base=world["base"], room_type=world["room_type"], user=users["factory_organiser"],
        people=10, family=1, status=Booking.Status.HELD,
    )
    Booking.objects.filter(pk=booking.pk).update(hold_expires_at=NOW + dt.timedelta(minutes=30))
    return booking


def test_confirming_commits_the_programmes_shares(world, held):
    bookings.booking_confirm(actor=world["organiser"], booking_id=held.pk, now=NOW)
    assert sorted(LedgerEntry.objects.filter(booking=held).values_list("kind", "committed_delta")) == [
        ("commitment", Decimal("3600.00")), ("commitment", Decimal("5400.00")),
    ]
    assert reconcile() == []


def test_a_confirmation_that_would_overdraw_is_refused_and_the_hold_stays(world, held):
    FundProgramme.objects.filter(pk=world["dongguan_cover"].pk).update(budget=Decimal("5000.00"), available=Decimal("5000.00"))
    with pytest.raises(Conflict) as refused:
        bookings.booking_confirm(actor=world["organiser"], booking_id=held.pk, now=NOW)
    assert refused.value.code == "programme_overdrawn" and "东莞市职工疗休养专项经费" in refused.value.message
    assert Booking.objects.get(pk=held.pk).status == Booking.Status.HELD
    assert not LedgerEntry.objects.exists()


def test_cancelling_releases_and_reducing_adjusts(world, held):
    bookings.booking_confirm(actor=world["organiser"], booking_id=held.pk, now=NOW)
    bookings.booking_reduce(
        actor=world["organiser"], booking_id=held.pk, rooms=[RoomRequest(world["room_type"].pk, 3, 6)], now=NOW
    )
    assert LedgerEntry.objects.filter(booking=held, kind="adjustment").exists()
    bookings.booking_cancel(actor=world["organiser"], booking_id=held.pk, now=NOW)
    assert FundProgramme.objects.get(pk=world["dongguan_cover"].pk).committed == 0
    assert FundProgramme.objects.get(pk=world["province_flat"].pk).committed == 0
    assert reconcile() == []
