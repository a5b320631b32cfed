import re
import threading
from concurrent.futures import Future

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itineraries.solver.checker import check_plan
from itineraries.solver.fcfs import first_come_first_served
from itineraries.solver.instance import load_instance
from itineraries.solver.space import compile_space, stays_of
from itineraries.solver.state import PlanState
from itineraries.solver.subproblem import (
    CANDIDATES_PER_GROUP, SAMPLED_CANDIDATES_PER_GROUP, Prepared, StepPipeline, best_per_group, build_model_text,
    open_candidates, sampled_per_group,
)

from .tiny import random_instance

SMALL = "/work/shared/instances/small-s4.json"


def test_each_group_brings_its_best_candidates_and_its_incumbent():
    space = compile_space(load_instance(SMALL))
    ranking = np.random.default_rng(0).random(space.n_candidates)
    cands = np.arange(space.n_candidates)
    group_of = space.opt_group[space.cand_option]
    widest = int(np.bincount(group_of).argmax())  # a group with more candidates than it may bring
    assert np.sum(group_of == widest) > 2
    incumbent = int(np.argmin(np.where(group_of == widest, ranking, np.inf)))  # its worst one

    kept = best_per_group(space, cands, ranking, 2, {incumbent})

    assert incumbent in kept
    assert np.all(np.diff(kept) > 0)  # still in candidate order
    for group in range(space.n_groups):
        own = cands[group_of == group]
        best_two = set(own[np.argsort(-ranking[own])[:2]].tolist())
        expected = best_two | ({incumbent} if group == widest else set())
        assert set(kept[group_of[kept] == group].tolist()) == expected


def test_no_open_candidates_give_none():
    space = compile_space(load_instance(SMALL))
    empty = np.zeros(0, dtype=np.int64)
    assert len(best_per_group(space, empty, np.zeros(space.n_candidates), 3, set())) == 0
    assert len(sampled_per_group(space, empty, 3, np.random.default_rng(0))) == 0


def test_a_random_few_per_group_differ_from_draw_to_draw():
    space = compile_space(load_instance(SMALL))
    cands = np.arange(space.n_candidates)
    group_of = space.opt_group[space.cand_option]
    draws = [sampled_per_group(space, cands, 2, np.random.default_rng(seed)) for seed in range(5)]
    for drawn in draws:
        assert np.all(np.diff(drawn) > 0)
        assert np.array_equal(np.bincount(group_of[drawn], minlength=space.n_groups),
                              np.minimum(np.bincount(group_of, minlength=space.n_groups), 2))
    assert len({tuple(drawn.tolist()) for drawn in draws}) > 1


def test_a_step_brings_each_groups_best_candidates_and_a_random_few_more():
    space = compile_space(load_instance(SMALL))
    ranking = np.random.default_rng(0).random(space.n_candidates)
    groups = np.arange(space.n_groups)
    state = PlanState(space)
    steps = [Prepared(space, state, groups, set(), ranking, seed=seed) for seed in range(5)]
    group_of = space.opt_group[space.cand_option]
    open_now = open_candidates(space, state, groups)
    best = best_per_group(space, open_now, ranking, CANDIDATES_PER_GROUP - SAMPLED_CANDIDATES_PER_GROUP, set())
    for step in steps:
        assert set(best.tolist()) <= set(step.cands.tolist())
        per_group = np.bincount(group_of[step.cands], minlength=space.n_groups)
        assert per_group.max() <= CANDIDATES_PER_GROUP
    assert len({tuple(step.cands.tolist()) for step in steps}) > 1  # the others are drawn anew each step


class FirstStepHeldBack:
    """An executor that solves each step at once but gives the first one's answer only after a while."""

    def __init__(self, delay: float):
        self.delay = delay
        self.first_done = None

    def submit(self, fn, *args, **kwargs):
        future, answer = Future(), fn(*args, **kwargs)
        if self.first_done is None:
            self.first_done = threading.Timer(self.delay, future.set_result, (answer,))
            self.first_done.start()
        else:
            future.set_result(answer)
        return future


