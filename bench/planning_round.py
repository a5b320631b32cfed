#!/usr/bin/env python3
"""A province-scale planning round through the real services, on the demo network.

usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/retreat_plan_bench \
       .venv/bin/python bench/planning_round.py [--requests 3700] [--time-limit 60] [--workers 2] [--seed 5]

The solver benchmark (bench/plan.py) starts from exchange-format files; this one
starts from the database, where the round lives: it migrates the database, builds
the demo (``seed_demo --seed 2025``: 139 certified bases, a year of inventory) when
it is not there, opens a round over eight months with every certified base and the
programmes that cover the period, and gives it ``--requests`` requests of the demo's
unions (18-60 people, 2-4 nights, windows of one to four weeks, 1-3 ranked bases,
sometimes a region; written in bulk, as if submitted). It then times, with the
queries each step makes:

  build    ``round_problem_build``: capacity net of bookings, budgets, subsidies, scores
  solve    the solver on that problem (``--time-limit``, ``--workers``)
  save     ``solve_result_save``: the proposal onto every request
  publish  ``round_publish``: every placed request held, re-checked, all or none

and checks afterwards that no night is oversold and every hold matches its lines.
Everything runs in one transaction that is rolled back at the end (unless ``--keep``),
so the database can be reused; the publish step is a savepoint of it, as it would be
its own transaction in the product.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retreat.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import F, Sum  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from bases.models import Base, NightInventory  # noqa: E402
from billing.models import FundProgramme  # noqa: E402
from groups.access import actor_of  # noqa: E402
from groups.models import Batch, Booking, BookingLine, Organisation  # noqa: E402
from itineraries import planning, planning_problem  # noqa: E402
from itineraries.models import PlanningRequest, PlanningRound, SolveRun  # noqa: E402
from itineraries.solver import check_result  # noqa: E402

from django.contrib.auth import get_user_model  # noqa: E402


def ensure_demo_dataset() -> None:
    call_command("migrate", verbosity=0)
    if Base.objects.filter(status=Base.Status.CERTIFIED).count() < 100 or NightInventory.objects.count() < 100_000:
        print("demo dataset missing: running seed_demo --seed 2025 …", flush=True)
        call_command("seed_demo", seed=2025, verbosity=0)


class Step:
    """Times a block and counts its queries."""

    def __init__(self, name: str, rows: list):
        self.name, self.rows = name, rows

    def __enter__(self):
        self.queries = CaptureQueriesContext(connection)
        self.queries.__enter__()
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        seconds = time.perf_counter() - self.started
        self.queries.__exit__(*exc)
        self.rows.append((self.name, seconds, len(self.queries.captured_queries)))
        print(f"  {self.name}: {seconds:.2f} s, {len(self.queries.captured_queries)} queries", flush=True)


def make_round(*, admin, first: dt.date, last: dt.date, seed: int, time_limit: int, workers: int) -> PlanningRound:
    bases = [base for base in Base.objects.filter(status=Base.Status.CERTIFIED).order_by("pk") if base.is_bookable_on(first, last)]
    programmes = FundProgramme.objects.filter(valid_from__lte=first, valid_until__gte=last).values_list("pk", flat=True)
    cities = Organisation.objects.filter(kind=Organisation.Kind.CITY, parent=admin.organisation)
    planning_round = planning.round_create(
        actor=admin, name=f"性能测试：全省统筹 {first:%Y-%m}～{last:%Y-%m}", first_night=first, last_night=last,
        union_ids=list(cities.values_list("pk", flat=True)), base_ids=[base.pk for base in bases],
        programme_ids=list(programmes),
        settings=planning.RoundSettings(time_limit_seconds=time_limit, workers=workers, seed=seed,
                                        regional_balance=PlanningRound.RegionalBalance.MAXIMIN, rural_weight=10),
    )
    return planning.round_open(actor=admin, round_id=planning_round.pk)


def add_requests(planning_round: PlanningRound, *, count: int, rng: random.Random) -> None:
    """``count`` requests of the demo's unions under the round's cities, each with its own batch, in bulk."""
    city_ids = set(planning_round.unions.values_list("pk", flat=True))
    unions = [
        union for union in Organisation.objects.exclude(kind=Organisation.Kind.OPERATOR).order_by("pk")
        if set(union.ancestor_ids()) & city_ids
    ]
    bases = list(planning_round.bases.order_by("pk"))
    user = get_user_model().objects.get(username="organiser")
    first, last = planning_round.first_night, planning_round.last_night
    span = (last - first).days
    now = timezone.now()
    batches, terms = [], []
    for number in range(count):
        union = rng.choice(unions)
        nights = rng.choice((2, 3, 3, 4))
        people = rng.randint(18, 60)
        earliest = first + dt.timedelta(days=rng.randint(0, span - 30))
        latest = earliest + dt.timedelta(days=rng.choice((7, 14, 21, 28)))
        ranked = rng.sample(bases, rng.randint(1, 3))
        preferences = [{"base": base.pk} for base in ranked]
        if rng.random() < 0.3:
            preferences.append({"city": ranked[0].city_code})
        batches.append(Batch(union=union, title=f"性能测试批次 {number + 1}", nights=nights, created_by=user))
        terms.append((union, people, nights, earliest, latest, preferences))
    batches = Batch.objects.bulk_create(batches, batch_size=1000)
    PlanningRequest.objects.bulk_create(
        [
            PlanningRequest(
                round=planning_round, batch=batch, union=union, people=people, rooms=(people + 1) // 2 + 1, nights=nights,
                earliest_arrival=earliest, latest_arrival=latest, preferences=preferences, priority=rng.choice((0, 0, 1, 2)),
                submitted_by=user, submitted_at=now,
            )
            for batch, (union, people, nights, earliest, latest, preferences) in zip(batches, terms)
        ],
        batch_size=1000,
    )


def inventory_consistent() -> tuple[int, int]:
    """(nights oversold, nights whose held rooms differ from the held bookings' lines)."""
    oversold = NightInventory.objects.filter(rooms_held__gt=F("rooms") - F("rooms_booked")).count()
    held = Counter()
    lines = BookingLine.objects.filter(booking__status=Booking.Status.HELD).values_list("room_type_id", "first_night", "nights", "rooms")
    for room_type_id, first_night, nights, rooms in lines.iterator(chunk_size=5000):
        for offset in range(nights):
            held[(room_type_id, first_night + dt.timedelta(days=offset))] += rooms
    mismatched = sum(
        1 for room_type_id, night, rooms_held in NightInventory.objects.filter(rooms_held__gt=0).values_list("room_type_id", "night", "rooms_held").iterator(chunk_size=5000)
        if held.pop((room_type_id, night), 0) != rooms_held
    ) + sum(1 for rooms in held.values() if rooms)
    return oversold, mismatched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3700)
    parser.add_argument("--time-limit", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the round, its batches and holds")
    args = parser.parse_args()

    ensure_demo_dataset()
    admin = actor_of(get_user_model().objects.get(username="admin"))
    today = timezone.localdate()
    first = (today.replace(day=1) + dt.timedelta(days=62)).replace(day=1)
    last = min((first + dt.timedelta(days=245)).replace(day=1) - dt.timedelta(days=1),
               NightInventory.objects.order_by("-night").values_list("night", flat=True).first())
    rng = random.Random(args.seed)
    print(f"database: {connection.vendor}; round {first} .. {last}; {args.requests} requests", flush=True)

    rows: list = []
    with transaction.atomic():
        planning_round = make_round(admin=admin, first=first, last=last, seed=args.seed, time_limit=args.time_limit, workers=args.workers)
        add_requests(planning_round, count=args.requests, rng=rng)
        run = SolveRun.objects.create(
            round=planning_round, round_status_before=planning_round.status, status=SolveRun.Status.RUNNING,
            time_limit_seconds=args.time_limit, workers=args.workers, seed=args.seed, created_by_id=admin.user_id,
            created_at=timezone.now(), started_at=timezone.now(), heartbeat_at=timezone.now(),
        )
        PlanningRound.objects.filter(pk=planning_round.pk).update(status=PlanningRound.Status.SOLVING)
        planning_round.refresh_from_db()
        with Step("build", rows):
            problem = planning_problem.round_problem_build(planning_round=planning_round)
        instance = problem.instance
        print(f"  problem: {len(instance.groups)} groups, {len(instance.bases)} bases, {len(instance.funds)} funds, "
              f"{sum(len(g.options) for g in instance.groups)} options", flush=True)
        with Step("solve", rows):
            result = planning.solve_problem(problem, time_limit=args.time_limit, workers=args.workers, seed=args.seed)
        problems = check_result(instance, result)
        print(f"  plan: objective {result.objective}, bound {result.bound}, "
              f"gap {100 * (result.bound - result.objective) / result.bound:.2f} %, "
              f"{len(result.assignments)} placed, {len(result.unplaced)} unplaced, checker: {problems or 'valid'}", flush=True)
        with Step("save", rows):
            planning.solve_result_save(run_id=run.pk, problem=problem, result=result, now=timezone.now())
        with Step("publish", rows):
            held = planning.round_publish(actor=admin, round_id=planning_round.pk, now=timezone.now())
        oversold, mismatched = inventory_consistent()
        people = Booking.objects.filter(pk__in=[b.pk for b in held]).aggregate(people=Sum("people"))["people"] or 0
        print(f"  held: {len(held)} bookings, {people} people; nights oversold {oversold}, nights mismatched {mismatched}")
        transaction.set_rollback(not args.keep)

    print()
    print("| step | seconds | queries |")
    print("|---|---:|---:|")
    for name, seconds, queries in rows:
        print(f"| {name} | {seconds:.2f} | {queries} |")


if __name__ == "__main__":
    main()
