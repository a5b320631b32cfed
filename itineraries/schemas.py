import datetime as dt
from typing import Literal

from ninja import Field, Schema

from groups.checkin import FigureGrouping


class CheckInIn(Schema):
    code: str = Field(..., min_length=1, max_length=400, description="A group or personal arrival code, as scanned or typed.")
    participant_ids: list[int] | None = Field(
        None, max_length=1000, description="With a group code: check in only these people (default: everyone not yet in)."
    )
    base_id: int | None = Field(None, description="The base being scanned at, for operators running several.")


class ManualCheckInIn(Schema):
    participant_ids: list[int] = Field(..., min_length=1, max_length=1000)


class PersonCheckInOut(Schema):
    participant_id: int
    name: str
    at: dt.datetime
    just_now: bool


class CheckInOut(Schema):
    reference: str
    batch_title: str
    union_name: str
    base_name: str
    arrival: dt.date
    last_night: dt.date
    status: str
    method: str
    message: str
    people: list[PersonCheckInOut]
    checked_in_now: int
    already_checked_in: int
    expected: int
    arrived: int


class BookingStatusOut(Schema):
    reference: str
    status: str


class PublicKeyOut(Schema):
    algorithm: Literal["Ed25519"] = "Ed25519"
    public_key_hex: str
    code_prefix: str
    format: str


class ArrivalCountOut(Schema):
    expected: int
    arrived: int
    no_shows: int
    awaited: int


class BookingArrivalOut(Schema):
    reference: str
    batch_title: str
    union_name: str
    base_id: int
    base_name: str
    arrival: dt.date
    last_night: dt.date
    status: str
    count: ArrivalCountOut


class ParticipantArrivalOut(Schema):
    participant_id: int
    name: str
    checked_in_at: dt.datetime | None
    method: str | None
    no_show: bool


class BookingArrivalDetailOut(BookingArrivalOut):
    participants: list[ParticipantArrivalOut]


class ArrivalsFilter(Schema):
    date: dt.date | None = Field(None, description="Arrival day (default: today, Asia/Shanghai).")
    base_id: int | None = None


class FiguresFilter(Schema):
    group_by: FigureGrouping = FigureGrouping.MONTH
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    base_id: int | None = None
    union_id: int | None = None


class ArrivalFigureOut(Schema):
    key: str
    label: str
    bookings: int
    count: ArrivalCountOut


class ArrivalFiguresOut(Schema):
    group_by: FigureGrouping
    rows: list[ArrivalFigureOut]
    total: ArrivalFigureOut


class PlaceOut(Schema):
    base_id: int
    name: str
    address: str
    contact_name: str
    contact_phone: str
    contact_email: str


class LodgingOut(Schema):
    place: PlaceOut
    room_type: str
    rooms: int
    people: int


class ProgrammeItemOut(Schema):
    time: dt.time
    place: str
    activity: str
    meals: str


class ItineraryDayOut(Schema):
    number: int
    date: dt.date
    headline: str
    is_arrival: bool
    is_departure: bool
    lodging: list[LodgingOut]
    meals: list[str]
    programme: list[ProgrammeItemOut]


class ContactOut(Schema):
    role: str
    name: str
    phone: str
    email: str


class TravellerOut(Schema):
    participant_id: int
    name: str
    gender: str
    category: str
    employer: str
    room: str


class ItineraryOut(Schema):
    reference: str
    title: str
    union_name: str
    route_title: str
    arrival_place: PlaceOut
    departure_place: PlaceOut
    arrival: dt.date
    departure: dt.date
    nights: int
    people: int
    days: list[ItineraryDayOut]
    contacts: list[ContactOut]
    travellers: list[TravellerOut]


class PersonalCodeOut(Schema):
    participant_id: int
    name: str
    code: str


class BookingCodesOut(Schema):
    reference: str
    group_code: str
    personal_codes: list[PersonalCodeOut]


class QrFilter(Schema):
    participant_id: int | None = Field(None, description="A participant's personal code instead of the group code.")
    image: Literal["svg", "png"] = "svg"
