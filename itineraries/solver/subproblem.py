"""Re-optimise a few groups exactly with CP-SAT while every other group stays put.

The freed groups see the capacity and money the rest of the plan leaves them;
their current places go in as a hint, so CP-SAT starts from the incumbent and
can only return something at least as good.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from .space import Space
from .state import NOT_PLACED, PlanState


@dataclass
class SubproblemOutcome:
    old_score: int
    new_score: int
    proved_optimal: bool
    n_candidates: int
    deterministic_time: float  # CP-SAT's own work measure: same on every run and machine


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
    fits = space.opt_subsidy[option] <= space.budget[fund] - state.drawn[fund]
    for k in range(int(nights.max(initial=0))):
        night = np.minimum(arrival + k, space.n_days - 1)
        staying = k < nights
        fits &= ~staying | ((state.beds_used[base, night] + space.size[group] <= space.beds_night[base, night])
                            & (state.rooms_used[base, night] + space.rooms[group] <= space.rooms_night[base, night]))
    return cands[fits]


def stays_of(space: Space, cands: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position in `cands`, base*n_days + night) for every night of each candidate's stay."""
    option = space.cand_option[cands]
    nights = space.nights[space.opt_group[option]]
    position = np.repeat(np.arange(len(cands)), nights)
    offset = np.arange(len(position)) - np.repeat(np.cumsum(nights) - nights, nights)
    cell = space.opt_base[option][position] * space.n_days + space.cand_arrival[cands][position] + offset
    return position, cell


def _terms(positions: list[int], coefficients: list[int]) -> str:
    return " ".join(f"vars: {p}" for p in positions) + " " + " ".join(f"coeffs: {c}" for c in coefficients)


def _at_most(positions: list[int], coefficients: list[int], limit: int) -> str:
    return f"constraints {{ linear {{ {_terms(positions, coefficients)} domain: {INT64_MIN} domain: {limit} }} }}"


INT64_MIN = -(2 ** 63)
_VAR_TOKENS: list[str] = []


def _var_tokens(n: int) -> list[str]:
    """["vars: 0", "vars: 1", ...], at least `n` long, built once."""
    if len(_VAR_TOKENS) < n:
        _VAR_TOKENS.extend(f"vars: {i}" for i in range(len(_VAR_TOKENS), max(n, 2 * len(_VAR_TOKENS))))
    return _VAR_TOKENS


def build_model_text(space: Space, state: PlanState, cands: np.ndarray, hinted: set[int]) -> str:
    """CP-SAT model of placing `cands` into what `state` leaves free, in protobuf text format.

    Written as one string and parsed by CP-SAT in C++: building it term by term
    through the Python API cost more than solving it (measured: 0.2 s vs 0.08 s a step).
    Identical capacity rows (the same stays competing on consecutive nights) are written once.
    """
    option = space.cand_option[cands]
    group_of_cand = space.opt_group[option]
    parts = ["variables { domain: 0 domain: 1 }"] * len(cands)

    order = np.argsort(group_of_cand, kind="stable")
    for members in np.split(order, np.flatnonzero(np.diff(group_of_cand[order])) + 1):
        if len(members) > 1:
            parts.append("constraints { at_most_one { " + " ".join(f"literals: {i}" for i in members.tolist())
                         + " } }")

    position, cell = stays_of(space, cands)
    written: set[str] = set()
    var_token = _var_tokens(len(cands))
    for used, cap, load in ((state.beds_used, space.beds_night, space.size),
                            (state.rooms_used, space.rooms_night, space.rooms)):
        residual = cap.ravel() - used.ravel()
        weight = load[group_of_cand][position]
        demand = np.bincount(cell, weights=weight, minlength=len(residual))
        binding = demand[cell] > residual[cell]
        if not binding.any():
            continue
        by_cell = np.flatnonzero(binding)[np.argsort(cell[binding], kind="stable")]
        cel, wt = cell[by_cell], weight[by_cell]
        # tokens as strings once per entry, rows as slices of them: the text costs little next to the solve
        vars_text = [var_token[p] for p in position[by_cell].tolist()]
        coeffs_text = [f"coeffs: {w}" for w in wt.tolist()]
        bounds = [0] + (np.flatnonzero(np.diff(cel)) + 1).tolist() + [len(cel)]
        limits = residual[cel[bounds[:-1]]].tolist()
        for start, end, limit in zip(bounds[:-1], bounds[1:], limits):
            row = (f"constraints {{ linear {{ {' '.join(vars_text[start:end])} {' '.join(coeffs_text[start:end])} "
                   f"domain: {INT64_MIN} domain: {limit} }} }}")
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

    # CP-SAT minimises: maximise the score as minimising its negation, reported back negated
    score = space.opt_score[option]
    parts.append("objective { " + _terms(list(range(len(cands))), (-score).tolist()) + " scaling_factor: -1 }")
    hint = [int(c) in hinted for c in cands.tolist()]
    parts.append("solution_hint { " + " ".join(f"vars: {i}" for i in range(len(cands))) + " "
                 + " ".join(f"values: {int(h)}" for h in hint) + " }")
    return "\n".join(parts)


