"""``python manage.py seed_demo --seed 2025 [--flush]``: the realistic Guangdong demo dataset.

Deterministic with the seed (and ``--today``). On a database that already holds
this demo it does nothing and prints the logins again; on a database holding
anything else it refuses unless ``--flush`` is given, which empties every table
first.
"""

import argparse
import datetime as dt
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from bases.models import Base, CertificationEvent, NightInventory, RoomType, Route, RouteDay, RouteDeparture, RouteItem, Theme
from groups.demo import build
from groups.models import Membership, Organisation


# Where each demo login finds its work in progress (see groups/demo/activity.py).
START_PAGES = {
    "admin": "/bases/certification/ 基地认证审核 · /planning/ 春季统筹轮次（征集中，可点“求解”）",
    "dg_admin": "/bases/certification/ 东莞基地认证 · /bases/ 基地目录",
    "organiser": "/batches/ 本单位批次与名单 · /bookings/ 预订（暂留将到期、已确认、已入住、候补）",
    "dg_organiser": "/batches/ 市总劳模疗休养批次 · /bookings/ 全市预订",
    "operator": "/itineraries/arrivals/ 今日到达 · /itineraries/scan/ 扫码核销 · /bases/mine/ 本单位基地",
    "fund": "/billing/settlements/ 待审核结算单 · /billing/ 专项经费余额与台账",
    "prov_fund": "/billing/ 省级定额补助 · /billing/settlements/ 结算单",
    "root": "/admin/ 后台管理 · /planning/ 统筹轮次",
}


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD (date must be YYYY-MM-DD): {value}") from None


class Command(BaseCommand):
    help = "生成广东职工疗休养演示数据 (build the Guangdong demo dataset)"

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2025, help="random seed; the same seed gives the same data")
        parser.add_argument("--flush", action="store_true", help="empty the whole database first")
        parser.add_argument("--bases", type=int, default=build.DEFAULT_BASES,
                            help="certified bases (default 139); a few applied/suspended/revoked ones come on top")
        parser.add_argument("--nights", type=int, default=365, help="nights of inventory from the first of this month")
        parser.add_argument("--routes", type=int, default=None, help="routes (default 30, fewer for fewer bases)")
        parser.add_argument("--today", type=_date, default=None, help="pretend today is this date (YYYY-MM-DD)")

    def handle(self, *args, seed, flush, bases, nights, routes, today, verbosity, **options):
        if bases < 1:
            raise CommandError("--bases 至少为 1 (must be at least 1)")
        horizon = settings.INVENTORY_HORIZON_DAYS
        if not 1 <= nights <= horizon:
            raise CommandError(f"--nights 应在 1 到 {horizon} 之间 (must be 1..{horizon})")
        if routes is not None and routes < 0:
            raise CommandError("--routes 不能为负数 (must not be negative)")

        if self._has_data():
            if flush:
                self.stdout.write("清空数据库 (flushing the database) …")
                self._flush()
            elif self._looks_seeded():
                self.stdout.write(self.style.WARNING(
                    "演示数据已存在，未做改动；用 --flush 重建 (demo data already there, nothing changed; --flush rebuilds)"
                ))
                self._print_logins(build.existing_logins())
                return
            else:
                raise CommandError(
                    "数据库中已有非演示数据，拒绝写入；确认可清空后加 --flush "
                    "(the database holds other data; pass --flush to empty it first)"
                )

        config = build.Config(seed=seed, bases=bases, nights=nights, routes=routes, today=today)
        demo = build.Demo(config=config, today=today or timezone.localdate())
        started = time.perf_counter()
        with transaction.atomic():
            for step in build.STEPS:
                step_started = time.perf_counter()
                step(demo)
                if verbosity >= 1:
                    self.stdout.write(f"  {step.__name__:<24}{time.perf_counter() - step_started:6.2f} s")
        elapsed = time.perf_counter() - started

        self.stdout.write(self.style.SUCCESS(f"演示数据已生成 (demo data built): seed={seed}, {elapsed:.1f} s"))
        for label, count in self._counts().items():
            self.stdout.write(f"  {label:<34}{count:>8}")
        self._print_logins(demo.logins)

    @staticmethod
    def _flush() -> None:
        """Empty every table. Inside a transaction (a test, a script) PostgreSQL refuses to
        truncate tables with deferred foreign-key checks pending, so run those first."""
        deferred = connection.vendor == "postgresql" and connection.in_atomic_block
        if deferred:
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        call_command("flush", interactive=False, verbosity=0)
        if deferred:
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    @staticmethod
    def _has_data() -> bool:
        return Organisation.objects.exists() or Base.objects.exists() or get_user_model().objects.exists()

    @staticmethod
    def _looks_seeded() -> bool:
        return Membership.objects.filter(
            user__username="admin", organisation__kind=Organisation.Kind.PROVINCE, organisation__division_code="440000"
        ).exists() and Base.objects.exists()

    @staticmethod
    def _counts() -> dict[str, int]:
        kinds = dict(Organisation.Kind.choices)
        counts = {f"组织·{kinds[kind]} ({kind})": Organisation.objects.filter(kind=kind).count() for kind in kinds}
        certified = Base.objects.filter(status=Base.Status.CERTIFIED)
        counts |= {
            "疗休养基地 (bases)": Base.objects.count(),
            "  已认证 (certified)": certified.count(),
            "  省级 (provincial)": certified.filter(level=Base.Level.PROVINCIAL).count(),
            "  申请中/暂停/撤销 (applied/suspended/revoked)": Base.objects.filter(
                status__in=[Base.Status.APPLIED, Base.Status.SUSPENDED, Base.Status.REVOKED]
            ).count(),
            "认证记录 (certification events)": CertificationEvent.objects.count(),
            "主题 (themes)": Theme.objects.count(),
            "房型 (room types)": RoomType.objects.count(),
            "每晚库存 (night inventory)": NightInventory.objects.count(),
            "  关闭 (closed nights)": NightInventory.objects.filter(closed=True).count(),
            "线路 (routes)": Route.objects.count(),
            "线路日程 (route days)": RouteDay.objects.count(),
            "日程安排 (route items)": RouteItem.objects.count(),
            "线路团期 (departures)": RouteDeparture.objects.count(),
            "用户 (users)": get_user_model().objects.count(),
        }
        return counts

    def _print_logins(self, logins: list[build.Login]) -> None:
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"登录 (log in): {build.LOGIN_URL}    密码 (password): {build.DEMO_PASSWORD}"))
        for login in logins:
            self.stdout.write(f"  {login.username:<14}{build.DEMO_PASSWORD:<12}{login.role} · {login.acts_for}")
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("从哪里开始 (where to start):"))
        for login in logins:
            if login.username in START_PAGES:
                self.stdout.write(f"  {login.username:<14}→ {START_PAGES[login.username]}")
