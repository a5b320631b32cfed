"""The solver: LP bound and warm start, then large-neighbourhood search with CP-SAT.

1. compile the candidates (dominance: arrivals that hit a closure or the horizon,
   and bases too small for the group, are dropped);
2. FCFS plan as a floor;
3. LP relaxation (HiGHS): the bound, and a plan by rounding its solution,
   filling the gaps at LP prices and moving groups to better places, each by moving
   one other out of the way. Timed runs with two workers do this from the restricted
   LP once its prices prove it near the optimum, and search (5.) while the LP ends
   in a thread;
4. small instances: the whole model in CP-SAT, proving optimality;
5. otherwise LNS: free the groups competing with a group that loses against the LP
   (or could score more, or sharing a fund), re-place them optimally with CP-SAT,
   hinted with the incumbent. The neighbourhood size adapts so steps stay provably
   optimal most of the time. With 2 workers two steps overlap in time (one starts
   while the other solves, on other groups and the room the other leaves).

Determinism: every random choice comes from `seed` and CP-SAT steps are bounded
by deterministic time (work units, not seconds). Pass `max_steps` and overlapping
steps are applied in start order: the result is then bit-identical run to run.
Without it the wall-clock `time_limit` decides how many steps run anyway, so steps
are applied as they finish, which keeps both cores busy.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np

from .bound import LPSolution, solve_lp
from .checker import check_plan
from .fcfs import first_come_first_served
from .greedy import ejection_moves, lp_rounding, priced_fill, reduced_profit
from .instance import Assignment, Instance, Result, Unplaced
from . import neighbourhoods
from .neighbourhoods import NeighbourhoodPicker
from .reasons import explain_unplaced
from .space import Space, compile_space
from .state import NOT_PLACED, PlanState, region_need
from .subproblem import StepPipeline, reoptimise

ProgressCallback = Callable[[int, "int | None", "float | None", float], None]

# a whole instance this small goes to CP-SAT in one piece
WHOLE_MODEL_MAX_CANDIDATES = 20_000
# LNS step sizing: freed groups, and work per step (CP-SAT deterministic seconds). Each freed group
# brings only a few candidates (subproblem.CANDIDATES_PER_GROUP), so a step can free more groups
# than when each brought all of them (then 60 was best: year-s1, 45 s, 60 groups 98.2 %, 120 97.8 %)
TARGET, MIN_TARGET = 90, 15
STEP_DETERMINISTIC_LIMIT = 2.0
STEP_WALL_LIMIT = 10.0
# LNS steps run side by side, on disjoint groups, at most this many (and no more than `workers`)
MAX_CONCURRENT_STEPS = 2


class FixedAssignmentError(ValueError):
    """The assignments to keep cannot all be kept: the list says why."""

    def __init__(self, problems: list[str]):
        super().__init__("fixed assignments are infeasible: " + "; ".join(problems))
        self.problems = problems


@dataclass
class SearchStats:
    fcfs_objective: int
    lp_value: float | None
    lp_seconds: float
    start_objective: int
    steps: int
    steps_proved_optimal: int


def _fixed_state(space: Space, fixed: Sequence[Assignment]) -> PlanState:
    problems = check_plan(space.instance, fixed)
    state = PlanState(space)
    for assignment in fixed:
        cand = space.find_candidate(assignment)
        if cand is None:
            if not problems:
                problems.append(f"{assignment.group} at {assignment.base} arriving {assignment.arrival} "
                                "is not a feasible placement")
            continue
        if state.chosen[space.group_of[assignment.group]] == NOT_PLACED:
            state.place(cand)
    if problems:
        raise FixedAssignmentError(problems)
    return state


def solve(instance: Instance, *, time_limit: float = 60.0, workers: int = 2, seed: int = 0,
          fixed: Iterable[Assignment] = (), progress: ProgressCallback | None = None,
          should_stop: Callable[[], bool] | None = None, max_steps: int | None = None,
          stats: list[SearchStats] | None = None) -> Result:
    """Best plan found within `time_limit` seconds; `fixed` assignments are kept as they are.

    `progress(best_objective, bound, gap, elapsed)` is called whenever the plan improves
    (`bound`/`gap` are None until the LP is solved); `should_stop()` returning True ends
    the search early with the best plan so far. Raises FixedAssignmentError if `fixed`
    cannot all be kept.
    """
    started = time.monotonic()
    elapsed = lambda: time.monotonic() - started  # noqa: E731
    stop = lambda: should_stop is not None and should_stop()  # noqa: E731
    fixed = list(fixed)
    space = compile_space(instance)
    fixed_only = _fixed_state(space, fixed)
    fixed_groups = np.flatnonzero(fixed_only.chosen != NOT_PLACED)

    best = first_come_first_served(space, fixed_only.copy())
    fcfs_objective = best.objective
    bound: int | None = None

    def report(held: int = 0) -> None:
        """`held`: the incumbent score of the groups out of `best` while their step solves."""
        if progress is not None:
            objective = best.objective + held
            gap = None if bound is None else (bound - objective) / max(bound, 1)
            progress(objective, bound, gap, elapsed())

    report()
    movable = np.ones(space.n_groups, dtype=bool)
    movable[fixed_groups] = False
    lp: LPSolution | None = None
    # score less what a candidate uses at LP prices: steers the rounding, the search and the final fill
    priced: np.ndarray | None = None
    # timed runs with two cores search beside the LP's last pricing rounds (README: pipeline step 2)
    lp_beside = max_steps is None and workers >= 2 and space.n_candidates > WHOLE_MODEL_MAX_CANDIDATES
    lp_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lp") if lp_beside else None
    lp_running: Future | None = None
    abandoned = threading.Event()  # the search failed: the LP beside it stops too

    def take_lp(solution: LPSolution) -> None:
        """The LP's end: its bound and prices, if it reached its optimum."""
        nonlocal lp, bound, priced
        lp = solution
        if lp.optimal:
            bound = lp.bound
            priced = reduced_profit(space, lp)

    def lp_ended() -> None:
        """Take the end of the LP that ran beside the search."""
        nonlocal lp_running
        take_lp(lp_running.result())
        lp_running = None

    try:
        prices: LPSolution | None = None  # the LP's, or its near-optimal restricted LP's while it goes on
        if not stop():
            lp_kwargs = dict(time_limit=max(1.0, time_limit - elapsed()),
                             should_stop=lambda: stop() or abandoned.is_set(),
                             initial_columns=np.array(best.placed_candidates(), dtype=np.int64))
            near = None
            if lp_executor is None:
                take_lp(solve_lp(space, fixed_only.chosen, **lp_kwargs))
            else:
                lp_running, near = _lp_near_optimal(lp_executor, space, fixed_only.chosen, lp_kwargs)
                if near is None:
                    lp_ended()
            if near is not None:
                prices, priced = near, reduced_profit(space, near)
            elif lp is not None and lp.optimal:
                prices = lp
            if prices is not None:
                rounded = lp_rounding(space, prices, priced, fixed_only.copy())
                if rounded.better_than(best):
                    best = rounded
            report()
            if prices is not None and ejection_moves(space, prices, priced, best, movable):
                report()
        start_objective = best.objective

        steps = proved = 0
        # the LP leaves the regions' minimums out: reaching its bound proves the plan optimal only with none short
        optimal = bound is not None and best.objective >= bound and best.shortfall == 0
        if not optimal and not stop() and elapsed() < time_limit:
            free_to_move = np.flatnonzero(movable)
            if space.n_candidates <= WHOLE_MODEL_MAX_CANDIDATES:
                outcome = reoptimise(space, best, free_to_move, time_limit=max(0.1, time_limit - elapsed()),
                                     deterministic_limit=None, workers=workers, seed=seed)
                steps, proved, optimal = 1, int(outcome.proved_optimal), outcome.proved_optimal
                if optimal:
                    bound = best.objective if bound is None else min(bound, best.objective)
                report()
            if not optimal:
                picker = NeighbourhoodPicker(space, fixed_groups, seed)
                ranking = None  # without LP prices a step takes every open candidate of its groups
                if priced is not None:
                    ranking = _ranking(space, prices, priced, picker)
                target = TARGET
                # with 2+ workers, steps overlap: one starts while the previous still solves (one
                # CP-SAT worker each: a second worker inside a step measured no gain on steps this small);
                # one at a time while the LP holds the other core
                depth = max(1, min(workers, MAX_CONCURRENT_STEPS))
                started_steps = 0
                with ThreadPoolExecutor(max_workers=depth) as executor:
                    pipeline = StepPipeline(space, best, executor, 1 if lp_running is not None else depth, ranking)
                    while True:
                        if lp_running is not None and lp_running.done():
                            lp_ended()
                            if lp.optimal:
                                pipeline.ranking = _ranking(space, lp, priced, picker)
                            pipeline.depth = depth
                            report(pipeline.held_score)
                        searching = (elapsed() < time_limit and not stop()
                                     and (max_steps is None or started_steps < max_steps)
                                     and not (bound is not None and best.objective + pipeline.held_score >= bound
                                              and best.shortfall == 0))
                        if searching and not pipeline.full:
                            free = picker.pick_avoiding(best, target, pipeline.busy,
                                                        pipeline.reserved_nights() if neighbourhoods.AVOID_TRIES > 1 else None)
                            if len(free):
                                pipeline.start(free, time_limit=min(STEP_WALL_LIMIT, time_limit - elapsed()),
                                               deterministic_limit=STEP_DETERMINISTIC_LIMIT, seed=seed + started_steps)
                                started_steps += 1
                                continue  # fill the pipeline before waiting for a step
                        if not pipeline.in_flight:
                            break
                        if lp_running is not None:  # its bound and prices are taken as soon as it ends
                            pipeline.wait_for_step_or(lp_running)
                            if lp_running.done():
                                continue
                        # reproducible runs wait for steps in start order; timed runs take whichever
                        # finishes first, keeping both cores busy (the early marks of the 2× instance: README)
                        outcome = pipeline.finish_one(in_start_order=max_steps is not None)
                        steps += 1
                        proved += outcome.proved_optimal
                        # shrink when CP-SAT runs out of work budget, drift back once steps are proved again
                        target = (min(TARGET, target + 2) if outcome.proved_optimal
                                  else max(MIN_TARGET, int(target * 0.85)))
                        if outcome.improved:
                            report(pipeline.held_score)
        if lp_running is not None:  # the search ended first: the LP still gives the bound
            lp_ended()
            report()
    except BaseException:
        abandoned.set()
        raise
    finally:
        if lp_executor is not None:
            lp_executor.shutdown(wait=True)

    # anything still open gets a place: the search may have stopped before trying it
    profit = priced if priced is not None else space.opt_score[space.cand_option] * 1.0
    before_fill = best.objective
    priced_fill(space, profit, best)
    if best.objective > before_fill:
        report()
    if bound is not None and best.objective >= bound and best.shortfall == 0:
        optimal = True

    if stats is not None:
        stats.append(SearchStats(fcfs_objective, lp.value if lp is not None and lp.optimal else None,
                                 lp.seconds if lp is not None else 0.0, start_objective, steps, proved))
    reasons = explain_unplaced(space, best, fixed_only)
    return Result(
        instance=instance.name,
        status="OPTIMAL" if optimal else "FEASIBLE",
        objective=best.objective,
        bound=bound,
        wall_seconds=elapsed(),
        assignments=sorted(space.assignment(c) for c in best.placed_candidates()),
        unplaced=[Unplaced(space.group_ids[g], reasons[g]) for g in sorted(reasons)],
        shortfall=_shortfall(space, best),
    )


