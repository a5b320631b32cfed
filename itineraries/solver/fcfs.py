"""First-come-first-served baseline, the rule the booking desk applies by hand.

Groups in file order; each takes its first option (listed order) that has an
arrival (earliest first) with beds and rooms free every night, the base open, and
money left in the group's fund. An option the fund cannot pay for is skipped.
This rule reproduces the reference FCFS figures (year-s1: 7,909,513).
"""
from __future__ import annotations

from .space import Space
from .state import PlanState


def first_come_first_served(space: Space, state: PlanState | None = None) -> PlanState:
    """FCFS plan; groups already placed in `state` (fixed bookings) keep their places."""
    state = state if state is not None else PlanState(space)
    for group in range(space.n_groups):
        if state.chosen[group] >= 0:
            continue
        fund = space.group_fund[group]
        for option in space.options_of(group):
            if state.drawn[fund] + space.opt_subsidy[option] > space.budget[fund]:
                continue
            open_arrivals = state.open_arrivals(option)
            if len(open_arrivals):
                state.place(int(open_arrivals[0]))
                break
    return state