class Prepared:
    """One step's model, built (in Python, holding the GIL) and ready for CP-SAT."""

    def __init__(self, space: Space, view, free_groups: np.ndarray, hinted: set[int]):
        self.free_groups = free_groups
        self.hinted = hinted
        self.old_score = sum(int(space.opt_score[space.cand_option[c]]) for c in hinted)
        self.cands = open_candidates(space, view, free_groups)
        self.model = cp_model.CpModel()
        self.model.proto.parse_text_format(build_model_text(space, view, self.cands, hinted))


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
    status = solver.solve(prepared.model)
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    objective = int(round(solver.objective_value)) if found else -1
    chosen = []
    if found:
        values = solver.response_proto.solution
        chosen = [cand for i, cand in enumerate(prepared.cands.tolist()) if values[i]]
    return status, objective, chosen, solver.response_proto.deterministic_time


def _apply(space: Space, state: PlanState, prepared: Prepared, status: int, objective: int, chosen: list[int],
           deterministic_time: float) -> SubproblemOutcome:
    """Place the step's answer into `state` (its free groups already removed), or the incumbent back."""
    new_score = objective
    if new_score >= prepared.old_score:
        for cand in chosen:
            state.place(cand)
    else:  # nothing better found (or no solution at all): put the incumbent back
        for cand in prepared.hinted:
            state.place(cand)
        new_score = prepared.old_score
    return SubproblemOutcome(prepared.old_score, new_score, status == cp_model.OPTIMAL, len(prepared.cands),
                             deterministic_time)


def reoptimise(space: Space, state: PlanState, free_groups: np.ndarray, *, time_limit: float,
               deterministic_limit: float | None, workers: int, seed: int) -> SubproblemOutcome:
    """Re-place `free_groups` optimally (within the limits); `state` is updated in place, never worsened."""
    hinted = {int(state.chosen[g]) for g in free_groups} - {NOT_PLACED}
    for group in free_groups:
        state.remove(int(group))
    prepared = Prepared(space, state, free_groups, hinted)
    answer = run_cpsat(prepared, time_limit=time_limit, deterministic_limit=deterministic_limit,
                       workers=workers, seed=seed)
    return _apply(space, state, prepared, *answer)


class _View:
    """What one of several concurrent steps may use: `*_used` are set so that the room left is its share."""

    def __init__(self, beds_used: np.ndarray, rooms_used: np.ndarray, drawn: np.ndarray):
        self.beds_used, self.rooms_used, self.drawn = beds_used, rooms_used, drawn


