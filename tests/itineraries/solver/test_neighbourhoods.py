import numpy as np

from itineraries.solver.neighbourhoods import NeighbourhoodPicker
from itineraries.solver.space import compile_space
from itineraries.solver.state import PlanState

from . import tiny


def _space():
    """Two funds, each with groups that could score more than the empty plan gives them."""
    return compile_space(tiny.instance(
        [tiny.base("B1", beds=40, rooms=40), tiny.base("B2", beds=40, rooms=40)],
        [tiny.group(f"G{i}", 10, 2, i % 5, i % 5 + 2, [("B1", 20, "100.00"), ("B2", 10, "100.00")],
                    fund="F1" if i % 2 else "F2") for i in range(12)],
        budgets={"F1": "1000.00", "F2": "1000.00"}, days=10))


def _kinds(fund_dual):
    space = _space()
    picker = NeighbourhoodPicker(space, np.zeros(0, dtype=np.int64), seed=0)
    picker.set_prices(np.ones(space.n_candidates), np.zeros(space.n_groups), fund_dual)
    return {picker.pick(PlanState(space), target=4)[0] for _ in range(200)}


def test_fund_steps_only_when_the_lp_prices_some_fund():
    assert "fund" in _kinds(np.array([0.0, 0.3]))
    assert "fund" not in _kinds(np.zeros(2))


def test_a_fund_step_takes_a_fund_with_a_group_neither_busy_nor_fixed():
    space = _space()
    fund_one = np.flatnonzero(space.group_fund == list(space.fund_ids).index("F1"))
    picker = NeighbourhoodPicker(space, frozen_groups=fund_one[:3], seed=0)
    picker.set_prices(np.ones(space.n_candidates), np.zeros(space.n_groups), np.array([0.3, 0.3]))
    busy = np.zeros(space.n_groups, dtype=bool)
    busy[fund_one[3:]] = True  # F1 has nothing left to move
    for _ in range(100):
        kind, free = picker.pick(PlanState(space), target=4, busy=busy)
        assert (~busy[free]).any()
        if kind == "fund":
            assert (space.group_fund[free] != space.group_fund[fund_one[0]]).all()
