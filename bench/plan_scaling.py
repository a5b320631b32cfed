#!/usr/bin/env python3
"""Planning benchmark: how much longer a 2× instance takes to reach the same gap.

usage: .venv/bin/python bench/plan_scaling.py SMALL.json LARGE.json [--runs 5] [--time-limit 20]

Solves both instances `--runs` times each, alternating which goes first, and prints per
run the seconds to a gap of 5 / 3 / 2 / 1.5 / 1 % from the LP bound, then the median of each mark
and the ratio of the medians (target: at most 2.5× for a 2× instance). One pair of runs
says little on a shared machine: the LP, which ends at the 5 % mark, took anywhere from
2.9 to 4.6 s on the same 2× instance in runs of the same code. No Django needed.

The instances of the issue's family:
  /usr/bin/python3 /work/shared/tools/gen_instance.py --seed 11 --out year-s11.json
  /usr/bin/python3 /work/shared/tools/gen_instance.py --seed 11 --groups 7430 --bases 278 --out year2x-s11.json
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from itineraries.solver import check_result, load_instance  # noqa: E402
from plan import GAP_MARKS, MARKS_SHOWN, seconds_shown, solve_with_marks  # noqa: E402  (bench/plan.py, beside this file)


def solve_timed(instance, time_limit: float, workers: int, seed: int) -> tuple[list[float | None], float, float]:
    """(seconds to each mark, LP seconds, final gap); the plan is checked."""
    result, stats, reached = solve_with_marks(instance, time_limit, workers, seed)
    problems = check_result(instance, result)
    if problems:
        sys.exit(f"INVALID {instance.name}: {problems[0]}")
    gap = (result.bound - result.objective) / result.bound if result.bound else float("nan")
    return reached, stats.lp_seconds, gap


def median_or_none(values: list[float | None]) -> float | None:
    """Median over the runs; None if any run missed the mark (a miss is not a time)."""
    return None if any(v is None for v in values) else statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("small")
    parser.add_argument("large")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--time-limit", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    instances = {"small": load_instance(args.small), "large": load_instance(args.large)}
    load = os.getloadavg()
    print(f"{args.runs} runs of each, {args.time_limit:g} s, {args.workers} workers, seed {args.seed}, "
          f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for which, path in (("small", args.small), ("large", args.large)):
        print(f"{which}: {os.path.basename(path)}, {len(instances[which].groups):,} groups")
    print(f"| run | instance | s to gap {MARKS_SHOWN} % | LP s | gap at the end % |")
    print("|---|---|---|---:|---:|")
    marks: dict[str, list[list[float | None]]] = {"small": [], "large": []}
    lp_seconds: dict[str, list[float]] = {"small": [], "large": []}
    for run in range(args.runs):
        order = ("small", "large") if run % 2 == 0 else ("large", "small")
        for which in order:
            reached, lp, gap = solve_timed(instances[which], args.time_limit, args.workers, args.seed)
            marks[which].append(reached)
            lp_seconds[which].append(lp)
            print(f"| {run + 1} | {which} | {' / '.join(seconds_shown(t) for t in reached)} | {lp:.2f} | {100 * gap:.2f} |",
                  flush=True)

    print()
    print("| mark | small: median s (range) | large: median s (range) | large / small (medians) |")
    print("|---|---|---|---:|")
    for position, mark in enumerate(GAP_MARKS):
        columns, medians = [], []
        for which in ("small", "large"):
            values = [reached[position] for reached in marks[which]]
            times = [v for v in values if v is not None]
            medians.append(median_or_none(values))
            span = f"{min(times):.1f}–{max(times):.1f}" if times else "-"
            missed = len(values) - len(times)
            columns.append(f"{seconds_shown(medians[-1])} ({span}{f', {missed} missed' if missed else ''})")
        ratio = f"{medians[1] / medians[0]:.2f}×" if None not in medians and medians[0] > 0 else "-"
        print(f"| {100 * mark:g} % | {columns[0]} | {columns[1]} | {ratio} |")
    print(f"LP s, median: small {statistics.median(lp_seconds['small']):.2f}, "
          f"large {statistics.median(lp_seconds['large']):.2f}")


if __name__ == "__main__":
    main()