def _usage(space: Space, cands: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(beds, rooms) per base*n_days + night, and money per fund, that `cands` use."""
    n_cells = space.n_bases * space.n_days
    beds, rooms = np.zeros(n_cells, dtype=np.int64), np.zeros(n_cells, dtype=np.int64)
    drawn = np.zeros(len(space.fund_ids), dtype=np.int64)
    if cands:
        array = np.array(cands, dtype=np.int64)
        position, cell = stays_of(space, array)
        group = space.opt_group[space.cand_option[array]]
        np.add.at(beds, cell, space.size[group][position])
        np.add.at(rooms, cell, space.rooms[group][position])
        np.add.at(drawn, space.group_fund[group], space.opt_subsidy[space.cand_option[array]])
    return beds, rooms, drawn


def reoptimise_concurrently(space: Space, state: PlanState, free_sets: list[np.ndarray], *, time_limit: float,
                            deterministic_limit: float | None, seeds: list[int], executor) -> list[SubproblemOutcome]:
    """Several disjoint steps at once, one CP-SAT worker each, in `executor`'s threads.

    Each step sees the capacity and money the groups outside every step leave, except that
    where more than one step could use a base-night or a fund, the room left beyond their
    incumbents' own use is split between them. Every step can keep its incumbent, and
    together they can never overfill anything, so their answers are applied side by side.
    The outcome depends only on the inputs (not on thread timing): each step is
    deterministic on its own and they are applied in order.
    """
    hinted = [{int(state.chosen[g]) for g in free} - {NOT_PLACED} for free in free_sets]
    for free in free_sets:
        for group in free:
            state.remove(int(group))
    n_cells = space.n_bases * space.n_days
    # room left by everything outside the steps
    beds_room = space.beds_night.ravel() - state.beds_used.ravel()
    rooms_room = space.rooms_night.ravel() - state.rooms_used.ravel()
    money_room = space.budget - state.drawn
    uses, touched_cells, touched_funds = [], [], []
    cell_count = np.zeros(n_cells, dtype=np.int64)
    fund_count = np.zeros(len(space.fund_ids), dtype=np.int64)
    for free, hint in zip(free_sets, hinted):
        use = _usage(space, sorted(hint))
        uses.append(use)
        cands = open_candidates(space, state, free)
        _, cell = stays_of(space, cands)
        cells = np.unique(cell)
        funds = np.unique(space.group_fund[free])
        touched_cells.append(cells)
        touched_funds.append(funds)
        cell_count[cells] += 1
        fund_count[funds] += 1
    beds_slack = beds_room - sum(u[0] for u in uses)
    rooms_slack = rooms_room - sum(u[1] for u in uses)
    money_slack = money_room - sum(u[2] for u in uses)
    cell_share = np.maximum(cell_count, 1)
    fund_share = np.maximum(fund_count, 1)

    futures, prepared_steps = [], []
    for k, (free, hint) in enumerate(zip(free_sets, hinted)):
        if len(free_sets) == 1:
            view = state
        else:
            beds_use, rooms_use, money_use = uses[k]
            # used = capacity - (own incumbent + share of the slack): the room left is exactly the share
            beds_used = space.beds_night.ravel().copy()
            rooms_used = space.rooms_night.ravel().copy()
            cells = touched_cells[k]
            beds_used[cells] -= beds_use[cells] + beds_slack[cells] // cell_share[cells]
            rooms_used[cells] -= rooms_use[cells] + rooms_slack[cells] // cell_share[cells]
            drawn = space.budget.copy()
            funds = touched_funds[k]
            drawn[funds] -= money_use[funds] + money_slack[funds] // fund_share[funds]
            view = _View(beds_used.reshape(space.n_bases, space.n_days),
                         rooms_used.reshape(space.n_bases, space.n_days), drawn)
        prepared = Prepared(space, view, free, hint)
        prepared_steps.append(prepared)
        # start solving at once: the next step's model is built while this one solves
        futures.append(executor.submit(run_cpsat, prepared, time_limit=time_limit,
                                       deterministic_limit=deterministic_limit, workers=1, seed=seeds[k]))
    return [_apply(space, state, prepared, *future.result()) for prepared, future in zip(prepared_steps, futures)]
