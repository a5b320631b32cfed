#!/usr/bin/env python3
"""How capacity-tight and how budget-tight a planning instance is, read off its LP.

usage: .venv/bin/python bench/tightness.py [instance.json ...]   (default: every shared instance)

The solver's targets differ by kind of instance (1 % from the LP bound on normal ones,
3 % on capacity-tight ones), and the issue names only autumn-crunch-s2 as capacity-tight.
This prints, per instance, what decides which kind a new one is:

- asked / open: people-nights the groups ask for, over the bed-nights the bases offer open;
- binding %: base-nights whose bed or room row has a positive LP price (full at the optimum);
- capacity / money %: the LP value the bed and room rows, and the fund rows, account for
  (each row's price times its right-hand side, as a share of the LP value): what the LP would
  gain per unit of room or money, summed, so a larger share means the scarcer resource;
- FCFS %: first come, first served as a share of the LP bound.

No Django needed.
"""
from __future__ import annotations

import glob
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from itineraries.solver import load_instance  # noqa: E402
from itineraries.solver.bound import solve_lp  # noqa: E402
from itineraries.solver.fcfs import first_come_first_served  # noqa: E402
from itineraries.solver.space import compile_space  # noqa: E402

SHARED_INSTANCES = "/work/shared/instances"


def row(path: str) -> str:
    space = compile_space(load_instance(path))
    lp = solve_lp(space)
    fcfs = first_come_first_served(space)
    open_nights = ~space.closed
    asked = float((space.size * space.nights).sum())
    offered = float((space.beds_night * open_nights).sum())
    binding = ((lp.beds_dual > 1e-9) | (lp.rooms_dual > 1e-9)) & open_nights
    capacity_value = float((lp.beds_dual * space.beds_night).sum() + (lp.rooms_dual * space.rooms_night).sum())
    money_value = float((lp.fund_dual * space.budget).sum())
    share = lambda part: f"{100.0 * part / lp.value:.1f}"  # noqa: E731
    return (f"| {os.path.basename(path).removesuffix('.json')} | {space.n_groups:,} | {asked / offered:.3f} "
            f"| {100.0 * binding.sum() / open_nights.sum():.2f} | {share(capacity_value)} | {share(money_value)} "
            f"| {100.0 * fcfs.objective / lp.bound:.1f} |")


def main() -> None:
    paths = sys.argv[1:] or sorted(glob.glob(os.path.join(SHARED_INSTANCES, "*.json")))
    print("| instance | groups | asked / open | binding % | capacity % | money % | FCFS % of bound |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for path in paths:
        print(row(path), flush=True)


if __name__ == "__main__":
    main()
