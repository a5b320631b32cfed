import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itineraries.solver import bound, engine
from itineraries.solver.bound import mip_bound, solve_lp
from itineraries.solver.checker import check_plan, check_result
from itineraries.solver.engine import FixedAssignmentError, fcfs_result, solve
from itineraries.solver.instance import load_instance
from itineraries.solver.neighbourhoods import NeighbourhoodPicker
from itineraries.solver.space import compile_space
from itineraries.solver.subproblem import StepPipeline

from .tiny import assignment, brute_force_optimum, random_instance

SMALL = "/work/shared/instances/small-s4.json"
YEAR = "/work/shared/instances/year-s1.json"


@pytest.fixture(scope="module")
def small():
    return load_instance(SMALL)


@pytest.fixture(scope="module")
def year():
    return load_instance(YEAR)


def test_fcfs_reproduces_the_reference_figures(small, year):
    assert fcfs_result(small).objective == 36_141
    result = fcfs_result(year)
    assert result.objective == 7_909_513
    assert check_result(year, result) == []


def test_lp_bound_on_small(small):
    lp = solve_lp(compile_space(small))
    assert lp.optimal
    assert lp.value == pytest.approx(41_004.667, abs=1e-2)
    assert lp.bound == 41_004  # scores are integers: floor of the LP value


def _full_lp_value(space, rows, cols, vals, upper) -> float:
    """The LP relaxation with every candidate and every row, solved by HiGHS in one go."""
    import highspy
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    n = space.n_candidates
    highs.addVars(n, np.zeros(n), np.ones(n))
    highs.changeColsCost(n, np.arange(n, dtype=np.int32), -space.opt_score[space.cand_option].astype(float))
    by_row = bound._compressed(cols, rows, vals, len(upper))
    highs.addRows(len(upper), np.full(len(upper), -highspy.kHighsInf), upper, len(by_row.index),
                  by_row.start[:-1].astype(np.int32), by_row.index.astype(np.int32), by_row.value)
    highs.run()
    return -highs.getInfo().objective_function_value


def _lp_instances():
    yield from (random_instance(seed, n_groups=n, n_bases=3, days=14)
                for seed, n in ((1, 12), (2, 20), (3, 30), (4, 40)))
    yield load_instance(SMALL)


@pytest.mark.parametrize("inst", list(_lp_instances()), ids=lambda inst: f"{len(inst.groups)}-groups")
def test_lp_with_rows_and_columns_generated_equals_the_full_lp(inst):
    """Capacity rows enter only once overfilled and columns only once they price out: the end
    must be the LP over every row and column, and its solution must keep every row."""
    space = compile_space(inst)
    lp = solve_lp(space)
    rows, cols, vals, upper, *_ = bound._model_rows(space)
    assert lp.optimal
    assert lp.value == pytest.approx(_full_lp_value(space, rows, cols, vals, upper), abs=1e-6)
    assert np.all(np.bincount(rows, weights=vals * lp.x[cols], minlength=len(upper)) <= upper + 1e-6)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), price_seed=st.integers(0, 10_000), kept=st.booleans())
