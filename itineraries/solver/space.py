"""The instance compiled to integer arrays: days as offsets, every feasible placement listed.

A *candidate* is one (group, option, arrival) that respects the group's window, the
horizon, the base's closures and fits an empty base every night of the stay. Dropping
the other arrivals up front is the first dominance reduction: nothing downstream ever
sees them.

Capacity is held per base and night (`beds_night`, `rooms_night`): the base's figure,
or, where the optional `nightly_capacity` extension lists a night, that night's.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .instance import Assignment, Instance

UNLIMITED = np.iinfo(np.int64).max // 4


@dataclass
class Space:
    instance: Instance
    first_night: date
    n_days: int
    base_ids: list[str]
    fund_ids: list[str]
    group_ids: list[str]
    base_of: dict[str, int]
    group_of: dict[str, int]
    beds_cap: np.ndarray      # [base] most beds on any night (the base's capacity unless nightly figures say more)
    rooms_cap: np.ndarray     # [base]
    beds_night: np.ndarray    # [base, day] beds offered that night
    rooms_night: np.ndarray   # [base, day]
    closed: np.ndarray        # [base, day] bool
    budget: np.ndarray        # [fund] fen
    size: np.ndarray          # [group]
    rooms: np.ndarray         # [group]
    nights: np.ndarray        # [group]
    group_fund: np.ndarray    # [group]
    earliest: np.ndarray      # [group] day offset (may be < 0 or past the horizon)
    latest: np.ndarray        # [group]
    # options, flattened; a group's options are opt_start[g]:opt_start[g+1] in listed order
    opt_start: np.ndarray
    opt_group: np.ndarray
    opt_base: np.ndarray
    opt_score: np.ndarray
    opt_subsidy: np.ndarray
    # candidates, sorted by option then arrival; an option's are cand_start[o]:cand_start[o+1]
    cand_start: np.ndarray
    cand_option: np.ndarray
    cand_arrival: np.ndarray
    # regions with a minimum of people to place (`region_minimums`), and each group's (-1: none)
    region_ids: list[str]
    region_min: np.ndarray    # [region] people
    group_region: np.ndarray  # [group]

    @property
    def n_groups(self) -> int:
        return len(self.group_ids)

    @property
    def n_bases(self) -> int:
        return len(self.base_ids)

    @property
    def n_candidates(self) -> int:
        return len(self.cand_option)

    def day(self, offset: int) -> date:
        return self.first_night + timedelta(days=int(offset))

    def options_of(self, group: int) -> range:
        return range(int(self.opt_start[group]), int(self.opt_start[group + 1]))

    def candidates_of_option(self, option: int) -> range:
        return range(int(self.cand_start[option]), int(self.cand_start[option + 1]))

    def candidates_of_group(self, group: int) -> range:
        return range(int(self.cand_start[self.opt_start[group]]), int(self.cand_start[self.opt_start[group + 1]]))

    def candidate_group(self, cand: int) -> int:
        return int(self.opt_group[self.cand_option[cand]])

    def find_candidate(self, assignment: Assignment) -> int | None:
        """Index of the candidate an assignment denotes, None if it is not a feasible placement."""
        group = self.group_of.get(assignment.group)
        base = self.base_of.get(assignment.base)
        if group is None or base is None:
            return None
        arrival = (assignment.arrival - self.first_night).days
        for option in self.options_of(group):
            if self.opt_base[option] == base:
                cands = self.candidates_of_option(option)
                arrivals = self.cand_arrival[cands.start:cands.stop]
                hit = int(np.searchsorted(arrivals, arrival))
                if hit < len(arrivals) and arrivals[hit] == arrival:
                    return cands.start + hit
                return None
        return None

    def assignment(self, cand: int) -> Assignment:
        option = int(self.cand_option[cand])
        return Assignment(self.group_ids[int(self.opt_group[option])], self.base_ids[int(self.opt_base[option])],
                          self.day(int(self.cand_arrival[cand])))


def stays_of(space: Space, cands: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position in `cands`, base*n_days + night) for every night of each candidate's stay."""
    option = space.cand_option[cands]
    nights = space.nights[space.opt_group[option]]
    position = np.repeat(np.arange(len(cands)), nights)
    offset = np.arange(len(position)) - np.repeat(np.cumsum(nights) - nights, nights)
    cell = space.opt_base[option][position] * space.n_days + space.cand_arrival[cands][position] + offset
    return position, cell


