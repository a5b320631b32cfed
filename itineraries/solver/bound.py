"""LP relaxation of the x[group, base, arrival] model, solved by HiGHS.

Its optimum bounds every plan from above, and its solution and duals steer the
search: most LP columns come out integral, and the duals price capacity and money.
Capacity rows that no combination of candidates could overfill are left out; they
cannot bind, and dropping them shrinks the LP several-fold. Of the others, only those
an LP solution overfills ever enter the model.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

import highspy
import numpy as np

from .space import Space


@dataclass
class LPSolution:
    value: float              # LP optimum
    bound: int                # floor(value): scores are integers, so no plan does better
    x: np.ndarray             # [candidate] LP value
    group_dual: np.ndarray    # [group] price of a group's at-most-once row
    fund_dual: np.ndarray     # [fund] price of one fen of budget
    beds_dual: np.ndarray     # [base, day] price of one bed-night
    rooms_dual: np.ndarray    # [base, day] price of one room-night
    seconds: float
    optimal: bool
    rounds: int               # LP solves of the column generation
    columns: int              # candidates that entered the LP


# columns added per group and pricing round: fewer rounds, each a longer warm re-solve. With 6
# instead of 3 the LP of year-s1's 2x instance (fund rows priced) took 5.4-6.0 s instead of 7.9-9.7 s;
# the 1x instances the same or less (README)
COLUMNS_PER_GROUP = 6
# How to re-solve after columns enter (with the row generation in solve_lp, LP s on year-s1,
# autumn-crunch-s2, year-s11 and its 2x: 7.8 / 12.3 / 7.1 / 19.8 -> 3.3 / 6.4 / 2.4 / 5.0).
# Many new columns (round 2: 9,000 into 11,700) make a poor warm start: dual simplex from
# scratch beats it six-fold on the 2x instance.
# A few (the last rounds: tens) leave the basis nearly optimal: primal simplex takes a few
# hundred iterations where dual simplex, flipping the new columns to their bounds, takes thousands.
FRESH_START_SHARE = 0.3
PRIMAL_SHARE = 0.03
# `on_near_optimal` fires once the restricted LP is proved this close to the optimum (share of
# its value): after the second pricing round on year-s1 and its 2x (within 1.0 / 1.3 %), about
# half-way through the LP; the rounding from there is as good as from the optimum (README)
NEAR_OPTIMAL = 0.02


@dataclass
class CompressedMatrix:
    """A sparse matrix compressed along one axis: nonzeros `start[i]:start[i + 1]` belong to
    column i (by columns, `index` holds rows) or to row i (by rows, `index` holds columns)."""
    start: np.ndarray
    index: np.ndarray
    value: np.ndarray


@dataclass
class RowBlock:
    """Some `<=` rows: nonzeros (row within the block, column, coefficient) and right-hand sides."""
    row: np.ndarray
    col: np.ndarray
    value: np.ndarray
    upper: np.ndarray
    cells: np.ndarray | None = None  # for base-night rows: the base*n_days + night of each row


def candidate_stays(space: Space) -> tuple[np.ndarray, np.ndarray]:
    """(candidate, base*n_days + night) for every night of every candidate's stay."""
    option = space.cand_option
    group = space.opt_group[option]
    nights = space.nights[group]
    cand = np.repeat(np.arange(space.n_candidates), nights)
    # position within the stay: 0..nights-1 for each repeated candidate
    starts = np.repeat(np.cumsum(nights) - nights, nights)
    offset = np.arange(len(cand)) - starts
    cell = space.opt_base[option][cand] * space.n_days + space.cand_arrival[cand] + offset
    return cand, cell


