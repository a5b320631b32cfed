"""Building the round's problem from the database: capacity and money net of what is taken."""

import datetime as dt
from decimal import Decimal

from bases.models import NightInventory
from billing.models import FundProgramme
from itineraries import planning_problem
from itineraries.solver.instance import instance_from_dict
from tests.itineraries.planning.conftest import FIRST_NIGHT, make_batch, submit


def _base(problem, base):
    return next(b for b in problem.instance.bases if b.id == planning_problem.base_id(base.pk))


def _group(problem, request):
    return next(g for g in problem.instance.groups if g.id == planning_problem.group_id(request.pk))


def test_capacity_is_net_of_holds_and_bookings(world, open_round, union_tree, users, organiser):
    rooms = world["rooms"][world["heyuan"].pk]
    # Every night 3 rooms are held and 2 booked elsewhere: 5 of 10 twin rooms free = 10 beds.
    NightInventory.objects.filter(room_type=rooms).update(rooms_held=3, people_held=6, rooms_booked=2, people_booked=4)
    batch = make_batch(union=union_tree["factory"], user=users["factory_organiser"], title="一线职工疗休养", people=6)
    submit(actor=organiser, planning_round=open_round, batch=batch, people=6, rooms=3, preferences=[{"base": world["heyuan"].pk}])

    problem = planning_problem.round_problem_build(planning_round=open_round)

    heyuan = _base(problem, world["heyuan"])
    assert (heyuan.beds, heyuan.rooms) == (10, 5)
    assert heyuan.closed_nights == frozenset()
    assert heyuan.nightly_capacity[FIRST_NIGHT] == (10, 5)
    assert problem.to_dict()["bases"][0]["nightly_capacity"][FIRST_NIGHT.isoformat()] == {"beds": 10, "rooms": 5}


def test_full_closed_and_uncertified_nights_are_closed(world, open_round, union_tree, users, organiser):
    rooms = world["rooms"][world["shaoguan"].pk]
    NightInventory.objects.filter(room_type=rooms, night=FIRST_NIGHT).update(rooms_booked=10, people_booked=20)
    NightInventory.objects.filter(room_type=rooms, night=FIRST_NIGHT + dt.timedelta(days=1)).update(closed=True)
    shaoguan = world["shaoguan"]
    shaoguan.valid_until = FIRST_NIGHT + dt.timedelta(days=9)  # certification ends mid-round
    shaoguan.save()

    problem = planning_problem.round_problem_build(planning_round=open_round)

    base = _base(problem, shaoguan)
    closed = {FIRST_NIGHT, FIRST_NIGHT + dt.timedelta(days=1)} | {FIRST_NIGHT + dt.timedelta(days=d) for d in range(10, 20)}
    assert base.closed_nights == frozenset(closed)
    assert (base.beds, base.rooms) == (20, 10)


def test_varying_capacity_is_offered_night_by_night_and_never_more_than_free(world, open_round):
    rooms = world["rooms"][world["heyuan"].pk]
    # One night with only 1 room free: that night offers 2 beds, the others their 20; none is closed.
    NightInventory.objects.filter(room_type=rooms, night=FIRST_NIGHT + dt.timedelta(days=4)).update(rooms_booked=9, people_booked=18)

    base = _base(planning_problem.round_problem_build(planning_round=open_round), world["heyuan"])

    assert (base.beds, base.rooms) == (20, 10)
    assert base.closed_nights == frozenset()
    assert base.nightly_capacity[FIRST_NIGHT + dt.timedelta(days=4)] == (2, 1)
    assert base.nightly_capacity[FIRST_NIGHT] == (20, 10)


def test_budget_is_net_of_commitments_and_published_plans(world, open_round):
    programme = world["programme"]
    FundProgramme.objects.filter(pk=programme.pk).update(committed=Decimal("30000.00"), available=Decimal("70000.00"))

    problem = planning_problem.round_problem_build(planning_round=open_round)

    fund = next(f for f in problem.instance.funds if f.id == planning_problem.fund_id(programme.pk))
    assert fund.budget_fen == 7_000_000


