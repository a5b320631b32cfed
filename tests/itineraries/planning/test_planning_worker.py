"""A real Celery worker solving a round is killed mid-solve: the round is left as it was."""

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.db import connection
from django.utils import timezone

from bases.models import NightInventory
from groups.models import Batch
from itineraries import planning
from itineraries.models import PlanningRequest, PlanningRound, SolveRun
from tests.factories import BaseFactory, RoomTypeFactory
from tests.itineraries.planning.conftest import FIRST_NIGHT, NOW

BROKER = "redis://127.0.0.1:6379/12"
ROOT = Path(__file__).resolve().parents[3]


def _test_database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _big_round(*, admin, union_tree, users) -> PlanningRound:
    """400 requests over 6 tight bases in 60 nights: enough work that the solve uses its whole time limit."""
    rng = random.Random(5)
    bases = [BaseFactory(city_code="441600", operator=union_tree["operator"]) for _ in range(6)]
    for base in bases:
        room_type = RoomTypeFactory(base=base, rooms=30, beds_per_room=2)
        NightInventory.objects.bulk_create(
            NightInventory(room_type=room_type, night=FIRST_NIGHT + dt.timedelta(days=d), rooms=30) for d in range(60)
        )
    planning_round = planning.round_create(
        actor=admin, name="大轮次", first_night=FIRST_NIGHT, last_night=FIRST_NIGHT + dt.timedelta(days=59),
        union_ids=[union_tree["dongguan"].pk], base_ids=[b.pk for b in bases], programme_ids=[],
        settings=planning.RoundSettings(time_limit_seconds=120, workers=1, seed=3),
    )
    planning.round_open(actor=admin, round_id=planning_round.pk)
    batches = Batch.objects.bulk_create(
        Batch(union=union_tree["factory"], title=f"批次{i}", created_by=users["factory_organiser"]) for i in range(400)
    )
    requests = []
    for batch in batches:
        people = rng.randint(8, 40)
        earliest = FIRST_NIGHT + dt.timedelta(days=rng.randint(0, 30))
        requests.append(PlanningRequest(
            round=planning_round, batch=batch, union=batch.union, people=people, rooms=(people + 1) // 2,
            nights=rng.randint(2, 5), earliest_arrival=earliest, latest_arrival=earliest + dt.timedelta(days=24),
            preferences=[{"base": base.pk} for base in rng.sample(bases, 3)], priority=rng.randint(0, 5),
            submitted_by=users["factory_organiser"], submitted_at=NOW,
        ))
    PlanningRequest.objects.bulk_create(requests)
    return PlanningRound.objects.get(pk=planning_round.pk)


def _wait_for(condition, *, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_killing_the_worker_mid_solve_leaves_the_round_as_it_was(union_tree, users, admin, monkeypatch):
    planning_round = _big_round(admin=admin, union_tree=union_tree, users=users)
    broker = redis.Redis.from_url(BROKER)
    broker.flushdb()
    client = Celery(broker=BROKER, set_as_current=False)
    monkeypatch.setattr(planning, "_enqueue_solve",
                        lambda run_id: client.send_task("itineraries.tasks.solve_round", args=[run_id]))
    env = {**os.environ, "REDIS_URL": BROKER, "DATABASE_URL": _test_database_url(), "DJANGO_SETTINGS_MODULE": "retreat.settings"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "retreat", "worker", "--pool=solo", "--without-mingle",
         "--without-gossip", "-l", "warning"],
        cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        run = planning.solve_start(actor=admin, round_id=planning_round.pk, now=timezone.now())
        running = _wait_for(
            lambda: SolveRun.objects.filter(pk=run.pk, status=SolveRun.Status.RUNNING, best_objective__isnull=False).first(),
            seconds=90, what="the worker to report progress",
        )
        assert running.best_objective > 0 and running.heartbeat_at is not None
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
        broker.flushdb()

    run.refresh_from_db()
    planning_round.refresh_from_db()
    assert run.status == SolveRun.Status.RUNNING and run.result is None  # nothing of the plan was written
    assert planning_round.status == PlanningRound.Status.SOLVING
    assert not PlanningRequest.objects.filter(round=planning_round).exclude(status=PlanningRequest.Status.SUBMITTED).exists()

    # Once the run has been silent for STALE_AFTER it no longer blocks, and the round is back as it was.
    later = run.heartbeat_at + planning.STALE_AFTER + dt.timedelta(seconds=1)
    planning.solve_runs_reap_stale(round_id=planning_round.pk, now=later)
    run.refresh_from_db()
    planning_round.refresh_from_db()
    assert run.status == SolveRun.Status.FAILED
    assert planning_round.status == PlanningRound.Status.OPEN
    monkeypatch.setattr(planning, "_enqueue_solve", lambda run_id: None)
    again = planning.solve_start(actor=admin, round_id=planning_round.pk, now=later)
    assert again.status == SolveRun.Status.QUEUED
