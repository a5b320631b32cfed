import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from ninja import Field, Schema

Money = Annotated[Decimal, Field(ge=0, max_digits=13, decimal_places=2)]


class ProgrammeTermsIn(Schema):
    name: str = Field(..., min_length=1, max_length=120)
    valid_from: dt.date
    valid_until: dt.date
    budget: Money
    contribution: str = Field(..., pattern="^(cover_cost|flat_subsidy|matching)$")
    order: int = Field(100, ge=0, le=32767)
    is_active: bool = True
    flat_amount_per_person_day: Money | None = None
    flat_once_per_year: bool = True
    matching_ratio: Annotated[Decimal, Field(ge=0, max_digits=6, decimal_places=4)] | None = None
    matching_cap_per_head: Money | None = None
    matching_total_cap: Money | None = None
    cap_per_person_day: Money | None = None
    cap_per_person_year: Money | None = None
    base_levels: list[str] = []
    base_region_prefixes: list[str] = []
    participant_categories: list[str] = []
    max_stay_days: int | None = Field(None, ge=1, le=60)
    # Off unless set: a booking failing one is not refused; the programme pays nothing for those it excludes.
    min_front_line_percent: int | None = Field(None, ge=1, le=100)
    no_repeat_years: int | None = Field(None, ge=1, le=20)
    no_repeat_scope: str = Field("programme", pattern="^(programme|any)$")
    family_allowed: bool = True
    fully_funded_union_ids: list[int] = []


class ProgrammeIn(ProgrammeTermsIn):
    union_id: int


class ProgrammePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=120)
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    budget: Money | None = None
    order: int | None = Field(None, ge=0, le=32767)
    is_active: bool | None = None
    flat_amount_per_person_day: Money | None = None
    flat_once_per_year: bool | None = None
    matching_ratio: Annotated[Decimal, Field(ge=0, max_digits=6, decimal_places=4)] | None = None
    matching_cap_per_head: Money | None = None
    matching_total_cap: Money | None = None
    cap_per_person_day: Money | None = None
    cap_per_person_year: Money | None = None
    base_levels: list[str] | None = None
    base_region_prefixes: list[str] | None = None
    participant_categories: list[str] | None = None
    max_stay_days: int | None = Field(None, ge=1, le=60)
    min_front_line_percent: int | None = Field(None, ge=1, le=100)
    no_repeat_years: int | None = Field(None, ge=1, le=20)
    no_repeat_scope: str | None = Field(None, pattern="^(programme|any)$")
    family_allowed: bool | None = None
    fully_funded_union_ids: list[int] | None = None


class ProgrammeOut(Schema):
    id: int
    union_id: int
    union_name: str = Field(..., alias="union.name")
    name: str
    valid_from: dt.date
    valid_until: dt.date
    budget: Decimal
    committed: Decimal
    spent: Decimal
    available: Decimal
    order: int
    is_active: bool
    contribution: str
    flat_amount_per_person_day: Decimal | None
    flat_once_per_year: bool
    matching_ratio: Decimal | None
    matching_cap_per_head: Decimal | None
    matching_total_cap: Decimal | None
    cap_per_person_day: Decimal | None
    cap_per_person_year: Decimal | None
    base_levels: list[str]
    base_region_prefixes: list[str]
    participant_categories: list[str]
    max_stay_days: int | None
    min_front_line_percent: int | None
    no_repeat_years: int | None
    no_repeat_scope: str
    family_allowed: bool
    fully_funded_union_ids: list[int]

    @staticmethod
    def resolve_fully_funded_union_ids(programme) -> list[int]:
        return sorted(programme.fully_funded_unions.values_list("pk", flat=True))


class FundingPolicyIn(Schema):
    """None removes the union's own standard (the nearest one up the tree then applies)."""

    cost_standard_per_person_day: Money | None


class FundingPolicyOut(Schema):
    union_id: int = Field(..., alias="union.pk")
    union_name: str = Field(..., alias="union.name")
    cost_standard_per_person_day: Decimal | None
    effective_cost_standard_per_person_day: Decimal | None
    effective_from_union_id: int | None


class UsagePointOut(Schema):
    day: dt.date
    committed: Decimal
    spent: Decimal


class LedgerEntryOut(Schema):
    id: int
    programme_id: int
    booking_id: int
    booking_reference: str = Field(..., alias="booking.reference")
    settlement_id: int | None
    kind: str
    committed_delta: Decimal
    spent_delta: Decimal
    actor_id: int
    idempotency_key: str
    created_at: dt.datetime


class LedgerFilter(Schema):
    programme_id: int | None = None
    booking_id: int | None = None


class SplitOut(Schema):
    """Amounts in integer fen; explanations are rule codes with parameters and a Chinese sentence."""

    total_fen: int
    programmes_fen: int
    union_fen: int
    own_payment_fen: int
    shared_cost_fen: int
    programmes: list[dict[str, Any]]
    participants: list[dict[str, Any]]
    explanations: list[dict[str, Any]]


class ArrivalRowOut(Schema):
    participant_id: int
    name: str
    id_masked: str
    category: str
    is_family: bool
    checked_in: bool
    nights: int


class ArrivalIn(Schema):
    participant_id: int
    nights: int = Field(..., ge=1, le=60)


class ExtraIn(Schema):
    name: str = Field(..., min_length=1, max_length=60)
    amount: Money
    basis: str = Field("per_booking", pattern="^(per_person|per_booking)$")


class SettlementIn(Schema):
    """Who came and for how many nights; left out, the check-ins (核销) say it."""

    arrivals: list[ArrivalIn] | None = Field(None, max_length=2000)
    extras: list[ExtraIn] = Field([], max_length=50)


class ApproveIn(Schema):
    """The submission being approved (``submitted_at`` of the settlement as read); a later resubmission is a 409."""

    submitted_at: dt.datetime | None = None


class RejectIn(Schema):
    reason: str = Field(..., min_length=1, max_length=500)


class SettlementOut(Schema):
    id: int
    number: str
    booking_id: int
    booking_reference: str = Field(..., alias="booking.reference")
    union_name: str = Field(..., alias="booking.union.name")
    base_name: str = Field(..., alias="booking.base.name")
    status: str
    total_cost: Decimal
    programmes_total: Decimal
    union_amount: Decimal
    own_payment: Decimal
    arrived_count: int
    submitted_at: dt.datetime
    decided_at: dt.datetime | None
    reject_reason: str


class SettlementEventOut(Schema):
    action: str
    actor_id: int
    at: dt.datetime
    reason: str
    detail: dict[str, Any]


class SettlementDetailOut(SettlementOut):
    split: SplitOut
    events: list[SettlementEventOut]
    verify_url: str

    @staticmethod
    def resolve_events(settlement) -> list:
        return list(settlement.events.all())

    @staticmethod
    def resolve_verify_url(settlement) -> str:
        from billing.documents import verify_url

        return verify_url(settlement)


class SettlementFilter(Schema):
    status: str | None = Field(None, pattern="^(submitted|rejected|approved)$")
    month: str | None = Field(None, pattern=r"^\d{4}-\d{2}$")


class MonthIn(Schema):
    month: str = Field(..., pattern=r"^\d{4}-\d{2}$")


class MonthBatchOut(Schema):
    id: int
    month: dt.date
    status: str
    done: int
    total: int
    error: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    download_url: str | None

    @staticmethod
    def resolve_download_url(batch) -> str | None:
        return f"/api/v1/billing/month-batches/{batch.pk}/download" if batch.archive else None
