"""Celery tasks of the groups app: thin wrappers around one service each, started after commit."""

from celery import shared_task
from django.utils import timezone

from groups import bookings
from groups.idempotency import idempotency_records_purge
from groups.models import WaitlistEntry
from retreat.errors import Busy


@shared_task(name="groups.tasks.release_lapsed_holds", autoretry_for=(Busy,), retry_backoff=True, max_retries=5)
def release_lapsed_holds() -> int:
    """Every minute (see CELERY_BEAT_SCHEDULE): lapse expired holds and offers, then serve every
    waitlist that is waiting, which also picks up capacity a base operator added."""
    lapsed = bookings.holds_release_lapsed()
    waiting_bases = WaitlistEntry.objects.filter(status=WaitlistEntry.Status.WAITING).values_list("base_id", flat=True).distinct()
    for base_id in sorted(set(waiting_bases)):
        bookings.waitlist_serve(base_id=base_id)
    return len(lapsed)


@shared_task(name="groups.tasks.serve_waitlist", autoretry_for=(Busy,), retry_backoff=True, max_retries=5)
def serve_waitlist(base_id: int) -> int:
    return len(bookings.waitlist_serve(base_id=base_id))


@shared_task(name="groups.tasks.notify_booking_status", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_booking_status(booking_id: int, from_status: str, to_status: str) -> int:
    return bookings.booking_status_notify(booking_id=booking_id, from_status=from_status, to_status=to_status)


@shared_task(name="groups.tasks.purge_idempotency_records")
def purge_idempotency_records() -> int:
    """Daily (see CELERY_BEAT_SCHEDULE): drop stored Idempotency-Key answers older than a week."""
    return idempotency_records_purge(now=timezone.now())
