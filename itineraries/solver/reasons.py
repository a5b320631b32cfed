"""Why each unplaced group is out, in words a planner can act on.

Obstacles are checked per option, from the hard ones (the group can never fit
there) to the ones the final plan causes (money spent, beds taken by others).
"""
from __future__ import annotations

import numpy as np

from .instance import format_yuan
from .space import Space
from .state import NOT_PLACED, PlanState


def _window(space: Space, group: int) -> str:
    g = space.instance.groups[group]
    return f"{g.earliest_arrival}..{g.latest_arrival}"


def _static_obstacle(space: Space, group: int, option: int) -> str | None:
    """Why `option` has no candidate at all, or None if it has some."""
    if space.cand_start[option + 1] > space.cand_start[option]:
        return None
    base = int(space.opt_base[option])
    base_id = space.base_ids[base]
    size, rooms, nights = int(space.size[group]), int(space.rooms[group]), int(space.nights[group])
    if size > space.beds_cap[base]:
        return f"base {base_id} has {space.beds_cap[base]} beds, the group needs {size}"
    if rooms > space.rooms_cap[base]:
        return f"base {base_id} has {space.rooms_cap[base]} rooms, the group needs {rooms}"
    first_arrival = max(int(space.earliest[group]), 0)
    last_arrival = min(int(space.latest[group]), space.n_days - nights)
    if first_arrival > last_arrival:
        return (f"no {nights}-night stay arriving {_window(space, group)} lies inside the horizon "
                f"{space.instance.first_night}..{space.instance.last_night}")
    closed_in_reach = np.flatnonzero(space.closed[base, first_arrival:last_arrival + nights]) + first_arrival
    open_stays = [a for a in range(first_arrival, last_arrival + 1) if not space.closed[base, a:a + nights].any()]
    if open_stays:  # the closures leave some stay: the nightly capacity is short on a night of each
        return (f"base {base_id} has fewer than {size} beds or {rooms} rooms on some night of every possible stay "
                f"arriving {_window(space, group)}")
    every_stay = [d for d in closed_in_reach if d - nights + 1 <= first_arrival and d >= last_arrival]
    if every_stay:
        return f"base {base_id} closed on {space.day(every_stay[0])} for every arrival in the window"
    return (f"base {base_id} closed on some night of every possible stay "
            f"({space.day(closed_in_reach[0])}..{space.day(closed_in_reach[-1])})")


def _capacity_shortfall(space: Space, state: PlanState, option: int) -> str:
    """The night and resource that keeps `option` out on its least-blocked arrival."""
    group = int(space.opt_group[option])
    base = int(space.opt_base[option])
    size, rooms, nights = int(space.size[group]), int(space.rooms[group]), int(space.nights[group])
    best = None
    for cand in space.candidates_of_option(option):
        arrival = int(space.cand_arrival[cand])
        stay = slice(arrival, arrival + nights)
        beds_free = space.beds_night[base, stay] - state.beds_used[base, stay]
        rooms_free = space.rooms_night[base, stay] - state.rooms_used[base, stay]
        short = np.maximum(size - beds_free, 0) + np.maximum(rooms - rooms_free, 0)
        worst = int(np.argmax(short))
        if best is None or short.sum() < best[0]:
            night = arrival + worst
            if beds_free[worst] < size:
                what = f"{size} beds on {space.day(night)}, {max(int(beds_free[worst]), 0)} free"
            else:
                what = f"{rooms} rooms on {space.day(night)}, {max(int(rooms_free[worst]), 0)} free"
            best = (short.sum(), what)
    return f"base {space.base_ids[base]} would need {best[1]}"


def _open_anywhere(space: Space, state: PlanState, options: list[int]) -> bool:
    return any(len(state.open_arrivals(o)) for o in options)


def explain_unplaced(space: Space, state: PlanState, fixed_only: PlanState) -> dict[int, str]:
    """Reason for every group `state` leaves unplaced.

    `fixed_only` holds just the bookings the solver had to keep: capacity those
    take is reported as simply not free, capacity other groups took as lost to them.
    """
    reasons: dict[int, str] = {}
    for group in np.flatnonzero(state.chosen == NOT_PLACED):
        group = int(group)
        options = list(space.options_of(group))
        g = space.instance.groups[group]
        if not g.options:
            reasons[group] = "the group lists no options"
            continue
        if space.group_fund[group] < 0:
            reasons[group] = f"fund {g.fund} is not in the instance"
            continue
        static = {o: _static_obstacle(space, group, o) for o in options}
        if len(options) < len(g.options):
            known = {space.base_ids[int(space.opt_base[o])] for o in options}
            for option in g.options:
                if option.base not in known:
                    static[-1] = f"base {option.base} is not in the instance"
        live = [o for o in options if static[o] is None]
        if not live:
            reasons[group] = "; ".join(dict.fromkeys(text for text in static.values() if text))
            continue

        fund = int(space.group_fund[group])
        money_left = int(space.budget[fund] - state.drawn[fund])
        affordable = [o for o in live if space.opt_subsidy[o] <= money_left]
        parts = []
        if affordable:
            if not _open_anywhere(space, fixed_only, affordable):
                resource = "beds" if not _open_anywhere_beds(space, fixed_only, affordable) else "rooms"
                amount = g.size if resource == "beds" else g.rooms
                parts.append(f"no option has {amount} {resource} free on any arrival {_window(space, group)}")
            elif _open_anywhere(space, state, affordable):
                parts.append("not placed: ran out of search time before this group was tried")
            else:
                parts.append("not placed: lower score than the groups that took the capacity "
                             f"(best option {_capacity_shortfall(space, state, affordable[0])})")
        if len(affordable) < len(live):
            cheapest = min((o for o in live if o not in affordable), key=lambda o: space.opt_subsidy[o])
            base_id = space.base_ids[int(space.opt_base[cheapest])]
            parts.append(f"fund {g.fund} has {format_yuan(money_left)} left, option {base_id} needs "
                         f"{format_yuan(int(space.opt_subsidy[cheapest]))}")
        parts.extend(text for text in dict.fromkeys(static.values()) if text)
        reasons[group] = "; ".join(parts)
    return reasons


def _open_anywhere_beds(space: Space, state: PlanState, options: list[int]) -> bool:
    """Whether beds alone (ignoring rooms) would let the group in somewhere."""
    for option in options:
        group = int(space.opt_group[option])
        base = int(space.opt_base[option])
        nights = int(space.nights[group])
        for cand in space.candidates_of_option(option):
            arrival = int(space.cand_arrival[cand])
            stay = slice(arrival, arrival + nights)
            if (state.beds_used[base, stay] + space.size[group] <= space.beds_night[base, stay]).all():
                return True
    return False