def _lp_near_optimal(executor: ThreadPoolExecutor, space: Space, fixed_chosen: np.ndarray,
                     lp_kwargs: dict) -> tuple[Future, LPSolution | None]:
    """Start the LP in `executor`; return once it is solved or near its optimum, whichever is
    first: its future, and the near-optimal restricted LP if that came first."""
    near: list[LPSolution] = []
    ready = threading.Event()

    def near_optimal(solution: LPSolution) -> None:
        near.append(solution)
        ready.set()

    running = executor.submit(solve_lp, space, fixed_chosen, on_near_optimal=near_optimal, **lp_kwargs)
    running.add_done_callback(lambda _: ready.set())
    ready.wait()
    return running, (near[0] if near and not running.done() else None)


def _ranking(space: Space, lp: LPSolution, priced: np.ndarray, picker: NeighbourhoodPicker) -> np.ndarray:
    """Candidates' LP reduced costs (their group's price included), for the steps; the picker takes the prices too."""
    ranking = priced - lp.group_dual[space.opt_group[space.cand_option]]
    picker.set_prices(ranking, lp.group_dual, lp.fund_dual)
    return ranking


def _shortfall(space: Space, state: PlanState) -> dict[str, int]:
    short = region_need(space, state)
    return {space.region_ids[r]: int(short[r]) for r in np.flatnonzero(short)}


def fcfs_result(instance: Instance, fixed: Iterable[Assignment] = ()) -> Result:
    """The first-come-first-served plan as a Result, for comparison."""
    started = time.monotonic()
    space = compile_space(instance)
    fixed_only = _fixed_state(space, list(fixed))
    state = first_come_first_served(space, fixed_only.copy())
    reasons = explain_unplaced(space, state, fixed_only)
    return Result(instance=instance.name, status="FEASIBLE", objective=state.objective, bound=None,
                  wall_seconds=time.monotonic() - started,
                  assignments=sorted(space.assignment(c) for c in state.placed_candidates()),
                  unplaced=[Unplaced(space.group_ids[g], reasons[g]) for g in sorted(reasons)],
                  shortfall=_shortfall(space, state))