def solve_lp(space: Space, fixed_chosen: np.ndarray | None = None, time_limit: float = 600.0,
             initial_columns: np.ndarray | None = None,
             should_stop: Callable[[], bool] | None = None,
             on_near_optimal: Callable[[LPSolution], None] | None = None) -> LPSolution:
    """LP optimum; `fixed_chosen[group]` (candidate or -1) pins bookings that must be kept.

    `initial_columns` (e.g. an incumbent plan's candidates) seed the column generation.
    `should_stop()` is asked while HiGHS iterates; True interrupts it. If the time runs
    out or the solve is interrupted first, `bound` is still valid (from the last prices),
    only weaker, and `optimal` is False.

    `on_near_optimal(solution)` is called once, with the restricted LP's solution, when
    its prices prove it within NEAR_OPTIMAL of the optimum while pricing goes on, so a
    caller can start searching from it in another thread. From then on `should_stop` is
    asked between HiGHS's runs only: the interrupt callback takes the GIL at every
    simplex iteration, which would leave HiGHS waiting on that other thread.
    """
    started = time.monotonic()
    n_cand = space.n_candidates
    n_groups = space.n_groups
    option = space.cand_option
    group = space.opt_group[option]
    rows, cols, vals, upper, offsets, blocks, capacity_blocks = _model_rows(space)
    n_rows = int(offsets[-1])
    matrix = _compressed(rows, cols, vals, n_cand)
    by_row = _compressed(cols, rows, vals, n_rows)

    cost = space.opt_score[option].astype(float)
    col_lower = np.zeros(n_cand)
    col_upper = np.ones(n_cand)
    if fixed_chosen is not None:
        pinned = fixed_chosen[group] >= 0
        col_upper[pinned] = 0.0
        kept = fixed_chosen[fixed_chosen >= 0]
        col_lower[kept] = col_upper[kept] = 1.0

    # the core class: the Python wrapper prints a banner on construction, before any option can be set
    highs = highspy._core._Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", 1)
    highs.setOptionValue("presolve", "off")  # warm-started re-solves gain nothing from it
    interrupting = should_stop is not None
    if interrupting:
        _interrupt_when(highs, should_stop)
    lp = highspy.HighsLp()
    lp.sense_ = highspy.ObjSense.kMaximize
    highs.passModel(lp)
    # rows enter with the first column that touches them (an untouched row has price 0 anyway),
    # and a capacity row only once an LP solution overfills it: most never bind (year-s1: 1,845
    # of 66,792 tight at the optimum), and a basis of ~9,500 rows instead of ~46,000 solves faster
    model_row = np.full(n_rows, -1, dtype=np.int64)
    model_col = np.full(n_cand, -1, dtype=np.int64)
    always = np.zeros(n_rows, dtype=bool)
    always[:offsets[2]] = True  # group and fund rows

    # column generation: the LP support is a few percent of the candidates, so start from
    # some, and add the ones the current prices say are worth it until none is
    first = _spread_columns(space)
    if initial_columns is not None:
        first = np.union1d(first, initial_columns)
    first = np.union1d(first, np.flatnonzero(col_lower > 0))
    row_dual = np.zeros(n_rows)
    reduced = cost.copy()  # cost - A'y at the prices so far
    x = np.zeros(n_cand)
    value = 0.0
    optimal = False
    rounds = 0
    new_columns = first[col_upper[first] > 0]
    while len(new_columns):
        if rounds:
            _prepare_resolve(highs, len(new_columns))
        _add_columns(highs, matrix, new_columns, cost, col_lower, col_upper, model_row, model_col, always, upper)
        while True:
            if not interrupting and should_stop is not None and should_stop():
                solved = False
                break
            # HiGHS holds its time limit against the run time it has summed over every run() so far
            left = max(0.1, time_limit - (time.monotonic() - started))
            highs.setOptionValue("time_limit", highs.getRunTime() + left)
            highs.run()
            rounds += 1
            solution = highs.getSolution()
            solved = highs.getModelStatus() == highspy.HighsModelStatus.kOptimal and solution.dual_valid
            if not solved:
                break
            in_model = np.flatnonzero(model_col >= 0)
            x = np.zeros(n_cand)
            x[in_model] = np.asarray(solution.col_value)[model_col[in_model]]
            activity = _row_activity(matrix, x, n_rows)
            overfilled = np.flatnonzero((model_row < 0) & (activity > upper + 1e-7 * np.maximum(1.0, upper)))
            if len(overfilled) == 0:
                break
            # the basis stays dual feasible when rows enter: dual simplex from it
            highs.setOptionValue("simplex_strategy", 1)
            _add_rows(highs, by_row, overfilled, model_row, model_col, upper)
        if not solved:
            break
        value = highs.getInfo().objective_function_value
        # maximisation with <= rows: HiGHS reports the prices as non-negative; clip round-off
        active = model_row >= 0
        row_dual = np.zeros(n_rows)
        row_dual[active] = np.maximum(np.asarray(solution.row_dual)[model_row[active]], 0.0)
        reduced = _reduced_costs(cost, by_row, row_dual)
        new_columns = _best_per_group(reduced, group, (model_col < 0) & (col_upper > 0), COLUMNS_PER_GROUP)
        optimal = len(new_columns) == 0
        if on_near_optimal is not None and not optimal:
            near_bound = _bound_keeping_group_rows(row_dual, upper, reduced, group, n_groups, col_lower, col_upper)
            if near_bound - value <= NEAR_OPTIMAL * max(1.0, abs(value)):
                on_near_optimal(_solution(space, value, near_bound, x, row_dual, blocks, offsets, capacity_blocks,
                                          started, False, rounds, model_col))
                on_near_optimal = None
                if interrupting:
                    highs.stopCallback(highspy.cb.HighsCallbackType.kCallbackSimplexInterrupt)
                    interrupting = False

    bound = _dual_bound(row_dual, upper, reduced, col_lower, col_upper)
    return _solution(space, value, bound, x, row_dual, blocks, offsets, capacity_blocks, started, optimal, rounds,
                     model_col)


