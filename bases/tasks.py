"""Celery tasks of the bases app: thin wrappers around one service each."""

from celery import shared_task

from bases import services
from retreat.errors import Busy


@shared_task(name="bases.tasks.expire_certifications", autoretry_for=(Busy,), retry_backoff=True, max_retries=5)
def expire_certifications() -> int:
    """Hourly (see CELERY_BEAT_SCHEDULE): certificates that ran out become expired, with an event each."""
    return len(services.certifications_expire())