def test_the_bound_keeping_group_rows_holds_for_any_prices_and_is_the_tighter(seed, price_seed, kept):
    """The bound `on_near_optimal` is judged by, for prices that are not the LP's: never below
    the optimum (a booking kept where `kept`), never above the bound that prices the group rows."""
    inst = random_instance(seed)
    space = compile_space(inst)
    rows, cols, vals, upper, *_ = bound._model_rows(space)
    rng = np.random.default_rng(price_seed)
    cost = space.opt_score[space.cand_option].astype(float)
    largest = np.zeros(len(upper))
    np.maximum.at(largest, rows, vals)
    prices = rng.random(len(upper)) * (rng.random(len(upper)) < 0.6) * cost.max() / np.maximum(largest, 1e-9)
    reduced = cost - np.bincount(cols, weights=vals * prices[rows], minlength=space.n_candidates)
    lower, higher = np.zeros(space.n_candidates), np.ones(space.n_candidates)
    fixed_chosen = np.full(space.n_groups, -1)
    feasible_alone = [c for c in range(space.n_candidates) if check_plan(inst, [space.assignment(c)]) == []]
    if kept and feasible_alone:
        pin = feasible_alone[int(rng.integers(len(feasible_alone)))]
        group = space.opt_group[space.cand_option]
        higher[group == group[pin]] = 0.0
        lower[pin] = higher[pin] = 1.0
        fixed_chosen[group[pin]] = pin
        optimum = solve_lp(space, fixed_chosen).value  # the LP keeping that booking bounds every such plan
    else:
        optimum = brute_force_optimum(inst)
    keeping = bound._bound_keeping_group_rows(prices, upper, reduced, space.opt_group[space.cand_option],
                                              space.n_groups, lower, higher)
    assert optimum <= keeping + 1e-6 and keeping <= bound._dual_bound(prices, upper, reduced, lower, higher)


def test_the_lp_hands_out_its_near_optimal_restricted_lp_once(year):
    """Half-way through the year's LP its prices prove it within NEAR_OPTIMAL: the solution handed
    out then bounds the LP from above and already places groups, and the LP goes on to its optimum."""
    space = compile_space(year)
    near = []
    lp = solve_lp(space, on_near_optimal=near.append, should_stop=lambda: False)
    assert lp.optimal and len(near) == 1
    early = near[0]
    assert not early.optimal and early.rounds < lp.rounds
    assert lp.value <= early.bound + 1 and early.bound - early.value <= bound.NEAR_OPTIMAL * early.value
    assert early.value <= lp.value + 1e-6 and early.x.sum() > 0.9 * lp.x.sum()


def _record_near_optimal_hand_outs(monkeypatch) -> list[bool]:
    """Per solve, whether the LP handed out its restricted LP before it ended; the first pricing
    round's is handed out (NEAR_OPTIMAL 100 %: these LPs take a few rounds only)."""
    handed_out = []
    lp_near_optimal = engine._lp_near_optimal

    def recording(*args):
        running, near = lp_near_optimal(*args)
        handed_out.append(near is not None)
        return running, near

    monkeypatch.setattr(engine, "_lp_near_optimal", recording)
    monkeypatch.setattr(bound, "NEAR_OPTIMAL", 1.0)
    return handed_out


def test_a_timed_solve_searches_beside_the_lp(medium_lns, monkeypatch):
    """With two workers the search starts from the near-optimal restricted LP, one step at a time
    while the LP finishes on the other core; the bound and plan at the end are the usual ones."""
    started_with_depth = []
    pipeline_init = StepPipeline.__init__

    def recording_init(pipeline, space, state, executor, depth, ranking=None):
        started_with_depth.append(depth)
        pipeline_init(pipeline, space, state, executor, depth, ranking)

    near_handed_out = _record_near_optimal_hand_outs(monkeypatch)
    monkeypatch.setattr(StepPipeline, "__init__", recording_init)
    calls = []
    result = _solve_lns(medium_lns, time_limit=4, workers=2, seed=1, progress=lambda *figures: calls.append(figures))
    assert near_handed_out == [True]
    assert started_with_depth == [1]
    assert check_result(medium_lns, result) == []
    assert result.bound == solve_lp(compile_space(medium_lns)).bound
    assert result.bound >= result.objective >= fcfs_result(medium_lns).objective
    objectives = [c[0] for c in calls]
    assert objectives == sorted(objectives) and calls[-1][2] is not None


def test_a_timed_re_plan_beside_the_lp_keeps_fixed_assignments(medium_lns, monkeypatch):
    """A re-plan (accepted bookings fixed) starting from the restricted LP keeps every one of them."""
    plan = _solve_lns(medium_lns, time_limit=60, workers=2, seed=5, max_steps=2)
    pins = plan.assignments[::7]
    near_handed_out = _record_near_optimal_hand_outs(monkeypatch)
    result = _solve_lns(medium_lns, time_limit=3, workers=2, seed=5, fixed=pins)
    assert near_handed_out == [True]
    assert check_result(medium_lns, result) == []
    assert set(pins) <= set(result.assignments)
    assert result.bound is not None and result.bound >= result.objective


