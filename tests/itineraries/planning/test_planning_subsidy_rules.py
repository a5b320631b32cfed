"""Pricing a request with its batch's real list: the programmes' person rules, as confirmation applies them.

World (conftest): the Dongguan programme pays a flat ¥100 per person per day, so a member
of a 3-night stay (4 days) is worth 40,000 fen; 河源 has 10 twin rooms at ¥200 with ¥90 meals.
"""

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing import inputs, services
from billing.models import FundProgramme
from groups.access import actor_of
from groups.models import Batch, Booking, BookingLine, Participant
from itineraries import planning, planning_problem
from tests.itineraries.planning.conftest import FIRST_NIGHT, NOW, make_batch, propose, submit

C = Participant.Category
PER_MEMBER = 40_000  # ¥100 × 4 days
_numbers = itertools.count(1)


def listed_batch(*, union, user, categories, hashes=None) -> Batch:
    """A batch whose list has these categories, in list order (and these ID hashes, if given)."""
    title = f"疗休养团{next(_numbers)}"
    batch = Batch.objects.create(union=union, title=title, nights=3, created_by=user)
    hashes = hashes or [f"{title}-{index}" for index in range(len(categories))]
    Participant.objects.bulk_create(
        Participant(
            batch=batch, name=f"{title}职工{index}", id_encrypted="x", id_hash=id_hash, id_masked="4419**********0000",
            birth_date=dt.date(1980, 1, 1), gender=Participant.Gender.MALE, phone="13800000000", employer="测试单位",
            category=category,
        )
        for index, (category, id_hash) in enumerate(zip(categories, hashes))
    )
    return batch


def hashes_of(batch: Batch) -> list[str]:
    return list(batch.participants.order_by("pk").values_list("id_hash", flat=True))


def trip(*, hashes, union, user, room_type, arrival, status=Booking.Status.COMPLETED) -> Booking:
    """These people (by ID hash) went in another batch, arriving then."""
    batch = listed_batch(union=union, user=user, categories=[C.FRONT_LINE] * len(hashes), hashes=hashes)
    rooms = (len(hashes) + 1) // 2
    booking = Booking.objects.create(
        reference=f"BK-EARLY-{next(_numbers)}", batch=batch, union=union, base=room_type.base, arrival=arrival, nights=3,
        people=len(hashes), rooms=rooms, status=status, created_by=user,
    )
    BookingLine.objects.create(booking=booking, room_type=room_type, first_night=arrival, nights=3, rooms=rooms, people=len(hashes))
    return booking


def switch_on(programme, **rules) -> FundProgramme:
    FundProgramme.objects.filter(pk=programme.pk).update(**rules)
    programme.refresh_from_db()
    return programme


def subsidy(planning_round, request, base) -> int:
    _programme, by_base = planning_problem.round_problem_build(planning_round=planning_round).funding[
        planning_problem.group_id(request.pk)
    ]
    return by_base[planning_problem.base_id(base.pk)]


@pytest.fixture
def ask(world, open_round, organiser):
    """Submit a request of the factory union for its whole list at 河源."""
    def make(batch, people=None):
        people = people or batch.participants.count()
        return submit(actor=organiser, planning_round=open_round, batch=batch, people=people, rooms=(people + 1) // 2,
                      preferences=[{"base": world["heyuan"].pk}])
    return make


@pytest.fixture
def factory_batch(union_tree, users):
    def make(categories, hashes=None):
        return listed_batch(union=union_tree["factory"], user=users["factory_organiser"], categories=categories, hashes=hashes)
    return make


def test_a_minimum_front_line_share_prices_the_whole_batch_by_its_list(world, open_round, factory_batch, ask):
    switch_on(world["programme"], min_front_line_percent=90)
    below = ask(factory_batch([C.FRONT_LINE] * 8 + [C.MANAGER] * 2))  # 80 %
    at = ask(factory_batch([C.FRONT_LINE] * 9 + [C.MANAGER]))  # 90 %
    # Family are not workers: 9 of 10 workers are front-line; the family pay their own way.
    with_family = ask(factory_batch([C.FRONT_LINE] * 9 + [C.MANAGER] + [C.FAMILY] * 2))

    assert subsidy(open_round, below, world["heyuan"]) == 0
    assert subsidy(open_round, at, world["heyuan"]) == 10 * PER_MEMBER
    assert subsidy(open_round, with_family, world["heyuan"]) == 10 * PER_MEMBER


