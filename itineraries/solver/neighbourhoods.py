"""Which groups an LNS step frees.

A neighbourhood is a set of bases and a span of nights: every group that could
stay at one of those bases during that span is freed (placed or not), and may
move to any of its candidates. Two ways to pick the set:

- around a group that could score more (unplaced, or not at its best option): its
  option bases, around its window, so the step asks "can the groups competing with
  this one be rearranged to let it in, or up?". Most such seeds are drawn by LP
  regret (see `set_prices`), the others uniformly;
- around a fund: the groups of one fund in a span, so money can move from groups
  that score little per yuan to ones that score more;
- while a region is short of its minimum (`region_minimums`), half the steps centre on
  one of its unplaced groups, so the step can make room for it.
Size is steered by `target`, the number of groups to free.
"""
from __future__ import annotations

import numpy as np

from .space import Space
from .state import NOT_PLACED, PlanState


# share of steps centred on a group (the rest on a fund); measured on year-s1, see README
GROUP_SHARE = 0.8
# while a region is short of its minimum: share of steps centred on one of its unplaced groups
SHORT_REGION_SHARE = 0.5
# share of the group-centred steps whose seed is drawn by LP regret instead of uniformly
LP_SEED_SHARE = 0.7
# picks tried for a step that starts while another solves, the least entangled one taken: 3 cost
# 20 % more CPU a step than 1 and did not give better plans (year-s1, 400 steps: 1.69 vs 1.62 %)
AVOID_TRIES = 1


