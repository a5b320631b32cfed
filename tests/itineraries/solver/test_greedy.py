import dataclasses

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from itineraries.solver.bound import LPSolution, solve_lp
from itineraries.solver.checker import check_plan
from itineraries.solver.greedy import ejection_moves, lp_rounding, reduced_profit
from itineraries.solver.space import compile_space
from itineraries.solver.state import PlanState

from . import tiny
from .test_region_minimums import with_minimums


def _first_candidate(space, group_id: str, option: int = 0) -> int:
    return int(space.cand_start[space.options_of(space.group_of[group_id])[option]])


def _lp(space, x_by_group: dict[str, float]) -> LPSolution:
    """An LP answer with the given values on each group's first candidate, and no prices."""
    x = np.zeros(space.n_candidates)
    for group_id, value in x_by_group.items():
        x[_first_candidate(space, group_id)] = value
    n_bases, n_days = space.beds_night.shape
    return LPSolution(value=0.0, bound=0, x=x, group_dual=np.zeros(space.n_groups),
                      fund_dual=np.zeros(len(space.fund_ids)), beds_dual=np.zeros((n_bases, n_days)),
                      rooms_dual=np.zeros((n_bases, n_days)), seconds=0.0, optimal=True, rounds=1, columns=3)


def test_rounding_places_the_largest_stays_first():
    # 10 beds: the LP leans to the two smaller groups (9 beds), but the big one and the
    # smallest fill the base exactly and score more; by LP value alone the big one is left out
    space = compile_space(tiny.instance(
        [tiny.base("B1", beds=10, rooms=10)],
        [tiny.group("big", 6, 2, 0, 0, [("B1", 60, "0.00")]),
         tiny.group("small", 4, 2, 0, 0, [("B1", 40, "0.00")]),
         tiny.group("middle", 5, 2, 0, 0, [("B1", 50, "0.00")])],
        days=2))

    lp = _lp(space, {"big": 0.5, "small": 1.0, "middle": 1.0})
    plan = lp_rounding(space, lp, reduced_profit(space, lp), PlanState(space))

    placed = {space.group_ids[space.opt_group[space.cand_option[c]]] for c in plan.placed_candidates()}
    assert placed == {"big", "small"}
    assert plan.objective == 100
    assert plan.beds_used.max() == 10


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n_groups=st.integers(1, 14), n_bases=st.integers(1, 4), nightly=st.booleans())
def test_the_rounded_plan_is_valid_and_under_the_bound(seed, n_groups, n_bases, nightly):
    inst = tiny.random_instance(seed, n_groups=n_groups, n_bases=n_bases, nightly=nightly)
    space = compile_space(inst)
    lp = solve_lp(space)

    profit = reduced_profit(space, lp)
    plan = lp_rounding(space, lp, profit, PlanState(space))
    rounded = plan.objective
    ejection_moves(space, lp, profit, plan, np.ones(space.n_groups, dtype=bool))

    assert check_plan(inst, [space.assignment(c) for c in plan.placed_candidates()]) == []
    assert rounded <= plan.objective <= lp.bound


def _held(space, plan) -> dict[str, tuple[str, int]]:
    """group -> (base, arrival day) of each placed group"""
    return {space.group_ids[space.opt_group[space.cand_option[c]]]:
            (space.base_ids[space.opt_base[space.cand_option[c]]], int(space.cand_arrival[c]))
            for c in plan.placed_candidates()}


def _two_for_one_night():
    # B1 has 10 beds; "flexible" (6 people) can stay either night, "fixed_date" (6) only night 0
    return compile_space(tiny.instance(
        [tiny.base("B1", beds=10, rooms=10)],
        [tiny.group("flexible", 6, 1, 0, 1, [("B1", 60, "0.00")]),
         tiny.group("fixed_date", 6, 1, 0, 0, [("B1", 50, "0.00")])],
        days=2))


