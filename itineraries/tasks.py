"""Celery tasks of planning rounds: thin wrappers around one service each."""

from celery import shared_task
from django.utils import timezone

from itineraries import planning


@shared_task(name="itineraries.tasks.solve_round", acks_late=True, reject_on_worker_lost=True)
def solve_round(run_id: int) -> str:
    """Solve one queued run; a redelivery after a lost worker fails that run instead of re-solving."""
    return planning.solve_run_execute(run_id=run_id, now=timezone.now()).status


@shared_task(name="itineraries.tasks.reap_stale_solves")
def reap_stale_solves() -> int:
    """Periodic: declare runs nobody has heard from dead and put their rounds back."""
    return len(planning.solve_runs_reap_all(now=timezone.now()))