def compile_space(instance: Instance) -> Space:
    first = instance.first_night
    n_days = (instance.last_night - first).days + 1
    base_of = {b.id: i for i, b in enumerate(instance.bases)}
    fund_of = {f.id: i for i, f in enumerate(instance.funds)}
    group_of = {g.id: i for i, g in enumerate(instance.groups)}

    beds_base = np.array([UNLIMITED if b.beds is None else b.beds for b in instance.bases], dtype=np.int64)
    rooms_base = np.array([UNLIMITED if b.rooms is None else b.rooms for b in instance.bases], dtype=np.int64)
    beds_night = np.repeat(beds_base[:, None], n_days, axis=1)
    rooms_night = np.repeat(rooms_base[:, None], n_days, axis=1)
    closed = np.zeros((len(instance.bases), n_days), dtype=bool)
    for i, b in enumerate(instance.bases):
        for night in b.closed_nights:
            offset = (night - first).days
            if 0 <= offset < n_days:
                closed[i, offset] = True
        for night, (beds, rooms) in (b.nightly_capacity or {}).items():
            offset = (night - first).days
            if 0 <= offset < n_days:
                if beds is not None:
                    beds_night[i, offset] = beds
                if rooms is not None:
                    rooms_night[i, offset] = rooms
    beds_cap = np.maximum(beds_base, beds_night.max(axis=1, initial=0))
    rooms_cap = np.maximum(rooms_base, rooms_night.max(axis=1, initial=0))
    varies = ((beds_night != beds_base[:, None]) | (rooms_night != rooms_base[:, None])).any(axis=1)
    # least beds/rooms over a stay of n nights from each arrival, for bases whose capacity varies
    stay_min: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    def stay_minimum(b: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        if (b, n) not in stay_min:
            stay_min[b, n] = (sliding_window_view(beds_night[b], n).min(axis=1),
                              sliding_window_view(rooms_night[b], n).min(axis=1))
        return stay_min[b, n]
    # blocked_before[b, d] = closed nights among days < d, so a stay [a, a+n) is open iff the difference is 0
    blocked_before = np.zeros((len(instance.bases), n_days + 1), dtype=np.int32)
    np.cumsum(closed, axis=1, out=blocked_before[:, 1:])

    opt_start, opt_group, opt_base, opt_score, opt_subsidy = [0], [], [], [], []
    cand_start, cand_option, cand_arrival = [0], [], []
    size, rooms, nights, group_fund, earliest, latest = [], [], [], [], [], []
    for gi, g in enumerate(instance.groups):
        size.append(g.size)
        rooms.append(g.rooms)
        nights.append(g.nights)
        group_fund.append(fund_of.get(g.fund, -1))
        lo = (g.earliest_arrival - first).days
        hi = (g.latest_arrival - first).days
        earliest.append(lo)
        latest.append(hi)
        first_arrival = max(lo, 0)
        last_arrival = min(hi, n_days - g.nights)
        seen_bases = set()
        for o in g.options:
            b = base_of.get(o.base)
            if b is None or b in seen_bases or g.fund not in fund_of:
                continue  # the checker scores a repeated base by its first option
            seen_bases.add(b)
            option_index = len(opt_group)
            opt_group.append(gi)
            opt_base.append(b)
            opt_score.append(o.score)
            opt_subsidy.append(o.subsidy_fen)
            if g.size <= beds_cap[b] and g.rooms <= rooms_cap[b] and first_arrival <= last_arrival:
                arrivals = np.arange(first_arrival, last_arrival + 1)
                open_stay = blocked_before[b, arrivals + g.nights] == blocked_before[b, arrivals]
                if varies[b]:
                    least_beds, least_rooms = stay_minimum(b, g.nights)
                    open_stay &= (least_beds[arrivals] >= g.size) & (least_rooms[arrivals] >= g.rooms)
                for a in arrivals[open_stay]:
                    cand_option.append(option_index)
                    cand_arrival.append(int(a))
            cand_start.append(len(cand_option))
        opt_start.append(len(opt_group))

    region_ids = sorted(instance.region_minimums)
    region_of = {region: i for i, region in enumerate(region_ids)}
    i64 = lambda values: np.asarray(values, dtype=np.int64)  # noqa: E731
    return Space(
        instance=instance, first_night=first, n_days=n_days,
        base_ids=[b.id for b in instance.bases], fund_ids=[f.id for f in instance.funds],
        group_ids=[g.id for g in instance.groups], base_of=base_of, group_of=group_of,
        beds_cap=beds_cap, rooms_cap=rooms_cap, beds_night=beds_night, rooms_night=rooms_night, closed=closed,
        budget=i64([f.budget_fen for f in instance.funds]),
        size=i64(size), rooms=i64(rooms), nights=i64(nights), group_fund=i64(group_fund),
        earliest=i64(earliest), latest=i64(latest),
        opt_start=i64(opt_start), opt_group=i64(opt_group), opt_base=i64(opt_base),
        opt_score=i64(opt_score), opt_subsidy=i64(opt_subsidy),
        cand_start=i64(cand_start), cand_option=i64(cand_option), cand_arrival=i64(cand_arrival),
        region_ids=region_ids, region_min=i64([instance.region_minimums[r] for r in region_ids]),
        group_region=i64([region_of.get(g.region, -1) for g in instance.groups]),
    )
