"""Fund programmes, their append-only ledger, settlements and month batches.

Money is ``DecimalField(max_digits=13, decimal_places=2)`` (yuan, exact); the
arithmetic in ``billing.funding`` works in integer fen and the services convert
at the edge. A programme's three balance columns are maintained only by
``billing.ledger`` and checked by the database: none negative, and
``available = budget - committed - spent`` always.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 13, "decimal_places": 2}


class UnionFundingPolicy(models.Model):
    """A union's spending standard: above it a member pays the difference (超标自付).

    The nearest policy up the union tree applies to a booking; none means the
    programmes and the union cover members' whole cost.
    """

    union = models.OneToOneField("groups.Organisation", on_delete=models.CASCADE, related_name="funding_policy")
    cost_standard_per_person_day = models.DecimalField(_("每人每天费用标准"), **MONEY)

    class Meta:
        verbose_name = _("工会经费标准")
        verbose_name_plural = _("工会经费标准")
        constraints = [
            models.CheckConstraint(condition=Q(cost_standard_per_person_day__gte=0), name="policy_standard_nonneg")
        ]


class FundProgramme(models.Model):
    """A union's pool of money for retreats (专项经费) and the rules it pays by."""

    class Contribution(models.TextChoices):
        COVER_COST = "cover_cost", _("按实际费用资助")
        FLAT_SUBSIDY = "flat_subsidy", _("定额补助（每人每天）")
        MATCHING = "matching", _("配套（按下级工会自付比例）")

    class RepeatScope(models.TextChoices):
        PROGRAMME = "programme", _("曾获本专项资助的疗休养")
        ANY = "any", _("任何疗休养")

    union = models.ForeignKey("groups.Organisation", on_delete=models.PROTECT, related_name="fund_programmes")
    name = models.CharField(_("名称"), max_length=120)
    valid_from = models.DateField(_("有效期自"))
    valid_until = models.DateField(_("有效期至"))
    budget = models.DecimalField(_("预算"), **MONEY)
    order = models.PositiveSmallIntegerField(_("适用顺序"), default=100, help_text=_("数字小的先适用（如省级先于市级）"))
    is_active = models.BooleanField(_("启用"), default=True)

    contribution = models.CharField(_("资助方式"), max_length=16, choices=Contribution.choices)
    flat_amount_per_person_day = models.DecimalField(_("定额补助每人每天"), null=True, blank=True, **MONEY)
    flat_once_per_year = models.BooleanField(_("定额补助每人每年一次"), default=True)
    matching_ratio = models.DecimalField(_("配套比例"), max_digits=6, decimal_places=4, null=True, blank=True)
    matching_cap_per_head = models.DecimalField(_("配套每人上限"), null=True, blank=True, **MONEY)
    matching_total_cap = models.DecimalField(_("配套总额度"), null=True, blank=True, **MONEY)
    cap_per_person_day = models.DecimalField(_("每人每天上限"), null=True, blank=True, **MONEY)
    cap_per_person_year = models.DecimalField(_("每人每年上限"), null=True, blank=True, **MONEY)

    # Eligibility; an empty list means "no restriction".
    base_levels = models.JSONField(_("基地认定级别"), default=list, blank=True)
    base_region_prefixes = models.JSONField(_("基地地区代码前缀"), default=list, blank=True)
    participant_categories = models.JSONField(_("人员类别"), default=list, blank=True)
    max_stay_days = models.PositiveSmallIntegerField(_("最长天数（含路途）"), null=True, blank=True)
    # Eligibility switches like a batch's (groups.Batch); None / True means "not checked".
    # A booking failing one is not refused: this programme just pays nothing for those it excludes.
    min_front_line_percent = models.PositiveSmallIntegerField(
        _("一线职工最低占比（%）"), null=True, blank=True, help_text=_("低于此占比的团本专项不予资助")
    )
    no_repeat_years = models.PositiveSmallIntegerField(
        _("N 年内不重复资助"), null=True, blank=True, help_text=_("按身份证号跨批次查找此前的疗休养")
    )
    no_repeat_scope = models.CharField(
        _("不重复资助的计算范围"), max_length=12, choices=RepeatScope.choices, default=RepeatScope.PROGRAMME
    )
    family_allowed = models.BooleanField(_("允许家属随行"), default=True, help_text=_("不允许时家属不予资助（家属本就自费）"))
    fully_funded_unions = models.ManyToManyField(
        "groups.Organisation", blank=True, related_name="fully_funded_by", verbose_name=_("全额资助单位")
    )

    # Maintained by billing.ledger only.
    committed = models.DecimalField(_("已承诺"), default=0, **MONEY)
    spent = models.DecimalField(_("已支出"), default=0, **MONEY)
    available = models.DecimalField(_("可用余额"), **MONEY)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("专项经费")
        verbose_name_plural = _("专项经费")
        constraints = [
            models.CheckConstraint(condition=Q(available__gte=0), name="programme_available_nonneg"),
            models.CheckConstraint(condition=Q(committed__gte=0, spent__gte=0, budget__gte=0), name="programme_amounts_nonneg"),
            models.CheckConstraint(
                condition=Q(available=F("budget") - F("committed") - F("spent")), name="programme_balance_consistent"
            ),
            models.CheckConstraint(condition=Q(valid_from__lte=F("valid_until")), name="programme_period_ordered"),
            models.CheckConstraint(
                condition=~Q(contribution="flat_subsidy") | Q(flat_amount_per_person_day__isnull=False),
                name="programme_flat_has_amount",
            ),
            models.CheckConstraint(
                condition=~Q(contribution="matching") | Q(matching_ratio__isnull=False), name="programme_matching_has_ratio"
            ),
            models.CheckConstraint(
                condition=Q(min_front_line_percent__isnull=True) | Q(min_front_line_percent__gte=1, min_front_line_percent__lte=100),
                name="programme_front_line_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(no_repeat_years__isnull=True) | Q(no_repeat_years__gte=1, no_repeat_years__lte=20),
                name="programme_no_repeat_years_range",
            ),
            models.CheckConstraint(condition=Q(no_repeat_scope__in=["programme", "any"]), name="programme_no_repeat_scope_known"),
            models.CheckConstraint(
                condition=Q(max_stay_days__isnull=True) | Q(max_stay_days__gte=1, max_stay_days__lte=60),
                name="programme_max_stay_days_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class LedgerEntry(models.Model):
    """One append-only movement of a programme's money for one booking.

    ``committed_delta`` and ``spent_delta`` say how the programme's committed and
    spent columns moved; available moved by minus their sum.
    """

    class Kind(models.TextChoices):
        COMMITMENT = "commitment", _("确认承诺")
        RELEASE = "release", _("取消释放")
        ADJUSTMENT = "adjustment", _("部分取消调整")
        SPEND = "spend", _("结算支出")
        SETTLEMENT_RELEASE = "settlement_release", _("结算释放余额")

    programme = models.ForeignKey(FundProgramme, on_delete=models.PROTECT, related_name="entries")
    booking = models.ForeignKey("groups.Booking", on_delete=models.PROTECT, related_name="ledger_entries")
    settlement = models.ForeignKey("Settlement", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries")
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    committed_delta = models.DecimalField(_("承诺变动"), **MONEY)
    spent_delta = models.DecimalField(_("支出变动"), default=0, **MONEY)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    idempotency_key = models.CharField(max_length=160, unique=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("经费台账")
        verbose_name_plural = _("经费台账")
        indexes = [models.Index(fields=["programme", "created_at"], name="ledger_programme_time_idx")]
        constraints = [
            models.CheckConstraint(condition=~Q(committed_delta=0) | ~Q(spent_delta=0), name="ledger_entry_moves_money"),
            models.CheckConstraint(condition=Q(spent_delta__gte=0), name="ledger_spend_only_grows"),
        ]

    @property
    def available_delta(self):
        return -(self.committed_delta + self.spent_delta)


class FundingAllocation(models.Model):
    """What a programme pays for one person in one booking: the basis of yearly caps.

    Replaced whenever the booking's commitment changes, and with actual figures
    when its settlement is approved; removed when the booking is cancelled.
    """

    programme = models.ForeignKey(FundProgramme, on_delete=models.CASCADE, related_name="allocations")
    booking = models.ForeignKey("groups.Booking", on_delete=models.CASCADE, related_name="funding_allocations")
    person_key = models.CharField(max_length=64)
    year = models.PositiveSmallIntegerField()
    amount = models.DecimalField(**MONEY)
    is_flat_subsidy = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["programme", "year", "person_key"], name="allocation_person_year_idx")]
        constraints = [
            models.UniqueConstraint(fields=["programme", "booking", "person_key"], name="allocation_once_per_person"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_positive"),
        ]


class Settlement(models.Model):
    """The actuals of one booking's stay and their split (结算单)."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("待审核")
        REJECTED = "rejected", _("已退回")
        APPROVED = "approved", _("已批准")

    number = models.CharField(_("结算单号"), max_length=24, unique=True)
    booking = models.OneToOneField("groups.Booking", on_delete=models.PROTECT, related_name="settlement")
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.SUBMITTED, db_index=True)
    total_cost = models.DecimalField(_("总费用"), **MONEY)
    programmes_total = models.DecimalField(_("专项经费合计"), **MONEY)
    union_amount = models.DecimalField(_("工会自有资金"), **MONEY)
    own_payment = models.DecimalField(_("个人自付"), **MONEY)
    arrived_count = models.PositiveIntegerField(_("实到人数"))
    # The split with every explanation, as computed on submission (see services).
    split = models.JSONField(default=dict)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    reject_reason = models.TextField(_("退回原因"), blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("结算单")
        verbose_name_plural = _("结算单")
        constraints = [
            models.CheckConstraint(
                condition=Q(total_cost=F("programmes_total") + F("union_amount") + F("own_payment")),
                name="settlement_shares_add_up",
            ),
            models.CheckConstraint(
                condition=Q(total_cost__gte=0, programmes_total__gte=0, union_amount__gte=0, own_payment__gte=0),
                name="settlement_amounts_nonneg",
            ),
            models.CheckConstraint(
                condition=Q(status="submitted") | Q(decided_by__isnull=False, decided_at__isnull=False),
                name="settlement_decision_recorded",
            ),
            models.CheckConstraint(condition=~Q(status="rejected") | ~Q(reject_reason=""), name="settlement_reject_has_reason"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_frozen(self) -> bool:
        return self.status == self.Status.APPROVED


class SettlementArrival(models.Model):
    """One participant of the batch: whether they came and how many nights they stayed."""

    settlement = models.ForeignKey(Settlement, on_delete=models.CASCADE, related_name="arrivals")
    participant = models.ForeignKey("groups.Participant", on_delete=models.PROTECT, related_name="+")
    arrived = models.BooleanField(_("实到"))
    nights = models.PositiveSmallIntegerField(_("实住晚数"))
    cost = models.DecimalField(_("费用"), **MONEY)
    programmes_amount = models.DecimalField(_("专项经费"), **MONEY)
    union_amount = models.DecimalField(_("工会承担"), **MONEY)
    own_payment = models.DecimalField(_("个人自付"), **MONEY)

    class Meta:
        ordering = ["settlement", "participant_id"]
        constraints = [
            models.UniqueConstraint(fields=["settlement", "participant"], name="arrival_once_per_participant"),
            models.CheckConstraint(condition=Q(arrived=True) | Q(nights=0, cost=0), name="arrival_no_show_costs_nothing"),
        ]


class SettlementExtra(models.Model):
    """An extra the base delivered (bus, guide, insurance), per person or for the whole booking."""

    class Basis(models.TextChoices):
        PER_PERSON = "per_person", _("每人")
        PER_BOOKING = "per_booking", _("每团")

    settlement = models.ForeignKey(Settlement, on_delete=models.CASCADE, related_name="extras")
    name = models.CharField(_("项目"), max_length=60)
    amount = models.DecimalField(_("金额"), **MONEY)
    basis = models.CharField(_("计费方式"), max_length=12, choices=Basis.choices)

    class Meta:
        ordering = ["settlement", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="extra_amount_nonneg")]


class SettlementShare(models.Model):
    """A programme's actual share of a settlement (what becomes spend on approval)."""

    settlement = models.ForeignKey(Settlement, on_delete=models.CASCADE, related_name="shares")
    programme = models.ForeignKey(FundProgramme, on_delete=models.PROTECT, related_name="settlement_shares")
    amount = models.DecimalField(_("金额"), **MONEY)

    class Meta:
        ordering = ["settlement", "programme__order", "programme_id"]
        constraints = [
            models.UniqueConstraint(fields=["settlement", "programme"], name="share_once_per_programme"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="share_amount_nonneg"),
        ]


class SettlementEvent(models.Model):
    """The approval trail: who submitted, approved or rejected, when, with what totals and why."""

    class Action(models.TextChoices):
        SUBMIT = "submit", _("提交")
        RESUBMIT = "resubmit", _("重新提交")
        APPROVE = "approve", _("批准")
        REJECT = "reject", _("退回")

    settlement = models.ForeignKey(Settlement, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=12, choices=Action.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("时间"))
    reason = models.TextField(_("原因"), blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]


class MonthBatch(models.Model):
    """Rendering every settlement PDF and statement of one month into a zip, with progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("生成中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    month = models.DateField(_("月份"))  # the first day of the month
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    archive = models.FileField(upload_to="billing/month-batches/", blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("月度批量生成")
        verbose_name_plural = _("月度批量生成")
        constraints = [
            models.CheckConstraint(condition=Q(done__lte=F("total")), name="month_batch_progress_bounded"),
            models.CheckConstraint(condition=Q(month__day=1), name="month_batch_first_of_month"),
        ]
