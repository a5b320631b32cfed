"""A small planning world: two cities' unions, three bases, one programme, batches with real names."""

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import FundProgramme
from groups.access import actor_of
from groups.models import Batch, Participant
from itineraries import planning
from tests.factories import BaseFactory, RoomTypeFactory, open_nights

FIRST_NIGHT = dt.date(2031, 5, 1)
NIGHTS_OPEN = 20
NOW = timezone.make_aware(dt.datetime(2031, 3, 1, 9, 0))
_person_numbers = itertools.count(1)


def make_batch(*, union, user, title: str, people: int) -> Batch:
    batch = Batch.objects.create(union=union, title=title, nights=3, created_by=user)
    Participant.objects.bulk_create(
        Participant(
            batch=batch, name=f"职工{n}", id_encrypted="x", id_hash=f"hash-{n}", id_masked=f"4419**********{n:04d}",
            birth_date=dt.date(1980, 1, 1), gender=Participant.Gender.FEMALE, phone="13800000000", employer="测试单位",
            category=Participant.Category.FRONT_LINE,
        )
        for n in (next(_person_numbers) for _ in range(people))
    )
    return batch


@pytest.fixture
def world(union_tree, users):
    """Bases: 河源 (rural, 10 twin rooms), 韶关 (10 twin rooms), 清远 (4 twin rooms, 1 of them accessible)."""
    t = union_tree
    heyuan = BaseFactory(name="河源温泉基地", operator=t["operator"], city_code="441600", is_rural=True)
    shaoguan = BaseFactory(name="韶关丹霞基地", operator=t["other_operator"], city_code="440200", county_code="440282")
    qingyuan = BaseFactory(name="清远山水基地", operator=t["operator"], city_code="441800", county_code="441802")
    rooms = {}
    for base, count in ((heyuan, 10), (shaoguan, 10)):
        rooms[base.pk] = RoomTypeFactory(base=base, rooms=count, beds_per_room=2, price_per_night=Decimal("200.00"))
        open_nights(rooms[base.pk], FIRST_NIGHT, NIGHTS_OPEN)
    rooms[qingyuan.pk] = RoomTypeFactory(base=qingyuan, rooms=3, beds_per_room=2, price_per_night=Decimal("180.00"))
    accessible = RoomTypeFactory(base=qingyuan, name="无障碍房", rooms=1, beds_per_room=2, accessible=True,
                                 price_per_night=Decimal("180.00"))
    open_nights(rooms[qingyuan.pk], FIRST_NIGHT, NIGHTS_OPEN)
    open_nights(accessible, FIRST_NIGHT, NIGHTS_OPEN)
    programme = FundProgramme.objects.create(
        union=t["dongguan"], name="东莞市职工疗休养专项资金", valid_from=dt.date(2031, 1, 1), valid_until=dt.date(2031, 12, 31),
        budget=Decimal("100000.00"), available=Decimal("100000.00"), contribution=FundProgramme.Contribution.FLAT_SUBSIDY,
        flat_amount_per_person_day=Decimal("100.00"), flat_once_per_year=False, created_by=users["province_admin"], created_at=NOW,
    )
    return {"heyuan": heyuan, "shaoguan": shaoguan, "qingyuan": qingyuan, "rooms": rooms, "accessible": accessible,
            "programme": programme}


@pytest.fixture
def admin(users):
    return actor_of(users["province_admin"])


@pytest.fixture
def organiser(users):
    return actor_of(users["factory_organiser"])


@pytest.fixture
def sz_organiser(users):
    return actor_of(users["shenzhen_organiser"])


@pytest.fixture
def open_round(world, union_tree, admin):
    """An open round over the 20 nights, for Dongguan and Shenzhen unions, on all three bases."""
    t = union_tree
    planning_round = planning.round_create(
        actor=admin, name="2031年五月统筹", first_night=FIRST_NIGHT, last_night=FIRST_NIGHT + dt.timedelta(days=NIGHTS_OPEN - 1),
        union_ids=[t["dongguan"].pk, t["shenzhen"].pk],
        base_ids=[world["heyuan"].pk, world["shaoguan"].pk, world["qingyuan"].pk],
        programme_ids=[world["programme"].pk],
        settings=planning.RoundSettings(time_limit_seconds=5, workers=1, seed=7),
    )
    return planning.round_open(actor=admin, round_id=planning_round.pk)


def submit(*, actor, planning_round, batch, people, rooms, nights=3, earliest=FIRST_NIGHT, latest=None, preferences, **extra):
    terms = planning.RequestTerms(
        batch_id=batch.pk, people=people, rooms=rooms, nights=nights, earliest_arrival=earliest,
        latest_arrival=latest or earliest + dt.timedelta(days=5), preferences=preferences, **extra,
    )
    return planning.request_submit(actor=actor, round_id=planning_round.pk, terms=terms, now=NOW)



def propose(*, planning_round, placements: dict, unplaced: dict | None = None):
    """Save a hand-made solver result for the round, as the solve task would: {request: (base, arrival)}."""
    from itineraries import planning_problem
    from itineraries.models import SolveRun
    from itineraries.solver.instance import Assignment, Result, Unplaced

    run = SolveRun.objects.create(
        round=planning_round, status=SolveRun.Status.RUNNING, round_status_before=planning_round.status,
        time_limit_seconds=5, workers=1, seed=1, created_by=planning_round.created_by, created_at=NOW,
    )
    planning_round.status = planning_round.Status.SOLVING
    planning_round.save(update_fields=["status"])
    problem = planning_problem.round_problem_build(planning_round=planning_round)
    assignments = [Assignment(planning_problem.group_id(r.pk), planning_problem.base_id(base.pk), arrival)
                   for r, (base, arrival) in placements.items()]
    result = Result(
        instance=problem.instance.name, status="FEASIBLE", objective=0, bound=None, wall_seconds=0.1,
        assignments=assignments,
        unplaced=[Unplaced(planning_problem.group_id(r.pk), reason) for r, reason in (unplaced or {}).items()],
    )
    return planning.solve_result_save(run_id=run.pk, problem=problem, result=result, now=NOW)
