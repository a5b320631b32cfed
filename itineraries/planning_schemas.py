"""Input and output shapes of the planning API."""

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema

from itineraries.planning_reasons import reason_in_words


class RoundSettingsIn(Schema):
    regional_balance: str = "off"
    min_city_share_percent: int = Field(0, ge=0, le=100)
    off_season_weight: int = Field(0, ge=0, le=1000)
    rural_weight: int = Field(0, ge=0, le=1000)
    time_limit_seconds: int = Field(60, ge=1, le=3600)
    workers: int = Field(2, ge=1, le=16)
    seed: int = Field(1, ge=0, lt=2**31)


class RoundIn(RoundSettingsIn):
    name: str = Field(..., min_length=1, max_length=120)
    first_night: dt.date
    last_night: dt.date
    union_ids: list[int] = Field(..., min_length=1, max_length=500)
    base_ids: list[int] = Field(..., min_length=1, max_length=500)
    programme_ids: list[int] = Field(default_factory=list, max_length=50)


class RoundOut(Schema):
    id: int
    name: str
    status: str
    organiser_id: int
    first_night: dt.date
    last_night: dt.date
    union_ids: list[int]
    base_ids: list[int]
    programme_ids: list[int]
    regional_balance: str
    min_city_share_percent: int
    off_season_weight: int
    rural_weight: int
    time_limit_seconds: int
    workers: int
    seed: int
    published_at: dt.datetime | None

    @staticmethod
    def resolve_union_ids(obj) -> list[int]:
        return sorted(item.pk for item in obj.unions.all())

    @staticmethod
    def resolve_base_ids(obj) -> list[int]:
        return sorted(item.pk for item in obj.bases.all())

    @staticmethod
    def resolve_programme_ids(obj) -> list[int]:
        return sorted(item.pk for item in obj.programmes.all())


class RequestIn(Schema):
    batch_id: int
    people: int = Field(..., ge=1, le=10000)
    rooms: int = Field(..., ge=1, le=10000)
    nights: int = Field(..., ge=1, le=30)
    earliest_arrival: dt.date
    latest_arrival: dt.date
    preferences: list[dict[str, int | str]] = Field(..., min_length=1, max_length=10,
                                                    description='ranked, e.g. [{"base": 12}, {"city": "441600"}, {"route": 3}]')
    accessible_rooms: int = Field(0, ge=0)
    room_mix: dict[str, int] = Field(default_factory=dict, description='rooms by beds per room, e.g. {"2": 10, "1": 2}')
    priority: int = Field(0, ge=0, le=5)


class RequestOut(Schema):
    id: int
    round_id: int
    batch_id: int
    union_id: int
    people: int
    rooms: int
    nights: int
    earliest_arrival: dt.date
    latest_arrival: dt.date
    preferences: list[dict]
    accessible_rooms: int
    room_mix: dict
    priority: int
    status: str
    proposed_base_id: int | None
    proposed_arrival: dt.date | None
    proposed_programme_id: int | None
    proposed_subsidy: Decimal | None
    reason: str
    booking_reference: str | None

    @staticmethod
    def resolve_reason(obj) -> str:
        return reason_in_words(obj.reason)

    @staticmethod
    def resolve_booking_reference(obj) -> str | None:
        return obj.booking.reference if obj.booking_id else None


class SolveRunOut(Schema):
    id: int
    round_id: int
    status: str
    time_limit_seconds: int
    workers: int
    seed: int
    cancel_requested: bool
    best_objective: int | None
    bound: int | None
    gap: float | None
    elapsed_seconds: float
    heartbeat_at: dt.datetime | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    error: str


class ProgressOut(Schema):
    round_status: str
    run: SolveRunOut | None


class CityShareOut(Schema):
    city_code: str
    city_name: str
    requested_people: int
    placed_people: int
    share_percent: float
    minimum_people: int
    short_people: int


class RoundResultOut(Schema):
    round_id: int
    round_status: str
    run: SolveRunOut | None
    placed_requests: int
    unplaced_requests: int
    city_shares: list[CityShareOut]


class BookingHeldOut(Schema):
    request_id: int
    reference: str
    base_id: int
    arrival: dt.date
    nights: int
