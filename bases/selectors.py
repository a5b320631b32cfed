"""Reads for bases, certification history, inventory, availability and routes.

Who sees what is decided here and nowhere else:

* certified bases are open to every signed-in user;
* a base operator also sees its own bases in any status, and is the only
  operator that may change them (another operator's base is a 404);
* an administrator sees and oversees every base of its region (the whole
  province, or its own city).
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.db.models import Case, DecimalField, F, Min, Prefetch, Q, QuerySet, Sum, When

from bases.models import Base, CertificationEvent, NightInventory, RoomType, Route, RouteDay, RouteDeparture
from groups.access import Actor, administered_region_q
from retreat.errors import NotFound, ValidationFailed
from retreat.i18n import listed

# --- who may see and change which base ------------------------------------------------


def visible_bases_q(actor: Actor) -> Q:
    if actor.is_province_admin:
        return Q()  # (an empty Q would vanish from an OR, so the whole province is said outright)
    q = Q(status=Base.Status.CERTIFIED)
    if actor.is_operator:
        q |= Q(operator_id=actor.organisation.pk)
    if actor.is_admin:
        q |= administered_region_q(actor)
    return q


def managed_bases_q(actor: Actor) -> Q:
    """Bases whose data (details, room types, inventory) the actor may change."""
    if actor.is_operator:
        return Q(operator_id=actor.organisation.pk)
    return administered_region_q(actor)


def visible_bases(actor: Actor) -> QuerySet[Base]:
    return Base.objects.filter(visible_bases_q(actor))


def managed_bases(actor: Actor) -> QuerySet[Base]:
    return Base.objects.filter(managed_bases_q(actor))


def base_get(*, actor: Actor, base_id: int) -> Base:
    base = visible_bases(actor).select_related("operator").prefetch_related("themes").filter(pk=base_id).first()
    if base is None:
        raise NotFound(_("基地不存在"), detail={"base_id": base_id})
    return base


def managed_base_get(*, actor: Actor, base_id: int) -> Base:
    base = managed_bases(actor).select_related("operator").filter(pk=base_id).first()
    if base is None:
        raise NotFound(_("基地不存在"), detail={"base_id": base_id})
    return base


def base_list(*, actor: Actor) -> QuerySet[Base]:
    """Visible bases; narrowed further by ``bases.filters.BaseFilter``."""
    return visible_bases(actor).select_related("operator").prefetch_related("themes")


def operator_base_list(*, actor: Actor) -> QuerySet[Base]:
    return managed_bases(actor).select_related("operator").prefetch_related("room_types")


def certification_queue(*, actor: Actor, today: dt.date, expiring_within_days: int = 60) -> QuerySet[Base]:
    """What an administrator has to act on: applications, suspensions and certificates about to run out."""
    if not actor.is_admin:
        return Base.objects.none()
    expiring = Q(status=Base.Status.CERTIFIED, valid_until__lte=today + dt.timedelta(days=expiring_within_days))
    return (
        Base.objects.filter(administered_region_q(actor))
        .filter(Q(status__in=[Base.Status.APPLIED, Base.Status.SUSPENDED]) | expiring)
        .select_related("operator")
        .order_by("status", "valid_until", "pk")
    )


def certification_events(*, actor: Actor, base_id: int) -> QuerySet[CertificationEvent]:
    """The history is the operator's and the administrators' business, not the public's."""
    base = managed_base_get(actor=actor, base_id=base_id)
    return base.certification_events.select_related("actor")


# --- room types and inventory -----------------------------------------------------------


def room_type_list(*, actor: Actor, base_id: int) -> QuerySet[RoomType]:
    return base_get(actor=actor, base_id=base_id).room_types.all()


def managed_room_type_get(*, actor: Actor, base_id: int, room_type_id: int) -> RoomType:
    room_type = (
        RoomType.objects.filter(base__in=managed_bases(actor), base_id=base_id, pk=room_type_id).select_related("base").first()
    )
    if room_type is None:
        raise NotFound(_("房型不存在"), detail={"base_id": base_id, "room_type_id": room_type_id})
    return room_type