class NeighbourhoodPicker:
    def __init__(self, space: Space, frozen_groups: np.ndarray, seed: int):
        self.space = space
        self.rng = np.random.default_rng(seed)
        self.movable = np.ones(space.n_groups, dtype=bool)
        self.movable[frozen_groups] = False
        # a group with no candidate at all can never be placed: not worth a step
        group_cands = np.diff(space.cand_start[space.opt_start])
        self.movable &= group_cands > 0
        option = space.cand_option
        self.cand_group = space.opt_group[option]
        self.cand_base = space.opt_base[option]
        self.cand_start_day = space.cand_arrival
        self.cand_end_day = space.cand_arrival + space.nights[self.cand_group]
        # candidates by base and arrival: a neighbourhood reads only its bases' stays near its span
        self.by_base = np.lexsort((self.cand_start_day, self.cand_base))
        self.base_first = np.searchsorted(self.cand_base[self.by_base], np.arange(space.n_bases + 1))
        self.sorted_arrival = self.cand_start_day[self.by_base]
        self.longest_stay = int(space.nights.max(initial=1))
        self.best_score = np.zeros(space.n_groups, dtype=np.int64)
        has_cands = np.diff(space.cand_start) > 0
        np.maximum.at(self.best_score, space.opt_group[has_cands], space.opt_score[has_cands])
        # bases each base shares groups with, to grow a base set along competing demand
        self.group_bases = [space.opt_base[space.options_of(g).start:space.options_of(g).stop]
                            for g in range(space.n_groups)]
        self.reduced_cost: np.ndarray | None = None
        self.money_is_scarce = True

    def set_prices(self, reduced_cost: np.ndarray, group_dual: np.ndarray, fund_dual: np.ndarray) -> None:
        """LP reduced costs per candidate (score less everything it uses at LP prices, its group's
        price included) and group prices: a plan's distance to the bound splits into each group's
        regret (what its best candidates are worth at those prices less what it holds) plus
        priced slack, so groups with regret are where the plan loses against the LP.
        With no fund's money priced (none runs short at the LP optimum) fund steps have no
        money to move, so every step centres on a group (year-s11: README)."""
        s = self.space
        self.money_is_scarce = bool((fund_dual > 0).any())
        self.reduced_cost = reduced_cost
        self.group_dual = group_dual
        self.positive_rc = np.zeros(s.n_groups)
        np.add.at(self.positive_rc, self.cand_group, np.maximum(reduced_cost, 0.0))

    def regret(self, state: PlanState) -> np.ndarray:
        placed = state.chosen != NOT_PLACED
        held = np.where(placed, self.reduced_cost[np.where(placed, state.chosen, 0)], -self.group_dual)
        return np.maximum(self.positive_rc - held, 0.0)

    def _groups_using(self, bases: np.ndarray, first_day: int, end_day: int) -> np.ndarray:
        slices = []
        for b in bases.tolist():
            lo, hi = int(self.base_first[b]), int(self.base_first[b + 1])
            arrivals = self.sorted_arrival[lo:hi]
            # arrivals from first_day - longest stay + 1 (earlier stays end before first_day) to end_day - 1
            start = lo + int(np.searchsorted(arrivals, first_day - self.longest_stay + 1))
            slices.append(self.by_base[start:lo + int(np.searchsorted(arrivals, end_day))])
        cands = np.concatenate(slices) if slices else np.zeros(0, dtype=np.int64)
        cands = cands[self.cand_end_day[cands] > first_day]
        groups = np.unique(self.cand_group[cands])
        return groups[self.movable[groups]]

    def around_group(self, state: PlanState, group: int, target: int) -> np.ndarray:
        """Groups competing with `group` for its bases around its window, grown/shrunk to about `target`."""
        s = self.space
        bases = list(dict.fromkeys(int(b) for b in self.group_bases[group]))
        centre_first = int(s.earliest[group])
        centre_end = int(s.latest[group] + s.nights[group])
        margin = 0
        freed = self._groups_using(np.array(bases), centre_first - margin, centre_end + margin)
        # grow: widen the span first, then add bases of the freed groups
        for _ in range(8):
            if len(freed) >= target:
                break
            margin += 7
            if self.rng.random() < 0.5:
                extra = self.group_bases[int(self.rng.choice(freed))]
                bases.extend(int(b) for b in extra if int(b) not in bases)
            freed = self._groups_using(np.array(bases), centre_first - margin, centre_end + margin)
        if len(freed) > target:
            # keep the groups whose windows lie nearest the seed's; random among equals
            gap = np.maximum(0, np.maximum(s.earliest[freed] - centre_end,
                                           centre_first - (s.latest[freed] + s.nights[freed])))
            nearest = np.lexsort((self.rng.random(len(freed)), gap))[:target]
            freed = np.union1d(freed[nearest], [group])
        return freed

    def around_fund(self, state: PlanState, fund: int, target: int, movable: np.ndarray) -> np.ndarray:
        """About `target` of the fund's `movable` groups, those whose windows open nearest a random member's."""
        s = self.space
        members = np.flatnonzero((s.group_fund == fund) & movable)
        if len(members) <= target:
            return members
        start = int(self.rng.choice(members))
        span_order = np.argsort(np.abs(s.earliest[members] - s.earliest[start]), kind="stable")
        return np.sort(members[span_order[:target]])

    def pick(self, state: PlanState, target: int, busy: np.ndarray | None = None) -> tuple[str, np.ndarray]:
        """Mostly around a group that could score more (unplaced, or below its best option);
        sometimes around a fund. `busy` groups (in steps still solving) are not centred on."""
        s = self.space
        placed = state.chosen != NOT_PLACED
        current = np.where(placed, s.opt_score[s.cand_option[np.where(placed, state.chosen, 0)]], 0)
        movable = self.movable if busy is None else self.movable & ~busy
        if state.shortfall and self.rng.random() < SHORT_REGION_SHARE:
            short = np.flatnonzero(s.region_min > state.region_people)
            waiting = np.flatnonzero(movable & (state.chosen == NOT_PLACED) & np.isin(s.group_region, short))
            if len(waiting):
                group = int(self.rng.choice(waiting))
                return "short", self.around_group(state, group, target)
        improvable = np.flatnonzero(movable & (current < self.best_score))
        if len(improvable) and (self.rng.random() < GROUP_SHARE or not self.money_is_scarce):
            if self.reduced_cost is not None and self.rng.random() < LP_SEED_SHARE:
                weight = self.regret(state) * movable
                if weight.sum() > 0:
                    group = int(self.rng.choice(s.n_groups, p=weight / weight.sum()))
                    return "regret", self.around_group(state, group, target)
            group = int(self.rng.choice(improvable))
            return "group", self.around_group(state, group, target)
        # a fund with a group to move (none may be left where the busy and fixed ones are all)
        funds = np.unique(s.group_fund[movable])
        if len(funds) == 0:
            return "fund", np.zeros(0, dtype=np.int64)
        return "fund", self.around_fund(state, int(self.rng.choice(funds)), target, movable)

    def pick_avoiding(self, state: PlanState, target: int, busy: np.ndarray,
                      reserved: np.ndarray | None = None) -> np.ndarray:
        """A neighbourhood without the `busy` groups (those of steps still solving).

        Of `AVOID_TRIES` picks, the one with the fewest groups that are busy or could stay on a
        `reserved` base-night ([base, day] bool: room held by a step still solving), less
        the busy ones.
        """
        best = None
        tries = AVOID_TRIES if busy.any() else 1
        for _ in range(tries):
            _, free = self.pick(state, target, busy)
            overlap = int(busy[free].sum())
            if reserved is not None:
                overlap += self._touching(free, reserved)
            if best is None or overlap < best[0]:
                best = (overlap, free)
            if overlap == 0:
                break
        return best[1][~busy[best[1]]]

    def _touching(self, groups: np.ndarray, reserved: np.ndarray) -> int:
        """How many of `groups` have an option base with a reserved night within their reach."""
        s = self.space
        count = 0
        for g in groups.tolist():
            first, end = max(int(s.earliest[g]), 0), int(s.latest[g] + s.nights[g])
            if reserved[self.group_bases[g], first:end].any():
                count += 1
        return count
