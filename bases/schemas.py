"""Input and output schemas of the bases API, kept apart."""

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema

from bases.models import Base

MONEY = {"max_digits": 13, "decimal_places": 2}
DIVISION_CODE = r"^[0-9]{6}$"


# --- bases ------------------------------------------------------------------------------


class BaseIn(Schema):
    name: str = Field(..., min_length=1, max_length=120)
    city_code: str = Field(..., pattern=DIVISION_CODE)
    county_code: str = Field(..., pattern=DIVISION_CODE)
    address: str = Field(..., min_length=1, max_length=200)
    latitude: Decimal = Field(..., ge=-90, le=90, max_digits=9, decimal_places=6)
    longitude: Decimal = Field(..., ge=-180, le=180, max_digits=9, decimal_places=6)
    kind: Base.Kind
    themes: list[str] = []
    is_rural: bool = False
    description: str = ""
    contact_name: str = Field("", max_length=40)
    contact_phone: str = Field("", max_length=32)
    contact_email: str = Field("", max_length=254)
    discount_percent: Decimal = Field(Decimal("0"), ge=0, le=100, max_digits=5, decimal_places=2)
    cancellation_policy: list[tuple[int, int]] = Field([], description="[[days before arrival, fee percent], ...]")
    operator_id: int | None = Field(None, description="Administrators name the operating organisation; operators add their own.")


class BasePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=120)
    city_code: str | None = Field(None, pattern=DIVISION_CODE)
    county_code: str | None = Field(None, pattern=DIVISION_CODE)
    address: str | None = Field(None, min_length=1, max_length=200)
    latitude: Decimal | None = Field(None, ge=-90, le=90, max_digits=9, decimal_places=6)
    longitude: Decimal | None = Field(None, ge=-180, le=180, max_digits=9, decimal_places=6)
    kind: Base.Kind | None = None
    themes: list[str] | None = None
    is_rural: bool | None = None
    description: str | None = None
    contact_name: str | None = Field(None, max_length=40)
    contact_phone: str | None = Field(None, max_length=32)
    contact_email: str | None = Field(None, max_length=254)
    discount_percent: Decimal | None = Field(None, ge=0, le=100, max_digits=5, decimal_places=2)
    cancellation_policy: list[tuple[int, int]] | None = None


class BaseOut(Schema):
    id: int
    name: str
    operator_id: int
    operator_name: str = Field(..., alias="operator.name")
    city_code: str
    county_code: str
    address: str
    latitude: Decimal
    longitude: Decimal
    kind: str
    themes: list[str]
    is_rural: bool
    description: str
    contact_name: str
    contact_phone: str
    contact_email: str
    discount_percent: Decimal
    cancellation_policy: list
    status: str
    level: str
    certificate_number: str
    valid_from: dt.date | None
    valid_until: dt.date | None

    @staticmethod
    def resolve_themes(base) -> list[str]:
        return [theme.slug for theme in base.themes.all()]


# The base directory's filters (bases.filters.BaseFilter); the lists that filter like it add their own.
class DirectoryFilterIn(Schema):
    region: str | None = Field(None, pattern=DIVISION_CODE, description="a city (4419 00) or county code")
    kind: Base.Kind | None = None
    theme: str | None = None
    status: Base.Status | None = None
    level: Base.Level | None = None
    q: str | None = Field(None, max_length=60)


class BaseFilterIn(DirectoryFilterIn):
    # Availability: only bases that can take the group for every night.
    first_night: dt.date | None = None
    nights: int = Field(1, ge=1, le=30)
    people: int = Field(1, ge=1, le=5000)
    rooms: int = Field(1, ge=1, le=5000)
    max_price: Decimal | None = Field(None, ge=0, description="per person per night")


class CertificationQueueIn(DirectoryFilterIn):
    expiring_within_days: int = Field(60, ge=0, le=365, description="also certificates that run out within this many days")


# --- certification ----------------------------------------------------------------------


class ReasonIn(Schema):
    reason: str = Field("", max_length=2000)


class CertifyIn(Schema):
    level: Base.Level
    certificate_number: str = Field(..., min_length=1, max_length=40)
    valid_from: dt.date
    valid_until: dt.date
    reason: str = Field("", max_length=2000)


class RenewIn(Schema):
    valid_until: dt.date
    certificate_number: str | None = Field(None, min_length=1, max_length=40)
    level: Base.Level | None = None
    reason: str = Field("", max_length=2000)


class CertificationEventOut(Schema):
    id: int
    base_id: int
    action: str
    from_status: str
    to_status: str
    level: str
    certificate_number: str
    valid_from: dt.date | None
    valid_until: dt.date | None
    actor_username: str | None
    reason: str
    at: dt.datetime

    @staticmethod
    def resolve_actor_username(event) -> str | None:
        return event.actor.username if event.actor_id else None


# --- room types and inventory -----------------------------------------------------------


class RoomTypeIn(Schema):
    name: str = Field(..., min_length=1, max_length=60)
    beds_per_room: int = Field(..., ge=1, le=20)
    rooms: int = Field(..., ge=0, le=10000)
    price_per_night: Decimal = Field(..., ge=0, **MONEY)
    meals_per_day: Decimal = Field(Decimal("0"), ge=0, **MONEY)
    accessible: bool = False


class RoomTypePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=60)
    beds_per_room: int | None = Field(None, ge=1, le=20)
    rooms: int | None = Field(None, ge=0, le=10000)
    price_per_night: Decimal | None = Field(None, ge=0, **MONEY)
    meals_per_day: Decimal | None = Field(None, ge=0, **MONEY)
    accessible: bool | None = None