@dataclass(frozen=True)
class NightCell:
    night: dt.date
    opened: bool
    closed: bool = False
    rooms: int = 0
    rooms_held: int = 0
    rooms_booked: int = 0
    people_held: int = 0
    people_booked: int = 0
    beds_per_room: int = 1

    @property
    def rooms_free(self) -> int:
        return 0 if (self.closed or not self.opened) else max(self.rooms - self.rooms_held - self.rooms_booked, 0)

    @property
    def beds_free(self) -> int:
        return self.rooms_free * self.beds_per_room


@dataclass
class RoomTypeMonth:
    room_type: RoomType
    nights: list[NightCell] = field(default_factory=list)


# The calendar shows months from this one up to the month of the inventory horizon.
EARLIEST_MONTH = dt.date(2000, 1, 1)


def latest_month(today: dt.date) -> dt.date:
    return (today + dt.timedelta(days=settings.INVENTORY_HORIZON_DAYS)).replace(day=1)


def parse_month(value: str | None, *, today: dt.date) -> dt.date:
    """The first day of a ``YYYY-MM`` month the calendar can show; a clear 422 otherwise."""
    try:
        month = dt.date.fromisoformat(f"{value}-01") if value and len(value) == 7 else None
    except ValueError:
        month = None
    if month is None:
        raise ValidationFailed(
            _("月份格式应为 YYYY-MM：%(value)s") % {"value": value}, detail={"month": value}
        )
    latest = latest_month(today)
    if not EARLIEST_MONTH <= month <= latest:
        raise ValidationFailed(
            _("月份须在 %(earliest)s 至 %(latest)s 之间：%(value)s")
            % {"earliest": f"{EARLIEST_MONTH:%Y-%m}", "latest": f"{latest:%Y-%m}", "value": value},
            detail={"month": value, "earliest": f"{EARLIEST_MONTH:%Y-%m}", "latest": f"{latest:%Y-%m}"},
        )
    return month


def month_days(month: dt.date) -> list[dt.date]:
    first = month.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return [first + dt.timedelta(days=i) for i in range((following - first).days)]


def inventory_month(*, actor: Actor, base_id: int, month: dt.date) -> list[RoomTypeMonth]:
    """Every room type of a managed base with one cell per night of the month (two queries)."""
    base = managed_base_get(actor=actor, base_id=base_id)
    days = month_days(month)
    room_types = list(base.room_types.all())
    rows = NightInventory.objects.filter(room_type__base=base, night__range=(days[0], days[-1]))
    by_key = {(row.room_type_id, row.night): row for row in rows}
    months = []
    for room_type in room_types:
        cells = []
        for day in days:
            row = by_key.get((room_type.pk, day))
            if row is None:
                cells.append(NightCell(night=day, opened=False, beds_per_room=room_type.beds_per_room))
            else:
                cells.append(
                    NightCell(
                        night=day, opened=True, closed=row.closed, rooms=row.rooms,
                        rooms_held=row.rooms_held, rooms_booked=row.rooms_booked,
                        people_held=row.people_held, people_booked=row.people_booked,
                        beds_per_room=room_type.beds_per_room,
                    )
                )
        months.append(RoomTypeMonth(room_type=room_type, nights=cells))
    return months


# --- availability -----------------------------------------------------------------------


@dataclass(frozen=True)
class NightAvailability:
    night: dt.date
    rooms_free: int
    beds_free: int
    cheapest_price: Decimal


@dataclass(frozen=True)
class BaseAvailability:
    base: Base
    themes: list[str]
    nights: list[NightAvailability]

    @property
    def price_per_night(self) -> Decimal:
        """The per-person rate of the cheapest room type with a free room, on the dearest night of the stay."""
        return max(n.cheapest_price for n in self.nights)

    def lodging_estimate(self, people: int) -> Decimal:
        """Lodging for the whole group at each night's cheapest free room type (a lower bound for mixed rooms)."""
        return sum((n.cheapest_price * people for n in self.nights), Decimal("0.00"))


