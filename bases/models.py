"""Certified bases, their certification history, room inventory and routes."""

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

MONEY = {"max_digits": 13, "decimal_places": 2}


def cancellation_policy_problems(policy) -> list[str]:
    """What is wrong with a policy like ``[[30, 0], [7, 20], [0, 50]]``: each rule is
    [days before arrival ≥ 0, fee percent 0–100], at most one rule per number of days."""
    if not isinstance(policy, list):
        return [str(_("退订规则须为 [[提前天数, 收费百分比], ...] 的列表"))]
    problems, seen = [], set()
    for index, rule in enumerate(policy, start=1):
        if not (isinstance(rule, (list, tuple)) and len(rule) == 2 and all(type(v) is int for v in rule)):
            problems.append(_("第 %(index)s 条规则须为两个整数 [提前天数, 收费百分比]：%(rule)s") % {"index": index, "rule": rule})
            continue
        days, percent = rule
        if days < 0:
            problems.append(_("第 %(index)s 条规则的提前天数不能为负数：%(days)s") % {"index": index, "days": days})
        if not 0 <= percent <= 100:
            problems.append(_("第 %(index)s 条规则的收费百分比须在 0 到 100 之间：%(percent)s") % {"index": index, "percent": percent})
        if days in seen:
            problems.append(_("第 %(index)s 条规则的提前天数 %(days)s 与前面的规则重复") % {"index": index, "days": days})
        seen.add(days)
    return problems