def test_a_search_that_fails_stops_the_lp_beside_it(year, monkeypatch):
    """An error in the search is raised at once; the LP in its thread stops at its next run
    instead of going on to its optimum first."""
    lps = []
    solve_lp_in_engine = engine.solve_lp

    def recording_lp(*args, **kwargs):
        lps.append(solve_lp_in_engine(*args, **kwargs))
        return lps[-1]

    def failing_pick(*args):
        raise RuntimeError("the search failed")

    monkeypatch.setattr(engine, "solve_lp", recording_lp)
    monkeypatch.setattr(NeighbourhoodPicker, "pick_avoiding", failing_pick)
    with pytest.raises(RuntimeError, match="the search failed"):
        solve(year, time_limit=60, workers=2, seed=0)
    assert len(lps) == 1 and not lps[0].optimal


def test_cancelling_while_the_search_runs_beside_the_lp_keeps_the_best_plan(year):
    """A cancel after the search started from the restricted LP stops both: the LP at its next
    run (no bound then), the search at its next step; the plan kept is the best one reported."""
    reported = []
    cancelled = []

    def progress(objective, bound, gap, elapsed):
        reported.append(objective)
        if objective > 7_909_513 and not cancelled:  # a plan better than FCFS: the search has its start
            cancelled.append(elapsed)

    result = solve(year, time_limit=60, workers=2, seed=0, progress=progress, should_stop=lambda: bool(cancelled))
    assert cancelled and result.wall_seconds < cancelled[0] + 5.0
    assert result.bound is None and result.status == "FEASIBLE"
    assert check_result(year, result) == []
    assert result.objective >= max(reported) > 7_909_513


def test_mip_bound_is_tighter_than_the_lp_and_proves_small_s4(small):
    space = compile_space(small)
    proof = mip_bound(space, time_limit=60)
    assert proof.optimal and proof.bound == proof.best_objective == 36_141  # LP: 41,004
    fcfs = fcfs_result(small)
    with_incumbent = mip_bound(space, time_limit=60,
                               incumbent=np.array([space.find_candidate(a) for a in fcfs.assignments]))
    assert with_incumbent.bound == 36_141


def test_mip_bound_out_of_time_before_its_root_has_no_bound(year):
    assert mip_bound(compile_space(year), time_limit=0.1).bound is None


@pytest.mark.parametrize("seed", range(6))
def test_mip_bound_never_cuts_off_the_optimum(seed):
    inst = random_instance(seed)
    proof = mip_bound(compile_space(inst), time_limit=30)
    optimum = brute_force_optimum(inst)
    assert proof.bound >= optimum
    if proof.optimal:
        assert proof.bound == proof.best_objective == optimum


def test_small_s4_is_solved_to_proven_optimality(small):
    result = solve(small, time_limit=20, workers=2, seed=0)
    assert check_result(small, result) == []
    assert result.status == "OPTIMAL"
    assert result.objective == 36_141
    assert result.bound == 36_141


@pytest.mark.parametrize("seed", range(12))
def test_tiny_random_instances_match_brute_force(seed):
    inst = random_instance(seed)
    result = solve(inst, time_limit=10, workers=2, seed=0)
    assert check_result(inst, result) == []
    assert result.status == "OPTIMAL"
    assert result.objective == brute_force_optimum(inst)
    lp = solve_lp(compile_space(inst))
    assert lp.bound >= result.objective


@pytest.mark.parametrize("seed", range(3))
def test_thirty_group_instances_are_proved_optimal(seed):
    inst = random_instance(100 + seed, n_groups=30, n_bases=4, days=20)
    result = solve(inst, time_limit=20, workers=2, seed=0)
    assert check_result(inst, result) == []
    assert result.status == "OPTIMAL"
    assert result.bound == result.objective