def test_places_not_yet_named_are_workers_who_are_not_front_line(world, open_round, factory_batch, ask):
    switch_on(world["programme"], min_front_line_percent=90)
    nine_named = ask(factory_batch([C.FRONT_LINE] * 9), people=10)  # 9 of 10 workers named front-line
    eight_named = ask(factory_batch([C.FRONT_LINE] * 8), people=10)  # 8 of 10
    # Only the first ``people`` of a longer list travel, in list order (as the booking counts them).
    longer = ask(factory_batch([C.FRONT_LINE] * 9 + [C.MANAGER] * 5), people=10)

    assert subsidy(open_round, nine_named, world["heyuan"]) == 10 * PER_MEMBER
    assert subsidy(open_round, eight_named, world["heyuan"]) == 0
    assert subsidy(open_round, longer, world["heyuan"]) == 10 * PER_MEMBER


@pytest.mark.parametrize("scope", [FundProgramme.RepeatScope.ANY, FundProgramme.RepeatScope.PROGRAMME])
def test_no_repeat_prices_nothing_for_members_who_went_within_the_years(
    world, open_round, union_tree, users, factory_batch, ask, scope
):
    programme = switch_on(world["programme"], no_repeat_years=3, no_repeat_scope=scope)
    batch = factory_batch([C.FRONT_LINE] * 10)
    people = hashes_of(batch)
    went = dict(union=union_tree["factory"], user=users["factory_organiser"], room_type=world["rooms"][world["heyuan"].pk])
    recent = trip(hashes=people[:3], arrival=dt.date(2031, 2, 10), **went)  # within 3 years, funded by the programme
    services.funding_commit_for_booking(booking=recent, actor=actor_of(users["factory_organiser"]), now=NOW)
    trip(hashes=people[3:4], arrival=dt.date(2027, 6, 1), **went)  # more than 3 years before
    trip(hashes=people[4:5], arrival=dt.date(2031, 3, 1), status=Booking.Status.HELD, **went)  # a hold is no trip
    unfunded = trip(hashes=people[5:6], arrival=dt.date(2030, 6, 1), **went)  # a trip the programme did not pay for
    request = ask(batch)

    paid_for = 10 - 3 - (1 if scope == FundProgramme.RepeatScope.ANY else 0)
    assert subsidy(open_round, request, world["heyuan"]) == paid_for * PER_MEMBER
    assert not programme.allocations.filter(booking=unfunded).exists()


def test_family_get_nothing_whether_or_not_the_programme_names_them(world, open_round, factory_batch, ask):
    request = ask(factory_batch([C.FRONT_LINE] * 8 + [C.FAMILY] * 2))
    assert subsidy(open_round, request, world["heyuan"]) == 8 * PER_MEMBER  # family pay their own cost

    switch_on(world["programme"], family_allowed=False)
    assert subsidy(open_round, request, world["heyuan"]) == 8 * PER_MEMBER


def test_categories_a_programme_names_are_priced_person_by_person(world, open_round, factory_batch, ask):
    switch_on(world["programme"], participant_categories=[C.FRONT_LINE, C.MODEL_WORKER])
    request = ask(factory_batch([C.FRONT_LINE] * 5 + [C.MODEL_WORKER] * 2 + [C.MANAGER] * 3), people=12)

    # The manager and the two places not yet named ("other") are outside the categories.
    assert subsidy(open_round, request, world["heyuan"]) == 7 * PER_MEMBER


RULE_SETS = {
    # 11 workers less the 2 who went: 9 × ¥400.
    "flat, share, any trip, no family": (dict(
        min_front_line_percent=80, no_repeat_years=3, no_repeat_scope=FundProgramme.RepeatScope.ANY, family_allowed=False,
    ), 9 * PER_MEMBER),
    # 7 front-line who did not go and the manager (not the skilled worker): 8 × min(¥960, 4 × ¥150).
    "cover capped, categories, own trips": (dict(
        contribution=FundProgramme.Contribution.COVER_COST, cap_per_person_day=Decimal("150.00"), participant_categories=[C.FRONT_LINE, C.MANAGER],
        no_repeat_years=2, no_repeat_scope=FundProgramme.RepeatScope.PROGRAMME, min_front_line_percent=80,
    ), 8 * 60_000),
}


