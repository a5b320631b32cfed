"""Publishing a proposal as holds (all or none), and organisers accepting or declining."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import translation

from bases.models import NightInventory
from billing.models import FundProgramme
from groups import bookings
from groups.access import actor_of
from groups.models import Booking
from itineraries import planning
from itineraries.models import PlanningRequest, PlanningRound
from retreat.errors import ApplicationError, Conflict
from tests.itineraries.planning.conftest import FIRST_NIGHT, NOW, make_batch, propose, submit


@pytest.fixture
def two_requests(world, open_round, union_tree, users, organiser):
    first = make_batch(union=union_tree["factory"], user=users["factory_organiser"], title="一线职工一团", people=8)
    second = make_batch(union=union_tree["factory"], user=users["factory_organiser"], title="一线职工二团", people=6)
    return (
        submit(actor=organiser, planning_round=open_round, batch=first, people=8, rooms=4, preferences=[{"base": world["heyuan"].pk}]),
        submit(actor=organiser, planning_round=open_round, batch=second, people=6, rooms=3, preferences=[{"base": world["heyuan"].pk}]),
    )


def _rooms_held(room_type, night):
    return NightInventory.objects.get(room_type=room_type, night=night).rooms_held


def test_result_save_writes_the_proposal(world, open_round, two_requests):
    first, second = two_requests
    run = propose(planning_round=open_round, placements={first: (world["heyuan"], FIRST_NIGHT)},
                  unplaced={second: "no option has 6 beds free on any arrival"})

    first.refresh_from_db()
    second.refresh_from_db()
    open_round.refresh_from_db()
    assert run.status == run.Status.FINISHED
    assert open_round.status == PlanningRound.Status.PROPOSED
    assert (first.status, first.proposed_base, first.proposed_arrival) == (PlanningRequest.Status.PLACED, world["heyuan"], FIRST_NIGHT)
    assert first.proposed_subsidy == Decimal("3200.00")  # ¥100 × 8 people × 4 days
    assert first.proposed_programme == world["programme"]
    assert second.status == PlanningRequest.Status.UNPLACED
    assert second.reason == "no option has 6 beds free on any arrival"


def test_publish_holds_every_placed_request(world, open_round, two_requests, admin):
    first, second = two_requests
    arrival = FIRST_NIGHT + dt.timedelta(days=2)
    propose(planning_round=open_round, placements={first: (world["heyuan"], FIRST_NIGHT), second: (world["heyuan"], arrival)})

    held = planning.round_publish(actor=admin, round_id=open_round.pk, now=NOW)

    assert len(held) == 2
    open_round.refresh_from_db()
    assert open_round.status == PlanningRound.Status.PUBLISHED
    first.refresh_from_db()
    assert first.booking.status == Booking.Status.HELD
    assert (first.booking.arrival, first.booking.nights, first.booking.people, first.booking.rooms) == (FIRST_NIGHT, 3, 8, 4)
    room_type = world["rooms"][world["heyuan"].pk]
    assert _rooms_held(room_type, FIRST_NIGHT) == 4
    assert _rooms_held(room_type, arrival) == 7  # both groups stay the night of the 3rd


def test_publish_is_all_or_none_when_capacity_went(world, open_round, two_requests, admin):
    first, second = two_requests
    propose(planning_round=open_round, placements={first: (world["heyuan"], FIRST_NIGHT), second: (world["heyuan"], FIRST_NIGHT)})
    room_type = world["rooms"][world["heyuan"].pk]
    # Someone booked 5 rooms on the 2nd since the solve: 5 free, 7 wanted.
    NightInventory.objects.filter(room_type=room_type, night=FIRST_NIGHT + dt.timedelta(days=1)).update(rooms_booked=5, people_booked=10)

    with pytest.raises(Conflict) as failure:
        planning.round_publish(actor=admin, round_id=open_round.pk, now=NOW)

    assert failure.value.code == "publish_failed"
    assert [f["request_id"] for f in failure.value.detail["failures"]] == [second.pk]
    assert "空房不足" in failure.value.message
    assert not Booking.objects.exists()
    assert _rooms_held(room_type, FIRST_NIGHT) == 0
    open_round.refresh_from_db()
    assert open_round.status == PlanningRound.Status.PROPOSED


def test_publish_rechecks_the_programme_balance(world, open_round, two_requests, admin):
    first, second = two_requests
    propose(planning_round=open_round, placements={first: (world["heyuan"], FIRST_NIGHT), second: (world["heyuan"], FIRST_NIGHT)})
    FundProgramme.objects.filter(pk=world["programme"].pk).update(committed=Decimal("96000.00"), available=Decimal("4000.00"))

    with pytest.raises(Conflict) as failure:
        planning.round_publish(actor=admin, round_id=open_round.pk, now=NOW)

    # ¥3,200 for the first fits in ¥4,000; the second's ¥2,400 does not.
    assert [f["request_id"] for f in failure.value.detail["failures"]] == [second.pk]
    assert "¥800.00" in failure.value.message
    assert not Booking.objects.exists()


def test_accept_confirms_and_decline_releases(world, open_round, two_requests, admin, organiser):
    first, second = two_requests
    propose(planning_round=open_round, placements={first: (world["heyuan"], FIRST_NIGHT), second: (world["heyuan"], FIRST_NIGHT)})
    planning.round_publish(actor=admin, round_id=open_round.pk, now=NOW)

    planning.request_accept(actor=organiser, request_id=first.pk, now=NOW)
    with translation.override("en"):  # the booking's history is written in the site's language
        planning.request_decline(actor=organiser, request_id=second.pk, now=NOW)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.booking.status) == (PlanningRequest.Status.ACCEPTED, Booking.Status.CONFIRMED)
    assert (second.status, second.booking.status) == (PlanningRequest.Status.DECLINED, Booking.Status.CANCELLED)
    assert second.booking.events.get(action="cancel").detail["reason"] == "放弃统筹安排的名额"
    row = NightInventory.objects.get(room_type=world["rooms"][world["heyuan"].pk], night=FIRST_NIGHT)
    assert (row.rooms_held, row.rooms_booked) == (0, 4)
    programme = FundProgramme.objects.get(pk=world["programme"].pk)
    assert programme.committed == Decimal("3200.00")  # ¥100 × 8 people × 4 days, committed on acceptance
    with pytest.raises(Conflict):
        planning.request_decline(actor=organiser, request_id=first.pk, now=NOW)


def test_another_union_cannot_answer(world, open_round, two_requests, admin, sz_organiser):
    first, _ = two_requests
    propose(planning_round=open_round, placements={first: (world["heyuan"], FIRST_NIGHT)})
    planning.round_publish(actor=admin, round_id=open_round.pk, now=NOW)

    with pytest.raises(ApplicationError) as failure:
        planning.request_accept(actor=sz_organiser, request_id=first.pk, now=NOW)

    assert failure.value.status == 404


@pytest.mark.django_db(transaction=True)
def test_publishing_races_a_booking_that_steals_the_capacity(world, open_round, union_tree, users, organiser, admin):
    """Publishing and an ordinary booking both want 6 of the 10 rooms: exactly one wins, nothing leaks."""
    planned = make_batch(union=union_tree["factory"], user=users["factory_organiser"], title="统筹团", people=12)
    request = submit(actor=organiser, planning_round=open_round, batch=planned, people=12, rooms=6,
                     preferences=[{"base": world["heyuan"].pk}])
    propose(planning_round=open_round, placements={request: (world["heyuan"], FIRST_NIGHT)})
    walk_in = make_batch(union=union_tree["factory"], user=users["factory_organiser"], title="散客团", people=12)
    room_type = world["rooms"][world["heyuan"].pk]
    booker = actor_of(users["factory_organiser"])
    barrier = threading.Barrier(2)
    outcomes = {}

    def publish():
        try:
            barrier.wait()
            outcomes["publish"] = len(planning.round_publish(actor=admin, round_id=open_round.pk, now=NOW))
        except ApplicationError as error:
            outcomes["publish"] = error.code
        finally:
            connection.close()

    def steal():
        try:
            barrier.wait()
            outcomes["booking"] = bookings.booking_hold(
                actor=booker, batch_id=walk_in.pk, base_id=world["heyuan"].pk, arrival=FIRST_NIGHT, nights=3,
                rooms=[bookings.RoomRequest(room_type_id=room_type.pk, rooms=6, people=12)], now=NOW,
            ).reference
        except ApplicationError as error:
            outcomes["booking"] = error.code
        finally:
            connection.close()

    threads = [threading.Thread(target=publish), threading.Thread(target=steal)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    published = outcomes["publish"] == 1
    booked = isinstance(outcomes["booking"], str) and outcomes["booking"].startswith("LX")
    assert published != booked, outcomes
    for night in (FIRST_NIGHT + dt.timedelta(days=d) for d in range(3)):
        assert _rooms_held(room_type, night) == 6
    assert Booking.objects.filter(status=Booking.Status.HELD).count() == 1
    open_round.refresh_from_db()
    assert open_round.status == (PlanningRound.Status.PUBLISHED if published else PlanningRound.Status.PROPOSED)
    request.refresh_from_db()
    assert (request.booking_id is not None) == published


def test_publish_takes_the_accessible_rooms_asked_for(world, open_round, union_tree, users, organiser, admin):
    batch = make_batch(union=union_tree["factory"], user=users["factory_organiser"], title="轮椅职工团", people=6)
    request = submit(actor=organiser, planning_round=open_round, batch=batch, people=6, rooms=3, accessible_rooms=1,
                     room_mix={"2": 3}, preferences=[{"base": world["qingyuan"].pk}])
    propose(planning_round=open_round, placements={request: (world["qingyuan"], FIRST_NIGHT)})

    (booking,) = planning.round_publish(actor=admin, round_id=open_round.pk, now=NOW)

    lines = {line.room_type: (line.rooms, line.people) for line in booking.lines.all()}
    assert lines == {world["accessible"]: (1, 2), world["rooms"][world["qingyuan"].pk]: (2, 4)}
