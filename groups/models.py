"""Organisations (the union tree and base operators), who acts for them, API tokens."""

import hashlib

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Organisation(models.Model):
    """A union anywhere in the tree, or a base operator.

    ``path`` is the materialised path of ids ("/1/7/42/") so a union's sub-tree
    is one indexed prefix query.
    """

    class Kind(models.TextChoices):
        PROVINCE = "province", _("省总工会")
        CITY = "city", _("市总工会")
        COUNTY = "county", _("县（区）总工会")
        TOWN = "town", _("镇（街道）工会")
        ENTERPRISE = "enterprise", _("企业工会")
        INDUSTRY = "industry", _("产业工会")
        ORGAN = "organ", _("机关工会")
        VISITING = "visiting", _("外省来粤工会")
        OPERATOR = "operator", _("基地运营单位")

    name = models.CharField(_("名称"), max_length=120)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    division_code = models.CharField(_("行政区划代码"), max_length=6, db_index=True)
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    contact_phone = models.CharField(_("联系电话"), max_length=32, blank=True)

    class Meta:
        ordering = ["path"]
        verbose_name = _("组织")
        verbose_name_plural = _("组织")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(division_code__regex=r"^[0-9]{6}$"), name="organisation_division_code_six_digits"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_union(self) -> bool:
        return self.kind != self.Kind.OPERATOR

    @property
    def city_code(self) -> str:
        return self.division_code[:4] + "00"

    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part]


class Membership(models.Model):
    """A user acts for exactly one organisation in exactly one role."""

    class Role(models.TextChoices):
        ADMINISTRATOR = "admin", _("管理员")
        ORGANISER = "organiser", _("工会组织者")
        OPERATOR = "operator", _("基地运营人员")
        FUND_MANAGER = "fund_manager", _("经费管理员")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices)

    class Meta:
        verbose_name = _("用户角色")
        verbose_name_plural = _("用户角色")

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.organisation}"


