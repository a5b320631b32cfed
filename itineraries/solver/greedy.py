"""Warm start from the LP: round its solution, fill gaps greedily at LP prices, then move
groups to better placements, each by moving one other group out of the way."""
from __future__ import annotations

import numpy as np

from .bound import LPSolution, candidate_stays
from .space import Space
from .state import NOT_PLACED, PlanState

# LP mass from which the rounding treats a group as one the LP places
LP_PLACES_GROUP = 0.5
# placements a group tries in `ejection_moves`: its LP columns, then best reduced profit (groups
# left out only, from year2x-s1's rounding at 3.18 %: 4 / 8 / 16 tries 2.66 / 2.61 / 2.56 %, 0.06 / 0.12 / 0.12 s)
EJECTION_TRIES = 8


def reduced_profit(space: Space, lp: LPSolution) -> np.ndarray:
    """score minus what the candidate's beds, rooms and money are worth at LP prices."""
    option = space.cand_option
    group = space.opt_group[option]
    cand, cell = candidate_stays(space)
    night_cost = (lp.beds_dual.ravel()[cell] * space.size[group][cand]
                  + lp.rooms_dual.ravel()[cell] * space.rooms[group][cand])
    capacity_cost = np.bincount(cand, weights=night_cost, minlength=space.n_candidates)
    money_cost = lp.fund_dual[space.group_fund[group]] * space.opt_subsidy[option]
    return space.opt_score[option] - capacity_cost - money_cost


def _lp_mass(space: Space, lp: LPSolution) -> np.ndarray:
    """[group] how much of the group the LP places (its columns' values summed)."""
    return np.bincount(space.opt_group[space.cand_option], weights=lp.x, minlength=space.n_groups)


def _place_if_fits(state: PlanState, cand: int) -> bool:
    group = state.space.candidate_group(cand)
    if state.chosen[group] == NOT_PLACED and state.fits(cand):
        state.place(cand)
        return True
    return False


def lp_rounding(space: Space, lp: LPSolution, profit: np.ndarray, state: PlanState) -> PlanState:
    """Round the LP's solution group by group, the largest stays (bed-nights) first; then
    fill the gaps at LP prices (`profit`: `reduced_profit`).

    Each group takes the first of its LP columns (by decreasing value) that still fits;
    if none does and the LP places most of the group, its best open candidate at LP prices.
    Big stays first, as in first-fit decreasing: small ones fit round them later, the
    reverse rarely (year-s1: 97.4 % of the bound, 95.4 % by LP value alone).
    """
    support = np.flatnonzero(lp.x > 1e-6)
    group = space.opt_group[space.cand_option[support]]
    bed_nights = space.size * space.nights
    mass = _lp_mass(space, lp)
    order = np.lexsort((-profit[support], -lp.x[support], group, -bed_nights[group]))
    columns_of: dict[int, list[int]] = {}
    for cand, g in zip(support[order].tolist(), group[order].tolist()):
        columns_of.setdefault(g, []).append(cand)
    for g, columns in columns_of.items():  # in order of first appearance: largest stays first
        if state.chosen[g] != NOT_PLACED:
            continue
        if not any(_place_if_fits(state, cand) for cand in columns) and mass[g] >= LP_PLACES_GROUP:
            best = _best_open_candidate(space, state, g, profit)
            if best != NOT_PLACED:
                state.place(best)
    return priced_fill(space, profit, state)


