"""Re-optimise a few groups exactly with CP-SAT while every other group stays put.

The freed groups see the capacity and money the rest of the plan leaves them;
their current places go in as a hint, so CP-SAT starts from the incumbent and
can only return something at least as good.
"""
from __future__ import annotations

from concurrent import futures
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from .space import Space, stays_of
from .state import NOT_PLACED, PlanState, region_need


@dataclass
class SubproblemOutcome:
    old_score: int
    new_score: int
    proved_optimal: bool
    n_candidates: int
    deterministic_time: float  # CP-SAT's own work measure: same on every run and machine
    old_short: int = 0  # people short of the regions' minimums, as the step saw them
    new_short: int = 0

    @property
    def improved(self) -> bool:
        return (self.new_short, -self.new_score) < (self.old_short, -self.old_score)


def open_candidates(space: Space, state: PlanState, groups: np.ndarray) -> np.ndarray:
    """Candidates of `groups` that fit what `state` leaves free, each on its own."""
    if len(groups) == 0:
        return np.zeros(0, dtype=np.int64)
    first = space.cand_start[space.opt_start[groups]]
    last = space.cand_start[space.opt_start[groups + 1]]
    counts = last - first
    cands = np.repeat(first - np.r_[0, np.cumsum(counts)[:-1]], counts) + np.arange(int(counts.sum()))
    option = space.cand_option[cands]
    group = space.opt_group[option]
    base = space.opt_base[option]
    arrival = space.cand_arrival[cands]
    nights = space.nights[group]
    fund = space.group_fund[group]
    size, rooms = space.size[group], space.rooms[group]
    fits = space.opt_subsidy[option] <= space.budget[fund] - state.drawn[fund]
    for k in range(int(nights.max(initial=0))):
        night = np.minimum(arrival + k, space.n_days - 1)
        staying = k < nights
        fits &= ~staying | ((state.beds_used[base, night] + size <= space.beds_night[base, night])
                            & (state.rooms_used[base, night] + rooms <= space.rooms_night[base, night]))
    return cands[fits]


def _first_per_group(space: Space, cands: np.ndarray, key: np.ndarray, per_group: int) -> np.ndarray:
    """Mask over `cands`: each group's `per_group` of lowest `key` (stable among equals)."""
    group = space.opt_group[space.cand_option[cands]]
    order = np.lexsort((key, group))
    sorted_group = group[order]
    first_of_group = np.r_[0, np.flatnonzero(np.diff(sorted_group)) + 1]
    rank = np.arange(len(cands)) - np.repeat(first_of_group, np.diff(np.r_[first_of_group, len(cands)]))
    chosen = np.zeros(len(cands), dtype=bool)
    chosen[order[rank < per_group]] = True
    return chosen


def best_per_group(space: Space, cands: np.ndarray, ranking: np.ndarray, per_group: int,
                   kept: set[int]) -> np.ndarray:
    """Of `cands` (sorted), each group's `per_group` of highest `ranking`, and every one in `kept`."""
    if len(cands) == 0:
        return cands
    chosen = _first_per_group(space, cands, -ranking[cands], per_group)
    chosen |= np.isin(cands, np.fromiter(kept, dtype=np.int64, count=len(kept)))
    return cands[chosen]


def sampled_per_group(space: Space, cands: np.ndarray, per_group: int, rng: np.random.Generator) -> np.ndarray:
    """Of `cands` (sorted), `per_group` of each group's drawn at random."""
    if len(cands) == 0:
        return cands
    return cands[_first_per_group(space, cands, rng.random(len(cands)), per_group)]