def _solution(space: Space, value: float, bound: int, x: np.ndarray, row_dual: np.ndarray, blocks: list[RowBlock],
              offsets: np.ndarray, capacity_blocks: list[int], started: float, optimal: bool, rounds: int,
              model_col: np.ndarray) -> LPSolution:
    n_groups, n_funds = space.n_groups, len(space.fund_ids)
    cell_duals = []
    for block in capacity_blocks:
        dual = np.zeros(space.n_bases * space.n_days)
        dual[blocks[block].cells] = row_dual[offsets[block]:offsets[block + 1]]
        cell_duals.append(dual.reshape(space.n_bases, space.n_days))
    return LPSolution(
        value=value, bound=bound, x=x, rounds=rounds, columns=int((model_col >= 0).sum()),
        group_dual=row_dual[:n_groups],
        fund_dual=row_dual[n_groups:n_groups + n_funds] / 100.0,
        beds_dual=cell_duals[0],
        rooms_dual=cell_duals[1],
        seconds=time.monotonic() - started, optimal=optimal,
    )


def _model_rows(space: Space):
    """The model's `<=` rows over every candidate: (rows, cols, values, right-hand sides, block
    offsets, blocks, indices of the two capacity blocks). Group rows come first, then funds,
    then the base-nights (beds, rooms) that the candidates touching them could overfill."""
    n_cand, n_groups = space.n_candidates, space.n_groups
    n_cells = space.n_bases * space.n_days
    option = space.cand_option
    group = space.opt_group[option]
    cand_ids = np.arange(n_cand)
    cand_rep, cell = candidate_stays(space)
    blocks = [
        RowBlock(group, cand_ids, np.ones(n_cand), np.ones(n_groups)),
        # money in yuan keeps the coefficients near the others' magnitude
        RowBlock(space.group_fund[group], cand_ids, space.opt_subsidy[option] / 100.0, space.budget / 100.0),
    ]
    capacity_blocks = []
    for cap, load in ((space.beds_night, space.size), (space.rooms_night, space.rooms)):
        cell_cap = cap.ravel()
        weight = load[group][cand_rep]
        # a row matters only if the candidates touching it could together exceed it
        demand = np.bincount(cell, weights=weight, minlength=n_cells)
        capacity_blocks.append(len(blocks))
        blocks.append(_cell_block(cell, cand_rep, weight.astype(float), cell_cap.astype(float), demand > cell_cap))
    offsets = np.cumsum([0] + [len(b.upper) for b in blocks])
    rows = np.concatenate([b.row + offsets[i] for i, b in enumerate(blocks)])
    cols = np.concatenate([b.col for b in blocks])
    vals = np.concatenate([b.value for b in blocks])
    upper = np.concatenate([b.upper for b in blocks])
    return rows, cols, vals, upper, offsets, blocks, capacity_blocks