class RoomTypeOut(Schema):
    id: int
    base_id: int
    name: str
    beds_per_room: int
    rooms: int
    price_per_night: Decimal
    meals_per_day: Decimal
    accessible: bool


class NightRangeIn(Schema):
    first_night: dt.date
    last_night: dt.date


class OpenSeasonIn(NightRangeIn):
    rooms: int | None = Field(None, ge=0, le=10000, description="rooms on sale each night; default: the room type's count")


class CapacityIn(NightRangeIn):
    rooms: int = Field(..., ge=0, le=10000)


class InventoryChangeOut(Schema):
    room_type_id: int
    first_night: dt.date
    last_night: dt.date
    nights_created: int
    nights_changed: int


class NightOut(Schema):
    night: dt.date
    opened: bool
    closed: bool
    rooms: int
    rooms_held: int
    rooms_booked: int
    people_held: int
    people_booked: int
    rooms_free: int
    beds_free: int


class RoomTypeMonthOut(Schema):
    room_type: RoomTypeOut
    nights: list[NightOut]


class InventoryMonthOut(Schema):
    base_id: int
    month: str
    room_types: list[RoomTypeMonthOut]


class MonthIn(Schema):
    month: str = Field(..., pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")


# --- availability -----------------------------------------------------------------------


class AvailabilityIn(Schema):
    first_night: dt.date
    nights: int = Field(..., ge=1, le=30)
    people: int = Field(..., ge=1, le=5000)
    rooms: int = Field(..., ge=1, le=5000)
    region: str | None = Field(None, pattern=DIVISION_CODE)
    kind: Base.Kind | None = None
    theme: str | None = None
    level: Base.Level | None = None
    max_price: Decimal | None = Field(None, ge=0, description="per person per night")


class NightAvailabilityOut(Schema):
    night: dt.date
    rooms_free: int
    beds_free: int
    cheapest_price: Decimal


class BaseSummaryOut(Schema):
    id: int
    name: str
    city_code: str
    county_code: str
    kind: str
    level: str
    themes: list[str]


class AvailabilityOut(Schema):
    base: BaseSummaryOut
    price_per_night: Decimal
    lodging_estimate: Decimal
    nights: list[NightAvailabilityOut]


# --- routes -----------------------------------------------------------------------------


class RouteItemIn(Schema):
    time: dt.time
    place: str = Field(..., min_length=1, max_length=120)
    activity: str = Field(..., min_length=1, max_length=200)
    meals: str = Field("", max_length=40)


class RouteDayIn(Schema):
    number: int = Field(..., ge=1, le=30)
    night_base_id: int | None = None
    night_room_type_id: int | None = None
    items: list[RouteItemIn] = []


class RouteIn(Schema):
    title: str = Field(..., min_length=1, max_length=120)
    summary: str = ""
    price_per_head: Decimal = Field(..., ge=0, **MONEY)
    themes: list[str] = []
    published: bool = False
    days: list[RouteDayIn] = Field(..., min_length=1, max_length=30)


class RoutePatch(Schema):
    title: str | None = Field(None, min_length=1, max_length=120)
    summary: str | None = None
    price_per_head: Decimal | None = Field(None, ge=0, **MONEY)
    themes: list[str] | None = None
    days: list[RouteDayIn] | None = Field(None, min_length=1, max_length=30)


class RouteFilterIn(Schema):
    region: str | None = Field(None, pattern=DIVISION_CODE, description="a night is spent in this city or county")
    theme: str | None = None
    operator_id: int | None = None
    departing_from: dt.date | None = None
    departing_until: dt.date | None = None
    seats: int | None = Field(None, ge=1, description="a departure in the window has this many free seats")
    q: str | None = Field(None, max_length=60)


class RouteItemOut(Schema):
    time: dt.time
    place: str
    activity: str
    meals: str


class RouteDayOut(Schema):
    number: int
    night_base_id: int | None
    night_base_name: str | None
    night_room_type_id: int | None
    items: list[RouteItemOut]

    @staticmethod
    def resolve_night_base_name(day) -> str | None:
        return day.night_base.name if day.night_base_id else None

    @staticmethod
    def resolve_items(day):
        return list(day.items.all())


class DepartureIn(Schema):
    date: dt.date
    seats: int = Field(..., ge=1, le=10000)


class DepartureFilterIn(Schema):
    departing_from: dt.date | None = None
    departing_until: dt.date | None = None
    seats: int | None = Field(None, ge=1, le=10000, description="at least this many free seats")


class SeatsIn(Schema):
    seats: int = Field(..., ge=0, le=10000)


class DepartureOut(Schema):
    id: int
    route_id: int
    date: dt.date
    seats: int
    seats_held: int
    seats_booked: int
    seats_free: int


class RouteSummaryOut(Schema):
    id: int
    title: str
    operator_id: int
    operator_name: str = Field(..., alias="operator.name")
    price_per_head: Decimal
    published: bool
    themes: list[str]

    @staticmethod
    def resolve_themes(route) -> list[str]:
        return [theme.slug for theme in route.themes.all()]


class RouteOut(RouteSummaryOut):
    summary: str
    days: list[RouteDayOut]
    departures: list[DepartureOut]

    @staticmethod
    def resolve_days(route):
        return list(route.route_days.all())

    @staticmethod
    def resolve_departures(route):
        return list(route.departures.all())
