"""The bases API, mounted at /api/v1/bases: thin endpoints over bases.selectors and bases.services."""

from dataclasses import asdict

from django.utils import timezone
from ninja import Query, Router
from ninja.pagination import paginate

from bases import selectors, services
from bases.filters import BaseFilter, RouteFilter, apply_filter
from bases.schemas import (
    AvailabilityIn,
    AvailabilityOut,
    BaseFilterIn,
    BaseIn,
    BaseOut,
    BasePatch,
    CapacityIn,
    CertificationEventOut,
    CertificationQueueIn,
    CertifyIn,
    DepartureFilterIn,
    DepartureIn,
    DepartureOut,
    InventoryChangeOut,
    InventoryMonthOut,
    MonthIn,
    NightRangeIn,
    OpenSeasonIn,
    ReasonIn,
    RenewIn,
    RoomTypeIn,
    RoomTypeOut,
    RoomTypePatch,
    RouteDayIn,
    RouteFilterIn,
    RouteIn,
    RouteOut,
    RoutePatch,
    RouteSummaryOut,
    SeatsIn,
)
from groups.access import actor_of
from retreat.pagination import BoundedPagination
from retreat.schemas import ERRORS

router = Router(tags=["bases"])

BASE_FILTER_FIELDS = ("region", "kind", "theme", "status", "level", "q")


def _availability_out(found: selectors.BaseAvailability, people: int) -> dict:
    base = found.base
    return {
        "base": {
            "id": base.pk, "name": base.name, "city_code": base.city_code, "county_code": base.county_code,
            "kind": base.kind, "level": base.level, "themes": found.themes,
        },
        "price_per_night": found.price_per_night,
        "lodging_estimate": found.lodging_estimate(people),
        "nights": found.nights,
    }


# --- availability (declared before /{base_id} so the paths read in order) ---------------


@router.get("/availability", response={200: list[AvailabilityOut], **ERRORS})
@paginate(BoundedPagination)
def availability_search(request, params: Query[AvailabilityIn]):
    """Certified bases that can take ``people`` in ``rooms`` for every night from ``first_night``."""
    actor = actor_of(request.user)
    data = params.dict()
    bases = apply_filter(BaseFilter, {k: data[k] for k in ("region", "kind", "theme", "level")}, selectors.base_list(actor=actor))
    found = selectors.available_bases(
        actor=actor, first_night=params.first_night, nights=params.nights, people=params.people, rooms=params.rooms,
        bases=bases, max_price=params.max_price,
    )
    return [_availability_out(item, params.people) for item in found]


# --- bases ------------------------------------------------------------------------------


@router.get("", response={200: list[BaseOut], **ERRORS})
@paginate(BoundedPagination)
def base_list(request, filters: Query[BaseFilterIn]):
    """Visible bases, filtered; with ``first_night`` only those that can take the group every night."""
    actor = actor_of(request.user)
    data = filters.dict()
    bases = apply_filter(BaseFilter, {k: data[k] for k in BASE_FILTER_FIELDS}, selectors.base_list(actor=actor))
    if filters.first_night is not None:
        found = selectors.available_bases(
            actor=actor, first_night=filters.first_night, nights=filters.nights, people=filters.people,
            rooms=filters.rooms, bases=bases, max_price=filters.max_price,
        )
        bases = bases.filter(pk__in=[item.base.pk for item in found])
    return bases


@router.post("", response={201: BaseOut, **ERRORS})
def base_create(request, payload: BaseIn):
    actor = actor_of(request.user)
    base = services.base_create(actor=actor, **payload.dict())
    return 201, selectors.base_get(actor=actor, base_id=base.pk)


@router.get("/certification-queue", response={200: list[BaseOut], **ERRORS})
@paginate(BoundedPagination)
def certification_queue(request, filters: Query[CertificationQueueIn]):
    """Applications, suspensions and certificates running out, in the administrator's region; filtered like the directory."""
    data = filters.dict()
    queue = selectors.certification_queue(
        actor=actor_of(request.user), today=timezone.localdate(), expiring_within_days=data.pop("expiring_within_days")
    )
    return apply_filter(BaseFilter, data, queue)


@router.get("/{int:base_id}", response={200: BaseOut, **ERRORS})
def base_detail(request, base_id: int):
    return selectors.base_get(actor=actor_of(request.user), base_id=base_id)


@router.patch("/{int:base_id}", response={200: BaseOut, **ERRORS})
def base_update(request, base_id: int, payload: BasePatch):
    actor = actor_of(request.user)
    services.base_update(actor=actor, base_id=base_id, **payload.dict(exclude_unset=True))
    return selectors.base_get(actor=actor, base_id=base_id)