def _compressed(index: np.ndarray, major: np.ndarray, vals: np.ndarray, n_major: int) -> CompressedMatrix:
    """By columns: `_compressed(rows, cols, vals, n_cols)`; by rows: `_compressed(cols, rows, vals, n_rows)`."""
    order = np.argsort(major, kind="stable")  # _model_rows lists the minor index ascending within each
    start = np.zeros(n_major + 1, dtype=np.int64)
    np.cumsum(np.bincount(major, minlength=n_major), out=start[1:])
    return CompressedMatrix(start, index[order], vals[order])


@dataclass
class MipBound:
    bound: int | None        # no plan scores more (HiGHS's dual bound, floored); None if it had none yet
    best_objective: int | None  # the plan HiGHS reports at the end (measured: not always the incumbent given)
    optimal: bool            # HiGHS closed the gap
    seconds: float


def mip_bound(space: Space, *, time_limit: float, incumbent: np.ndarray | None = None) -> MipBound:
    """An upper bound tighter than the LP's: the whole model as a MIP in HiGHS, whose cuts and
    branching lower the bound over time. Minutes at province scale, so for benchmarks and
    offline proofs, not for a 60 s solve. `incumbent` (candidates of a plan) lets HiGHS prune.
    Until HiGHS has solved its root LP (budget-tight-s3: over 90 s) there is no bound.

    Unlike `solve_lp`'s bound this one rests on HiGHS's tolerances.
    """
    started = time.monotonic()
    n_cand = space.n_candidates
    rows, cols, vals, upper, offsets, _, _ = _model_rows(space)
    matrix = _compressed(rows, cols, vals, n_cand)
    highs = highspy._core._Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", 1)
    highs.setOptionValue("time_limit", float(time_limit))
    highs.setOptionValue("mip_heuristic_effort", 0.0 if incumbent is not None else 0.05)
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = n_cand, int(offsets[-1])
    model.sense_ = highspy.ObjSense.kMaximize
    model.col_cost_ = space.opt_score[space.cand_option].astype(float)
    model.col_lower_, model.col_upper_ = np.zeros(n_cand), np.ones(n_cand)
    model.row_lower_, model.row_upper_ = np.full(len(upper), -highspy.kHighsInf), upper
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = matrix.start.astype(np.int32)
    model.a_matrix_.index_ = matrix.index.astype(np.int32)
    model.a_matrix_.value_ = matrix.value
    model.integrality_ = [highspy.HighsVarType.kInteger] * n_cand
    highs.passModel(model)
    if incumbent is not None:
        solution = highspy.HighsSolution()
        values = np.zeros(n_cand)
        values[incumbent] = 1.0
        solution.col_value = list(values)
        solution.value_valid = True
        highs.setSolution(solution)
    highs.run()
    info = highs.getInfo()
    found = info.primal_solution_status == 2  # kSolutionStatusFeasible
    best = int(round(info.objective_function_value)) if found else None
    dual = info.mip_dual_bound
    # no finite bound yet when the time runs out before HiGHS's root LP is solved
    bound = math.floor(dual + 1e-6 * max(1.0, abs(dual))) if math.isfinite(dual) else None
    return MipBound(bound=bound, best_objective=best,
                    optimal=highs.getModelStatus() == highspy.HighsModelStatus.kOptimal,
                    seconds=time.monotonic() - started)


