#!/usr/bin/env python3
"""How far the 60 s plan really is from the optimum: a MIP bound tighter than the LP's.

usage: .venv/bin/python bench/plan_bound.py [--time-limit 60] [--bound-seconds 900] INSTANCE.json ...

For each instance: the solver's plan (`--time-limit`, 2 workers, seed 0), then HiGHS on
the whole model as a MIP for `--bound-seconds` with that plan as incumbent, one thread.
Its dual bound is an upper bound on every plan, as the LP's is, but lower: the optimum
lies between the best plan known and it. Prints one markdown row per instance.
No Django needed.
"""
from __future__ import annotations

import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from itineraries.solver import load_instance, solve  # noqa: E402
from itineraries.solver.engine import SearchStats  # noqa: E402
from itineraries.solver.bound import mip_bound  # noqa: E402
from itineraries.solver.space import compile_space  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instances", nargs="+")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--bound-seconds", type=float, default=900.0)
    args = parser.parse_args()
    print("| instance | plan | LP bound | MIP bound | MIP bound below LP % | plan from LP bound % | "
          "plan from MIP bound % | plan needed for 1 % of LP | MIP s | MIP best |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for path in args.instances:
        instance = load_instance(path)
        stats: list[SearchStats] = []
        result = solve(instance, time_limit=args.time_limit, workers=2, seed=0, stats=stats)
        space = compile_space(instance)
        plan = np.array([space.find_candidate(a) for a in result.assignments], dtype=np.int64)
        proof = mip_bound(space, time_limit=args.bound_seconds, incumbent=plan)
        lp = int(stats[0].lp_value + 1e-6) if stats and stats[0].lp_value is not None else 0  # floored, as the solver
        if proof.bound is None:
            print(f"| {instance.name} | {result.objective:,} | {lp:,} | none in {proof.seconds:.0f} s: give it more time |")
            continue
        pct = lambda a, b: f"{100.0 * (b - a) / b:.2f}"  # noqa: E731
        print(f"| {instance.name} | {result.objective:,} | {lp:,} | {proof.bound:,} | {pct(proof.bound, lp)} | "
              f"{pct(result.objective, lp)} | {pct(result.objective, proof.bound)} | {math.ceil(0.99 * lp):,} | "
              f"{proof.seconds:.0f} | {'-' if proof.best_objective is None else f'{proof.best_objective:,}'} |",
              flush=True)


if __name__ == "__main__":
    main()
