from itineraries.solver.checker import check_result
from itineraries.solver.engine import solve

from .tiny import base, group, instance


def reasons_of(inst):
    result = solve(inst, time_limit=5, workers=1)
    assert check_result(inst, result) == []
    return {u.group: u.reason for u in result.unplaced}


def test_group_too_big_for_every_base():
    inst = instance([base("B1", 50, 25)], [group("G", 60, 2, 0, 3, [("B1", 10, "1.00")])])
    assert reasons_of(inst) == {"G": "base B1 has 50 beds, the group needs 60"}


def test_base_closed_for_every_arrival():
    inst = instance([base("B1", 50, 25, closed=(3,))], [group("G", 10, 2, 2, 3, [("B1", 10, "1.00")])])
    assert reasons_of(inst) == {"G": "base B1 closed on 2025-04-04 for every arrival in the window"}


def test_stay_cannot_fit_in_horizon():
    inst = instance([base("B1", 50, 25)], [group("G", 10, 3, 9, 9, [("B1", 10, "1.00")])])
    assert "inside the horizon" in reasons_of(inst)["G"]


def test_fund_exhausted():
    inst = instance([base("B1", 100, 50)],
                    [group("G1", 10, 1, 0, 0, [("B1", 50, "900.00")]),
                     group("G2", 10, 1, 0, 0, [("B1", 10, "600.00")])],
                    budgets={"F1": "1234.00"})
    assert reasons_of(inst) == {"G2": "fund F1 has ¥334.00 left, option B1 needs ¥600.00"}


def test_capacity_taken_by_higher_scores():
    inst = instance([base("B1", 50, 25)],
                    [group("G1", 40, 2, 0, 0, [("B1", 100, "1.00")]),
                     group("G2", 42, 2, 0, 0, [("B1", 50, "1.00")])])
    assert reasons_of(inst) == {"G2": "not placed: lower score than the groups that took the capacity "
                                      "(best option base B1 would need 42 beds on 2025-04-01, 10 free)"}


def test_capacity_taken_by_fixed_bookings():
    from .tiny import assignment
    inst = instance([base("B1", 50, 25)],
                    [group("G1", 40, 2, 0, 1, [("B1", 100, "1.00")]),
                     group("G2", 42, 2, 0, 1, [("B1", 500, "1.00")])])
    result = solve(inst, time_limit=5, fixed=[assignment("G1", "B1", 0)])
    assert check_result(inst, result) == []
    assert {u.group: u.reason for u in result.unplaced} == {
        "G2": "no option has 42 beds free on any arrival 2025-04-01..2025-04-02"}


def test_every_unplaced_group_of_small_s4_has_a_reason():
    from itineraries.solver.instance import load_instance
    inst = load_instance("/work/shared/instances/small-s4.json")
    result = solve(inst, time_limit=10)
    assert len(result.unplaced) == len(inst.groups) - len(result.assignments)
    assert all(u.reason.strip() for u in result.unplaced)