@pytest.fixture(scope="module")
def medium_lns():
    """A 400-group instance of the benchmark family, solved by LNS (the whole-model shortcut off)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("gen_instance", "/work/shared/tools/gen_instance.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    from itineraries.solver.instance import instance_from_dict
    return instance_from_dict(gen.generate(7, 400, 20, "autumn-crunch", "medium-s7"))


def _solve_lns(inst, **kwargs):
    saved = engine.WHOLE_MODEL_MAX_CANDIDATES
    engine.WHOLE_MODEL_MAX_CANDIDATES = 0
    try:
        return solve(inst, **kwargs)
    finally:
        engine.WHOLE_MODEL_MAX_CANDIDATES = saved


def test_lns_plans_are_valid_and_beat_fcfs(medium_lns):
    result = _solve_lns(medium_lns, time_limit=60, workers=2, seed=1, max_steps=15)
    assert check_result(medium_lns, result) == []
    assert result.objective >= fcfs_result(medium_lns).objective
    assert result.bound is not None and result.bound >= result.objective


def test_fixed_seed_and_step_budget_is_deterministic(medium_lns):
    first = _solve_lns(medium_lns, time_limit=60, workers=2, seed=3, max_steps=6)
    second = _solve_lns(medium_lns, time_limit=60, workers=2, seed=3, max_steps=6)
    assert first.assignments == second.assignments
    assert first.objective == second.objective


def test_fixed_assignments_are_kept(small):
    free = solve(small, time_limit=10, workers=2, seed=0)
    # pin a group the optimum leaves out, somewhere it fits on its own, and one placed group elsewhere
    space = compile_space(small)
    placed = {a.group for a in free.assignments}
    pins = []
    for g in range(space.n_groups):
        gid = space.group_ids[g]
        cands = list(space.candidates_of_group(g))
        if gid not in placed and cands and check_plan(small, [space.assignment(cands[-1])]) == []:
            pins.append(space.assignment(cands[-1]))
            break
    alternative = next(space.assignment(c) for placed_one in free.assignments
                       for c in space.candidates_of_group(space.group_of[placed_one.group])
                       if space.assignment(c) != placed_one and check_plan(small, pins + [space.assignment(c)]) == [])
    pins.append(alternative)
    result = solve(small, time_limit=10, workers=2, seed=0, fixed=pins)
    assert check_result(small, result) == []
    for pin in pins:
        assert pin in result.assignments
    assert result.objective <= free.objective


def test_infeasible_fixed_assignments_are_refused(small):
    g = small.groups[0]
    with pytest.raises(FixedAssignmentError, match="outside its window"):
        solve(small, time_limit=5, fixed=[assignment(g.id, g.options[0].base, 0)])


def test_should_stop_still_returns_a_valid_plan(small):
    calls = []
    result = solve(small, time_limit=10, should_stop=lambda: True,
                   progress=lambda *figures: calls.append(figures))
    assert check_result(small, result) == []
    assert result.objective >= 36_141 - 1  # FCFS happens to be optimal here
    assert calls and calls[0][0] == 36_141


def test_cancelling_during_the_lp_interrupts_it(year):
    """A cancel pressed while HiGHS solves the year's LP (seconds) is noticed inside the simplex."""
    asked_at = []

    def stop_after_first_question() -> bool:
        asked_at.append(len(asked_at))
        return len(asked_at) > 1  # the engine asks once before the LP starts; the LP then asks

    result = solve(year, time_limit=60, should_stop=stop_after_first_question)
    assert len(asked_at) >= 2
    assert result.status == "FEASIBLE" and result.bound is None  # the LP never finished
    assert result.objective >= 7_909_513  # at least the FCFS plan, still valid
    assert check_result(year, result) == []


def test_an_interrupted_lp_still_bounds_every_plan(year):
    space = compile_space(year)
    lp = solve_lp(space, should_stop=lambda: True)
    assert not lp.optimal
    assert lp.bound >= 8_542_125  # weaker than the LP optimum, never below it


