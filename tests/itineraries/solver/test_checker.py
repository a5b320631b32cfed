import datetime as dt

from itineraries.solver.checker import check_plan, check_result, plan_objective
from itineraries.solver.instance import Result, Unplaced

from .tiny import assignment, base, group, instance

INSTANCE = instance(
    bases=[base("B1", beds=50, rooms=25, closed=(5,)), base("B2", beds=100, rooms=40)],
    groups=[
        group("G1", 30, 2, 0, 3, [("B1", 100, "500.00"), ("B2", 80, "400.00")]),
        group("G2", 30, 2, 0, 3, [("B1", 90, "500.00")]),
        group("G3", 20, 3, 6, 8, [("B2", 60, "300.00")], rooms=30),
        group("G4", 10, 1, 0, 9, [("B2", 10, "600.00")], fund="F2"),
        group("G5", 10, 1, 0, 9, [("B2", 10, "600.00")], fund="F2"),
    ],
    budgets={"F1": "100000.00", "F2": "1000.00"},
)


def only(violations, word):
    return [v for v in violations if word in v]


def test_valid_plan_has_no_violations():
    plan = [assignment("G1", "B1", 0), assignment("G2", "B1", 2), assignment("G3", "B2", 6),
            assignment("G4", "B2", 0)]
    assert check_plan(INSTANCE, plan) == []
    assert plan_objective(INSTANCE, plan) == 100 + 90 + 60 + 10


def test_beds_over_capacity():
    violations = check_plan(INSTANCE, [assignment("G1", "B1", 0), assignment("G2", "B1", 1)])
    assert only(violations, "beds used") == ["base B1 on 2025-04-02: 60 beds used, capacity 50"]


def test_rooms_over_capacity():
    violations = check_plan(INSTANCE, [assignment("G3", "B2", 6), assignment("G4", "B2", 7),
                                       assignment("G1", "B2", 7)])
    assert only(violations, "rooms used") and not only(violations, "beds used")


def test_arrival_outside_window():
    assert only(check_plan(INSTANCE, [assignment("G1", "B1", 4)]), "outside its window")


def test_stay_outside_horizon():
    assert only(check_plan(INSTANCE, [assignment("G3", "B2", 8)]), "outside the horizon")


def test_closed_night():
    # G1 window is 0..3, stays 2 nights: arriving on 4 would also break the window; use a wide group
    inst = instance([base("B1", 50, 25, closed=(5,))], [group("G", 10, 2, 0, 8, [("B1", 5, "1.00")])])
    assert only(check_plan(inst, [assignment("G", "B1", 4)]), "when it is closed")


def test_not_an_option():
    assert only(check_plan(INSTANCE, [assignment("G2", "B2", 0)]), "not one of its options")


def test_fund_overdrawn():
    violations = check_plan(INSTANCE, [assignment("G4", "B2", 0), assignment("G5", "B2", 1)])
    assert violations == ["fund F2 overdrawn: ¥1,200.00 drawn, budget ¥1,000.00"]


def test_group_placed_twice():
    assert only(check_plan(INSTANCE, [assignment("G1", "B1", 0), assignment("G1", "B2", 0)]), "more than once")


def test_unknown_group_and_base():
    assert only(check_plan(INSTANCE, [assignment("G9", "B1", 0)]), "unknown group")


def test_result_bookkeeping():
    result = Result(instance="tiny", status="FEASIBLE", objective=99, bound=50, wall_seconds=0.0,
                    assignments=[assignment("G1", "B1", 0)],
                    unplaced=[Unplaced("G2", "x"), Unplaced("G3", " "), Unplaced("G1", "y")])
    violations = check_result(INSTANCE, result)
    assert "objective 99 differs from the sum of scores 100" in violations
    assert "bound 50 is below the plan's objective 100" in violations
    assert "group G1 is both placed and listed as unplaced" in violations
    assert "group G4 is neither placed nor listed as unplaced" in violations
    assert "group G3 is unplaced without a reason" in violations


def test_checker_dates_are_real_dates():
    assert assignment("G1", "B1", 0).arrival == dt.date(2025, 4, 1)