def ejection_moves(space: Space, lp: LPSolution, profit: np.ndarray, state: PlanState,
                   movable: np.ndarray) -> int:
    """Move groups to placements that score more, each making room by moving one other group.

    The groups are those the LP places (mass >= 0.5) that the plan leaves out, then the
    placed ones holding less than the best of their LP columns; highest LP price first.
    Each tries its EJECTION_TRIES best placements that score more than it holds (LP
    columns first, then by reduced profit): as it is, or, where one other placed `movable`
    group at that base covers every night the placement is short of beds or rooms, by
    taking that one out and giving it its best open candidate (or none). The best move is
    made if it adds to the score and leaves no region further short of its minimum.

    The rounding leaves such moves where a smaller group took a bigger one's room first,
    or an early one took a date another needed; a step of LNS finds them too, but this
    finds most in a few tenths of a second (the solver README: year2x-s1 3.18 -> 2.29 % of the
    bound in 0.4 s, year-s11 3.91 -> 2.22 % in 0.2 s). Returns the moves made.
    """
    s = space
    score = s.opt_score[s.cand_option]
    placed = state.chosen != NOT_PLACED
    held_score = np.zeros(s.n_groups, dtype=np.int64)
    held_score[placed] = score[state.chosen[placed]]
    lp_best = np.zeros(s.n_groups, dtype=np.int64)
    support = np.flatnonzero(lp.x > 1e-6)
    np.maximum.at(lp_best, s.opt_group[s.cand_option[support]], score[support])
    left_out = np.flatnonzero(~placed & (_lp_mass(s, lp) >= LP_PLACES_GROUP))
    below_lp = np.flatnonzero(placed & movable & (held_score < lp_best))

    # the movable groups placed at each base (who could make room there), kept in step with the plan
    at_base: list[set[int]] = [set() for _ in range(s.n_bases)]

    def put(cand: int) -> None:
        state.place(cand)
        at_base[s.opt_base[s.cand_option[cand]]].add(s.candidate_group(cand))

    def take_out(group: int) -> None:
        at_base[s.opt_base[s.cand_option[state.chosen[group]]]].discard(group)
        state.remove(group)

    for group in np.flatnonzero(placed & movable).tolist():
        at_base[s.opt_base[s.cand_option[state.chosen[group]]]].add(group)

    moves = 0
    for group in np.r_[left_out[np.argsort(-lp.group_dual[left_out], kind="stable")],
                       below_lp[np.argsort(-lp.group_dual[below_lp], kind="stable")]].tolist():
        held = int(state.chosen[group])
        held_value = int(score[held]) if held != NOT_PLACED else 0
        cands = np.asarray(s.candidates_of_group(group))
        cands = cands[score[cands] > held_value]
        cands = cands[np.lexsort((-profit[cands], -lp.x[cands]))[:EJECTION_TRIES]]
        if len(cands) == 0:
            continue
        shortfall = state.shortfall
        if held != NOT_PLACED:
            take_out(group)
        best_gain, best_move = 0, None
        for cand in cands.tolist():
            if state.fits(cand):
                moves_here = [(None, NOT_PLACED, 0)]
            else:
                moves_here = _moves_making_room(s, state, profit, group, cand, at_base, shortfall)
            for other, moved_to, change in moves_here:
                gain = int(score[cand]) - held_value + change
                if gain > best_gain:
                    best_gain, best_move = gain, (cand, other, moved_to)
        if best_move is None:
            if held != NOT_PLACED:
                put(held)
            continue
        cand, other, moved_to = best_move
        if other is not None:
            take_out(other)
        put(cand)
        if moved_to != NOT_PLACED:
            put(moved_to)
        moves += 1
    return moves


def _moves_making_room(s: Space, state: PlanState, profit: np.ndarray, group: int, cand: int,
                       at_base: list[set[int]], shortfall: int):
    """(other, where it goes or NOT_PLACED, the score that changes) for each placed group at
    `cand`'s base whose taking out lets `group` in there; `state` is left as it was."""
    base, arrival = s.opt_base[s.cand_option[cand]], int(s.cand_arrival[cand])
    nights = np.arange(arrival, arrival + s.nights[group])
    beds_short = s.size[group] - (s.beds_night[base, nights] - state.beds_used[base, nights])
    rooms_short = s.rooms[group] - (s.rooms_night[base, nights] - state.rooms_used[base, nights])
    others = np.fromiter(at_base[base], dtype=np.int64, count=len(at_base[base]))
    arrivals = s.cand_arrival[state.chosen[others]]
    others = others[(arrivals <= nights[-1]) & (arrivals + s.nights[others] > arrival)]  # stays overlapping
    for other in others.tolist():
        held = int(state.chosen[other])
        stay_from = int(s.cand_arrival[held])
        covered = (nights >= stay_from) & (nights < stay_from + s.nights[other])
        if (((beds_short > 0) & (~covered | (beds_short > s.size[other]))).any()
                or ((rooms_short > 0) & (~covered | (rooms_short > s.rooms[other]))).any()):
            continue  # taking it out would not make room every night
        state.remove(other)
        if state.fits(cand):
            state.place(cand)
            moved_to = _best_open_candidate(s, state, other, profit)
            change = -int(s.opt_score[s.cand_option[held]])
            if moved_to != NOT_PLACED:
                state.place(moved_to)
                change += int(s.opt_score[s.cand_option[moved_to]])
            kept_minimums = state.shortfall <= shortfall
            state.remove(group)
            if moved_to != NOT_PLACED:
                state.remove(other)
            if kept_minimums:
                yield other, moved_to, change
        state.place(held)


def priced_fill(space: Space, profit: np.ndarray, state: PlanState) -> PlanState:
    """Each still-unplaced group, best LP value first, takes its open candidate of highest reduced profit."""
    group_value = np.full(space.n_groups, -np.inf)
    np.maximum.at(group_value, space.opt_group[space.cand_option], profit)
    for group in np.argsort(-group_value, kind="stable"):
        if state.chosen[group] == NOT_PLACED:
            best = _best_open_candidate(space, state, int(group), profit)
            if best != NOT_PLACED:
                state.place(best)
    return state


def _best_open_candidate(space: Space, state: PlanState, group: int, profit: np.ndarray) -> int:
    """The group's candidate of highest `profit` that fits the plan now (NOT_PLACED if none)."""
    fund = space.group_fund[group]
    best, best_profit = NOT_PLACED, -np.inf
    for option in space.options_of(group):
        if state.drawn[fund] + space.opt_subsidy[option] > space.budget[fund]:
            continue
        open_cands = state.open_arrivals(option)
        if len(open_cands):
            top = open_cands[np.argmax(profit[open_cands])]
            if profit[top] > best_profit:
                best, best_profit = int(top), profit[top]
    return best
