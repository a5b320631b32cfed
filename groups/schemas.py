import datetime as dt
from datetime import datetime
from decimal import Decimal
from typing import Literal

from ninja import Field, Schema

from groups.bookings import MAX_STAY_NIGHTS
from groups.services import MAX_NO_REPEAT_YEARS, MAX_STAY_DAYS


class LoginIn(Schema):
    username: str = Field(..., min_length=1, max_length=150)
    password: str = Field(..., min_length=1, max_length=128)


class MeOut(Schema):
    username: str
    full_name: str
    role: str
    organisation_id: int
    organisation_name: str
    organisation_kind: str


class OrganisationOut(Schema):
    id: int
    name: str
    kind: str
    division_code: str
    parent_id: int | None


class TokenIn(Schema):
    name: str = Field(..., min_length=1, max_length=80)


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreatedOut(TokenOut):
    token: str = Field(..., description="The raw token; shown once, never stored.")


# --- batches, participants, rooming, eligibility -----------------------------------------


class BatchIn(Schema):
    title: str = Field(..., min_length=1, max_length=120)
    union_id: int | None = None
    purpose: str = Field("", max_length=2000)
    arrival: dt.date | None = None
    nights: int = Field(3, ge=1, le=MAX_STAY_NIGHTS)
    route_departure_id: int | None = None
    min_front_line_percent: int | None = Field(None, ge=0, le=100)
    no_repeat_years: int | None = Field(None, ge=1, le=MAX_NO_REPEAT_YEARS)
    max_stay_days: int | None = Field(None, ge=1, le=MAX_STAY_DAYS)
    family_allowed: bool = True


class BatchOut(Schema):
    id: int
    union_id: int
    union_name: str = Field(..., alias="union.name")
    title: str
    purpose: str
    arrival: dt.date | None
    nights: int
    route_departure_id: int | None
    min_front_line_percent: int | None
    no_repeat_years: int | None
    max_stay_days: int | None
    family_allowed: bool
    created_at: datetime


class ParticipantOut(Schema):
    id: int
    name: str
    id_number: str = Field(..., description="Masked unless the batch's own union organiser asks")
    birth_date: dt.date
    gender: str
    phone: str
    employer: str
    job_title: str
    category: str
    family_of_id: int | None
    room_type_id: int | None
    room_label: str


class ImportOut(Schema):
    created: int


class RoomPlacementIn(Schema):
    participant_id: int
    room_type_id: int
    room_label: str = Field(..., min_length=1, max_length=20)


class RoomingIn(Schema):
    placements: list[RoomPlacementIn] = Field(..., max_length=5000)


class RoomingOut(Schema):
    participant_id: int = Field(..., alias="id")
    name: str
    gender: str
    room_type_id: int | None
    room_label: str


class EligibilityFailureOut(Schema):
    rule: str
    message: str
    people: list[str]


class EligibilityOut(Schema):
    eligible: bool
    failures: list[EligibilityFailureOut]


# --- availability, bookings, waitlist ---------------------------------------------------


class NightFreeOut(Schema):
    night: dt.date
    rooms_free: int


class RoomTypeAvailabilityOut(Schema):
    room_type_id: int
    name: str
    beds_per_room: int
    price_per_night: Decimal
    rooms_free: int
    nights: list[NightFreeOut]


class RoomRequestIn(Schema):
    room_type_id: int
    rooms: int = Field(..., ge=1, le=10000)
    people: int = Field(..., ge=1, le=100000)


class HoldIn(Schema):
    batch_id: int
    base_id: int | None = None
    arrival: dt.date | None = None
    nights: int | None = Field(None, ge=1, le=30)
    rooms: list[RoomRequestIn] = Field(default_factory=list, max_length=20)
    route_departure_id: int | None = None
    people: int | None = Field(None, ge=1, le=100000, description="Route bookings: seats")


class RoomReductionIn(Schema):
    room_type_id: int
    rooms: int = Field(..., ge=0, le=10000)
    people: int = Field(..., ge=0, le=100000)


class ReduceIn(Schema):
    arrival: dt.date | None = None
    nights: int | None = Field(None, ge=1, le=30)
    rooms: list[RoomReductionIn] = Field(default_factory=list, max_length=20)
    people: int | None = Field(None, ge=1, le=100000, description="Route bookings: the new number of people")


class CancelIn(Schema):
    reason: str = Field("", max_length=500)


class BookingLineOut(Schema):
    room_type_id: int
    room_type_name: str = Field(..., alias="room_type.name")
    first_night: dt.date
    nights: int
    rooms: int
    people: int


class BookingEventOut(Schema):
    action: str
    from_status: str
    to_status: str
    actor_id: int | None
    detail: dict
    at: datetime


class BookingOut(Schema):
    id: int
    reference: str
    batch_id: int
    union_id: int
    base_id: int
    base_name: str = Field(..., alias="base.name")
    route_departure_id: int | None
    arrival: dt.date
    nights: int
    people: int
    rooms: int
    status: str
    hold_expires_at: datetime | None
    cancellation_fee: Decimal
    created_at: datetime
    confirmed_at: datetime | None
    cancelled_at: datetime | None
    lines: list[BookingLineOut]


class BookingDetailOut(BookingOut):
    events: list[BookingEventOut]


class PolicyRuleOut(Schema):
    days_before_arrival: int = Field(..., description="The rule applies when cancelling at least this many days before arrival")
    percent: Decimal


class CancellationQuoteOut(Schema):
    booking_id: int
    status: str
    policy: list[PolicyRuleOut]
    cancellable: bool
    days_before_arrival: int | None
    percent: Decimal | None
    freed_value: Decimal | None = Field(None, description="The lodging a whole cancellation gives back, at its nightly prices")
    fee: Decimal | None
    explanation: str


class WaitlistIn(Schema):
    batch_id: int
    base_id: int
    room_type_id: int
    arrival: dt.date
    nights: int = Field(..., ge=1, le=30)
    rooms: int = Field(..., ge=1, le=10000)
    people: int = Field(..., ge=1, le=100000)


class WaitlistOut(Schema):
    id: int
    batch_id: int
    base_id: int
    room_type_id: int | None
    arrival: dt.date
    nights: int
    rooms: int
    people: int
    status: str
    offered_booking_id: int | None
    offer_expires_at: datetime | None
    created_at: datetime


class ExportFormat(Schema):
    format: Literal["csv", "xlsx"] = "csv"