class ApiToken(models.Model):
    """A revocable bearer token; only its SHA-256 is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=80)
    prefix = models.CharField(max_length=8)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    @staticmethod
    def digest_of(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()


class Batch(models.Model):
    """One organised trip of one union (疗休养批次), with its eligibility switches."""

    union = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="batches")
    title = models.CharField(_("批次名称"), max_length=120)
    purpose = models.TextField(_("目的"), blank=True)
    arrival = models.DateField(_("抵达日期"), null=True, blank=True)
    nights = models.PositiveSmallIntegerField(_("住宿晚数"), default=3)
    route_departure = models.ForeignKey(
        "bases.RouteDeparture", null=True, blank=True, on_delete=models.PROTECT, related_name="batches"
    )
    # Eligibility checks the union switches on per batch; None means "not checked".
    min_front_line_percent = models.PositiveSmallIntegerField(_("一线职工最低占比（%）"), null=True, blank=True)
    no_repeat_years = models.PositiveSmallIntegerField(_("N 年内不得重复参加"), null=True, blank=True)
    max_stay_days = models.PositiveSmallIntegerField(_("最长天数（含路途）"), null=True, blank=True)
    family_allowed = models.BooleanField(_("允许家属随行"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("疗休养批次")
        verbose_name_plural = _("疗休养批次")
        constraints = [
            models.CheckConstraint(condition=models.Q(nights__gte=1), name="batch_nights_positive"),
            models.CheckConstraint(
                condition=models.Q(min_front_line_percent__isnull=True) | models.Q(min_front_line_percent__lte=100),
                name="batch_front_line_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Participant(models.Model):
    """A real-name participant. The ID number is stored encrypted, found by its keyed hash."""

    class Gender(models.TextChoices):
        MALE = "M", _("男")
        FEMALE = "F", _("女")

    class Category(models.TextChoices):
        FRONT_LINE = "front_line", _("一线职工")
        MODEL_WORKER = "model_worker", _("劳动模范")
        SKILLED = "skilled", _("技能人才")
        HAZARDOUS = "hazardous", _("高危岗位职工")
        MANAGER = "manager", _("管理人员")
        OTHER = "other", _("其他职工")
        FAMILY = "family", _("家属")

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="participants")
    name = models.CharField(_("姓名"), max_length=40)
    id_encrypted = models.TextField(editable=False)
    id_hash = models.CharField(max_length=64, db_index=True, editable=False)
    id_masked = models.CharField(_("身份证号"), max_length=18, editable=False)
    birth_date = models.DateField(_("出生日期"))
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices)
    phone = models.CharField(_("手机"), max_length=20)
    employer = models.CharField(_("工作单位"), max_length=120)
    job_title = models.CharField(_("岗位"), max_length=60, blank=True)
    category = models.CharField(_("类别"), max_length=16, choices=Category.choices)
    family_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="family")
    room_label = models.CharField(_("房间"), max_length=20, blank=True)
    room_type = models.ForeignKey("bases.RoomType", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["batch", "id"]
        verbose_name = _("参加人员")
        verbose_name_plural = _("参加人员")
        constraints = [models.UniqueConstraint(fields=["batch", "id_hash"], name="participant_once_per_batch")]

    def __str__(self) -> str:
        return f"{self.name} ({self.id_masked})"

    @property
    def is_family(self) -> bool:
        return self.category == self.Category.FAMILY


class Booking(models.Model):
    """Inventory a batch holds or has booked at one base, for consecutive nights."""

    class Status(models.TextChoices):
        HELD = "held", _("暂留")
        CONFIRMED = "confirmed", _("已确认")
        CHECKED_IN = "checked_in", _("已入住")
        COMPLETED = "completed", _("已完成")
        CANCELLED = "cancelled", _("已取消")
        LAPSED = "lapsed", _("已过期释放")

    ACTIVE = (Status.HELD, Status.CONFIRMED, Status.CHECKED_IN)
    # confirmed and not cancelled: a trip that counts (repeat rules) and can be settled
    DONE_OR_GOING = (Status.CONFIRMED, Status.CHECKED_IN, Status.COMPLETED)

    reference = models.CharField(_("预订编号"), max_length=20, unique=True)
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="bookings")
    union = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="bookings")
    base = models.ForeignKey("bases.Base", on_delete=models.PROTECT, related_name="bookings")
    route_departure = models.ForeignKey(
        "bases.RouteDeparture", null=True, blank=True, on_delete=models.PROTECT, related_name="bookings"
    )
    arrival = models.DateField(_("抵达日期"))
    nights = models.PositiveSmallIntegerField(_("晚数"))
    people = models.PositiveIntegerField(_("人数"))
    rooms = models.PositiveIntegerField(_("房间数"))
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.HELD, db_index=True)
    hold_expires_at = models.DateTimeField(_("暂留截止"), null=True, blank=True, db_index=True)
    cancellation_fee = models.DecimalField(_("退订费"), max_digits=13, decimal_places=2, default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("预订")
        verbose_name_plural = _("预订")
        constraints = [
            models.CheckConstraint(condition=models.Q(nights__gte=1, people__gte=1, rooms__gte=1), name="booking_sizes_positive"),
            models.CheckConstraint(condition=models.Q(cancellation_fee__gte=0), name="booking_fee_nonneg"),
            # A batch is one trip: at most one booking of it is held, confirmed or checked in.
            models.UniqueConstraint(
                fields=["batch"],
                condition=models.Q(status__in=["held", "confirmed", "checked_in"]),
                name="booking_one_active_per_batch",
            ),
        ]
        indexes = [models.Index(fields=["base", "arrival"], name="booking_base_arrival_idx")]

    def __str__(self) -> str:
        return self.reference

    @property
    def last_night(self):
        import datetime as dt

        return self.arrival + dt.timedelta(days=self.nights - 1)


class BookingLine(models.Model):
    """Rooms and people of one room type for the nights ``first_night`` .. +``nights``-1.

    A plain stay has one line per room type covering the whole booking; a route
    booking has a line per leg, at the base where that leg's nights are spent.
    """

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="lines")
    room_type = models.ForeignKey("bases.RoomType", on_delete=models.PROTECT, related_name="booking_lines")
    first_night = models.DateField()
    nights = models.PositiveSmallIntegerField()
    rooms = models.PositiveIntegerField()
    people = models.PositiveIntegerField()

    class Meta:
        ordering = ["booking", "first_night", "room_type_id"]
        constraints = [
            models.UniqueConstraint(fields=["booking", "room_type", "first_night"], name="bookingline_unique_leg"),
            models.CheckConstraint(condition=models.Q(nights__gte=1), name="bookingline_nights_positive"),
            models.CheckConstraint(condition=models.Q(rooms__gte=1, people__gte=1), name="bookingline_positive"),
        ]


class BookingEvent(models.Model):
    """Audit trail of a booking: every status change and partial change, by whom."""

    # What the booking page prints for each ``action`` code (an unknown code prints as stored).
    ACTION_LABELS = {
        "hold": pgettext_lazy("booking event", "暂留"),
        "plan_hold": pgettext_lazy("booking event", "统筹发布暂留"),
        "waitlist_offer": pgettext_lazy("booking event", "候补转暂留"),
        "confirm": pgettext_lazy("booking event", "确认"),
        "reduce": pgettext_lazy("booking event", "部分取消"),
        "cancel": pgettext_lazy("booking event", "取消"),
        "lapse": pgettext_lazy("booking event", "暂留到期释放"),
        "check_in": pgettext_lazy("booking event", "入住核销"),
        "complete": pgettext_lazy("booking event", "完成"),
    }

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=24)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    @property
    def action_label(self) -> str:
        return str(self.ACTION_LABELS.get(self.action, self.action))

    @property
    def from_status_label(self) -> str:
        return _status_label(self.from_status)

    @property
    def to_status_label(self) -> str:
        return _status_label(self.to_status)


def _status_label(status: str) -> str:
    """A booking status code as its (translated) name; no status (a new booking) is "—"."""
    if not status:
        return "—"
    return str(dict(Booking.Status.choices).get(status, status))


class IdempotencyRecord(models.Model):
    """The first response to a POST carrying an ``Idempotency-Key``, replayed on repeats."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=128)
    endpoint = models.CharField(max_length=200)
    request_digest = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_user")]