def test_overlapping_steps_applied_as_they_finish_keep_the_plan_valid():
    instance = load_instance(SMALL)
    space = compile_space(instance)
    plan = first_come_first_served(space, PlanState(space))
    start_objective = plan.objective
    executor = FirstStepHeldBack(delay=0.5)
    pipeline = StepPipeline(space, plan, executor, depth=2)
    first, second = np.arange(0, 15), np.arange(15, 30)
    for groups in (first, second):
        pipeline.start(groups, time_limit=10, deterministic_limit=None, seed=0)

    pipeline.finish_one(in_start_order=False)  # the second step: the first is still solving

    assert len(pipeline.in_flight) == 1
    assert pipeline.busy[first].all() and not pipeline.busy[second].any()
    pipeline.finish_one(in_start_order=False)
    assert not pipeline.in_flight and not pipeline.busy.any()
    assert check_plan(instance, [space.assignment(c) for c in plan.placed_candidates()]) == []
    assert plan.objective >= start_objective


LINEAR_ROW = re.compile(r"linear \{ vars: \[([^\]]*)\] coeffs: \[([^\]]*)\] domain: \[-?\d+, (-?\d+)\]")


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_a_step_model_leaves_out_only_capacity_rows_that_others_imply(seed):
    """Whatever satisfies the rows a step model writes also fits every base-night: greedy fills
    under the written rows alone never overfill a night (nightly figures, part of the plan fixed)."""
    rng = np.random.default_rng(seed)
    space = compile_space(random_instance(seed, n_groups=12, n_bases=2, days=10, nightly=True))
    plan = first_come_first_served(space, PlanState(space))
    free = np.flatnonzero(rng.random(space.n_groups) < 0.7)
    plan.remove_many(free)
    cands = open_candidates(space, plan, free)
    text = build_model_text(space, plan, cands, set())
    rows = [([int(v) for v in vars_.split(", ")], [int(c) for c in coeffs.split(", ")], int(limit))
            for vars_, coeffs, limit in LINEAR_ROW.findall(text)]
    position, cell = stays_of(space, cands)
    group = space.opt_group[space.cand_option[cands]]
    for _ in range(20):
        x = np.zeros(len(cands), dtype=np.int64)
        for k in rng.permutation(len(cands)):
            if x[group == group[k]].any():
                continue
            x[k] = 1
            if any(sum(coeff * x[v] for v, coeff in zip(vars_, coeffs)) > limit for vars_, coeffs, limit in rows):
                x[k] = 0
        taken = x[position] == 1
        for used, cap, load in ((plan.beds_used, space.beds_night, space.size), (plan.rooms_used, space.rooms_night, space.rooms)):
            demand = np.bincount(cell[taken], weights=load[group][position][taken], minlength=cap.size)
            assert (demand <= cap.ravel() - used.ravel()).all()


def test_placing_and_removing_many_keeps_usage_as_one_at_a_time():
    space = compile_space(load_instance(SMALL))
    at_once = first_come_first_served(space, PlanState(space))
    groups = np.flatnonzero(at_once.chosen != -1)[::2]
    cands = at_once.chosen[groups].copy()
    one_by_one = PlanState(space)  # the same plan without those groups, placed one at a time
    for c in at_once.placed_candidates():
        if c not in cands:
            one_by_one.place(c)
    at_once.remove_many(np.r_[groups, np.flatnonzero(at_once.chosen == -1)])  # unplaced ones are skipped
    for name in ("beds_used", "rooms_used", "drawn", "chosen"):
        assert (getattr(one_by_one, name) == getattr(at_once, name)).all()
    assert one_by_one.objective == at_once.objective
    for c in cands:
        one_by_one.place(int(c))
    at_once.place_many(cands)
    for name in ("beds_used", "rooms_used", "drawn", "chosen"):
        assert (getattr(one_by_one, name) == getattr(at_once, name)).all()
    assert one_by_one.objective == at_once.objective


def test_removing_one_group_at_a_time_keeps_usage_as_removing_many():
    space = compile_space(load_instance(SMALL))
    many = first_come_first_served(space, PlanState(space))
    one = many.copy()
    groups = np.flatnonzero(many.chosen != -1)[1::2]

    many.remove_many(groups)
    for group in groups:
        one.remove(int(group))

    for name in ("beds_used", "rooms_used", "drawn", "chosen", "region_people"):
        assert (getattr(one, name) == getattr(many, name)).all()
    assert one.objective == many.objective


def test_placing_a_placed_group_again_is_refused_and_changes_nothing():
    space = compile_space(load_instance(SMALL))
    plan = first_come_first_served(space, PlanState(space))
    group = int(np.flatnonzero(plan.chosen != -1)[0])
    before = plan.copy()

    with pytest.raises(AssertionError, match="already placed"):
        plan.place(int(plan.chosen[group]))

    for name in ("beds_used", "rooms_used", "drawn", "chosen", "region_people"):
        assert (getattr(plan, name) == getattr(before, name)).all()
    assert plan.objective == before.objective