@pytest.mark.parametrize("rules, paid_for", [(rules, paid_for) for rules, paid_for in RULE_SETS.values()], ids=list(RULE_SETS))
def test_the_estimate_is_what_confirming_the_placed_booking_commits(
    world, open_round, union_tree, users, admin, organiser, factory_batch, ask, rules, paid_for
):
    programme = switch_on(world["programme"], **rules)
    batch = factory_batch([C.FRONT_LINE] * 9 + [C.MANAGER] + [C.SKILLED] + [C.FAMILY] * 2)  # 9 of 11 workers: 81.8 %
    went = dict(union=union_tree["factory"], user=users["factory_organiser"], room_type=world["rooms"][world["heyuan"].pk])
    earlier = trip(hashes=hashes_of(batch)[:2], arrival=dt.date(2031, 2, 10), **went)
    services.funding_commit_for_booking(booking=earlier, actor=organiser, now=NOW)
    committed_before = FundProgramme.objects.get(pk=programme.pk).committed
    request = ask(batch)

    propose(planning_round=open_round, placements={request: (world["heyuan"], FIRST_NIGHT)})
    request.refresh_from_db()
    planning.round_publish(actor=admin, round_id=open_round.pk, now=NOW)
    planning.request_accept(actor=organiser, request_id=request.pk, now=NOW)

    committed = FundProgramme.objects.get(pk=programme.pk).committed - committed_before
    assert request.proposed_subsidy == committed == Decimal(paid_for) / 100


@pytest.mark.parametrize("by_hash", [True, False], ids=["by ID hash", "by the batches' lists"])
def test_the_batched_repeat_look_up_agrees_with_the_billing_one(world, union_tree, users, monkeypatch, by_hash):
    dongguan = switch_on(world["programme"], no_repeat_years=3)
    any_trip = FundProgramme.objects.create(
        union=union_tree["dongguan"], name="东莞二期", valid_from=dt.date(2030, 1, 1), valid_until=dt.date(2031, 12, 31),
        budget=Decimal("100000.00"), available=Decimal("100000.00"), contribution=FundProgramme.Contribution.COVER_COST,
        created_by=users["province_admin"], created_at=NOW, no_repeat_years=1, no_repeat_scope=FundProgramme.RepeatScope.ANY,
        order=200,  # after the flat subsidy, so both fund the first trip
    )
    went = dict(union=union_tree["factory"], user=users["factory_organiser"], room_type=world["rooms"][world["heyuan"].pk])
    travelling = [listed_batch(union=union_tree["factory"], user=users["factory_organiser"], categories=[C.FRONT_LINE] * 4)
                  for _ in range(3)]
    people = [hashes_of(batch) for batch in travelling]
    funded = trip(hashes=people[0][:2] + people[1][:1], arrival=dt.date(2031, 2, 10), **went)
    services.funding_commit_for_booking(booking=funded, actor=actor_of(users["factory_organiser"]), now=NOW)
    trip(hashes=people[0][2:3] + people[2][:2], arrival=dt.date(2030, 3, 1), **went)  # within 3 years, not within 1
    trip(hashes=people[1][1:2], arrival=dt.date(2031, 5, 3), **went)  # on the second stay's own arrival: no tie counts
    trip(hashes=people[2][2:3], arrival=dt.date(2031, 6, 1), **went)  # after some stays, before the last
    Booking.objects.create(  # the travelling batch's own trip is never its earlier trip
        reference="BK-OWN", batch=travelling[2], union=union_tree["factory"], base=world["heyuan"], arrival=dt.date(2031, 1, 5),
        nights=3, people=4, rooms=2, status=Booking.Status.COMPLETED, created_by=users["factory_organiser"],
    )
    stays = {
        "first": inputs.PlannedStay(batch_id=travelling[0].pk, arrival=dt.date(2031, 5, 1), person_keys=people[0]),
        "second": inputs.PlannedStay(batch_id=travelling[1].pk, arrival=dt.date(2031, 5, 3), person_keys=people[1]),
        "third": inputs.PlannedStay(batch_id=travelling[2].pk, arrival=dt.date(2031, 7, 1), person_keys=people[2]),
        "nobody": inputs.PlannedStay(batch_id=travelling[2].pk, arrival=dt.date(2031, 7, 1), person_keys=[]),
    }
    programmes = [dongguan, any_trip]

    with monkeypatch.context() as patch:
        if not by_hash:  # as a round with more people than MAX_KEYS_BY_HASH would
            patch.setattr(inputs, "MAX_KEYS_BY_HASH", 0)
        with CaptureQueriesContext(connection) as queries:
            batched = inputs.earlier_trips_of_stays(programmes=programmes, stays=stays)

    assert len(queries) == 2
    assert all(("IN (SELECT" in query["sql"]) is not by_hash for query in queries)
    for name, stay in stays.items():
        one_by_one = inputs.earlier_trips_of_stays(programmes=programmes, stays={name: stay})[name]
        assert batched[name] == one_by_one, name
    assert batched["first"][dongguan.pk] == {people[0][0]: dt.date(2031, 2, 10), people[0][1]: dt.date(2031, 2, 10)}
    # As the billing look-up does, a trip inside the widest window is returned; the split checks each programme's.
    assert batched["third"][any_trip.pk] == {
        people[2][0]: dt.date(2030, 3, 1), people[2][1]: dt.date(2030, 3, 1), people[2][2]: dt.date(2031, 6, 1)
    }
    assert batched["second"][any_trip.pk] == {people[1][0]: dt.date(2031, 2, 10)}