@router.delete("/{int:base_id}", response={204: None, **ERRORS})
def base_delete(request, base_id: int):
    services.base_delete(actor=actor_of(request.user), base_id=base_id)
    return 204, None


# --- certification ----------------------------------------------------------------------


@router.get("/{int:base_id}/certification/events", response={200: list[CertificationEventOut], **ERRORS})
@paginate(BoundedPagination)
def certification_events(request, base_id: int):
    return selectors.certification_events(actor=actor_of(request.user), base_id=base_id)


@router.post("/{int:base_id}/certification/apply", response={200: CertificationEventOut, **ERRORS})
def certification_apply(request, base_id: int, payload: ReasonIn):
    return services.certification_apply(actor=actor_of(request.user), base_id=base_id, reason=payload.reason)


@router.post("/{int:base_id}/certification/certify", response={200: CertificationEventOut, **ERRORS})
def certification_certify(request, base_id: int, payload: CertifyIn):
    return services.certification_certify(actor=actor_of(request.user), base_id=base_id, **payload.dict())


@router.post("/{int:base_id}/certification/suspend", response={200: CertificationEventOut, **ERRORS})
def certification_suspend(request, base_id: int, payload: ReasonIn):
    return services.certification_suspend(actor=actor_of(request.user), base_id=base_id, reason=payload.reason)


@router.post("/{int:base_id}/certification/reinstate", response={200: CertificationEventOut, **ERRORS})
def certification_reinstate(request, base_id: int, payload: ReasonIn):
    return services.certification_reinstate(actor=actor_of(request.user), base_id=base_id, reason=payload.reason)


@router.post("/{int:base_id}/certification/revoke", response={200: CertificationEventOut, **ERRORS})
def certification_revoke(request, base_id: int, payload: ReasonIn):
    return services.certification_revoke(actor=actor_of(request.user), base_id=base_id, reason=payload.reason)


@router.post("/{int:base_id}/certification/renew", response={200: CertificationEventOut, **ERRORS})
def certification_renew(request, base_id: int, payload: RenewIn):
    return services.certification_renew(actor=actor_of(request.user), base_id=base_id, **payload.dict())


# --- room types -------------------------------------------------------------------------


@router.get("/{int:base_id}/room-types", response={200: list[RoomTypeOut], **ERRORS})
@paginate(BoundedPagination)
def room_type_list(request, base_id: int):
    return selectors.room_type_list(actor=actor_of(request.user), base_id=base_id)


@router.post("/{int:base_id}/room-types", response={201: RoomTypeOut, **ERRORS})
def room_type_create(request, base_id: int, payload: RoomTypeIn):
    return 201, services.room_type_create(actor=actor_of(request.user), base_id=base_id, **payload.dict())


@router.patch("/{int:base_id}/room-types/{int:room_type_id}", response={200: RoomTypeOut, **ERRORS})
def room_type_update(request, base_id: int, room_type_id: int, payload: RoomTypePatch):
    return services.room_type_update(
        actor=actor_of(request.user), base_id=base_id, room_type_id=room_type_id, **payload.dict(exclude_unset=True)
    )


@router.delete("/{int:base_id}/room-types/{int:room_type_id}", response={204: None, **ERRORS})
def room_type_delete(request, base_id: int, room_type_id: int):
    services.room_type_delete(actor=actor_of(request.user), base_id=base_id, room_type_id=room_type_id)
    return 204, None


# --- inventory --------------------------------------------------------------------------


@router.get("/{int:base_id}/inventory", response={200: InventoryMonthOut, **ERRORS})
def inventory_month(request, base_id: int, params: Query[MonthIn]):
    """Every room type's nights of one month: capacity, held, booked and free rooms and beds."""
    month = selectors.parse_month(params.month, today=timezone.localdate())
    room_types = selectors.inventory_month(actor=actor_of(request.user), base_id=base_id, month=month)
    return {
        "base_id": base_id,
        "month": params.month,
        "room_types": [
            {
                "room_type": item.room_type,
                "nights": [{**asdict(cell), "rooms_free": cell.rooms_free, "beds_free": cell.beds_free} for cell in item.nights],
            }
            for item in room_types
        ],
    }


@router.post("/{int:base_id}/room-types/{int:room_type_id}/inventory/open-season", response={200: InventoryChangeOut, **ERRORS})
def inventory_open_season(request, base_id: int, room_type_id: int, payload: OpenSeasonIn):
    return services.inventory_open_season(
        actor=actor_of(request.user), base_id=base_id, room_type_id=room_type_id, **payload.dict()
    )


