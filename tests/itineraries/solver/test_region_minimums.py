"""The `region_minimums` extension: fewer people short of the minimums first, then the score."""
import dataclasses
import itertools

import numpy as np
import pytest

from itineraries.solver import check_result, fcfs_result, solve
from itineraries.solver.instance import (FormatError, dumps_instance, dumps_result, instance_from_dict,
                                         instance_to_dict, loads_instance, loads_result)
from itineraries.solver.space import compile_space

from .test_solver import _solve_lns, medium_lns  # noqa: F401  (a fixture)
from .tiny import placements, random_instance

REGIONS = ("441900", "440300")


def with_minimums(seed: int, n_groups: int = 6):
    """A tiny random instance whose groups come from two regions, each with a minimum of people
    between a third and all of what it asks for (so some minimums cannot be met)."""
    inst = random_instance(seed, n_groups=n_groups)
    groups = tuple(dataclasses.replace(g, region=REGIONS[i % 2]) for i, g in enumerate(inst.groups))
    asked = {region: sum(g.size for g in groups if g.region == region) for region in REGIONS}
    share = (0.34, 0.6, 0.8, 1.0)
    minimums = {region: int(asked[region] * share[(seed + k) % 4]) for k, region in enumerate(REGIONS)}
    return dataclasses.replace(inst, groups=groups, region_minimums=minimums)


def brute_force(inst) -> tuple[int, int]:
    """(fewest people short, best score with that few short) over every plan, exhaustively."""
    bases = {b.id: b for b in inst.bases}
    budget = {f.id: f.budget_fen for f in inst.funds}
    best = None
    for plan in itertools.product(*([None, *options] for options in placements(inst))):
        beds, rooms, drawn, people, score = {}, {}, {}, {}, 0
        for g, choice in zip(inst.groups, plan):
            if choice is None:
                continue
            option, start = choice
            for d in range(start, start + g.nights):
                beds[option.base, d] = beds.get((option.base, d), 0) + g.size
                rooms[option.base, d] = rooms.get((option.base, d), 0) + g.rooms
            drawn[g.fund] = drawn.get(g.fund, 0) + option.subsidy_fen
            people[g.region] = people.get(g.region, 0) + g.size
            score += option.score
        fits = (all(used <= bases[b].beds for (b, _), used in beds.items())
                and all(used <= bases[b].rooms for (b, _), used in rooms.items())
                and all(used <= budget[f] for f, used in drawn.items()))
        if fits:
            short = sum(max(0, least - people.get(region, 0)) for region, least in inst.region_minimums.items())
            if best is None or (short, -score) < best:
                best = (short, -score)
    return best[0], -best[1]


@pytest.mark.parametrize("seed", range(10))
def test_tiny_instances_leave_the_fewest_short_then_score_the_most(seed):
    inst = with_minimums(seed)
    result = solve(inst, time_limit=10, workers=2, seed=0)
    assert check_result(inst, result) == []
    assert result.status == "OPTIMAL"
    assert (sum(result.shortfall.values()), result.objective) == brute_force(inst)


def test_a_minimum_can_cost_score():
    """Some tiny instance's best plan without minimums leaves a region short; with them it scores less."""
    for seed in range(40):
        inst = with_minimums(seed)
        free = solve(dataclasses.replace(inst, region_minimums={}), time_limit=10, workers=2, seed=0)
        placed = {a.group for a in free.assignments}
        short = sum(max(0, least - sum(g.size for g in inst.groups if g.region == region and g.id in placed))
                    for region, least in inst.region_minimums.items())
        held = solve(inst, time_limit=10, workers=2, seed=0)
        if short and sum(held.shortfall.values()) < short:
            assert held.objective < free.objective
            return
    pytest.fail("no tiny instance where a minimum changes the plan")


def _most_people_alone(inst, region: str) -> int:
    """The most people of `region` any plan can place: its groups alone, scored by their people, solved exactly."""
    groups = [dataclasses.replace(g, options=[dataclasses.replace(o, score=g.size) for o in g.options])
              for g in inst.groups if g.region == region]
    result = solve(dataclasses.replace(inst, groups=groups), time_limit=30, workers=2, seed=0)
    assert result.status == "OPTIMAL"
    return result.objective


def test_lns_steps_bring_a_short_region_up(medium_lns):  # noqa: F811
    """A 400-group, capacity-tight instance: the groups scores alone leave out (that could go
    somewhere) become one city, whose minimum is what it could reach; LNS steps bring it up."""
    space = compile_space(medium_lns)
    has_candidates = np.diff(space.cand_start[space.opt_start]) > 0
    placed = {a.group for a in _solve_lns(medium_lns, time_limit=60, workers=2, seed=1, max_steps=40).assignments}
    left_out = {g.id for i, g in enumerate(medium_lns.groups) if has_candidates[i] and g.id not in placed}
    city = "445381"  # a region no group of the instance has
    inst = dataclasses.replace(medium_lns, groups=[
        dataclasses.replace(g, region=city) if g.id in left_out else g for g in medium_lns.groups])
    reachable = _most_people_alone(inst, city)
    assert reachable > 0
    inst = dataclasses.replace(inst, region_minimums={city: reachable})
    fcfs = fcfs_result(inst)

    result = _solve_lns(inst, time_limit=60, workers=2, seed=1, max_steps=40)

    assert check_result(inst, result) == []
    assert check_result(inst, fcfs) == []
    assert result.shortfall.get(city, 0) < reachable
    assert result.shortfall.get(city, 0) <= fcfs.shortfall.get(city, 0)
    assert result.bound is not None and result.bound >= result.objective


def test_region_minimums_round_trip_and_are_checked():
    inst = with_minimums(1)
    again = loads_instance(dumps_instance(inst))
    assert again.region_minimums == inst.region_minimums
    assert "region_minimums" not in instance_to_dict(dataclasses.replace(inst, region_minimums={}))
    raw = instance_to_dict(inst)
    for value, message in (([1], "region_minimums: expected an object"),
                           ({"445100": 3}, "region_minimums 445100: no group has this region"),
                           ({"441900": -1}, "region_minimums 441900: must be at least 0, got -1"),
                           ({"441900": "5"}, "region_minimums 441900: expected an integer")):
        with pytest.raises(FormatError, match=message):
            instance_from_dict({**raw, "region_minimums": value})


def test_the_checker_holds_the_result_to_its_shortfall():
    inst = with_minimums(2)
    result = solve(inst, time_limit=10, workers=2, seed=0)
    assert loads_result(dumps_result(result)).shortfall == result.shortfall
    region = REGIONS[0]
    wrong = dataclasses.replace(result, shortfall={**result.shortfall, region: result.shortfall.get(region, 0) + 5})
    assert any(problem.startswith(f"region {region}:") for problem in check_result(inst, wrong))
    stray = dataclasses.replace(result, shortfall={**result.shortfall, "445100": 1})
    assert "region 445100: the result reports a shortfall, but the instance sets no minimum" in check_result(inst, stray)