def test_the_build_takes_the_same_queries_for_5_or_30_requests(world, open_round, union_tree, users, organiser, sz_organiser):
    switch_on(world["programme"], min_front_line_percent=80, no_repeat_years=3, no_repeat_scope=FundProgramme.RepeatScope.ANY,
              family_allowed=False)
    shenzhen = FundProgramme.objects.create(
        union=union_tree["shenzhen"], name="深圳市职工疗休养专项资金", valid_from=dt.date(2031, 1, 1), valid_until=dt.date(2031, 12, 31),
        budget=Decimal("100000.00"), available=Decimal("100000.00"), contribution=FundProgramme.Contribution.COVER_COST,
        created_by=users["province_admin"], created_at=NOW, participant_categories=[C.FRONT_LINE], no_repeat_years=2,
    )
    open_round.programmes.add(shenzhen)
    went = dict(union=union_tree["factory"], user=users["factory_organiser"], room_type=world["rooms"][world["heyuan"].pk])
    preferences = [{"base": world["heyuan"].pk}, {"city": "440200"}]

    def add_requests(count):
        for index in range(count):
            dongguan = index % 2 == 0
            union, user = (union_tree["factory"], users["factory_organiser"]) if dongguan else (
                union_tree["sz_enterprise"], users["shenzhen_organiser"])
            batch = make_batch(union=union, user=user, title=f"团{index}", people=4)
            Participant.objects.filter(pk=batch.participants.order_by("pk").last().pk).update(category=C.FAMILY)
            trip(hashes=hashes_of(batch)[:1], arrival=dt.date(2030, 9, 1), **went)
            submit(actor=organiser if dongguan else sz_organiser, planning_round=open_round, batch=batch, people=4, rooms=2,
                   preferences=preferences)

    def queries_of_build():
        with CaptureQueriesContext(connection) as queries:
            problem = planning_problem.round_problem_build(planning_round=open_round)
        return len(queries), problem

    add_requests(5)
    few, problem = queries_of_build()
    # Dongguan: 2 of the 3 workers (one went); Shenzhen covers its 3 workers (an unfunded trip is no repeat
    # of its own) at ¥960 at either base; the family member gets nothing.
    assert {tuple(o.subsidy_fen for o in group.options) for group in problem.instance.groups} == {
        (2 * PER_MEMBER, 2 * PER_MEMBER), (3 * 96_000, 3 * 96_000)
    }
    add_requests(25)
    many, problem = queries_of_build()

    assert len(problem.instance.groups) == 30
    assert many == few
