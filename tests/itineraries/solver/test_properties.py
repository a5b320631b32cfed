"""Random instances: every plan the solver or FCFS returns is valid and accounts for every group."""
from hypothesis import given, settings
from hypothesis import strategies as st

from itineraries.solver.checker import check_result
from itineraries.solver.engine import fcfs_result, solve
from itineraries.solver.instance import dumps_instance, loads_instance

from .tiny import random_instance


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n_groups=st.integers(1, 14), n_bases=st.integers(1, 4),
       days=st.integers(3, 15))
def test_plans_are_valid_and_never_below_fcfs(seed, n_groups, n_bases, days):
    inst = random_instance(seed, n_groups=n_groups, n_bases=n_bases, days=days)
    assert loads_instance(dumps_instance(inst)) == inst
    fcfs = fcfs_result(inst)
    result = solve(inst, time_limit=5, workers=1, seed=seed)
    assert check_result(inst, fcfs) == []
    assert check_result(inst, result) == []
    assert result.objective >= fcfs.objective
    assert result.bound is not None and result.bound >= result.objective
