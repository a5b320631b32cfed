"""Independent validity checker for a plan.

Capacity is per base and night: the base's `capacity`, or on the nights its optional
`nightly_capacity` extension lists, that night's figures.

Deliberately shares no code with the solver (only the typed instance), so a bug in
the solver's indexing cannot hide itself here.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Iterable

from .instance import Assignment, Instance, Result, format_yuan


def plan_objective(instance: Instance, assignments: Iterable[Assignment]) -> int:
    """Sum of the scores of the placed options (unknown groups/options count 0)."""
    groups = {g.id: g for g in instance.groups}
    total = 0
    for a in assignments:
        group = groups.get(a.group)
        option = next((o for o in group.options if o.base == a.base), None) if group else None
        total += option.score if option else 0
    return total


def check_plan(instance: Instance, assignments: Iterable[Assignment]) -> list[str]:
    """Every rule the plan breaks, in words; an empty list means the plan is valid."""
    groups = {g.id: g for g in instance.groups}
    bases = {b.id: b for b in instance.bases}
    funds = {f.id: f for f in instance.funds}
    violations: list[str] = []
    seen: set[str] = set()
    beds_used: dict[tuple[str, date], int] = defaultdict(int)
    rooms_used: dict[tuple[str, date], int] = defaultdict(int)
    fund_drawn: dict[str, int] = defaultdict(int)

    for a in assignments:
        group = groups.get(a.group)
        if group is None:
            violations.append(f"unknown group {a.group}")
            continue
        if a.group in seen:
            violations.append(f"group {a.group} is placed more than once")
            continue
        seen.add(a.group)
        option = next((o for o in group.options if o.base == a.base), None)
        if option is None:
            violations.append(f"group {a.group} placed at {a.base}, which is not one of its options")
            continue
        base = bases.get(a.base)
        if base is None:
            violations.append(f"group {a.group} placed at unknown base {a.base}")
            continue
        if not group.earliest_arrival <= a.arrival <= group.latest_arrival:
            violations.append(f"group {a.group} arrives {a.arrival}, outside its window "
                              f"{group.earliest_arrival}..{group.latest_arrival}")
        for k in range(group.nights):
            night = a.arrival + timedelta(days=k)
            if not instance.first_night <= night <= instance.last_night:
                violations.append(f"group {a.group} stays the night {night}, outside the horizon "
                                  f"{instance.first_night}..{instance.last_night}")
            if night in base.closed_nights:
                violations.append(f"group {a.group} stays at {a.base} on {night}, when it is closed")
            beds_used[a.base, night] += group.size
            rooms_used[a.base, night] += group.rooms
        if group.fund not in funds:
            violations.append(f"group {a.group} draws on unknown fund {group.fund}")
        fund_drawn[group.fund] += option.subsidy_fen

    # a base's `nightly_capacity` (extension), where it lists a night, replaces its capacity that night
    for (base_id, night), used in sorted(beds_used.items()):
        limit = bases[base_id].beds_on(night)
        if limit is not None and used > limit:
            violations.append(f"base {base_id} on {night}: {used} beds used, capacity {limit}")
    for (base_id, night), used in sorted(rooms_used.items()):
        limit = bases[base_id].rooms_on(night)
        if limit is not None and used > limit:
            violations.append(f"base {base_id} on {night}: {used} rooms used, capacity {limit}")
    for fund_id, drawn in sorted(fund_drawn.items()):
        fund = funds.get(fund_id)
        if fund is not None and drawn > fund.budget_fen:
            violations.append(f"fund {fund_id} overdrawn: {format_yuan(drawn)} drawn, "
                              f"budget {format_yuan(fund.budget_fen)}")
    return violations


def check_result(instance: Instance, result: Result) -> list[str]:
    """`check_plan` plus the result's bookkeeping: objective, bound, every group accounted for, shortfall."""
    violations = check_plan(instance, result.assignments)
    objective = plan_objective(instance, result.assignments)
    if objective != result.objective:
        violations.append(f"objective {result.objective} differs from the sum of scores {objective}")
    if result.bound is not None and result.bound < objective:
        violations.append(f"bound {result.bound} is below the plan's objective {objective}")
    placed = {a.group for a in result.assignments}
    unplaced = [u.group for u in result.unplaced]
    for group_id in sorted(placed & set(unplaced)):
        violations.append(f"group {group_id} is both placed and listed as unplaced")
    missing = {g.id for g in instance.groups} - placed - set(unplaced)
    for group_id in sorted(missing):
        violations.append(f"group {group_id} is neither placed nor listed as unplaced")
    for u in result.unplaced:
        if not u.reason.strip():
            violations.append(f"group {u.group} is unplaced without a reason")
    # `region_minimums` (extension): the result must say truly how many people each region is short
    people: dict[str, int] = defaultdict(int)
    groups = {g.id: g for g in instance.groups}
    for group_id in placed:
        if group_id in groups:
            people[groups[group_id].region] += groups[group_id].size
    for region, least in sorted(instance.region_minimums.items()):
        short = max(0, least - people[region])
        if result.shortfall.get(region, 0) != short:
            violations.append(f"region {region}: {people[region]} people placed, minimum {least}, so {short} short; "
                              f"the result says {result.shortfall.get(region, 0)}")
    for region in sorted(set(result.shortfall) - set(instance.region_minimums)):
        violations.append(f"region {region}: the result reports a shortfall, but the instance sets no minimum")
    return violations
