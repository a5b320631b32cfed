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
    beds_free = space.beds_cap[base] - space.size[group]
    rooms_free = space.rooms_cap[base] - space.rooms[group]
    for k in range(int(nights.max(initial=0))):
        night = np.minimum(arrival + k, space.n_days - 1)
        staying = k < nights
        fits &= ~staying | ((state.beds_used[base, night] <= beds_free) & (state.rooms_used[base, night] <= rooms_free))
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
    written: set[tuple[int, tuple[int, ...]]] = set()
    for used, cap, load in ((state.beds_used, space.beds_cap, space.size),
                            (state.rooms_used, space.rooms_cap, space.rooms)):
        residual = np.repeat(cap, space.n_days) - used.ravel()
        weight = load[group_of_cand][position]
        demand = np.bincount(cell, weights=weight, minlength=len(residual))
        binding = demand[cell] > residual[cell]
        if not binding.any():
            continue
        by_cell = np.flatnonzero(binding)[np.argsort(cell[binding], kind="stable")]
        pos, cel, wt = position[by_cell].tolist(), cell[by_cell], weight[by_cell].tolist()
        bounds = [0] + (np.flatnonzero(np.diff(cel)) + 1).tolist() + [len(cel)]
        limits = residual[cel[bounds[:-1]]].tolist()
        for start, end, limit in zip(bounds[:-1], bounds[1:], limits):
            key = (limit, tuple(pos[start:end]), tuple(wt[start:end]))
            if key not in written:
                written.add(key)
                parts.append(_at_most(pos[start:end], wt[start:end], limit))

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


def reoptimise(space: Space, state: PlanState, free_groups: np.ndarray, *, time_limit: float,
               deterministic_limit: float | None, workers: int, seed: int) -> SubproblemOutcome:
    """Re-place `free_groups` optimally (within the limits); `state` is updated in place, never worsened."""
    previous = [int(state.chosen[g]) for g in free_groups]
    hinted = {c for c in previous if c != NOT_PLACED}
    old_score = sum(int(space.opt_score[space.cand_option[c]]) for c in hinted)
    for group in free_groups:
        state.remove(int(group))

    cands = open_candidates(space, state, free_groups)
    model = cp_model.CpModel()
    model.proto.parse_text_format(build_model_text(space, state, cands, hinted))

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    solver.parameters.max_time_in_seconds = max(0.01, time_limit)
    if deterministic_limit is not None:
        solver.parameters.max_deterministic_time = deterministic_limit
    # measured on year-s1 LNS steps: 4x less CP-SAT time than the default level 1, same plans
    solver.parameters.linearization_level = 2
    status = solver.solve(model)

    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    new_score = int(round(solver.objective_value)) if found else -1
    if new_score >= old_score:
        values = solver.response_proto.solution
        for i, cand in enumerate(cands.tolist()):
            if values[i]:
                state.place(cand)
    else:  # nothing better found (or no solution at all): put the incumbent back
        for cand in hinted:
            state.place(cand)
        new_score = old_score
    return SubproblemOutcome(old_score, new_score, status == cp_model.OPTIMAL, len(cands),
                             solver.response_proto.deterministic_time)