@router.post("/{int:base_id}/room-types/{int:room_type_id}/inventory/close", response={200: InventoryChangeOut, **ERRORS})
def inventory_close(request, base_id: int, room_type_id: int, payload: NightRangeIn):
    return services.inventory_close(actor=actor_of(request.user), base_id=base_id, room_type_id=room_type_id, **payload.dict())


@router.post("/{int:base_id}/room-types/{int:room_type_id}/inventory/reopen", response={200: InventoryChangeOut, **ERRORS})
def inventory_reopen(request, base_id: int, room_type_id: int, payload: NightRangeIn):
    return services.inventory_reopen(actor=actor_of(request.user), base_id=base_id, room_type_id=room_type_id, **payload.dict())


@router.post("/{int:base_id}/room-types/{int:room_type_id}/inventory/capacity", response={200: InventoryChangeOut, **ERRORS})
def inventory_change_capacity(request, base_id: int, room_type_id: int, payload: CapacityIn):
    return services.inventory_change_capacity(
        actor=actor_of(request.user), base_id=base_id, room_type_id=room_type_id, **payload.dict()
    )


# --- routes and departures --------------------------------------------------------------


def _day_specs(days: list[RouteDayIn]) -> list[services.RouteDaySpec]:
    return [
        services.RouteDaySpec(
            number=day.number, night_base_id=day.night_base_id, night_room_type_id=day.night_room_type_id,
            items=[services.RouteItemSpec(**item.dict()) for item in day.items],
        )
        for day in days
    ]


@router.get("/routes", response={200: list[RouteSummaryOut], **ERRORS})
@paginate(BoundedPagination)
def route_list(request, filters: Query[RouteFilterIn]):
    return apply_filter(RouteFilter, filters.dict(), selectors.route_list(actor=actor_of(request.user)))


@router.post("/routes", response={201: RouteOut, **ERRORS})
def route_create(request, payload: RouteIn):
    actor = actor_of(request.user)
    data = payload.dict(exclude={"days"})
    route = services.route_create(actor=actor, days=_day_specs(payload.days), **data)
    return 201, selectors.route_get(actor=actor, route_id=route.pk)


@router.get("/routes/{int:route_id}", response={200: RouteOut, **ERRORS})
def route_detail(request, route_id: int):
    return selectors.route_get(actor=actor_of(request.user), route_id=route_id)


@router.patch("/routes/{int:route_id}", response={200: RouteOut, **ERRORS})
def route_update(request, route_id: int, payload: RoutePatch):
    changes = payload.dict(exclude_unset=True, exclude={"days"})
    days = _day_specs(payload.days) if payload.days is not None else None
    return services.route_update(actor=actor_of(request.user), route_id=route_id, days=days, **changes)


@router.post("/routes/{int:route_id}/publish", response={200: RouteOut, **ERRORS})
def route_publish(request, route_id: int):
    actor = actor_of(request.user)
    services.route_publish(actor=actor, route_id=route_id, published=True)
    return selectors.route_get(actor=actor, route_id=route_id)


@router.post("/routes/{int:route_id}/unpublish", response={200: RouteOut, **ERRORS})
def route_unpublish(request, route_id: int):
    actor = actor_of(request.user)
    services.route_publish(actor=actor, route_id=route_id, published=False)
    return selectors.route_get(actor=actor, route_id=route_id)


@router.get("/routes/{int:route_id}/departures", response={200: list[DepartureOut], **ERRORS})
@paginate(BoundedPagination)
def departure_list(request, route_id: int, filters: Query[DepartureFilterIn]):
    return selectors.departure_list(actor=actor_of(request.user), route_id=route_id, **filters.dict())


@router.post("/routes/{int:route_id}/departures", response={201: DepartureOut, **ERRORS})
def departure_create(request, route_id: int, payload: DepartureIn):
    return 201, services.departure_create(actor=actor_of(request.user), route_id=route_id, **payload.dict())


@router.patch("/routes/{int:route_id}/departures/{int:departure_id}", response={200: DepartureOut, **ERRORS})
def departure_change_seats(request, route_id: int, departure_id: int, payload: SeatsIn):
    return services.departure_change_seats(
        actor=actor_of(request.user), route_id=route_id, departure_id=departure_id, seats=payload.seats
    )


@router.delete("/routes/{int:route_id}/departures/{int:departure_id}", response={204: None, **ERRORS})
def departure_delete(request, route_id: int, departure_id: int):
    services.departure_delete(actor=actor_of(request.user), route_id=route_id, departure_id=departure_id)
    return 204, None
