"""Export a planning round to `retreat-plan/1`, or solve any file of that format.

    python manage.py plan export ROUND_ID > round.json
    python manage.py plan solve round.json --time-limit 60 --workers 2 [--seed N] --out result.json
"""

import argparse
import contextlib
import datetime as dt
import json
import sys

from django.core.management.base import BaseCommand, CommandError

from itineraries import planning, planning_problem
from itineraries.models import PlanningRound
from itineraries.solver import instance as plan_format
from itineraries.solver.checker import check_result
from itineraries.solver.engine import FixedAssignmentError


def _positive(kind):
    """An argparse type: a number of `kind` above zero, refused in words otherwise."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
        return value
    return parse


class Command(BaseCommand):
    help = "导出统筹轮次或求解统筹文件 (export a planning round, or solve a planning file)"

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        export = actions.add_parser("export", help="print the round as retreat-plan/1 JSON")
        export.add_argument("round_id", type=int)
        solve = actions.add_parser("solve", help="solve a retreat-plan/1 file and print a summary")
        solve.add_argument("path")
        solve.add_argument("--time-limit", type=_positive(float), default=60.0, help="seconds, above 0")
        solve.add_argument("--workers", type=_positive(int), default=2, help="CP-SAT workers, at least 1")
        solve.add_argument("--seed", type=int, default=1)
        solve.add_argument("--out", help="write the retreat-plan-result/1 JSON here")

    def handle(self, *args, **options):
        if options["action"] == "export":
            self.export(options["round_id"])
        else:
            self.solve(options)

    def export(self, round_id: int) -> None:
        planning_round = PlanningRound.objects.filter(pk=round_id).first()
        if planning_round is None:
            raise CommandError(f"planning round {round_id} does not exist")
        problem = planning_problem.round_problem_build(planning_round=planning_round)
        self.stdout.write(json.dumps(problem.to_dict(), ensure_ascii=False, indent=1))

    def solve(self, options) -> None:
        try:
            with open(options["path"], encoding="utf-8") as handle:
                data = json.load(handle)
            instance = plan_format.instance_from_dict(data)
            fixed = _fixed_assignments(data.get("fixed", []))
        except (OSError, ValueError) as error:
            raise CommandError(f"cannot read {options['path']}: {error}") from error
        # opened before solving, so a path that cannot be written costs no solve
        try:
            out = open(options["out"], "w", encoding="utf-8") if options["out"] else contextlib.nullcontext()
        except OSError as error:
            raise CommandError(f"cannot write {options['out']}: {error}") from error
        problem = planning_problem.PlanningProblem(instance=instance, fixed=fixed)
        with out:
            try:
                result = planning.solve_problem(
                    problem, time_limit=options["time_limit"], workers=options["workers"], seed=options["seed"],
                )
            except FixedAssignmentError as error:
                raise CommandError(f"{options['path']}: {error}") from error
            if options["out"]:
                out.write(plan_format.dumps_result(result))
        violations = check_result(instance, result)
        gap = planning.solve_gap(result.objective, result.bound)
        lines = [
            f"instance   {instance.name}",
            f"status     {result.status}",
            f"objective  {result.objective:,}",
            f"bound      {result.bound:,}" if result.bound is not None else "bound      -",
            f"gap        {gap:.2%}" if gap is not None else "gap        -",
            f"placed     {len(result.assignments)} of {len(instance.groups)} groups",
            *([f"short      {sum(result.shortfall.values()):,} people of the region minimums "
               + ", ".join(f"{region} {people:,}" for region, people in result.shortfall.items())]
              if result.shortfall else []),
            f"time       {result.wall_seconds:.1f} s",
            f"checker    {'valid' if not violations else f'{len(violations)} violations'}",
        ]
        self.stdout.write("\n".join(lines))
        for violation in violations[:20]:
            self.stderr.write(f"  {violation}")
        if violations:
            sys.exit(2)


def _fixed_assignments(items) -> list[plan_format.Assignment]:
    """The file's `fixed` list: [{"group", "base", "arrival"}, ...]."""
    if not isinstance(items, list):
        raise plan_format.FormatError(f"fixed: expected a list, got {items!r}")
    assignments = []
    for number, item in enumerate(items, start=1):
        what = f"fixed[{number}]"
        if not isinstance(item, dict) or not {"group", "base", "arrival"} <= item.keys():
            raise plan_format.FormatError(f"{what}: expected an object with group, base and arrival, got {item!r}")
        try:
            arrival = dt.date.fromisoformat(item["arrival"])
        except (TypeError, ValueError):
            raise plan_format.FormatError(f"{what}: arrival is not an ISO date: {item['arrival']!r}") from None
        assignments.append(plan_format.Assignment(item["group"], item["base"], arrival))
    return assignments