MAX_STAY_NIGHTS = 30
CENT = Decimal("0.01")


def check_stay(*, first_night: dt.date, nights: int, people: int, rooms: int, today: dt.date | None = None) -> None:
    """A stay that can be searched: 1..30 nights from today up to the inventory horizon, for at least one person and room."""
    problems = {}
    if not 1 <= nights <= MAX_STAY_NIGHTS:
        problems["nights"] = _("晚数须在 1 到 %(max)s 之间：%(nights)s") % {"max": MAX_STAY_NIGHTS, "nights": nights}
    if people < 1:
        problems["people"] = _("人数须至少为 1：%(people)s") % {"people": people}
    if rooms < 1:
        problems["rooms"] = _("房间数须至少为 1：%(rooms)s") % {"rooms": rooms}
    if problems:
        raise ValidationFailed(listed(problems.values()), detail=problems)
    today = today or timezone.localdate()
    horizon = today + dt.timedelta(days=settings.INVENTORY_HORIZON_DAYS)
    if first_night < today:
        raise ValidationFailed(
            _("入住日期 %(first_night)s 早于今天 %(today)s") % {"first_night": first_night, "today": today},
            detail={"first_night": first_night.isoformat(), "today": today.isoformat()},
        )
    if first_night > horizon - dt.timedelta(days=nights - 1):
        last_night = first_night + dt.timedelta(days=nights - 1) if first_night <= horizon else None
        raise ValidationFailed(
            _("入住日期超出可预订范围（最后一晚须不晚于 %(horizon)s）：%(first_night)s 起 %(nights)s 晚")
            % {"horizon": horizon, "first_night": first_night, "nights": nights},
            detail={"first_night": first_night.isoformat(), "last_night": last_night and last_night.isoformat(),
                    "horizon": horizon.isoformat()},
        )


# What a search result shows of a base; loading only these keeps a 139-base answer cheap.
AVAILABILITY_BASE_FIELDS = (
    "id", "name", "operator_id", "city_code", "county_code", "kind", "is_rural", "status", "level", "valid_from", "valid_until",
)


def available_bases(
    *,
    actor: Actor,
    first_night: dt.date,
    nights: int,
    people: int,
    rooms: int,
    bases: QuerySet[Base] | None = None,
    max_price: Decimal | None = None,
    today: dt.date | None = None,
) -> list[BaseAvailability]:
    """Bases that can take ``people`` in ``rooms`` for every night of the stay.

    At most three queries whatever the number of bases or nights: one
    aggregates the free rooms and beds per base and night in SQL, one loads the
    matching bases, one their theme slugs. ``bases`` narrows the candidates (directory
    filters); ``max_price`` leaves out room types dearer per person per night.
    """
    check_stay(first_night=first_night, nights=nights, people=people, rooms=rooms, today=today)
    last_night = first_night + dt.timedelta(days=nights - 1)
    candidates = (bases if bases is not None else visible_bases(actor)).filter(
        status=Base.Status.CERTIFIED, valid_from__lte=first_night, valid_until__gte=last_night
    )
    inventory = NightInventory.objects.filter(
        night__range=(first_night, last_night),
        closed=False,
        room_type__base__in=candidates.values("pk"),
    )
    if max_price is not None:
        inventory = inventory.filter(room_type__price_per_night__lte=max_price)
    # The CHECK constraint keeps rooms >= held + booked, so this is never negative.
    free_rooms = F("rooms") - F("rooms_held") - F("rooms_booked")
    per_base_night = (
        inventory.values("room_type__base_id", "night")
        .annotate(
            rooms_free=Sum(free_rooms),
            beds_free=Sum(free_rooms * F("room_type__beds_per_room")),
            cheapest_price=Min(
                Case(
                    When(rooms__gt=F("rooms_held") + F("rooms_booked"), then=F("room_type__price_per_night")),
                    output_field=DecimalField(max_digits=13, decimal_places=2),
                )
            ),
        )
        .filter(rooms_free__gte=rooms, beds_free__gte=people)
        .order_by()
    )
    nights_by_base: dict[int, list[NightAvailability]] = {}
    for row in per_base_night:
        nights_by_base.setdefault(row["room_type__base_id"], []).append(
            NightAvailability(
                night=row["night"], rooms_free=row["rooms_free"], beds_free=row["beds_free"],
                # SQLite hands back 230 for 230.00; money always carries its cents.
                cheapest_price=Decimal(row["cheapest_price"]).quantize(CENT),
            )
        )
    fitting_ids = [base_id for base_id, found in nights_by_base.items() if len(found) == nights]
    if not fitting_ids:
        return []
    matched = (
        Base.objects.filter(pk__in=fitting_ids)
        .only(*AVAILABILITY_BASE_FIELDS)
        .order_by("city_code", "name", "pk")
    )
    # Theme slugs in one flat query: a many-to-many prefetch builds a manager per base and cost more than the search.
    themes_by_base: dict[int, list[str]] = {}
    for base_id, slug in Base.themes.through.objects.filter(base_id__in=fitting_ids).values_list("base_id", "theme__slug"):
        themes_by_base.setdefault(base_id, []).append(slug)
    return [
        BaseAvailability(
            base=base, themes=sorted(themes_by_base.get(base.pk, [])),
            nights=sorted(nights_by_base[base.pk], key=lambda n: n.night),
        )
        for base in matched
    ]