class Theme(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(_("主题"), max_length=40)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("主题")
        verbose_name_plural = _("主题")

    def __str__(self) -> str:
        return self.name


class Base(models.Model):
    class Kind(models.TextChoices):
        HOT_SPRING = "hot_spring", _("温泉度假")
        HOMESTAY = "homestay", _("乡村民宿")
        SANATORIUM = "sanatorium", _("职工疗养院")
        SCENIC_LODGE = "scenic_lodge", _("景区酒店")
        RURAL_HOTEL = "rural_hotel", _("乡村酒店")
        EDUCATION = "education", _("红色教育基地")

    class Status(models.TextChoices):
        DRAFT = "draft", _("未申请")
        APPLIED = "applied", _("申请中")
        CERTIFIED = "certified", _("已认证")
        SUSPENDED = "suspended", _("暂停")
        REVOKED = "revoked", _("已撤销")
        EXPIRED = "expired", _("已过期")

    class Level(models.TextChoices):
        PROVINCIAL = "provincial", _("省级")
        CITY = "city", _("市级")

    operator = models.ForeignKey("groups.Organisation", on_delete=models.PROTECT, related_name="bases")
    name = models.CharField(_("名称"), max_length=120)
    city_code = models.CharField(_("地市代码"), max_length=6, db_index=True)
    county_code = models.CharField(_("县区代码"), max_length=6, db_index=True)
    address = models.CharField(_("地址"), max_length=200)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    themes = models.ManyToManyField(Theme, blank=True, related_name="bases", verbose_name=_("主题"))
    is_rural = models.BooleanField(_("乡村地区"), default=False)
    description = models.TextField(_("简介"), blank=True)
    contact_name = models.CharField(_("联系人"), max_length=40, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=32, blank=True)
    contact_email = models.EmailField(_("电子邮箱"), blank=True)
    photo = models.ImageField(_("照片"), upload_to="bases/", blank=True)
    # Cancellation fees by days before arrival, e.g. [[30, 0], [7, 20], [0, 50]]:
    # 30+ days before: 0%, 7-29 days: 20%, later: 50% of the freed lodging.
    cancellation_policy = models.JSONField(_("退订规则"), default=list, blank=True)
    discount_percent = models.DecimalField(_("折扣（%）"), max_digits=5, decimal_places=2, default=0)

    # The current certification, kept in step with the latest CertificationEvent.
    status = models.CharField(_("认证状态"), max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True)
    level = models.CharField(_("认证级别"), max_length=12, choices=Level.choices, blank=True)
    certificate_number = models.CharField(_("证书编号"), max_length=40, blank=True)
    valid_from = models.DateField(_("有效期自"), null=True, blank=True)
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)

    class Meta:
        ordering = ["city_code", "name"]
        verbose_name = _("疗休养基地")
        verbose_name_plural = _("疗休养基地")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="certified") | Q(valid_from__isnull=False, valid_until__isnull=False),
                name="base_certified_has_validity",
            ),
            models.CheckConstraint(condition=Q(discount_percent__gte=0, discount_percent__lte=100), name="base_discount_range"),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_until__isnull=True) | Q(valid_from__lte=F("valid_until")),
                name="base_validity_ordered",
            ),
            models.UniqueConstraint(
                fields=["certificate_number"], condition=~Q(certificate_number=""), name="base_certificate_number_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        problems = cancellation_policy_problems(self.cancellation_policy)
        if problems:
            raise ValidationError({"cancellation_policy": problems})

    def is_bookable_on(self, first_night: dt.date, last_night: dt.date) -> bool:
        """Only a base with a certification valid for every night can be booked or planned."""
        return (
            self.status == self.Status.CERTIFIED
            and self.valid_from is not None
            and self.valid_from <= first_night
            and last_night <= self.valid_until
        )


class CertificationEvent(models.Model):
    """One transition of a base's certification: who, when, why."""

    class Action(models.TextChoices):
        # a context of their own: "暂停" is also a status, and English needs a noun here
        APPLY = "apply", pgettext_lazy("certification action", "申请")
        CERTIFY = "certify", pgettext_lazy("certification action", "认证")
        SUSPEND = "suspend", pgettext_lazy("certification action", "暂停")
        REINSTATE = "reinstate", pgettext_lazy("certification action", "恢复")
        REVOKE = "revoke", pgettext_lazy("certification action", "撤销")
        EXPIRE = "expire", pgettext_lazy("certification action", "到期")
        RENEW = "renew", pgettext_lazy("certification action", "续期")

    base = models.ForeignKey(Base, on_delete=models.CASCADE, related_name="certification_events")
    action = models.CharField(_("操作"), max_length=12, choices=Action.choices)
    from_status = models.CharField(max_length=12, choices=Base.Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Base.Status.choices)
    level = models.CharField(max_length=12, choices=Base.Level.choices, blank=True)
    certificate_number = models.CharField(max_length=40, blank=True)
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    reason = models.TextField(_("原因"), blank=True)
    at = models.DateTimeField(_("时间"))

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("认证记录")
        verbose_name_plural = _("认证记录")


class RoomType(models.Model):
    base = models.ForeignKey(Base, on_delete=models.CASCADE, related_name="room_types")
    name = models.CharField(_("房型"), max_length=60)
    beds_per_room = models.PositiveSmallIntegerField(_("每间床位"))
    rooms = models.PositiveIntegerField(_("房间数"))
    price_per_night = models.DecimalField(_("每人每晚价格"), **MONEY)
    meals_per_day = models.DecimalField(_("每人每天餐费"), **MONEY)
    accessible = models.BooleanField(_("无障碍"), default=False)

    class Meta:
        ordering = ["base", "id"]
        verbose_name = _("房型")
        verbose_name_plural = _("房型")
        constraints = [
            models.CheckConstraint(condition=Q(beds_per_room__gte=1), name="roomtype_beds_positive"),
            models.CheckConstraint(condition=Q(price_per_night__gte=0, meals_per_day__gte=0), name="roomtype_prices_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.base.name} · {self.name}"


class NightInventory(models.Model):
    """Rooms of one room type on one night.

    A group takes whole rooms; a room's beds go with it, so free beds are free
    rooms times beds per room. ``held`` is tentative, ``booked`` confirmed. The
    CHECK constraints are the backstop behind the services' guarded updates.
    """

    room_type = models.ForeignKey(RoomType, on_delete=models.CASCADE, related_name="nights")
    night = models.DateField(_("日期"))
    rooms = models.PositiveIntegerField(_("可售房间"))
    closed = models.BooleanField(_("关闭"), default=False)
    rooms_held = models.IntegerField(default=0)
    rooms_booked = models.IntegerField(default=0)
    people_held = models.IntegerField(default=0)
    people_booked = models.IntegerField(default=0)

    class Meta:
        ordering = ["room_type_id", "night"]
        verbose_name = _("每晚库存")
        verbose_name_plural = _("每晚库存")
        constraints = [
            models.UniqueConstraint(fields=["room_type", "night"], name="inventory_one_row_per_night"),
            models.CheckConstraint(
                condition=Q(rooms_held__gte=0, rooms_booked__gte=0, people_held__gte=0, people_booked__gte=0),
                name="inventory_counts_nonneg",
            ),
            models.CheckConstraint(
                condition=Q(rooms__gte=F("rooms_held") + F("rooms_booked")), name="inventory_never_oversold"
            ),
        ]
        indexes = [models.Index(fields=["night", "room_type"], name="inventory_night_idx")]

    @property
    def rooms_taken(self) -> int:
        return self.rooms_held + self.rooms_booked

    @property
    def rooms_free(self) -> int:
        return 0 if self.closed else self.rooms - self.rooms_taken


class Route(models.Model):
    """A published multi-day programme run by a base operator."""

    operator = models.ForeignKey("groups.Organisation", on_delete=models.PROTECT, related_name="routes")
    title = models.CharField(_("线路名称"), max_length=120)
    summary = models.TextField(_("简介"), blank=True)
    price_per_head = models.DecimalField(_("每人价格"), **MONEY)
    published = models.BooleanField(_("已发布"), default=True)
    themes = models.ManyToManyField(Theme, blank=True, related_name="routes", verbose_name=_("主题"))

    class Meta:
        ordering = ["title"]
        verbose_name = _("线路")
        verbose_name_plural = _("线路")
        constraints = [models.CheckConstraint(condition=Q(price_per_head__gte=0), name="route_price_nonneg")]

    def __str__(self) -> str:
        return self.title

    @property
    def days(self) -> int:
        return self.route_days.count()


class RouteDay(models.Model):
    """Day ``number`` of a route; ``night_base`` is where that night is spent (none on the last day)."""

    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="route_days")
    number = models.PositiveSmallIntegerField(_("第几天"))
    night_base = models.ForeignKey(Base, null=True, blank=True, on_delete=models.PROTECT, related_name="route_nights")
    night_room_type = models.ForeignKey(RoomType, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["route", "number"]
        verbose_name = _("线路日程")
        verbose_name_plural = _("线路日程")
        constraints = [models.UniqueConstraint(fields=["route", "number"], name="routeday_unique_number")]


class RouteItem(models.Model):
    day = models.ForeignKey(RouteDay, on_delete=models.CASCADE, related_name="items")
    time = models.TimeField(_("时间"))
    place = models.CharField(_("地点"), max_length=120)
    activity = models.CharField(_("活动"), max_length=200)
    meals = models.CharField(_("餐食"), max_length=40, blank=True)

    class Meta:
        ordering = ["day", "time"]
        verbose_name = _("日程安排")
        verbose_name_plural = _("日程安排")


class RouteDeparture(models.Model):
    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="departures")
    date = models.DateField(_("出发日期"))
    seats = models.PositiveIntegerField(_("座位数"))
    seats_held = models.IntegerField(default=0)
    seats_booked = models.IntegerField(default=0)

    class Meta:
        ordering = ["route", "date"]
        verbose_name = _("线路团期")
        verbose_name_plural = _("线路团期")
        constraints = [
            models.UniqueConstraint(fields=["route", "date"], name="departure_one_per_date"),
            models.CheckConstraint(condition=Q(seats_held__gte=0, seats_booked__gte=0), name="departure_counts_nonneg"),
            models.CheckConstraint(condition=Q(seats__gte=F("seats_held") + F("seats_booked")), name="departure_never_oversold"),
        ]

    @property
    def seats_free(self) -> int:
        return self.seats - self.seats_held - self.seats_booked