def test_a_group_left_out_gets_in_by_moving_another_to_another_night():
    space = _two_for_one_night()
    lp = _lp(space, {"flexible": 1.0, "fixed_date": 1.0})  # both on night 0
    plan = lp_rounding(space, lp, reduced_profit(space, lp), PlanState(space))
    assert _held(space, plan) == {"flexible": ("B1", 0)}  # rounded first (same bed-nights, listed first)

    moves = ejection_moves(space, lp, reduced_profit(space, lp), plan, np.ones(space.n_groups, dtype=bool))

    assert moves == 1
    assert _held(space, plan) == {"fixed_date": ("B1", 0), "flexible": ("B1", 1)}
    assert plan.objective == 110


def test_groups_not_movable_stay_where_they_are():
    space = _two_for_one_night()
    lp = _lp(space, {"flexible": 1.0, "fixed_date": 1.0})
    plan = PlanState(space)
    plan.place(_first_candidate(space, "flexible"))  # a booking kept, night 0
    movable = np.array([space.group_ids[g] != "flexible" for g in range(space.n_groups)])

    assert ejection_moves(space, lp, reduced_profit(space, lp), plan, movable) == 0
    assert _held(space, plan) == {"flexible": ("B1", 0)}


def test_a_placed_group_moves_up_to_its_better_lp_column_by_moving_another():
    # "picky" holds its second choice (B2, 40); its LP column is B1 on night 0, where "flexible"
    # sits and could as well stay on night 1
    space = compile_space(tiny.instance(
        [tiny.base("B1", beds=10, rooms=10), tiny.base("B2", beds=10, rooms=10)],
        [tiny.group("flexible", 6, 1, 0, 1, [("B1", 60, "0.00")]),
         tiny.group("picky", 6, 1, 0, 0, [("B1", 80, "0.00"), ("B2", 40, "0.00")])],
        days=2))
    lp = _lp(space, {"flexible": 1.0, "picky": 1.0})
    plan = PlanState(space)
    plan.place(_first_candidate(space, "flexible"))
    plan.place(_first_candidate(space, "picky", option=1))

    moves = ejection_moves(space, lp, reduced_profit(space, lp), plan, np.ones(space.n_groups, dtype=bool))

    assert moves == 1
    assert _held(space, plan) == {"picky": ("B1", 0), "flexible": ("B1", 1)}
    assert plan.objective == 140


def test_no_move_leaves_a_region_further_short_of_its_minimum():
    # one night, 10 beds: "local" (6, region 441900, whose minimum is 6 people) holds it; "visitor"
    # (6, region 440300) scores more there, but taking "local" out would leave its region short
    inst = tiny.instance(
        [tiny.base("B1", beds=10, rooms=10)],
        [tiny.group("local", 6, 1, 0, 0, [("B1", 10, "0.00")]),
         tiny.group("visitor", 6, 1, 0, 0, [("B1", 90, "0.00")])],
        days=1)
    inst = dataclasses.replace(
        inst, groups=(inst.groups[0], dataclasses.replace(inst.groups[1], region="440300")),
        region_minimums={"441900": 6})
    space = compile_space(inst)
    lp = _lp(space, {"visitor": 1.0})
    plan = PlanState(space)
    plan.place(_first_candidate(space, "local"))

    assert ejection_moves(space, lp, reduced_profit(space, lp), plan, np.ones(space.n_groups, dtype=bool)) == 0
    assert _held(space, plan) == {"local": ("B1", 0)}

    # without the minimum the same move is made: it scores 80 more
    space = compile_space(dataclasses.replace(inst, region_minimums={}))
    plan = PlanState(space)
    plan.place(_first_candidate(space, "local"))
    assert ejection_moves(space, lp, reduced_profit(space, lp), plan, np.ones(space.n_groups, dtype=bool)) == 1
    assert _held(space, plan) == {"visitor": ("B1", 0)}


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_moves_on_random_instances_with_minimums_never_leave_more_people_short(seed):
    inst = with_minimums(seed, n_groups=10)
    space = compile_space(inst)
    lp = solve_lp(space)
    profit = reduced_profit(space, lp)
    plan = lp_rounding(space, lp, profit, PlanState(space))
    short, score = plan.shortfall, plan.objective

    ejection_moves(space, lp, profit, plan, np.ones(space.n_groups, dtype=bool))

    assert check_plan(inst, [space.assignment(c) for c in plan.placed_candidates()]) == []
    assert plan.shortfall <= short and plan.objective >= score