class WaitlistEntry(models.Model):
    """A whole batch waiting for a base and dates; served in order, all or nothing."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("候补中")
        OFFERED = "offered", _("已提供名额")
        ACCEPTED = "accepted", _("已接受")
        EXPIRED = "expired", _("已过期")
        CANCELLED = "cancelled", _("已取消")

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="waitlist_entries")
    union = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    base = models.ForeignKey("bases.Base", on_delete=models.CASCADE, related_name="waitlist_entries")
    room_type = models.ForeignKey("bases.RoomType", null=True, on_delete=models.CASCADE, related_name="waitlist_entries")
    arrival = models.DateField()
    nights = models.PositiveSmallIntegerField()
    people = models.PositiveIntegerField()
    rooms = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.WAITING, db_index=True)
    offered_booking = models.OneToOneField(Booking, null=True, blank=True, on_delete=models.SET_NULL, related_name="waitlist_offer")
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(nights__gte=1, people__gte=1, rooms__gte=1), name="waitlist_sizes_positive"),
        ]


class CheckIn(models.Model):
    """A verified arrival (一码核销) of one participant of a booking."""

    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="check_ins")
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="check_ins")
    checked_in_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    method = models.CharField(max_length=12, default="person")  # person code, group code, or manual

    class Meta:
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["booking", "participant"], name="checkin_once_per_person")]
