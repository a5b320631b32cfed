"""Mutable plan: which candidate each group holds and what that uses, kept in step."""
from __future__ import annotations

import numpy as np

from .space import Space, stays_of

NOT_PLACED = -1


def region_need(space: Space, plan) -> np.ndarray:
    """[region] people still to place to reach each minimum, beyond what `plan` (or a step's view) holds."""
    return np.maximum(space.region_min - plan.region_people, 0)


class PlanState:
    def __init__(self, space: Space):
        self.space = space
        self.beds_used = np.zeros((space.n_bases, space.n_days), dtype=np.int64)
        self.rooms_used = np.zeros((space.n_bases, space.n_days), dtype=np.int64)
        self.drawn = np.zeros(len(space.fund_ids), dtype=np.int64)
        self.chosen = np.full(space.n_groups, NOT_PLACED, dtype=np.int64)
        self.objective = 0
        self.region_people = np.zeros(len(space.region_ids), dtype=np.int64)

    def copy(self) -> "PlanState":
        other = PlanState.__new__(PlanState)
        other.space = self.space
        other.beds_used = self.beds_used.copy()
        other.rooms_used = self.rooms_used.copy()
        other.drawn = self.drawn.copy()
        other.chosen = self.chosen.copy()
        other.objective = self.objective
        other.region_people = self.region_people.copy()
        return other

    @property
    def shortfall(self) -> int:
        """People short of the regions' minimums, all regions together (0 without minimums)."""
        return int(region_need(self.space, self).sum())

    def better_than(self, other: "PlanState") -> bool:
        """Fewer people short of the minimums, or as few and a higher score."""
        return (self.shortfall, -self.objective) < (other.shortfall, -other.objective)

    def _stay(self, cand: int) -> tuple[int, int, int, int, int]:
        s = self.space
        option = int(s.cand_option[cand])
        group = int(s.opt_group[option])
        return option, group, int(s.opt_base[option]), int(s.cand_arrival[cand]), int(s.nights[group])

    def fits(self, cand: int) -> bool:
        s = self.space
        option, group, base, arrival, nights = self._stay(cand)
        fund = s.group_fund[group]
        if self.drawn[fund] + s.opt_subsidy[option] > s.budget[fund]:
            return False
        stay = slice(arrival, arrival + nights)
        return bool((self.beds_used[base, stay] + s.size[group] <= s.beds_night[base, stay]).all()
                    and (self.rooms_used[base, stay] + s.rooms[group] <= s.rooms_night[base, stay]).all())

    def open_arrivals(self, option: int) -> np.ndarray:
        """Candidates of `option` whose stay has room for the group now (budget not checked)."""
        s = self.space
        group = int(s.opt_group[option])
        base = int(s.opt_base[option])
        nights = int(s.nights[group])
        cands = np.arange(s.cand_start[option], s.cand_start[option + 1])
        if len(cands) == 0:
            return cands
        arrivals = s.cand_arrival[cands]
        # only the nights the option's stays can cover (its window, not the whole horizon); the
        # least left over each stay by a loop over its few nights (numpy's sliding window costs more)
        first, end = int(arrivals.min()), int(arrivals.max()) + nights
        left = np.stack((s.beds_night[base, first:end] - self.beds_used[base, first:end],
                         s.rooms_night[base, first:end] - self.rooms_used[base, first:end]))
        width = end - first - nights + 1
        least = left[:, :width].copy()
        for night in range(1, nights):
            np.minimum(least, left[:, night:night + width], out=least)
        beds_free, rooms_free = least[:, arrivals - first]
        ok = (beds_free >= s.size[group]) & (rooms_free >= s.rooms[group])
        return cands[ok]

    def place(self, cand: int) -> None:
        group = self.space.candidate_group(cand)
        assert self.chosen[group] == NOT_PLACED, "group already placed"  # before the plan changes
        self._use(cand, 1)
        self.chosen[group] = cand

    def remove(self, group: int) -> None:
        """Take a placed group out of the plan: `place` undone."""
        self._use(int(self.chosen[group]), -1)
        self.chosen[group] = NOT_PLACED

    def _use(self, cand: int, sign: int) -> None:
        """Add (sign 1) or take back (sign -1) what the candidate's stay uses and scores."""
        s = self.space
        option, group, base, arrival, nights = self._stay(cand)
        self.beds_used[base, arrival:arrival + nights] += sign * s.size[group]
        self.rooms_used[base, arrival:arrival + nights] += sign * s.rooms[group]
        self.drawn[s.group_fund[group]] += sign * s.opt_subsidy[option]
        self.objective += sign * int(s.opt_score[option])
        if s.group_region[group] >= 0:
            self.region_people[s.group_region[group]] += sign * s.size[group]

    def place_many(self, cands) -> None:
        """`place` for several candidates of different unplaced groups at once."""
        cands = np.asarray(cands, dtype=np.int64)
        s = self.space
        option = s.cand_option[cands]
        group = s.opt_group[option]
        assert (self.chosen[group] == NOT_PLACED).all() and len(np.unique(group)) == len(group), "group already placed"
        self._add_stays(cands, group, 1)
        np.add.at(self.drawn, s.group_fund[group], s.opt_subsidy[option])
        self.chosen[group] = cands
        self.objective += int(s.opt_score[option].sum())
        self._count_people(group, 1)

    def remove_many(self, groups) -> None:
        """Take these groups out of the plan (unplaced ones are skipped), freeing what they used."""
        groups = np.asarray(groups, dtype=np.int64)
        groups = groups[self.chosen[groups] != NOT_PLACED]
        s = self.space
        cands = self.chosen[groups]
        option = s.cand_option[cands]
        self._add_stays(cands, groups, -1)
        np.subtract.at(self.drawn, s.group_fund[groups], s.opt_subsidy[option])
        self.chosen[groups] = NOT_PLACED
        self.objective -= int(s.opt_score[option].sum())
        self._count_people(groups, -1)

    def _count_people(self, groups: np.ndarray, sign: int) -> None:
        if len(self.region_people):
            region = self.space.group_region[groups]
            counted = region >= 0
            np.add.at(self.region_people, region[counted], sign * self.space.size[groups[counted]])

    def _add_stays(self, cands: np.ndarray, groups: np.ndarray, sign: int) -> None:
        position, cell = stays_of(self.space, cands)
        np.add.at(self.beds_used.reshape(-1), cell, sign * self.space.size[groups][position])
        np.add.at(self.rooms_used.reshape(-1), cell, sign * self.space.rooms[groups][position])

    def placed_candidates(self) -> list[int]:
        return [int(c) for c in self.chosen if c != NOT_PLACED]
