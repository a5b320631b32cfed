"""Small hand-made and random `retreat-plan/1` instances, and an exhaustive solver for them."""
from __future__ import annotations

import datetime as dt
import random
from typing import Any

from itineraries.solver.instance import Assignment, Instance, instance_from_dict

FIRST_NIGHT = dt.date(2025, 4, 1)


def day(offset: int) -> str:
    return (FIRST_NIGHT + dt.timedelta(days=offset)).isoformat()


def base(id: str, beds: int, rooms: int, closed: tuple[int, ...] = (),
         nightly: dict[int, dict[str, int]] | None = None) -> dict[str, Any]:
    """A base; `nightly` (day offset -> {"beds": n, "rooms": m}) is the `nightly_capacity` extension."""
    out = {"id": id, "name": id, "region": "441600", "capacity": {"beds": beds, "rooms": rooms},
           "closed_nights": [day(d) for d in closed], "nightly_price_per_person": "200.00"}
    if nightly is not None:
        out["nightly_capacity"] = {day(d): figures for d, figures in sorted(nightly.items())}
    return out


def group(id: str, size: int, nights: int, earliest: int, latest: int, options: list[tuple[str, int, str]],
          fund: str = "F1", rooms: int | None = None) -> dict[str, Any]:
    return {"id": id, "union": "U1", "region": "441900", "size": size,
            "rooms": rooms if rooms is not None else (size + 1) // 2, "nights": nights,
            "earliest_arrival": day(earliest), "latest_arrival": day(latest), "fund": fund,
            "options": [{"base": b, "score": score, "subsidy": subsidy} for b, score, subsidy in options]}


def instance(bases: list[dict], groups: list[dict], budgets: dict[str, str] | None = None,
             days: int = 10, name: str = "tiny") -> Instance:
    budgets = budgets or {"F1": "1000000.00"}
    return instance_from_dict({
        "format": "retreat-plan/1", "name": name,
        "horizon": {"first_night": day(0), "last_night": day(days - 1)},
        "bases": bases,
        "funds": [{"id": f, "name": f, "budget": amount} for f, amount in budgets.items()],
        "groups": groups,
    })


def random_instance(seed: int, n_groups: int = 6, n_bases: int = 2, days: int = 8, nightly: bool = False) -> Instance:
    """Tight little instances: capacity, closures and one shared budget all bind now and then.

    With `nightly`, bases also carry a `nightly_capacity` that lowers or raises some nights."""
    rng = random.Random(seed)
    bases = []
    for i in range(n_bases):
        beds, rooms = rng.choice([40, 60, 80]), rng.choice([20, 30, 45])
        figures = None
        if nightly:
            figures = {}
            for d in range(days):
                if rng.random() < 0.4:
                    entry = {"beds": max(0, beds + rng.choice([-30, -15, 20, 40]))}
                    if rng.random() < 0.7:
                        entry["rooms"] = max(0, rooms + rng.choice([-10, 5, 15]))
                    figures[d] = entry
        bases.append(base(f"B{i}", beds=beds, rooms=rooms, closed=tuple(d for d in range(days) if rng.random() < 0.08),
                          nightly=figures))
    groups = []
    total = 0
    for g in range(n_groups):
        size = rng.randint(10, 50)
        nights = rng.randint(1, 3)
        earliest = rng.randint(0, days - 2)
        latest = min(earliest + rng.randint(0, 2), days - 1)
        chosen = rng.sample([b["id"] for b in bases], rng.randint(1, n_bases))
        options = []
        for rank, b in enumerate(chosen):
            subsidy = size * nights * rng.choice([50, 80, 100])
            options.append((b, size * nights * (10 - 2 * rank), f"{subsidy}.{rng.choice(['00', '50'])}"))
            total += subsidy
        groups.append(group(f"G{g}", size, nights, earliest, latest, options, fund=rng.choice(["F1", "F2"])))
    budgets = {"F1": f"{total * rng.uniform(0.2, 0.6):.2f}", "F2": f"{total * rng.uniform(0.2, 0.6):.2f}"}
    return instance(bases, groups, budgets, days=days, name=f"random-{seed}")


def placements(inst: Instance) -> list[list[tuple]]:
    """Per group, every (option, first night's day offset) inside its window, the horizon and its base's opening."""
    bases = {b.id: b for b in inst.bases}
    n_days = (inst.last_night - inst.first_night).days + 1
    choices = []
    for g in inst.groups:
        options = []
        for o in g.options:
            b = bases[o.base]
            arrival = g.earliest_arrival
            while arrival <= g.latest_arrival:
                start = (arrival - inst.first_night).days
                nights = [arrival + dt.timedelta(days=k) for k in range(g.nights)]
                if (start >= 0 and start + g.nights <= n_days and not any(n in b.closed_nights for n in nights)):
                    options.append((o, start))
                arrival += dt.timedelta(days=1)
        choices.append(options)
    return choices


def brute_force_optimum(inst: Instance) -> int:
    """Best objective by exhaustive depth-first search (prunes only on the sum of the best remaining scores)."""
    funds = {f.id: f.budget_fen for f in inst.funds}
    bases = {b.id: b for b in inst.bases}
    n_days = (inst.last_night - inst.first_night).days + 1
    choices = placements(inst)
    best_remaining = [max((o.score for o, _ in c), default=0) for c in choices]
    suffix = [0] * (len(choices) + 1)
    for i in range(len(choices) - 1, -1, -1):
        suffix[i] = suffix[i + 1] + best_remaining[i]

    def limit(b, d: int, resource: str) -> int:
        """The base's capacity on day offset `d`: its nightly figure if it lists one."""
        night = inst.first_night + dt.timedelta(days=d)
        figure = ((b.nightly_capacity or {}).get(night) or (None, None))[0 if resource == "beds" else 1]
        if figure is not None:
            return figure
        return b.beds if resource == "beds" else b.rooms

    beds = {b: [0] * n_days for b in bases}
    rooms = {b: [0] * n_days for b in bases}
    drawn = {f: 0 for f in funds}
    best = 0

    def search(i: int, score: int) -> None:
        nonlocal best
        best = max(best, score)
        if i == len(choices) or score + suffix[i] <= best:
            return
        g = inst.groups[i]
        for option, start in choices[i]:
            b = bases[option.base]
            stay = range(start, start + g.nights)
            if (drawn[g.fund] + option.subsidy_fen <= funds[g.fund]
                    and all(beds[b.id][d] + g.size <= limit(b, d, "beds")
                            and rooms[b.id][d] + g.rooms <= limit(b, d, "rooms") for d in stay)):
                drawn[g.fund] += option.subsidy_fen
                for d in stay:
                    beds[b.id][d] += g.size
                    rooms[b.id][d] += g.rooms
                search(i + 1, score + option.score)
                drawn[g.fund] -= option.subsidy_fen
                for d in stay:
                    beds[b.id][d] -= g.size
                    rooms[b.id][d] -= g.rooms
        search(i + 1, score)

    search(0, 0)
    return best


def assignment(group_id: str, base_id: str, offset: int) -> Assignment:
    return Assignment(group_id, base_id, FIRST_NIGHT + dt.timedelta(days=offset))
