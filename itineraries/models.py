"""Planning rounds: a season's group requests spread over bases and dates by the solver.

A round (统筹轮次) gathers requests from the participating unions, is solved into
a proposal, and the proposal is published as holds that organisers accept or
decline. Each solve is a ``SolveRun``; at most one runs per round at a time.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 13, "decimal_places": 2}


class PlanningRound(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        OPEN = "open", _("征集需求中")
        SOLVING = "solving", _("求解中")
        PROPOSED = "proposed", _("方案待发布")
        PUBLISHED = "published", _("已发布")
        CLOSED = "closed", _("已结束")

    class RegionalBalance(models.TextChoices):
        OFF = "off", _("不启用")
        MIN_SHARE = "min_share", _("各地市保底比例")
        MAXIMIN = "maximin", _("尽量照顾最少的地市")

    name = models.CharField(_("名称"), max_length=120)
    # The administering union: its administrators (and those above it) run the round.
    organiser = models.ForeignKey("groups.Organisation", on_delete=models.PROTECT, related_name="planning_rounds")
    first_night = models.DateField(_("首晚"))
    last_night = models.DateField(_("末晚"))
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True)
    unions = models.ManyToManyField("groups.Organisation", related_name="+", verbose_name=_("参加工会"))
    bases = models.ManyToManyField("bases.Base", related_name="planning_rounds", verbose_name=_("参加基地"))
    programmes = models.ManyToManyField(
        "billing.FundProgramme", blank=True, related_name="planning_rounds", verbose_name=_("出资专项经费")
    )

    # Fairness, all off by default. Weights are points per person (see planning.option_score).
    regional_balance = models.CharField(
        _("地区均衡"), max_length=12, choices=RegionalBalance.choices, default=RegionalBalance.OFF
    )
    min_city_share_percent = models.PositiveSmallIntegerField(_("各地市保底安排比例（%）"), default=0)
    off_season_weight = models.PositiveSmallIntegerField(_("淡季填充权重"), default=0)
    rural_weight = models.PositiveSmallIntegerField(_("乡村基地优先权重"), default=0)

    # Solve settings.
    time_limit_seconds = models.PositiveIntegerField(_("求解时限（秒）"), default=60)
    workers = models.PositiveSmallIntegerField(_("求解线程数"), default=2)
    seed = models.PositiveIntegerField(_("随机种子"), default=1)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-first_night", "-id"]
        verbose_name = _("统筹轮次")
        verbose_name_plural = _("统筹轮次")
        constraints = [
            models.CheckConstraint(condition=Q(first_night__lte=models.F("last_night")), name="round_period_ordered"),
            models.CheckConstraint(condition=Q(min_city_share_percent__lte=100), name="round_min_share_percent_range"),
            models.CheckConstraint(
                condition=Q(time_limit_seconds__gte=1, time_limit_seconds__lte=3600), name="round_time_limit_range"
            ),
            models.CheckConstraint(condition=Q(workers__gte=1, workers__lte=16), name="round_workers_range"),
        ]

    def __str__(self) -> str:
        return self.name

    def city_minimum(self, requested_people: int) -> int:
        """People of a city a plan must place at least: its minimum share of what it asks for, rounded up."""
        if self.regional_balance != self.RegionalBalance.MIN_SHARE:
            return 0
        return -(-requested_people * self.min_city_share_percent // 100)


class PlanningRequest(models.Model):
    """One batch asking to be placed: its size, stay, window, preferences and needs."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("已提交")
        PLACED = "placed", _("已安排")
        UNPLACED = "unplaced", _("未能安排")
        ACCEPTED = "accepted", _("已接受")
        DECLINED = "declined", _("已放弃")
        WITHDRAWN = "withdrawn", _("已撤回")

    round = models.ForeignKey(PlanningRound, on_delete=models.CASCADE, related_name="requests")
    batch = models.ForeignKey("groups.Batch", on_delete=models.PROTECT, related_name="planning_requests")
    union = models.ForeignKey("groups.Organisation", on_delete=models.PROTECT, related_name="planning_requests")
    people = models.PositiveIntegerField(_("人数"))
    rooms = models.PositiveIntegerField(_("房间数"))
    nights = models.PositiveSmallIntegerField(_("晚数"))
    earliest_arrival = models.DateField(_("最早抵达"))
    latest_arrival = models.DateField(_("最晚抵达"))
    # Ranked, best first: [{"base": 12}, {"city": "441600"}, {"route": 3}].
    preferences = models.JSONField(_("意向（按优先顺序）"), default=list)
    accessible_rooms = models.PositiveIntegerField(_("无障碍房间数"), default=0)
    # Rooms needed by beds per room, e.g. {"1": 2, "2": 10}; empty means any mix.
    room_mix = models.JSONField(_("房型需求"), default=dict, blank=True)
    priority = models.PositiveSmallIntegerField(_("优先级"), default=0)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.SUBMITTED, db_index=True)

    proposed_base = models.ForeignKey("bases.Base", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    proposed_arrival = models.DateField(_("拟安排抵达"), null=True, blank=True)
    proposed_programme = models.ForeignKey(
        "billing.FundProgramme", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proposed_subsidy = models.DecimalField(_("拟补助金额"), **MONEY, null=True, blank=True)
    reason = models.TextField(_("未安排原因"), blank=True)
    booking = models.OneToOneField(
        "groups.Booking", null=True, blank=True, on_delete=models.PROTECT, related_name="planning_request"
    )

    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["round", "id"]
        verbose_name = _("统筹需求")
        verbose_name_plural = _("统筹需求")
        constraints = [
            models.UniqueConstraint(
                fields=["round", "batch"], condition=~Q(status="withdrawn"), name="planning_request_once_per_batch"
            ),
            models.CheckConstraint(condition=Q(people__gte=1, rooms__gte=1, nights__gte=1), name="planning_request_sizes"),
            models.CheckConstraint(
                condition=Q(earliest_arrival__lte=models.F("latest_arrival")), name="planning_request_window_ordered"
            ),
            models.CheckConstraint(condition=Q(priority__lte=5), name="planning_request_priority_range"),
            models.CheckConstraint(
                condition=Q(proposed_subsidy__isnull=True) | Q(proposed_subsidy__gte=0), name="planning_request_subsidy_nonneg"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round} · {self.batch}"

    @property
    def city_code(self) -> str:
        return self.union.city_code


class SolveRun(models.Model):
    """One solve of a round. Progress is written while it runs; the plan only at the end."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("求解中")
        FINISHED = "finished", _("已完成")
        CANCELLED = "cancelled", _("已取消")
        FAILED = "failed", _("失败")

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    round = models.ForeignKey(PlanningRound, on_delete=models.CASCADE, related_name="solve_runs")
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True)
    # What the round's status was when this run was queued; restored if the run dies.
    round_status_before = models.CharField(max_length=12, choices=PlanningRound.Status.choices)
    time_limit_seconds = models.PositiveIntegerField()
    workers = models.PositiveSmallIntegerField()
    seed = models.PositiveIntegerField()
    task_id = models.CharField(max_length=64, blank=True)
    cancel_requested = models.BooleanField(default=False)

    best_objective = models.BigIntegerField(null=True, blank=True)
    bound = models.BigIntegerField(null=True, blank=True)
    gap = models.FloatField(null=True, blank=True)  # (bound - best) / bound, a ratio, never money
    elapsed_seconds = models.FloatField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    # The retreat-plan/1 problem as solved, and the retreat-plan-result/1 answer.
    instance = models.JSONField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("求解记录")
        verbose_name_plural = _("求解记录")
        constraints = [
            models.UniqueConstraint(
                fields=["round"], condition=Q(status__in=["queued", "running"]), name="one_active_solve_per_round"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round} · {self.get_status_display()}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE
