"""Booking throughput through the HTTP API on PostgreSQL, next to pgbench running the same hold in raw SQL.

    .venv/bin/python bench/booking.py [--seconds 10] [--clients 1,16,64] [--repeat 3]
        [--server gunicorn|runserver] [--workers 2 --threads 8] [--conn-max-age 60]
        [--celery worker|eager] [--no-keep-alive] [--no-idempotency-key] [--write PATH]

What it does:

1. (re)creates the database ``retreat_bench`` on 127.0.0.1:5432 and migrates it;
2. loads one union with an organiser (bearer token), one certified base with a
   room type of 1,000,000 rooms a night for three nights, and one batch per
   booking to be made (a batch has at most one active booking);
3. starts the app the way it runs in production: gunicorn (gthread workers,
   persistent DB connections through ``DB_CONN_MAX_AGE``, DEBUG off) and, with
   ``--celery worker``, a private redis-server and one Celery worker, so the
   after-commit e-mail notifications go through the broker as in production
   (``--server runserver --conn-max-age 0 --celery eager --no-keep-alive
   --no-idempotency-key`` is the first measurement's set-up);
4. for each client count, runs that many client threads for ``--seconds``,
   each POSTing ``/api/v1/bookings`` (hold 1 room, 2 people, 3 nights, a fresh
   ``Idempotency-Key`` each) over its own keep-alive loopback connection, as
   pgbench's clients keep theirs; repeated ``--repeat`` times, median reported;
5. runs ``pgbench -n -c N -j 2 -T seconds -f hold.sql``: the same hold in SQL
   (lock the nights in id order, guarded update, insert booking + line + event),
   also ``--repeat`` times;
6. checks the inventory adds up (rooms held == sum of held lines, never more
   than the rooms), that every hold's notification was sent, and prints/writes
   the figures to bench/RESULTS_booking.md (or ``--write``).
"""

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "retreat_bench"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
PORT = 8765
REDIS_PORT = 6395
REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"
ARRIVAL = dt.date.today() + dt.timedelta(days=60)
NIGHTS = 3


def psql(sql: str, database: str = "postgres") -> str:
    return subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-tAc", sql], check=True, capture_output=True, text=True
    ).stdout.strip()


OPTIONS = argparse.Namespace(celery="eager", conn_max_age=0)


def environment() -> dict:
    env = dict(os.environ, DATABASE_URL=DATABASE_URL, DJANGO_DEBUG="0", LOG_LEVEL="ERROR",
               DB_CONN_MAX_AGE=str(OPTIONS.conn_max_age))
    env.pop("REDIS_URL", None)
    if OPTIONS.celery == "worker":
        env["REDIS_URL"] = REDIS_URL  # notifications through the broker to a worker, as in production
    return env  # else: tasks run eagerly in-process after commit, as in a single-box install without Redis


def prepare_database() -> None:
    psql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    psql(f"CREATE DATABASE {DB_NAME}")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=environment(), check=True)


def load_data(batches: int) -> dict:
    os.environ.update(environment())
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retreat.settings")
    import django

    django.setup()
    from decimal import Decimal

    from bases.models import Base, NightInventory, RoomType
    from groups.access import actor_of
    from groups.models import Batch, Membership, Organisation
    from groups.services import api_token_create, organisation_create, user_create

    union = organisation_create(name="基准测试工会", kind=Organisation.Kind.ENTERPRISE, division_code="441900")
    operator = organisation_create(name="基准测试运营", kind=Organisation.Kind.OPERATOR, division_code="441600")
    organiser = user_create(username="bench", password="bench-pass-123", organisation=union, role=Membership.Role.ORGANISER,
                            email="bench-organiser@example.cn")  # so that every hold's notification is an e-mail sent
    _token, raw_token = api_token_create(actor=actor_of(organiser), name="bench")
    base = Base.objects.create(
        operator=operator, name="基准测试基地", city_code="441600", county_code="441622", address="-", latitude=Decimal("24.1"),
        longitude=Decimal("115.2"), kind=Base.Kind.HOT_SPRING, status=Base.Status.CERTIFIED, level=Base.Level.PROVINCIAL,
        certificate_number="BENCH-1", contact_email="bench-base@example.cn", valid_from=dt.date(2020, 1, 1), valid_until=dt.date(2035, 12, 31),
    )
    room_type = RoomType.objects.create(base=base, name="标准间", beds_per_room=2, rooms=1_000_000,
                                        price_per_night=Decimal("260"), meals_per_day=Decimal("90"))
    NightInventory.objects.bulk_create(
        NightInventory(room_type=room_type, night=ARRIVAL + dt.timedelta(days=i), rooms=1_000_000) for i in range(NIGHTS)
    )
    template = Batch.objects.create(union=union, title="B0", nights=NIGHTS, created_by=organiser)
    from django.db import connection

    with connection.cursor() as cursor:  # the other batches as copies of the first, in one statement
        columns = [f.column for f in Batch._meta.concrete_fields if f.column not in ("id", "title")]
        listed = ", ".join(connection.ops.quote_name(c) for c in columns)
        cursor.execute(
            f"INSERT INTO groups_batch (title, {listed}) SELECT 'B' || i, {listed} FROM groups_batch, "
            f"generate_series(1, %s) AS i WHERE id = %s ORDER BY i",
            [batches - 1, template.pk],
        )
        cursor.execute("ANALYZE")  # statistics, as a database in service has
    ids = list(Batch.objects.filter(union=union).order_by("pk").values_list("pk", flat=True))
    assert ids[-1] - ids[0] + 1 == len(ids) == batches, "batch ids must be consecutive for the pgbench script"
    return {"token": raw_token, "base_id": base.pk, "room_type_id": room_type.pk, "batch_ids": ids,
            "user_id": organiser.pk, "union_id": union.pk}


def start_server(args) -> list[subprocess.Popen]:
    """The app (and, with ``--celery worker``, redis and a Celery worker); returns the processes to stop."""
    logs = Path(tempfile.gettempdir())
    processes = []
    if args.celery == "worker":
        processes.append(subprocess.Popen(
            ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=open(logs / "bench_redis.log", "w"), stderr=subprocess.STDOUT,
        ))
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "retreat", "worker", "--pool=solo", "--without-gossip", "--without-mingle",
             "--without-heartbeat", "-l", "INFO"],
            cwd=ROOT, env=environment(), stdout=open(logs / "bench_celery.log", "w"), stderr=subprocess.STDOUT,
        ))
    log = open(logs / "bench_server.log", "w")
    if args.server == "gunicorn":
        command = [sys.executable, "-m", "gunicorn", "retreat.wsgi:application", "--bind", f"127.0.0.1:{PORT}",
                   "--worker-class", "gthread", "--workers", str(args.workers), "--threads", str(args.threads),
                   "--keep-alive", "60", "--backlog", "2048", "--graceful-timeout", "5", "--log-level", "warning"]
    else:
        command = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{PORT}"]
    processes.append(subprocess.Popen(command, cwd=ROOT, env=environment(), stdout=log, stderr=log))
    for _ in range(150):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            connection.request("GET", "/api/v1/me")
            connection.getresponse().read()
            return processes
        except OSError:
            time.sleep(0.2)
    stop(processes)
    raise RuntimeError(f"{args.server} did not start")


def stop(processes: list[subprocess.Popen]) -> None:
    for process in reversed(processes):  # the server, then the worker, then redis
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def notifications_sent(expected: int, timeout: float = 120) -> dict:
    """With a worker: wait for the queue to drain and count the notification tasks that sent their e-mail."""
    log = Path(tempfile.gettempdir()) / "bench_celery.log"
    started = time.perf_counter()
    while True:
        queued = int(subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "LLEN", "celery"], capture_output=True,
                                    text=True).stdout.strip() or 0)
        sent = sum(1 for line in log.read_text(errors="replace").splitlines()
                   if "groups.tasks.notify_booking_status[" in line and "succeeded" in line and line.rstrip().endswith(": 1"))
        if (queued == 0 and sent >= expected) or time.perf_counter() - started > timeout:
            return {"expected": expected, "sent": sent, "drain_seconds": time.perf_counter() - started}
        time.sleep(0.5)


def run_clients(*, clients: int, seconds: float, data: dict, batch_ids: list[int], keep_alive: bool = True,
                idempotency_key: bool = True) -> dict:
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    deadline = time.perf_counter() + seconds
    barrier = threading.Barrier(clients)

    def client_main():
        connection = None
        barrier.wait()
        while time.perf_counter() < deadline:
            with lock:
                if not batch_ids:
                    return
                batch_id = batch_ids.pop()
            body = json.dumps({"batch_id": batch_id, "base_id": data["base_id"], "arrival": ARRIVAL.isoformat(), "nights": NIGHTS,
                               "rooms": [{"room_type_id": data["room_type_id"], "rooms": 1, "people": 2}]})
            headers = {"Authorization": f"Bearer {data['token']}", "Content-Type": "application/json"}
            if idempotency_key:
                headers["Idempotency-Key"] = uuid.uuid4().hex
            started = time.perf_counter()
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
            try:
                connection.request("POST", "/api/v1/bookings", body, headers)
                status = connection.getresponse()
                status.read()
            except (http.client.HTTPException, OSError):  # the server closed a kept-alive connection: say so, go on
                connection.close()
                connection = None
                with lock:
                    statuses["dropped"] = statuses.get("dropped", 0) + 1
                continue
            if not keep_alive or status.will_close:
                connection.close()
                connection = None
            elapsed = time.perf_counter() - started
            with lock:
                statuses[status.status] = statuses.get(status.status, 0) + 1
                if status.status == 201:
                    latencies.append(elapsed)
        if connection is not None:
            connection.close()

    threads = [threading.Thread(target=client_main) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "clients": clients, "ok": statuses.get(201, 0), "statuses": statuses, "seconds": wall,
        "per_second": statuses.get(201, 0) / wall,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else None,
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else None,
    }


HOLD_SQL = """\\set offset random(0, 0)
BEGIN;
SET LOCAL lock_timeout = '3000ms';
SELECT id FROM bases_nightinventory WHERE room_type_id = {rt} AND night BETWEEN '{first}' AND '{last}' ORDER BY id FOR UPDATE;
UPDATE bases_nightinventory SET rooms_held = rooms_held + 1, people_held = people_held + 2
 WHERE room_type_id = {rt} AND night BETWEEN '{first}' AND '{last}' AND NOT closed AND rooms - rooms_held - rooms_booked >= 1;
WITH booking AS (
  INSERT INTO groups_booking (reference, batch_id, union_id, base_id, arrival, nights, people, rooms, status, hold_expires_at,
                              cancellation_fee, created_by_id, created_at)
  VALUES ('PG' || nextval('bench_batch_seq'), currval('bench_batch_seq'), {union}, {base}, '{first}', {nights}, 2, 1, 'held',
          now() + interval '30 minutes', 0, {user}, now())
  RETURNING id
), line AS (
  INSERT INTO groups_bookingline (booking_id, room_type_id, first_night, nights, rooms, people)
  SELECT id, {rt}, '{first}', {nights}, 1, 2 FROM booking
)
INSERT INTO groups_bookingevent (booking_id, action, from_status, to_status, actor_id, detail, at)
SELECT id, 'hold', '', 'held', {user}, '{{}}', now() FROM booking;
COMMIT;
"""


