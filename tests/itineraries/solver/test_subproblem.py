import threading
from concurrent.futures import Future

import numpy as np

from itineraries.solver.checker import check_plan
from itineraries.solver.fcfs import first_come_first_served
from itineraries.solver.instance import load_instance
from itineraries.solver.space import compile_space
from itineraries.solver.state import PlanState
from itineraries.solver.subproblem import StepPipeline, best_per_group

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
