#!/usr/bin/env python3
"""Availability benchmark: p50/p95 of the availability search on the demo dataset.

usage: .venv/bin/python bench/availability.py [--requests 500] [--seed 7]

Runs on whatever DATABASE_URL points at (SQLite next to manage.py by default).
It migrates that database and, if the demo dataset is not there, builds it with
``manage.py seed_demo --seed 2025`` (~139 certified bases x 365 nights) first.
Each request is a random stay (2-5 nights, 10-120 people) with random directory
filters, timed twice: the selector alone (``bases.selectors.available_bases``
plus the filters, three queries) and the whole API request
(``GET /api/v1/bases/availability`` through Django's test client), in wall
time and in this process's CPU time (on SQLite that includes the database; on
PostgreSQL the server's share is not in it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retreat.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from bases.filters import BaseFilter, apply_filter  # noqa: E402
from bases.models import Base, NightInventory, Theme  # noqa: E402
from bases.selectors import available_bases, base_list  # noqa: E402
from groups.access import actor_of  # noqa: E402
from groups.models import Membership  # noqa: E402

WARM_UP = 20
TARGET_P95_MS = 50.0


def ensure_demo_dataset() -> None:
    call_command("migrate", verbosity=0)
    if Base.objects.filter(status=Base.Status.CERTIFIED).count() < 100 or NightInventory.objects.count() < 100_000:
        print("demo dataset missing: running seed_demo --seed 2025 …", flush=True)
        call_command("seed_demo", seed=2025, verbosity=0)


def random_request(rng: random.Random, *, first_day: dt.date, cities: list[str], themes: list[str]) -> dict:
    people = rng.randint(10, 120)
    return {
        "first_night": first_day + dt.timedelta(days=rng.randint(0, 300)),
        "nights": rng.randint(2, 5),
        "people": people,
        "rooms": (people + 1) // 2,
        "region": rng.choice(cities) if rng.random() < 0.4 else None,
        "kind": rng.choice(Base.Kind.values) if rng.random() < 0.2 else None,
        "theme": rng.choice(themes) if themes and rng.random() < 0.2 else None,
        "level": rng.choice(Base.Level.values) if rng.random() < 0.2 else None,
        "max_price": Decimal(rng.randrange(200, 500, 50)) if rng.random() < 0.2 else None,
    }


def search(actor, request: dict) -> int:
    filters = {name: request[name] for name in ("region", "kind", "theme", "level")}
    bases = apply_filter(BaseFilter, filters, base_list(actor=actor))
    found = available_bases(
        actor=actor, first_night=request["first_night"], nights=request["nights"], people=request["people"],
        rooms=request["rooms"], bases=bases, max_price=request["max_price"],
    )
    return len(found)


def query_string(request: dict) -> str:
    return "&".join(f"{name}={value}" for name, value in request.items() if value is not None) + "&limit=200"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(name: str, timings_ms: list[float]) -> str:
    p95 = percentile(timings_ms, 0.95)
    verdict = "ok" if p95 < TARGET_P95_MS else "OVER TARGET"
    return (
        f"| {name} | {len(timings_ms)} | {percentile(timings_ms, 0.50):.1f} | {p95:.1f} | "
        f"{percentile(timings_ms, 0.99):.1f} | {max(timings_ms):.1f} | {verdict} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()

    ensure_demo_dataset()
    membership = Membership.objects.select_related("user").filter(role=Membership.Role.ORGANISER).order_by("pk").first()
    if membership is None:
        sys.exit("no union organiser in the database: the demo dataset is incomplete")
    actor = actor_of(membership.user)
    client = Client()
    client.force_login(membership.user)

    certified = Base.objects.filter(status=Base.Status.CERTIFIED)
    cities = sorted(set(certified.values_list("city_code", flat=True)))
    themes = list(Theme.objects.values_list("slug", flat=True))
    # Stays start today at the earliest: the search refuses nights in the past.
    first_day = max(NightInventory.objects.order_by("night").values_list("night", flat=True).first(), timezone.localdate())
    rng = random.Random(options.seed)
    requests = [random_request(rng, first_day=first_day, cities=cities, themes=themes) for _ in range(WARM_UP + options.requests)]

    with CaptureQueriesContext(connection) as queries:
        search(actor, requests[0])
    selector_queries = len(queries)

    # Wall time is what a caller waits; CPU time of this process is what the search
    # itself costs, and stays meaningful when other work shares the cores.
    timings: dict[str, list[float]] = {"selector": [], "selector_cpu": [], "api": [], "api_cpu": []}
    found = []
    for number, request in enumerate(requests):
        wall, cpu = time.perf_counter(), time.process_time()
        count = search(actor, request)
        selector_wall, selector_cpu = time.perf_counter() - wall, time.process_time() - cpu
        wall, cpu = time.perf_counter(), time.process_time()
        response = client.get(f"/api/v1/bases/availability?{query_string(request)}")
        api_wall, api_cpu = time.perf_counter() - wall, time.process_time() - cpu
        if response.status_code != 200 or response.json()["count"] != count:
            sys.exit(f"API and selector disagree on {request}: {response.status_code} {response.content[:300]!r}")
        if number >= WARM_UP:
            for name, seconds in (("selector", selector_wall), ("selector_cpu", selector_cpu), ("api", api_wall), ("api_cpu", api_cpu)):
                timings[name].append(seconds * 1000)
            found.append(count)

    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']}); "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end")
    print(
        f"dataset: {certified.count()} certified bases, {NightInventory.objects.count()} nights of inventory "
        f"({NightInventory.objects.order_by('night').first().night} .. {NightInventory.objects.order_by('-night').first().night})"
    )
    print(f"requests: {options.requests} random stays (seed {options.seed}); bases found per request: "
          f"median {statistics.median(found):.0f}, max {max(found)}, none in {sum(1 for f in found if f == 0)}")
    print(f"queries per search (selector): {selector_queries}")
    print()
    print("| what | requests | p50 ms | p95 ms | p99 ms | max ms | p95 < 50 ms |")
    print("|---|---|---|---|---|---|---|")
    print(summary("selector (filters + availability), wall", timings["selector"]))
    print(summary("selector, CPU time of this process", timings["selector_cpu"]))
    print(summary("GET /api/v1/bases/availability, wall", timings["api"]))
    print(summary("GET /api/v1/bases/availability, CPU time of this process", timings["api_cpu"]))


if __name__ == "__main__":
    main()