def run_pgbench(*, clients: int, seconds: int, data: dict, first_batch: int) -> dict:
    psql(f"DROP SEQUENCE IF EXISTS bench_batch_seq; CREATE SEQUENCE bench_batch_seq START {first_batch}", DB_NAME)
    script = Path(tempfile.gettempdir()) / "hold.sql"
    script.write_text(HOLD_SQL.format(rt=data["room_type_id"], first=ARRIVAL, last=ARRIVAL + dt.timedelta(days=NIGHTS - 1),
                                      union=data["union_id"], base=data["base_id"], nights=NIGHTS, user=data["user_id"]))
    output = subprocess.run(
        ["pgbench", "-h", "127.0.0.1", "-U", "postgres", "-n", "-c", str(clients), "-j", "2", "-T", str(seconds), "-r",
         "-f", str(script), DB_NAME],
        check=True, capture_output=True, text=True,
    ).stdout
    tps = float(next(line for line in output.splitlines() if line.startswith("tps")).split("=")[1].split()[0])
    latency = float(next(line for line in output.splitlines() if line.startswith("latency average")).split("=")[1].split()[0])
    return {"clients": clients, "tps": tps, "latency_avg_ms": latency, "used": int(psql("SELECT last_value FROM bench_batch_seq", DB_NAME)) - first_batch + 1}


def check_inventory(room_type_id: int) -> dict:
    rows = psql(
        f"SELECT n.night, n.rooms, n.rooms_held, n.rooms_booked, "
        f"(SELECT coalesce(sum(l.rooms), 0) FROM groups_bookingline l JOIN groups_booking b ON b.id = l.booking_id "
        f" WHERE b.status = 'held' AND l.room_type_id = n.room_type_id "
        f" AND n.night BETWEEN l.first_night AND l.first_night + (l.nights - 1)) "
        f"FROM bases_nightinventory n WHERE n.room_type_id = {room_type_id} ORDER BY n.night",
        DB_NAME,
    )
    nights = [line.split("|") for line in rows.splitlines()]
    mismatched = [n for n in nights if int(n[2]) != int(n[4])]
    oversold = [n for n in nights if int(n[2]) + int(n[3]) > int(n[1])]
    return {"nights": nights, "mismatched": len(mismatched), "overbookings": len(oversold)}


