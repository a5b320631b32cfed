"""Stored Idempotency-Key answers are kept a week, then forgotten by the daily sweep."""

import datetime as dt

from django.utils import timezone

from groups.idempotency import KEEP_RECORDS, idempotency_records_purge
from groups.models import IdempotencyRecord
from groups.tasks import purge_idempotency_records


def record(user, key: str, age: dt.timedelta) -> IdempotencyRecord:
    stored = IdempotencyRecord.objects.create(user=user, key=key, endpoint="/api/v1/bookings", request_digest="0" * 64,
                                              status_code=201, response_body={"id": 1})
    IdempotencyRecord.objects.filter(pk=stored.pk).update(created_at=timezone.now() - age)
    return stored


def test_answers_older_than_a_week_are_purged(users):
    user = users["factory_organiser"]
    old = record(user, "old", KEEP_RECORDS + dt.timedelta(minutes=1))
    recent = record(user, "recent", KEEP_RECORDS - dt.timedelta(minutes=1))

    assert idempotency_records_purge(now=timezone.now()) == 1
    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not IdempotencyRecord.objects.filter(pk=old.pk).exists()
    assert purge_idempotency_records.delay().get() == 0  # the task runs the same sweep