def _implied_rows(cells: np.ndarray, residual: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                  n_days: int) -> np.ndarray:
    """For each of `cells` (base*n_days + night): is its capacity row implied by another row?

    No stay starts on night d: every stay there also covers d - 1, so if d has at least as
    much room left, d - 1's row implies d's. No stay ends on d: likewise d + 1's, when d has
    strictly more room (strict, so two equal rows never drop each other; a chain of implied
    rows runs one way and ends at a row that is written).
    """
    night = cells % n_days
    before = np.maximum(cells - 1, 0)
    after = np.minimum(cells + 1, len(residual) - 1)
    by_before = (night > 0) & ~starts[cells] & (residual[cells] >= residual[before])
    by_after = (night < n_days - 1) & ~ends[cells] & (residual[cells] > residual[after])
    return by_before | by_after


def _joined(values: np.ndarray) -> tuple[str, list[int]]:
    """Non-negative integers written as "a, b, c, " and where each one starts (and the text ends)."""
    digits = np.ones(len(values), dtype=np.int64)
    for power in range(1, 19):
        beyond = values >= 10 ** power
        if not beyond.any():
            break
        digits += beyond
    at = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(digits + 2, out=at[1:])
    return ", ".join(map(str, values.tolist())) + ", ", at.tolist()


def _list(values: list[int]) -> str:
    return "[" + ", ".join(map(str, values)) + "]"


def _at_most(positions: list[int], coefficients: list[int], limit: int) -> str:
    return (f"constraints {{ linear {{ vars: {_list(positions)} coeffs: {_list(coefficients)} "
            f"domain: [{INT64_MIN}, {limit}] }} }}")


INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1
# open candidates a freed group brings to an LNS step (its incumbent besides): measured on year-s1
# with steps of 75-120 groups, see README. Most are its best by LP reduced cost; the rest are drawn
# at random from its other open candidates, a new draw each step, so a step that frees the same
# groups again can still find a move (year-s1, 8 seeds: 0.934 % against 0.984 % with the 12 best)
CANDIDATES_PER_GROUP = 12
SAMPLED_CANDIDATES_PER_GROUP = 3