def _interrupt_when(highs, should_stop: Callable[[], bool], every: float = 0.2) -> None:
    """Make HiGHS's simplex stop once `should_stop()` is True, asking at most every `every` seconds."""
    asked_at = [time.monotonic()]

    def callback(kind, message, data_out, data_in, user_data) -> None:
        now = time.monotonic()
        if now - asked_at[0] >= every:
            asked_at[0] = now
            if should_stop():
                data_in.user_interrupt = True

    highs.setCallback(callback, None)
    highs.startCallback(highspy.cb.HighsCallbackType.kCallbackSimplexInterrupt)


def _spread_columns(space: Space, per_option: int = 1) -> np.ndarray:
    """A few arrivals of every option, spread over its window: a cheap first LP."""
    counts = np.diff(space.cand_start)
    picks = []
    for k in range(per_option):
        # k-th of `per_option` evenly spaced positions within each option's candidates
        position = space.cand_start[:-1] + (counts * (2 * k + 1)) // (2 * per_option)
        picks.append(position[counts > 0])
    return np.unique(np.concatenate(picks))


def _best_per_group(reduced: np.ndarray, group: np.ndarray, eligible: np.ndarray, per_group: int) -> np.ndarray:
    """Up to `per_group` columns of each group with the most positive reduced cost."""
    positive = np.flatnonzero(eligible & (reduced > 1e-6))
    if len(positive) == 0:
        return positive
    ordered = positive[np.lexsort((-reduced[positive], group[positive]))]
    groups = group[ordered]
    first_of_group = np.r_[0, np.flatnonzero(np.diff(groups)) + 1]
    rank = np.arange(len(ordered)) - np.repeat(first_of_group, np.diff(np.r_[first_of_group, len(ordered)]))
    return np.sort(ordered[rank < per_group])


def _prepare_resolve(highs, n_new_columns: int) -> None:
    """Choose how to re-solve once `n_new_columns` enter the model (see FRESH_START_SHARE)."""
    n_columns = highs.getNumCol()
    if n_new_columns > FRESH_START_SHARE * n_columns:
        highs.clearSolver()
    highs.setOptionValue("simplex_strategy", 4 if n_new_columns < PRIMAL_SHARE * n_columns else 1)


