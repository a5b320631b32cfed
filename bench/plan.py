#!/usr/bin/env python3
"""Planning benchmark: FCFS vs the solver vs the LP bound on every shared instance.

usage: .venv/bin/python bench/plan.py [--time-limit 60] [--workers 2] [--seed 0] [--min-share P] [extra.json ...]

With --min-share P every region (city) gets a minimum of P % of the people its groups
ask for (`region_minimums`, rounded up): the "people short" column says how many the
plan leaves short of those minimums, all regions together.

Prints one markdown row per instance; every plan is validated by the checker.
"CPU s" is the process's CPU time during the solve (both threads): on a shared
machine it says how much of the wall time the solver actually had.
No Django needed.
"""
from __future__ import annotations

import argparse
import dataclasses
import glob
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from itineraries.solver import Result, SearchStats, check_result, fcfs_result, load_instance, solve  # noqa: E402

SHARED_INSTANCES = "/work/shared/instances"
GAP_MARKS = (0.05, 0.03, 0.02, 0.015, 0.01)
MARKS_SHOWN = " / ".join(f"{100 * mark:g}" for mark in GAP_MARKS)


def solve_with_marks(instance, time_limit: float, workers: int, seed: int) -> tuple[Result, SearchStats, list[float | None]]:
    """Solve; with the search's figures and, for each of GAP_MARKS, the first second at which
    the reported gap was at most that (None: never)."""
    timeline: list[tuple[float, float | None]] = []
    stats: list[SearchStats] = []
    result = solve(instance, time_limit=time_limit, workers=workers, seed=seed, stats=stats,
                   progress=lambda objective, bound, gap, elapsed: timeline.append((elapsed, gap)))
    reached = [next((t for t, gap in timeline if gap is not None and gap <= mark), None) for mark in GAP_MARKS]
    return result, stats[0], reached


def seconds_shown(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.1f}"


def percent(numerator: float, denominator: float) -> str:
    return f"{100.0 * numerator / denominator:.2f}" if denominator else "-"


def with_min_share(instance, percent: int):
    asked: dict[str, int] = {}
    for group in instance.groups:
        asked[group.region] = asked.get(group.region, 0) + group.size
    return dataclasses.replace(instance, region_minimums={region: -(-people * percent // 100)
                                                           for region, people in asked.items()})


def run(path: str, time_limit: float, workers: int, seed: int, min_share: int | None = None) -> str:
    instance = load_instance(path)
    if min_share:
        instance = with_min_share(instance, min_share)
    fcfs = fcfs_result(instance)
    fcfs_problems = check_result(instance, fcfs)

    started = time.monotonic()
    cpu_started = time.process_time()
    result, stats, reached = solve_with_marks(instance, time_limit, workers, seed)
    wall = time.monotonic() - started
    cpu = time.process_time() - cpu_started
    problems = check_result(instance, result)
    for problem in (fcfs_problems + problems)[:10]:
        print(f"  INVALID {instance.name}: {problem}", file=sys.stderr)

    bound = result.bound or 0
    valid = "yes" if not problems and not fcfs_problems else f"NO ({len(problems) + len(fcfs_problems)})"
    return (f"| {instance.name} | {len(instance.groups):,} | {fcfs.objective:,} | {result.objective:,} | "
            f"{'-' if stats.lp_value is None else f'{stats.lp_value:,.2f}'} | {bound:,} | "
            f"{percent(bound - result.objective, bound)} | {percent(result.objective - fcfs.objective, fcfs.objective)} | "
            f"{len(result.assignments):,}/{len(fcfs.assignments):,} | {stats.lp_seconds:.1f} | "
            f"{stats.steps} | {' / '.join(seconds_shown(t) for t in reached)} | {wall:.1f} | {cpu:.1f} | {result.status} | {valid} |"
            + (f" {sum(fcfs.shortfall.values()):,} / {sum(result.shortfall.values()):,} |" if min_share else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", help="extra retreat-plan/1 instances")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only-extra", action="store_true", help="skip the shared instances")
    parser.add_argument("--min-share", type=int, help="every region's minimum, in percent of the people it asks for")
    args = parser.parse_args()

    paths = [] if args.only_extra else sorted(glob.glob(os.path.join(SHARED_INSTANCES, "*.json")))
    paths += args.files
    load = os.getloadavg()
    print(f"time limit {args.time_limit:g} s, {args.workers} workers, seed {args.seed}, "
          f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("| instance | groups | FCFS | solver | LP value | bound | gap to bound % | over FCFS % | "
          f"placed (solver/FCFS) | LP s | LNS steps | s to gap {MARKS_SHOWN} % | wall s | CPU s | status | valid |"
          + (" people short (FCFS / solver) |" if args.min_share else ""))
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|---|" + ("---:|" if args.min_share else ""))
    for path in paths:
        print(run(path, args.time_limit, args.workers, args.seed, args.min_share), flush=True)


if __name__ == "__main__":
    main()
