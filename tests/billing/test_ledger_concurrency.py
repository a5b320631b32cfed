"""Twenty confirmations race for one programme on PostgreSQL: exactly the affordable ones win."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from billing import services
from billing.ledger import reconcile
from billing.models import FundProgramme, LedgerEntry, Settlement
from groups.access import actor_of
from groups.models import Membership
from retreat.errors import Conflict
from tests.billing.conftest import NOW, make_booking, make_programme
from tests.factories import BaseFactory, RoomTypeFactory, member

THREADS = 20
AFFORDABLE = 7
PER_BOOKING = Decimal("880.00")  # 2 members × (1 night × ¥260 + 2 days × ¥90)


def race(act, items) -> list[str]:
    """Run ``act(item)`` for every item, each in its own thread and all released at once; what each
    came to is "ok" or the code of the Conflict it was refused with."""
    barrier = threading.Barrier(len(items))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(item):
        try:
            barrier.wait()
            act(item)
            result = "ok"
        except Conflict as refused:
            result = refused.code
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_concurrent_confirmations_never_overdraw(union_tree, users):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    base = BaseFactory(operator=union_tree["operator"])
    room_type = RoomTypeFactory(base=base, price_per_night=Decimal("260.00"), meals_per_day=Decimal("90.00"))
    budget = PER_BOOKING * AFFORDABLE + Decimal("500.00")
    programme = make_programme(union=union_tree["dongguan"], user=users["dongguan_fund"], name="东莞市疗休养专项经费", budget=str(budget))
    bookings = [
        make_booking(union=union_tree["factory"], base=base, room_type=room_type, user=users["factory_organiser"], people=2, nights=1)
        for _ in range(THREADS)
    ]
    actor = actor_of(users["factory_organiser"])

    def confirm(booking):
        with transaction.atomic():  # the booking-confirm transaction the hook runs in
            services.funding_commit_for_booking(booking=booking, actor=actor, now=NOW)

    outcomes = race(confirm, bookings)

    assert outcomes.count("ok") == AFFORDABLE, outcomes
    assert outcomes.count("programme_overdrawn") == THREADS - AFFORDABLE, outcomes
    programme = FundProgramme.objects.get(pk=programme.pk)
    assert programme.available == Decimal("500.00") >= 0
    assert programme.committed == sum(LedgerEntry.objects.filter(programme=programme).values_list("committed_delta", flat=True))
    assert programme.available == programme.budget - programme.committed - programme.spent
    assert reconcile() == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_that_spend_above_their_commitments_never_overdraw(union_tree, users):
    """Each settlement spends ¥220 more than its booking committed (a cap raised after confirmation);
    the programme has room for the extra spend of exactly three of eight approvals racing."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    base = BaseFactory(operator=union_tree["operator"])
    room_type = RoomTypeFactory(base=base, price_per_night=Decimal("260.00"), meals_per_day=Decimal("90.00"))
    count, fits = 8, 3
    committed_each = Decimal("660.00")  # 2 members × 2 days × ¥165 cap
    budget = committed_each * count + Decimal("220.00") * fits + Decimal("100.00")
    programme = make_programme(
        union=union_tree["dongguan"], user=users["dongguan_fund"], name="东莞市疗休养专项经费", budget=str(budget),
        cap_per_person_day=Decimal("165.00"),
    )
    organiser = actor_of(users["factory_organiser"])
    operator = actor_of(users["operator"])
    bookings = []
    for _ in range(count):
        booking = make_booking(union=union_tree["factory"], base=base, room_type=room_type, user=users["factory_organiser"], people=2, nights=1)
        services.funding_commit_for_booking(booking=booking, actor=organiser, now=NOW)
        bookings.append(booking)
    FundProgramme.objects.filter(pk=programme.pk).update(cap_per_person_day=Decimal("220.00"))  # 2 × 2 × ¥220 = ¥880
    settlements = [
        services.settlement_submit(
            actor=operator, booking_id=booking.pk, now=NOW, extras=[],
            arrivals=[services.ArrivalActual(participant_id=p.pk, nights=1) for p in booking.batch.participants.all()],
        )
        for booking in bookings
    ]
    assert {s.programmes_total for s in settlements} == {Decimal("880.00")}
    fund = actor_of(member(organisation=union_tree["dongguan"], role=Membership.Role.FUND_MANAGER, username="dg_fund_2"))
    # Every settlement twice (a double click): at most one of each pair may count.
    work = [s.pk for s in settlements] * 2

    def approve(settlement_id):
        services.settlement_approve(actor=fund, settlement_id=settlement_id, now=NOW)

    outcomes = race(approve, work)

    assert outcomes.count("ok") == fits, outcomes
    assert set(outcomes) <= {"ok", "programme_overdrawn", "settlement_frozen", "busy"}, outcomes
    assert Settlement.objects.filter(status="approved").count() == fits
    programme = FundProgramme.objects.get(pk=programme.pk)
    assert programme.available == Decimal("100.00")
    assert programme.spent == Decimal("880.00") * fits
    assert programme.committed == committed_each * (count - fits)
    assert reconcile() == []