def test_the_lp_stops_at_its_time_limit_not_before(year):
    """HiGHS sums its run time over the column generation's re-solves: holding each re-solve
    to the time left as if its clock started afresh stopped the LP at about half its limit."""
    lp = solve_lp(compile_space(year), time_limit=1.0)
    assert lp.optimal or lp.seconds >= 0.8
    assert lp.bound >= 8_542_125


def test_progress_reports_bound_and_gap(small):
    calls = []
    solve(small, time_limit=10, progress=lambda *figures: calls.append(figures))
    objective, bound, gap, elapsed = calls[-1]
    assert objective == 36_141 and bound == 36_141 and gap == 0 and elapsed >= 0
    assert all(np.isfinite(c[3]) for c in calls)


def test_lns_progress_reports_the_whole_plan(medium_lns):
    """While steps solve side by side their groups are out of the plan; progress counts them in."""
    calls = []
    result = _solve_lns(medium_lns, time_limit=60, workers=2, seed=2, max_steps=8,
                        progress=lambda *figures: calls.append(figures))
    objectives = [c[0] for c in calls]
    assert objectives == sorted(objectives)
    assert objectives[-1] == result.objective
    assert all(c[1] is None or c[0] <= c[1] for c in calls)


def test_one_worker_runs_steps_one_at_a_time(medium_lns):
    first = _solve_lns(medium_lns, time_limit=60, workers=1, seed=4, max_steps=5)
    second = _solve_lns(medium_lns, time_limit=60, workers=1, seed=4, max_steps=5)
    assert check_result(medium_lns, first) == []
    assert first.assignments == second.assignments


def test_lns_keeps_fixed_assignments(medium_lns):
    plan = _solve_lns(medium_lns, time_limit=60, workers=2, seed=5, max_steps=2)
    pins = plan.assignments[::7]
    result = _solve_lns(medium_lns, time_limit=60, workers=2, seed=5, max_steps=8, fixed=pins)
    assert check_result(medium_lns, result) == []
    assert set(pins) <= set(result.assignments)


def test_lns_honours_nightly_capacity(medium_lns):
    """Nightly figures below and above the base capacity, through the LP and overlapping LNS steps."""
    import dataclasses
    import datetime as dt
    bases = []
    for i, b in enumerate(medium_lns.bases):
        nights = {medium_lns.first_night + dt.timedelta(days=d): (max(0, b.beds + (-40 if (d + i) % 3 else 60)), None)
                  for d in range(0, 365, 2)}
        bases.append(dataclasses.replace(b, nightly_capacity=nights))
    inst = dataclasses.replace(medium_lns, bases=tuple(bases))
    result = _solve_lns(inst, time_limit=60, workers=2, seed=6, max_steps=10)
    fcfs = fcfs_result(inst)
    assert check_result(inst, result) == []
    assert check_result(inst, fcfs) == []
    assert result.bound is not None and result.bound >= result.objective >= fcfs.objective


def test_a_pick_with_no_free_group_does_not_leave_one_step_at_a_time(medium_lns, monkeypatch):
    """One empty pick once left the pipeline holding a single step for the rest of the search."""
    in_flight_when_waiting = []
    finish_one = StepPipeline.finish_one
    pick_avoiding = NeighbourhoodPicker.pick_avoiding
    picks = itertools.count()

    def waiting(pipeline, **kwargs):
        in_flight_when_waiting.append(len(pipeline.in_flight))
        return finish_one(pipeline, **kwargs)

    def empty_once(picker, *args):
        free = pick_avoiding(picker, *args)
        return free[:0] if next(picks) == 3 else free

    monkeypatch.setattr(StepPipeline, "finish_one", waiting)
    monkeypatch.setattr(NeighbourhoodPicker, "pick_avoiding", empty_once)
    _solve_lns(medium_lns, time_limit=60, workers=2, seed=1, max_steps=12)
    # two steps in flight at every wait but the one after the empty pick and the last
    assert in_flight_when_waiting.count(1) == 2
