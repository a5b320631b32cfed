#!/usr/bin/env python3
"""Settlement PDF benchmark: one 300-person settlement, and a month of 100 through a real Celery worker.

usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/retreat_billing_bench .venv/bin/python bench/settlement.py \
           [--people 300] [--settlements 100] [--group 40] [--redis redis://127.0.0.1:6379/14] [--write bench/RESULTS_settlement.md]

Creates (and drops) its own scratch database ``test_<name>``, builds the data
through the billing services (commit, submit, approve), renders, and prints
the figures as markdown. Needs PostgreSQL, Redis and poppler's ``pdfinfo``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retreat.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/retreat_billing_bench")
os.environ.pop("REDIS_URL", None)  # this process builds data eagerly; only the worker talks to Redis

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

ARRIVAL = dt.date(2026, 11, 3)
NOW = timezone.make_aware(dt.datetime(2026, 11, 23, 10, 0))
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "秀英", "华", "平", "刚"]


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a live process and all its live descendants, each with its finished children (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total / ticks


def pdf_pages(pdf: bytes) -> int:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(pdf)
        handle.flush()
        info = subprocess.run(["pdfinfo", handle.name], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


class World:
    """Dongguan unions, a provincial hot-spring base, a provincial and a city programme."""

    def __init__(self) -> None:
        from bases.models import Base, RoomType
        from billing.models import FundProgramme
        from groups.access import actor_of
        from groups.models import Membership, Organisation
        from groups.services import organisation_create, user_create

        kind = Organisation.Kind
        self.province = organisation_create(name="广东省总工会", kind=kind.PROVINCE, division_code="440000")
        self.city = organisation_create(name="东莞市总工会", kind=kind.CITY, division_code="441900", parent=self.province)
        self.town = organisation_create(name="东莞市虎门镇总工会", kind=kind.TOWN, division_code="441900", parent=self.city)
        operator = organisation_create(name="河源温泉运营公司", kind=kind.OPERATOR, division_code="441600")
        role = Membership.Role
        self.organiser = user_create(username="bench_org", password="x", organisation=self.town, role=role.ORGANISER, full_name="组织者")
        self.fund = user_create(username="bench_fund", password="x", organisation=self.city, role=role.FUND_MANAGER, full_name="经费管理员")
        self.operator = user_create(username="bench_op", password="x", organisation=operator, role=role.OPERATOR, full_name="基地前台")
        admin = user_create(username="bench_admin", password="x", organisation=self.province, role=role.ADMINISTRATOR)
        self.actors = {name: actor_of(user) for name, user in [("org", self.organiser), ("fund", self.fund), ("op", self.operator)]}
        self.base = Base.objects.create(
            operator=operator, name="河源万绿湖温泉疗休养基地", city_code="441600", county_code="441622", address="河源市东源县",
            latitude=Decimal("23.8"), longitude=Decimal("114.7"), kind=Base.Kind.HOT_SPRING, status=Base.Status.CERTIFIED,
            level=Base.Level.PROVINCIAL, certificate_number="粤疗证00001", valid_from=dt.date(2024, 1, 1), valid_until=dt.date(2028, 12, 31),
            discount_percent=Decimal("5"),
        )
        self.room_type = RoomType.objects.create(
            base=self.base, name="标准双床房", beds_per_room=2, rooms=400, price_per_night=Decimal("260.00"), meals_per_day=Decimal("90.00")
        )
        common = {"valid_from": dt.date(2026, 1, 1), "valid_until": dt.date(2026, 12, 31), "created_at": NOW}
        FundProgramme.objects.create(
            union=self.province, name="省总疗休养定额补助", budget=Decimal("50000000"), available=Decimal("50000000"), order=10,
            contribution=FundProgramme.Contribution.FLAT_SUBSIDY, flat_amount_per_person_day=Decimal("100"), base_levels=["provincial"],
            created_by=admin, **common,
        )
        FundProgramme.objects.create(
            union=self.city, name="东莞市职工疗休养专项经费", budget=Decimal("50000000"), available=Decimal("50000000"), order=20,
            contribution=FundProgramme.Contribution.COVER_COST, cap_per_person_day=Decimal("150"), cap_per_person_year=Decimal("3000"),
            created_by=self.fund, **common,
        )
        self.sequence = 0

    def approved_settlement(self, people: int, arrival: dt.date):
        """A confirmed booking of ``people`` (one in ten family), all but one in twenty arriving, approved."""
        from billing import services
        from groups.models import Batch, Booking, BookingLine, Participant

        self.sequence += 1
        batch = Batch.objects.create(union=self.town, title=f"虎门镇第{self.sequence}批疗休养团", arrival=arrival, nights=3, created_by=self.organiser)
        participants = []
        for index in range(people):
            id_number = f"441900{1970 + index % 30}{(index % 12) + 1:02d}{(index % 28) + 1:02d}{self.sequence:03d}{index % 10}"[:18]
            participants.append(
                Participant(
                    batch=batch, name=SURNAMES[index % len(SURNAMES)] + GIVEN[(index // len(SURNAMES)) % len(GIVEN)] + ("" if index < 400 else str(index)),
                    id_encrypted="bench", id_hash=hashlib.sha256(f"{self.sequence}-{index}".encode()).hexdigest(),
                    id_masked=id_number[:6] + "********" + id_number[-4:], birth_date=dt.date(1980, 1, 1), gender="M",
                    phone="13800000000", employer="东莞虎门某服装厂", job_title="车缝工",
                    category=Participant.Category.FAMILY if index % 10 == 9 else Participant.Category.FRONT_LINE,
                )
            )
        participants = Participant.objects.bulk_create(participants)
        rooms = (people + 1) // 2
        booking = Booking.objects.create(
            reference=f"BENCH{self.sequence:05d}", batch=batch, union=self.town, base=self.base, arrival=arrival, nights=3,
            people=people, rooms=rooms, status=Booking.Status.CONFIRMED, created_by=self.organiser,
        )
        BookingLine.objects.create(booking=booking, room_type=self.room_type, first_night=arrival, nights=3, rooms=rooms, people=people)
        services.funding_commit_for_booking(booking=booking, actor=self.actors["org"], now=NOW)
        arrivals = [services.ArrivalActual(participant_id=p.pk, nights=3) for i, p in enumerate(participants) if i % 20 != 7]
        extras = [services.ExtraActual(name="大巴接送", amount=Decimal("1800.00")), services.ExtraActual(name="保险", amount=Decimal("5.00"), basis="per_person")]
        settlement = services.settlement_submit(actor=self.actors["op"], booking_id=booking.pk, arrivals=arrivals, extras=extras, now=NOW)
        return services.settlement_approve(actor=self.actors["fund"], settlement_id=settlement.pk, now=NOW)


def bench_single(world: World, people: int) -> dict:
    from billing import documents

    settlement = world.approved_settlement(people, ARRIVAL)
    documents.settlement_pdf(settlement=settlement)  # warm up: fonts, Pango
    runs = []
    for _ in range(3):  # the machine is shared: keep the best of three, and the CPU time, which load disturbs less
        started, cpu_started = time.monotonic(), time.process_time()
        pdf = documents.settlement_pdf(settlement=settlement)
        runs.append((time.monotonic() - started, time.process_time() - cpu_started))
    seconds, cpu = min(runs)
    pages = pdf_pages(pdf)
    return {"people": people, "seconds": seconds, "cpu": cpu, "pages": pages, "pages_per_second": pages / seconds, "bytes": len(pdf)}


def bench_month(world: World, count: int, group: int, redis_url: str) -> dict:
    import redis
    from celery import Celery

    from billing.models import MonthBatch

    for index in range(count):
        world.approved_settlement(group, ARRIVAL + dt.timedelta(days=index % 18))
    batch = MonthBatch.objects.create(month=ARRIVAL.replace(day=1), requested_by=world.fund, created_at=NOW)
    media = Path(tempfile.mkdtemp(prefix="bench-media-"))
    db = settings.DATABASES["default"]
    env = {
        **os.environ, "REDIS_URL": redis_url, "MEDIA_ROOT": str(media),
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{connection.settings_dict['NAME']}",
    }
    log = open(media / "worker.log", "w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "retreat", "worker", "--pool=solo", "-Q", "billing", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        redis.Redis.from_url(redis_url).delete("billing")
        time.sleep(3)  # let the worker boot before the clock starts
        started = time.monotonic()
        Celery("bench", broker=redis_url, set_as_current=False).send_task("billing.tasks.render_month_batch", args=[batch.pk], queue="billing")
        while True:
            batch.refresh_from_db()
            if batch.status in (MonthBatch.Status.DONE, MonthBatch.Status.FAILED):
                break
            time.sleep(0.25)
        seconds = time.monotonic() - started
        worker_cpu = tree_cpu_seconds(worker.pid)  # the worker and its render processes, boot included
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    if batch.status != MonthBatch.Status.DONE:
        raise SystemExit(f"month batch failed: {batch.error}\n{(media / 'worker.log').read_text()[-2000:]}")
    archive = zipfile.ZipFile(io.BytesIO((media / batch.archive.name).read_bytes()))
    pages = {name: pdf_pages(archive.read(name)) for name in archive.namelist()}
    settlement_pages = sum(pages_ for name, pages_ in pages.items() if name.startswith("结算单/"))
    return {
        "settlements": count, "group": group, "files": len(pages), "seconds": seconds, "pages": sum(pages.values()),
        "settlement_pages": settlement_pages, "seconds_per_pdf": seconds / len(pages), "pages_per_second": sum(pages.values()) / seconds,
        "worker_cpu": worker_cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--settlements", type=int, default=100)
    parser.add_argument("--group", type=int, default=40, help="people per settlement in the month batch")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--write", help="also write the markdown to this file")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        world = World()
        single = bench_single(world, args.people)
        month = bench_month(world, args.settlements, args.group, args.redis)
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)

    lines = [
        "# Settlement PDF benchmark",
        "",
        f"Machine: {os.cpu_count()} cores, {dt.date.today().isoformat()}; PostgreSQL 127.0.0.1, Redis {args.redis}, WeasyPrint, Celery --pool=solo. "
        f"1-minute load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after (other processes share the cores).",
        "",
        f"Command: `DATABASE_URL={os.environ['DATABASE_URL']} .venv/bin/python bench/settlement.py "
        f"--people {args.people} --settlements {args.settlements} --group {args.group}`",
        "",
        "| measurement | seconds | CPU seconds | PDFs | pages | seconds per PDF | pages per second |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| one settlement, {single['people']} people (warm, in-process, best of 3) | {single['seconds']:.2f} | {single['cpu']:.2f} | 1 | "
        f"{single['pages']} | {single['seconds']:.2f} | {single['pages_per_second']:.1f} |",
        f"| month batch: {month['settlements']} settlements × {month['group']} people + statements, real worker on Redis "
        f"| {month['seconds']:.1f} | {month['worker_cpu']:.1f} | {month['files']} | {month['pages']} | {month['seconds_per_pdf']:.2f} "
        f"| {month['pages_per_second']:.1f} |",
        "",
        f"The 300-person PDF is {single['bytes'] / 1024:.0f} KiB. The month batch time runs from sending the task to the zip "
        f"being saved (worker already booted) and includes {month['files'] - month['settlements']} month statements; "
        f"{month['settlement_pages']} of its pages are settlement PDFs.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        Path(args.write).write_text(text)


if __name__ == "__main__":
    main()