# --- routes -----------------------------------------------------------------------------


def visible_routes_q(actor: Actor) -> Q:
    """Published routes are public; drafts only to their operator (administrators oversee all)."""
    if actor.is_admin:
        return Q()
    if actor.is_operator:
        return Q(published=True) | Q(operator_id=actor.organisation.pk)
    return Q(published=True)


def route_list(*, actor: Actor) -> QuerySet[Route]:
    return Route.objects.filter(visible_routes_q(actor)).select_related("operator").prefetch_related("themes")


def _route_detail_queryset() -> QuerySet[Route]:
    days = RouteDay.objects.select_related("night_base", "night_room_type").prefetch_related("items")
    return Route.objects.select_related("operator").prefetch_related(
        "themes", Prefetch("route_days", queryset=days), "departures"
    )


def route_get(*, actor: Actor, route_id: int) -> Route:
    route = _route_detail_queryset().filter(visible_routes_q(actor), pk=route_id).first()
    if route is None:
        raise NotFound(_("线路不存在"), detail={"route_id": route_id})
    return route


def owned_route_get(*, actor: Actor, route_id: int) -> Route:
    """A route the actor's operator organisation runs and may change."""
    if not actor.is_operator:
        raise NotFound(_("线路不存在"), detail={"route_id": route_id})
    route = _route_detail_queryset().filter(pk=route_id, operator_id=actor.organisation.pk).first()
    if route is None:
        raise NotFound(_("线路不存在"), detail={"route_id": route_id})
    return route


def departure_list(
    *, actor: Actor, route_id: int, departing_from: dt.date | None = None, departing_until: dt.date | None = None,
    seats: int | None = None,
) -> QuerySet[RouteDeparture]:
    """A visible route's departures, optionally within dates and with at least ``seats`` free."""
    if departing_from and departing_until and departing_from > departing_until:
        raise ValidationFailed(
            _("出发日期范围的起点 %(first)s 晚于终点 %(last)s") % {"first": departing_from, "last": departing_until},
            detail={"departing_from": departing_from.isoformat(), "departing_until": departing_until.isoformat()},
        )
    departures = route_get(actor=actor, route_id=route_id).departures.all()
    if departing_from:
        departures = departures.filter(date__gte=departing_from)
    if departing_until:
        departures = departures.filter(date__lte=departing_until)
    if seats:
        departures = departures.filter(seats__gte=F("seats_held") + F("seats_booked") + seats)
    return departures