def _entries(matrix: CompressedMatrix, majors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions in `matrix.index`/`matrix.value` of the nonzeros of `majors` (columns, or rows of
    a matrix by rows), and for each the position of its column or row in `majors`; vectorised."""
    lengths = matrix.start[majors + 1] - matrix.start[majors]
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    positions = np.repeat(matrix.start[majors] - starts, lengths) + np.arange(int(lengths.sum()))
    return positions, np.repeat(np.arange(len(majors)), lengths)


def _reduced_costs(cost: np.ndarray, by_row: CompressedMatrix, row_dual: np.ndarray) -> np.ndarray:
    """cost − Aᵀy, from the rows with a price (a few thousand of the model's rows)."""
    priced = np.flatnonzero(row_dual)
    positions, owner = _entries(by_row, priced)
    return cost - np.bincount(by_row.index[positions], weights=by_row.value[positions] * row_dual[priced][owner],
                              minlength=len(cost))


def _row_activity(matrix: CompressedMatrix, x: np.ndarray, n_rows: int) -> np.ndarray:
    """A·x over every row, from the columns where x is not zero."""
    support = np.flatnonzero(x)
    positions, owner = _entries(matrix, support)
    return np.bincount(matrix.index[positions], weights=matrix.value[positions] * x[support][owner],
                       minlength=n_rows)


def _add_columns(highs, matrix: CompressedMatrix, columns: np.ndarray, cost: np.ndarray, lower: np.ndarray,
                 upper: np.ndarray, model_row: np.ndarray, model_col: np.ndarray, always: np.ndarray,
                 row_upper: np.ndarray) -> None:
    """Add `columns` to the HiGHS model with their nonzeros in the rows it holds or `always` wants,
    first adding those of the latter it does not hold yet."""
    positions, owner = _entries(matrix, columns)
    kept = (model_row[matrix.index[positions]] >= 0) | always[matrix.index[positions]]
    positions, owner = positions[kept], owner[kept]
    index = matrix.index[positions]
    new_rows = np.unique(index[model_row[index] < 0])
    if len(new_rows):
        model_row[new_rows] = highs.getNumRow() + np.arange(len(new_rows))
        highs.addRows(len(new_rows), np.full(len(new_rows), -highspy.kHighsInf), row_upper[new_rows],
                      0, np.zeros(len(new_rows), dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))
    starts = np.r_[0, np.cumsum(np.bincount(owner, minlength=len(columns)))[:-1]]
    model_col[columns] = highs.getNumCol() + np.arange(len(columns))
    highs.addCols(len(columns), cost[columns], lower[columns], upper[columns], len(index),
                  starts.astype(np.int32), model_row[index].astype(np.int32), matrix.value[positions])


def _add_rows(highs, by_row: CompressedMatrix, new_rows: np.ndarray, model_row: np.ndarray, model_col: np.ndarray,
              row_upper: np.ndarray) -> None:
    """Add the rows `new_rows` to the HiGHS model, with their nonzeros in the columns it holds."""
    positions, owner = _entries(by_row, new_rows)
    kept = model_col[by_row.index[positions]] >= 0
    positions, owner = positions[kept], owner[kept]
    model_row[new_rows] = highs.getNumRow() + np.arange(len(new_rows))
    starts = np.r_[0, np.cumsum(np.bincount(owner, minlength=len(new_rows)))[:-1]]
    highs.addRows(len(new_rows), np.full(len(new_rows), -highspy.kHighsInf), row_upper[new_rows],
                  len(positions), starts.astype(np.int32), model_col[by_row.index[positions]].astype(np.int32),
                  by_row.value[positions])


def _dual_bound(row_dual: np.ndarray, upper: np.ndarray, reduced: np.ndarray, col_lower: np.ndarray,
                col_upper: np.ndarray) -> int:
    """Upper bound on every integer plan from any non-negative row prices (Lagrangian dual).

    For prices y >= 0 and `reduced` = cost - A'y: objective <= y.b + sum over columns of
    max over x in [lower, upper] of reduced x. This holds whatever the LP solver's tolerances
    were, so the bound is proved by this arithmetic, not trusted from HiGHS; with optimal
    duals it equals the LP value up to round-off. Scores are integers, hence the floor.
    """
    best_column = np.where(reduced > 0, reduced * col_upper, reduced * col_lower)
    return _floored(float(row_dual @ upper) + float(best_column.sum()))


def _bound_keeping_group_rows(row_dual: np.ndarray, upper: np.ndarray, reduced: np.ndarray, group: np.ndarray,
                              n_groups: int, col_lower: np.ndarray, col_upper: np.ndarray) -> int:
    """`_dual_bound` with each group's at-most-once row kept as a constraint, not priced: every
    group takes at most its best column at the other rows' prices. Tighter while pricing goes
    on (the restricted LP's group prices leave out the columns still to enter); equal at the end.
    Groups with a kept booking (`col_lower` 1) count that booking."""
    others = reduced + row_dual[:n_groups][group]
    best = np.zeros(n_groups)
    open_columns = col_upper > 0
    np.maximum.at(best, group[open_columns], others[open_columns])
    kept = col_lower > 0
    best[group[kept]] = others[kept]
    return _floored(float(row_dual[n_groups:] @ upper[n_groups:]) + float(best.sum()))


def _floored(value: float) -> int:
    """A bound on integer scores: the value floored, past the round-off of its sums."""
    return math.floor(value + 1e-9 * max(1.0, abs(value)))


def _cell_block(cell: np.ndarray, cand: np.ndarray, coefficient: np.ndarray, cell_rhs: np.ndarray,
                cell_kept: np.ndarray) -> RowBlock:
    """Rows for the base-nights in `cell_kept` only, renumbered densely."""
    kept_cells = np.flatnonzero(cell_kept)
    row_of = np.full(len(cell_kept), -1)
    row_of[kept_cells] = np.arange(len(kept_cells))
    on_kept = row_of[cell] >= 0
    return RowBlock(row_of[cell[on_kept]], cand[on_kept], coefficient[on_kept], cell_rhs[kept_cells], kept_cells)
