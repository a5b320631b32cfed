"""The month batch through a real Celery worker on Redis, against the test database."""

import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection
from django.utils import timezone

from billing import services
from billing.models import MonthBatch
from tests.billing.conftest import ARRIVAL, NOW

REDIS_URL = os.environ.get("BILLING_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def worker_env(media_root: Path) -> dict[str, str]:
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{connection.settings_dict['NAME']}"
    return {**os.environ, "REDIS_URL": REDIS_URL, "DATABASE_URL": url, "MEDIA_ROOT": str(media_root), "TEST_DATABASE_NAME": ""}


def start_worker(media_root: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "retreat", "worker", "--pool=solo", "-Q", "billing", "--loglevel=INFO", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=settings.BASE_DIR, env=worker_env(media_root), stdout=log.open("w"), stderr=subprocess.STDOUT,
    )


def send_month_batch(batch_id: int) -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).delete("billing")  # no stale messages from earlier runs
    Celery("dispatch", broker=REDIS_URL, set_as_current=False).send_task("billing.tasks.render_month_batch", args=[batch_id], queue="billing")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_month_batch_zip_appears_through_a_real_worker(world, booking, users, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the worker shares the PostgreSQL test database")
    services.funding_commit_for_booking(booking=booking, actor=world["organiser"], now=NOW)
    arrivals = [services.ArrivalActual(participant_id=p.pk, nights=3) for p in booking.batch.participants.all()]
    settlement = services.settlement_submit(actor=world["operator"], booking_id=booking.pk, arrivals=arrivals, extras=[], now=NOW)
    batch = MonthBatch.objects.create(month=ARRIVAL.replace(day=1), requested_by=users["dongguan_fund"], created_at=timezone.now())

    worker = start_worker(tmp_path, tmp_path / "worker.log")
    try:
        send_month_batch(batch.pk)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            batch.refresh_from_db()
            if batch.status in (MonthBatch.Status.DONE, MonthBatch.Status.FAILED):
                break
            time.sleep(0.5)
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    assert batch.status == MonthBatch.Status.DONE, (tmp_path / "worker.log").read_text()[-3000:]
    assert (batch.done, batch.total) == (4, 4)
    archive = tmp_path / batch.archive.name
    assert archive.exists()
    assert f"结算单/{settlement.number}.pdf" in zipfile.ZipFile(archive).namelist()