def median_run(runs: list[dict], key: str) -> dict:
    """The run whose ``key`` is the median (the middle one of an odd number)."""
    return sorted(runs, key=lambda run: run[key])[len(runs) // 2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--clients", default="1,16,64")
    parser.add_argument("--repeat", type=int, default=3, help="runs per client count; the median is reported")
    parser.add_argument("--server", choices=["gunicorn", "runserver"], default="gunicorn")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--conn-max-age", type=int, default=60, help="DB_CONN_MAX_AGE of the server (0: a connection per request)")
    parser.add_argument("--celery", choices=["worker", "eager"], default="worker")
    parser.add_argument("--no-keep-alive", dest="keep_alive", action="store_false", help="a new HTTP connection per request")
    parser.add_argument("--no-idempotency-key", dest="idempotency_key", action="store_false")
    parser.add_argument("--write", default=str(ROOT / "bench" / "RESULTS_booking.md"))
    args = parser.parse_args()
    OPTIONS.celery, OPTIONS.conn_max_age = args.celery, args.conn_max_age
    levels = [int(c) for c in args.clients.split(",")]

    prepare_database()
    api_pool, sql_pool = 150_000, 300_000
    data = load_data(api_pool + sql_pool)
    api_batches = data["batch_ids"][:api_pool][::-1]
    first_sql_batch = data["batch_ids"][api_pool]

    processes = start_server(args)
    api = []
    try:
        for clients in levels:
            runs = [run_clients(clients=clients, seconds=args.seconds, data=data, batch_ids=api_batches,
                                keep_alive=args.keep_alive, idempotency_key=args.idempotency_key)
                    for _ in range(args.repeat)]
            print("API", clients, [f"{r['per_second']:.1f}/s p50 {r['p50_ms']:.1f} p99 {r['p99_ms']:.1f}" for r in runs], flush=True)
            api.append({**median_run(runs, "per_second"), "runs": runs})
        holds = sum(r["ok"] for a in api for r in a["runs"])
        notified = notifications_sent(holds) if args.celery == "worker" else None
    finally:
        stop(processes)
    after_api = check_inventory(data["room_type_id"])

    sql = []
    for clients in levels:
        runs = []
        for _ in range(args.repeat):
            result = run_pgbench(clients=clients, seconds=args.seconds, data=data, first_batch=first_sql_batch)
            first_sql_batch += result["used"] + 1
            runs.append(result)
        print("pgbench", clients, [f"{r['tps']:.1f} tps" for r in runs], flush=True)
        sql.append({**median_run(runs, "tps"), "runs": runs})
    after_sql = check_inventory(data["room_type_id"])

    command = " ".join(["`.venv/bin/python bench/booking.py"] + sys.argv[1:]) + "`"
    if args.server == "gunicorn":
        server = (f"gunicorn {args.workers} gthread workers x {args.threads} threads, DB_CONN_MAX_AGE={args.conn_max_age}")
    else:
        server = f"Django `runserver --noreload` (threaded), DB_CONN_MAX_AGE={args.conn_max_age}"
    notes = "Celery worker via a private redis (notifications off the request path)" if args.celery == "worker" else \
        "Celery eager (the e-mail is rendered and sent inside the request, after commit)"
    lines = [
        "# Booking throughput: HTTP API vs the same hold in raw SQL",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.platform()}, PostgreSQL {psql('SHOW server_version')}; run {dt.date.today()}.",
        f"Command: {command}.",
        f"Server: {server}; DEBUG off; {notes}; client threads "
        f"{'on one keep-alive connection each' if args.keep_alive else 'on a new connection per request'}, "
        f"{'a fresh Idempotency-Key per request' if args.idempotency_key else 'no Idempotency-Key'}; "
        "server, clients and PostgreSQL on the same cores over loopback.",
        f"Each figure is the median of {args.repeat} runs of {args.seconds} s (all runs listed below the table).",
        f"SQL: `pgbench -n -c N -j 2 -T {args.seconds} -f hold.sql` with the lock, guarded update and three inserts.",
        "",
        "| clients | API holds/s | API p50 ms | API p99 ms | API statuses | pgbench tps | pgbench avg ms | SQL/API ratio |",
        "|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for a, s in zip(api, sql, strict=True):
        ratio = s["tps"] / a["per_second"] if a["per_second"] else float("inf")
        lines.append(
            f"| {a['clients']} | {a['per_second']:.1f} | {a['p50_ms']:.1f} | {a['p99_ms']:.1f} | {a['statuses']} | "
            f"{s['tps']:.1f} | {s['latency_avg_ms']:.2f} | {ratio:.1f}× |"
        )
    lines += ["", "All runs (holds/s, p50 ms, p99 ms; pgbench tps):", ""]
    for a, s in zip(api, sql, strict=True):
        lines.append(
            f"- {a['clients']} clients: API " + ", ".join(f"{r['per_second']:.1f}/{r['p50_ms']:.1f}/{r['p99_ms']:.1f}" for r in a["runs"])
            + "; pgbench " + ", ".join(f"{r['tps']:.1f}" for r in s["runs"])
        )
    lines += [
        "",
        f"Inventory after the API runs: nights whose held rooms differ from the held lines = {after_api['mismatched']}, "
        f"overbookings = {after_api['overbookings']}.",
        f"Inventory after pgbench too: mismatched = {after_sql['mismatched']}, overbookings = {after_sql['overbookings']}.",
    ]
    if notified:
        lines.append(f"Notifications: {notified['sent']} e-mails sent by the worker for {notified['expected']} holds "
                     f"(queue drained {notified['drain_seconds']:.0f} s after the last run).")
    lines.append("")
    text = "\n".join(lines)
    print(text)
    Path(args.write).write_text(text)


if __name__ == "__main__":
    main()