def test_options_scores_and_subsidies(world, open_round, union_tree, users, organiser):
    batch = make_batch(union=union_tree["factory"], user=users["factory_organiser"], title="劳模疗休养", people=10)
    request = submit(
        actor=organiser, planning_round=open_round, batch=batch, people=10, rooms=5, nights=3, priority=2,
        preferences=[{"base": world["shaoguan"].pk}, {"city": "441600"}],
    )

    problem = planning_problem.round_problem_build(planning_round=open_round)
    group = _group(problem, request)

    assert [o.base for o in group.options] == [planning_problem.base_id(world["shaoguan"].pk), planning_problem.base_id(world["heyuan"].pk)]
    # (rank points + 10 × priority) × people: first choice 100, second 80.
    assert [o.score for o in group.options] == [(100 + 20) * 10, (80 + 20) * 10]
    # ¥100 per person per stay day (3 nights = 4 days) × 10 people.
    assert [o.subsidy_fen for o in group.options] == [400_000, 400_000]
    assert group.fund == planning_problem.fund_id(world["programme"].pk)
    assert group.region == "441900"


def test_a_union_without_a_programme_draws_nothing(world, open_round, union_tree, users, sz_organiser):
    batch = make_batch(union=union_tree["sz_enterprise"], user=users["shenzhen_organiser"], title="深圳职工", people=4)
    request = submit(actor=sz_organiser, planning_round=open_round, batch=batch, people=4, rooms=2,
                     preferences=[{"base": world["heyuan"].pk}])

    problem = planning_problem.round_problem_build(planning_round=open_round)
    group = _group(problem, request)

    assert group.fund == planning_problem.NO_FUND_ID
    assert {fund["id"]: fund["name"] for fund in problem.to_dict()["funds"]}[group.fund] == "无专项经费"  # the file is Chinese
    assert [o.subsidy_fen for o in group.options] == [0]


def test_hard_needs_filter_options_with_the_reason(world, open_round, union_tree, users, organiser):
    batch = make_batch(union=union_tree["factory"], user=users["factory_organiser"], title="轮椅职工", people=4)
    request = submit(
        actor=organiser, planning_round=open_round, batch=batch, people=4, rooms=2, accessible_rooms=2,
        preferences=[{"base": world["qingyuan"].pk}],
    )

    problem = planning_problem.round_problem_build(planning_round=open_round)

    assert _group(problem, request).options == ()
    assert problem.notes[planning_problem.group_id(request.pk)] == ["base 清远山水基地 lacks the required rooms: 2 accessible rooms"]


def test_fairness_weights(world, open_round, union_tree, users, organiser, sz_organiser):
    open_round.rural_weight = 30
    open_round.regional_balance = open_round.RegionalBalance.MAXIMIN
    open_round.save()
    dg = make_batch(union=union_tree["factory"], user=users["factory_organiser"], title="东莞大团", people=30)
    sz = make_batch(union=union_tree["sz_enterprise"], user=users["shenzhen_organiser"], title="深圳小团", people=10)
    dg_request = submit(actor=organiser, planning_round=open_round, batch=dg, people=10, rooms=5,
                        preferences=[{"base": world["heyuan"].pk}])
    sz_request = submit(actor=sz_organiser, planning_round=open_round, batch=sz, people=2, rooms=1,
                        preferences=[{"base": world["heyuan"].pk}])

    problem = planning_problem.round_problem_build(planning_round=open_round)

    # Per person: 100 (first choice) + 30 (rural). Mean city demand (10 + 2) / 2 = 6 people.
    assert _group(problem, dg_request).options[0].score == 130 * 10 * 6 // 10
    assert _group(problem, sz_request).options[0].score == 130 * 2 * 6 // 2


def test_export_round_trips_through_the_format(world, open_round, union_tree, users, organiser):
    batch = make_batch(union=union_tree["factory"], user=users["factory_organiser"], title="一线职工", people=6)
    submit(actor=organiser, planning_round=open_round, batch=batch, people=6, rooms=3, preferences=[{"base": world["heyuan"].pk}])

    problem = planning_problem.round_problem_build(planning_round=open_round)
    parsed = instance_from_dict(problem.to_dict())

    assert parsed == problem.instance