def build_model_text(space: Space, state: PlanState, cands: np.ndarray, hinted: set[int],
                     region_floors: bool = False) -> str:
    """CP-SAT model of placing `cands` into what `state` leaves free, in protobuf text format.

    Written as one string (repeated fields as lists, `vars: [1, 2]`) and parsed by CP-SAT
    in C++: building it term by term through the Python API cost more than solving it.
    Identical capacity rows (the same stays competing on consecutive nights) are written once.
    With `region_floors`, no region may end with fewer people than the incumbent gives it (an LNS
    step then trades no region's minimum for another's, and solves faster: year-s1 with 85 %
    minimums, 0.17 -> 0.10 s a step); without, the model is exact (the whole instance at once).
    """
    option = space.cand_option[cands]
    group_of_cand = space.opt_group[option]
    parts = ["variables { domain: [0, 1] }"] * len(cands)
    hint = np.isin(cands, np.fromiter(hinted, dtype=np.int64, count=len(hinted))).astype(np.int64)
    # a region whose minimum needs people of this step: with `region_floors` those the incumbent places
    # are a floor and only a region the incumbent leaves short gets a variable (after the candidates)
    # counting the people still short; without, every such region gets one
    minimum_rows, short_regions = [], []
    need = region_need(space, state)
    if need.any():
        region_of_cand = space.group_region[group_of_cand]
        for region in np.flatnonzero(need):
            members = np.flatnonzero(region_of_cand == region)
            sizes = space.size[group_of_cand[members]]
            held = int(sizes[hint[members] == 1].sum())
            floor = min(int(need[region]), held) if region_floors else 0
            if floor:
                minimum_rows.append((floor, members, sizes))
            if len(members) and (held < need[region] or not region_floors):
                short_regions.append((int(need[region]), held, members, sizes))
                parts.append(f"variables {{ domain: [0, {int(need[region]) - floor}] }}")

    order = np.argsort(group_of_cand, kind="stable")
    members_text, members_at = _joined(order)
    firsts = np.r_[0, np.flatnonzero(np.diff(group_of_cand[order])) + 1, len(order)].tolist()
    for first, end in zip(firsts[:-1], firsts[1:]):
        if end - first > 1:
            parts.append(f"constraints {{ at_most_one {{ literals: [{members_text[members_at[first]:members_at[end] - 2]}] }} }}")

    position, cell = stays_of(space, cands)
    first_cell = space.opt_base[option] * space.n_days + space.cand_arrival[cands]
    n_cells = space.n_bases * space.n_days
    starts = np.zeros(n_cells, dtype=bool)
    starts[first_cell] = True
    ends = np.zeros(n_cells, dtype=bool)
    ends[first_cell + space.nights[group_of_cand] - 1] = True
    written: set[str] = set()
    for used, cap, load in ((state.beds_used, space.beds_night, space.size),
                            (state.rooms_used, space.rooms_night, space.rooms)):
        residual = cap.ravel() - used.ravel()
        weight = load[group_of_cand][position]
        demand = np.bincount(cell, weights=weight, minlength=len(residual))
        binding = demand[cell] > residual[cell]
        binding[binding] = ~_implied_rows(cell[binding], residual, starts, ends, space.n_days)
        if not binding.any():
            continue
        by_cell = np.flatnonzero(binding)[np.argsort(cell[binding], kind="stable")]
        cel = cell[by_cell]
        # each list written once for all rows, a row's part cut out of it: no join per row
        vars_text, vars_at = _joined(position[by_cell])
        coeffs_text, coeffs_at = _joined(weight[by_cell])
        bounds = [0] + (np.flatnonzero(np.diff(cel)) + 1).tolist() + [len(cel)]
        limits = residual[cel[bounds[:-1]]].tolist()
        for start, end, limit in zip(bounds[:-1], bounds[1:], limits):
            row = (f"constraints {{ linear {{ vars: [{vars_text[vars_at[start]:vars_at[end] - 2]}] "
                   f"coeffs: [{coeffs_text[coeffs_at[start]:coeffs_at[end] - 2]}] domain: [{INT64_MIN}, {limit}] }} }}")
            if row not in written:
                written.add(row)
                parts.append(row)

    subsidy = space.opt_subsidy[option]
    fund_of_cand = space.group_fund[group_of_cand]
    for fund in np.unique(fund_of_cand):
        members = np.flatnonzero(fund_of_cand == fund)
        money_left = int(space.budget[fund] - state.drawn[fund])
        # the fund binds only if the dearest option of every freed group together exceeds it
        dearest = np.zeros(space.n_groups, dtype=np.int64)
        np.maximum.at(dearest, group_of_cand[members], subsidy[members])
        if dearest.sum() > money_left:
            # subsidies are round sums: dividing by their gcd keeps the row exact and CP-SAT's numbers small
            unit = max(1, int(np.gcd.reduce(subsidy[members])))
            parts.append(_at_most(members.tolist(), (subsidy[members] // unit).tolist(), money_left // unit))

    for people, members, sizes in minimum_rows:
        parts.append(f"constraints {{ linear {{ vars: {_list(members.tolist())} coeffs: {_list(sizes.tolist())} "
                     f"domain: [{people}, {INT64_MAX}] }} }}")
    # CP-SAT minimises: maximise the score as minimising its negation, reported back negated; a
    # person short of a minimum costs more than the whole step can score, so fewer short comes first
    costs = (-space.opt_score[option]).tolist()
    hint_values = hint.tolist()
    short_weight = step_ceiling(space, cands) + 1 if short_regions else 0
    for number, (people, held, members, sizes) in enumerate(short_regions):
        at = len(cands) + number  # the people short: what the region's groups here leave of `people`
        parts.append(f"constraints {{ linear {{ vars: {_list(members.tolist() + [at])} "
                     f"coeffs: {_list(sizes.tolist() + [1])} domain: [{people}, {INT64_MAX}] }} }}")
        costs.append(short_weight)
        hint_values.append(max(0, people - held))
    everything = _list(list(range(len(costs))))
    parts.append(f"objective {{ vars: {everything} coeffs: {_list(costs)} scaling_factor: -1 }}")
    parts.append(f"solution_hint {{ vars: {everything} values: {_list(hint_values)} }}")
    return "\n".join(parts)


def step_ceiling(space: Space, cands: np.ndarray) -> int:
    """Most a step could score: each group at its best of `cands`, as if alone."""
    option = space.cand_option[cands]
    best = np.zeros(space.n_groups, dtype=np.int64)
    np.maximum.at(best, space.opt_group[option], space.opt_score[option])
    return int(best.sum())


def people_short(space: Space, need: np.ndarray, cands) -> int:
    """People short of the minimums once `cands` are placed on top of what left `need`."""
    if not need.any():
        return 0
    groups = space.opt_group[space.cand_option[np.asarray(cands, dtype=np.int64)]]
    region = space.group_region[groups]
    placed = np.bincount(region[region >= 0], weights=space.size[groups[region >= 0]], minlength=len(need))
    return int(np.maximum(need - placed, 0).sum())


class _ParsedModel(cp_model.CpModel):
    """A model only ever parsed and solved: without the camelCase aliases every CpModel() sets up
    (1.5 ms a step, a tenth of the step's Python)."""

    def _add_pre_pep8_methods(self) -> None:
        pass


class Prepared:
    """One step's model, built (in Python, holding the GIL) and ready for CP-SAT.

    With a `ranking` (LP reduced costs), each group brings only `CANDIDATES_PER_GROUP` open
    candidates (the best by `ranking`, and `SAMPLED_CANDIDATES_PER_GROUP` others drawn with
    `seed`) and its incumbent: the step can then free more groups for the same work. Without
    one, every open candidate (the whole model of a small instance).
    """

    def __init__(self, space: Space, view, free_groups: np.ndarray, hinted: set[int],
                 ranking: np.ndarray | None = None, region_floors: bool = False, seed: int = 0):
        self.space = space
        self.free_groups = free_groups
        self.hinted = hinted
        self.old_score = sum(int(space.opt_score[space.cand_option[c]]) for c in hinted)
        # people the rest of the plan leaves short of the minimums: the step's incumbent and answer
        # are compared by what they leave short, then by score
        self.need = region_need(space, view)
        self.old_short = people_short(space, self.need, sorted(hinted))
        self.cands = open_candidates(space, view, free_groups)
        if ranking is not None:
            best = best_per_group(space, self.cands, ranking, CANDIDATES_PER_GROUP - SAMPLED_CANDIDATES_PER_GROUP,
                                  hinted)
            others = np.setdiff1d(self.cands, best, assume_unique=True)
            sampled = sampled_per_group(space, others, SAMPLED_CANDIDATES_PER_GROUP, np.random.default_rng(seed))
            self.cands = np.union1d(best, sampled)
        self.model = _ParsedModel()
        self.model.proto.parse_text_format(build_model_text(space, view, self.cands, hinted, region_floors))


def run_cpsat(prepared: Prepared, *, time_limit: float, deterministic_limit: float | None, workers: int,
              seed: int) -> tuple[int, int, list[int], float]:
    """(status, objective or -1, chosen candidates, deterministic time). CP-SAT releases the GIL while solving."""
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    solver.parameters.max_time_in_seconds = max(0.01, time_limit)
    if deterministic_limit is not None:
        solver.parameters.max_deterministic_time = deterministic_limit
    # measured on year-s1 LNS steps: 4x less CP-SAT time than the default level 1, same plans
    solver.parameters.linearization_level = 2
    # steps this small are mostly fixed cost; without probing and symmetry detection, 40 steps
    # replayed cost 16 % (s1), 17 % (s2), 7 % (s3) less CPU, the same answers
    solver.parameters.cp_model_probing_level = 0
    solver.parameters.symmetry_level = 0
    status = solver.solve(prepared.model)
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    chosen = []
    if found:
        values = list(solver.response_proto.solution)
        chosen = [cand for cand, value in zip(prepared.cands.tolist(), values) if value]
    return status, found, chosen, solver.response_proto.deterministic_time


def _apply(state: PlanState, prepared: Prepared, status: int, found: bool, chosen: list[int],
           deterministic_time: float) -> SubproblemOutcome:
    """Place the step's answer into `state` (its free groups already removed), or the incumbent back."""
    space = prepared.space
    new_score = int(space.opt_score[space.cand_option[np.asarray(chosen, dtype=np.int64)]].sum())
    new_short = people_short(space, prepared.need, chosen)
    if found and (new_short, -new_score) <= (prepared.old_short, -prepared.old_score):
        state.place_many(chosen)
    else:  # nothing better found (or no solution at all): put the incumbent back
        state.place_many(sorted(prepared.hinted))
        new_score, new_short = prepared.old_score, prepared.old_short
    return SubproblemOutcome(prepared.old_score, new_score, status == cp_model.OPTIMAL, len(prepared.cands),
                             deterministic_time, prepared.old_short, new_short)


def reoptimise(space: Space, state: PlanState, free_groups: np.ndarray, *, time_limit: float,
               deterministic_limit: float | None, workers: int, seed: int) -> SubproblemOutcome:
    """Re-place `free_groups` optimally (within the limits); `state` is updated in place, never worsened."""
    hinted = {int(state.chosen[g]) for g in free_groups} - {NOT_PLACED}
    state.remove_many(free_groups)
    prepared = Prepared(space, state, free_groups, hinted)
    answer = run_cpsat(prepared, time_limit=time_limit, deterministic_limit=deterministic_limit,
                       workers=workers, seed=seed)
    return _apply(state, prepared, *answer)


class _View:
    """What one of several concurrent steps may use: `*_used` are set so that the room left is its share."""

    def __init__(self, beds_used: np.ndarray, rooms_used: np.ndarray, drawn: np.ndarray, region_people: np.ndarray):
        self.beds_used, self.rooms_used, self.drawn = beds_used, rooms_used, drawn
        # no reservation for people: a step in flight counts as placing none of its people, so each
        # step makes up for that and together they never leave more people short than before
        self.region_people = region_people


class StepPipeline:
    """LNS steps overlapping in time: a new step starts while the previous one still solves.

    A step in flight holds a *reservation*: on each base-night its candidates could use
    and in each of its groups' funds, the room left when it started, capped at what its
    groups could ever take there (their beds and rooms; their dearest options). The
    next step sees the plan less that reservation, so whatever the two choose, together
    they never overfill anything; each can always keep its own incumbent, in whatever
    order they finish. Applied in start order (a step starts once the one two places
    before it is applied), the sequence of plans does not depend on thread timing;
    applied as they finish, a long step no longer holds the next one back.
    """

    def __init__(self, space: Space, state: PlanState, executor, depth: int, ranking: np.ndarray | None = None):
        self.space, self.state, self.executor, self.depth = space, state, executor, depth
        self.ranking = ranking
        n_cells = space.n_bases * space.n_days
        self.reserved_beds = np.zeros(n_cells, dtype=np.int64)
        self.reserved_rooms = np.zeros(n_cells, dtype=np.int64)
        self.reserved_money = np.zeros(len(space.fund_ids), dtype=np.int64)
        self.in_flight: list[tuple[Prepared, tuple[np.ndarray, ...], object]] = []
        self.busy = np.zeros(space.n_groups, dtype=bool)  # groups of the steps in flight

    def reserved_nights(self) -> np.ndarray:
        """[base, day]: where a step in flight holds room."""
        held = np.zeros(self.space.n_bases * self.space.n_days, dtype=bool)
        for _, (cells, beds, rooms, _, _), _ in self.in_flight:
            held[cells[(beds > 0) | (rooms > 0)]] = True
        return held.reshape(self.space.n_bases, self.space.n_days)

    @property
    def held_score(self) -> int:
        """Score of the incumbents of the steps in flight (out of the plan while they solve)."""
        return sum(prepared.old_score for prepared, _, _ in self.in_flight)

    @property
    def full(self) -> bool:
        return len(self.in_flight) >= self.depth

    def start(self, free_groups: np.ndarray, *, time_limit: float, deterministic_limit: float | None,
              seed: int) -> None:
        space, state = self.space, self.state
        free_groups = free_groups[~self.busy[free_groups]]
        hinted = {int(state.chosen[g]) for g in free_groups} - {NOT_PLACED}
        state.remove_many(free_groups)
        shape = (space.n_bases, space.n_days)
        view = _View(state.beds_used + self.reserved_beds.reshape(shape),
                     state.rooms_used + self.reserved_rooms.reshape(shape), state.drawn + self.reserved_money,
                     state.region_people)
        prepared = Prepared(space, view, free_groups, hinted, self.ranking, region_floors=True, seed=seed)
        # the room this step could ever use: per base-night the beds and rooms of the groups that
        # could stay there (each is placed once), per fund their dearest options; capped by what is left
        n_cells = space.n_bases * space.n_days
        position, cell = stays_of(space, prepared.cands)
        option = space.cand_option[prepared.cands]
        group = space.opt_group[option]
        pairs = np.unique(group[position] * n_cells + cell)
        pair_group, pair_cell = pairs // n_cells, pairs % n_cells
        cells = np.unique(pair_cell)
        beds_need = np.bincount(pair_cell, weights=space.size[pair_group], minlength=n_cells)[cells]
        rooms_need = np.bincount(pair_cell, weights=space.rooms[pair_group], minlength=n_cells)[cells]
        dearest = np.zeros(space.n_groups, dtype=np.int64)
        np.maximum.at(dearest, group, space.opt_subsidy[option])
        funds = np.unique(space.group_fund[free_groups])
        money_need = np.bincount(space.group_fund[free_groups], weights=dearest[free_groups],
                                 minlength=len(space.fund_ids))[funds]
        reservation = (
            cells,
            np.minimum(space.beds_night.ravel()[cells] - view.beds_used.ravel()[cells], beds_need.astype(np.int64)),
            np.minimum(space.rooms_night.ravel()[cells] - view.rooms_used.ravel()[cells], rooms_need.astype(np.int64)),
            funds, np.minimum(space.budget[funds] - view.drawn[funds], money_need.astype(np.int64)))
        self.reserved_beds[cells] += reservation[1]
        self.reserved_rooms[cells] += reservation[2]
        self.reserved_money[funds] += reservation[4]
        self.busy[free_groups] = True
        future = self.executor.submit(run_cpsat, prepared, time_limit=time_limit,
                                      deterministic_limit=deterministic_limit, workers=1, seed=seed)
        self.in_flight.append((prepared, reservation, future))

    def wait_for_step_or(self, other: futures.Future) -> None:
        """Wait until a step in flight or `other` is done."""
        futures.wait([other, *(future for _, _, future in self.in_flight)], return_when=futures.FIRST_COMPLETED)

    def finish_one(self, *, in_start_order: bool) -> SubproblemOutcome:
        """Wait for a step in flight, the oldest or else the first to finish, and apply its answer to the plan."""
        index = 0
        if not in_start_order:
            futures.wait([future for _, _, future in self.in_flight], return_when=futures.FIRST_COMPLETED)
            index = next(i for i, (_, _, future) in enumerate(self.in_flight) if future.done())
        prepared, (cells, beds, rooms, funds, money), future = self.in_flight.pop(index)
        answer = future.result()
        self.reserved_beds[cells] -= beds
        self.reserved_rooms[cells] -= rooms
        self.reserved_money[funds] -= money
        self.busy[prepared.free_groups] = False
        return _apply(self.state, prepared, *answer)
