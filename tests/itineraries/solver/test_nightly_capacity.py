"""The optional `nightly_capacity` extension: per base-night figures replace the base's capacity."""
import datetime as dt

import pytest

from itineraries.solver.bound import solve_lp
from itineraries.solver.checker import check_plan, check_result
from itineraries.solver.engine import fcfs_result, solve
from itineraries.solver.instance import FormatError, instance_from_dict, instance_to_dict
from itineraries.solver.space import compile_space

from .tiny import FIRST_NIGHT, assignment, base, brute_force_optimum, day, group, instance, random_instance

# B1 offers 50 beds / 25 rooms, but only 20 beds on night 2 and 100 beds / 50 rooms on nights 5-6
INSTANCE = instance(
    bases=[base("B1", beds=50, rooms=25,
                nightly={2: {"beds": 20}, 5: {"beds": 100, "rooms": 50}, 6: {"beds": 100, "rooms": 50}})],
    groups=[
        group("G1", 40, 2, 1, 1, [("B1", 100, "500.00")]),          # would need night 2: blocked
        group("G2", 40, 2, 5, 5, [("B1", 80, "400.00")]),           # nights 5-6
        group("G3", 40, 2, 5, 5, [("B1", 70, "400.00")]),           # fits beside G2 only on nightly figures
        group("G4", 15, 3, 0, 4, [("B1", 30, "300.00")]),
    ],
)


def test_parsed_and_written_back():
    b = INSTANCE.bases[0]
    assert b.nightly_capacity[FIRST_NIGHT + dt.timedelta(days=2)] == (20, None)
    assert b.beds_on(FIRST_NIGHT + dt.timedelta(days=2)) == 20
    assert b.rooms_on(FIRST_NIGHT + dt.timedelta(days=2)) == 25  # not listed: the base's figure
    assert (b.beds_on(FIRST_NIGHT + dt.timedelta(days=5)), b.rooms_on(FIRST_NIGHT + dt.timedelta(days=5))) == (100, 50)
    assert b.beds_on(FIRST_NIGHT) == 50
    raw = instance_to_dict(INSTANCE)
    assert raw["bases"][0]["nightly_capacity"][day(2)] == {"beds": 20}
    assert instance_from_dict(raw) == INSTANCE


def test_absent_means_unchanged():
    plain = instance(bases=[base("B1", beds=50, rooms=25)], groups=[group("G1", 40, 2, 1, 1, [("B1", 100, "1.00")])])
    assert plain.bases[0].nightly_capacity is None
    assert "nightly_capacity" not in instance_to_dict(plain)["bases"][0]
    space = compile_space(plain)
    assert (space.beds_night == 50).all() and (space.rooms_night == 25).all()


@pytest.mark.parametrize("bad", [{day(0): {"beds": -1}}, {day(0): {"beds": "5"}}, {"2025-13-01": {"beds": 5}}, [1]])
def test_malformed_is_rejected(bad):
    raw = instance_to_dict(INSTANCE)
    raw["bases"][0]["nightly_capacity"] = bad
    with pytest.raises(FormatError):
        instance_from_dict(raw)


def test_checker_uses_the_nightly_figures():
    assert check_plan(INSTANCE, [assignment("G2", "B1", 5), assignment("G3", "B1", 5)]) == []
    violations = check_plan(INSTANCE, [assignment("G1", "B1", 1)])
    assert violations == ["base B1 on 2025-04-03: 40 beds used, capacity 20"]
    # night 1 is not listed: the base's 50 beds apply
    violations = check_plan(INSTANCE, [assignment("G1", "B1", 1), assignment("G4", "B1", 0)])
    assert [v for v in violations if "beds" in v] == ["base B1 on 2025-04-02: 55 beds used, capacity 50",
                          "base B1 on 2025-04-03: 55 beds used, capacity 20"]


def test_space_and_lp_follow_the_nights():
    space = compile_space(INSTANCE)
    assert space.beds_night[0, 2] == 20 and space.beds_night[0, 5] == 100 and space.rooms_night[0, 6] == 50
    g1 = space.group_of["G1"]
    assert len(space.candidates_of_group(g1)) == 0  # its only stay meets the 20-bed night
    result = solve(INSTANCE, time_limit=10, workers=2, seed=0)
    assert check_result(INSTANCE, result) == []
    assert result.status == "OPTIMAL"
    placed = {a.group for a in result.assignments}
    assert {"G2", "G3", "G4"} <= placed and "G1" not in placed
    assert result.objective == brute_force_optimum(INSTANCE) == 80 + 70 + 30
    reason = next(u.reason for u in result.unplaced if u.group == "G1")
    assert "fewer than 40 beds" in reason
    assert solve_lp(space).bound >= result.objective


@pytest.mark.parametrize("seed", range(10))
def test_random_nightly_instances_match_brute_force(seed):
    inst = random_instance(500 + seed, n_groups=7, n_bases=2, days=8, nightly=True)
    result = solve(inst, time_limit=10, workers=2, seed=0)
    assert check_result(inst, result) == []
    assert check_result(inst, fcfs_result(inst)) == []
    assert result.status == "OPTIMAL"
    assert result.objective == brute_force_optimum(inst)
