"""Booking services: hold, confirm, cancel (whole or partial), lapse, and the waitlist.

Inventory is never oversold, whatever the concurrency:

* every service that changes counters runs in one ``locked_transaction`` and
  locks what it touches in one global order: the booking, then its waitlist
  entry, then the route departure, then the nights of inventory in primary-key
  order; ``waitlist_serve`` locks the base's waiting entries before any of that;
* availability is checked on the locked rows, so the check and the update see
  the same numbers; the CHECK constraints on ``NightInventory`` and
  ``RouteDeparture`` are the backstop;
* a lock timeout or deadlock becomes ``Busy`` (409, nothing changed).

Side effects (e-mail, serving the waitlist) are sent through Celery after commit.
"""

import base64
import datetime as dt
import math
import secrets
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bases.models import Base, NightInventory, RoomType, RouteDay, RouteDeparture
from groups.access import Actor, Role, union_subtree_q
from groups.models import Batch, Booking, BookingEvent, BookingLine, Membership, WaitlistEntry
from retreat.errors import Conflict, NotFound, ValidationFailed
from retreat.i18n import in_site_language, listed, site_language
from retreat.locking import locked_transaction

HOLD_MINUTES = 30
WAITLIST_OFFER_HOURS = 24
MAX_STAY_NIGHTS = 30
MAX_ROOMS = 10_000  # per room type of one booking, as the API schemas allow
MAX_PEOPLE = 100_000
BULK_BATCH = 500  # rows per INSERT when many holds are written together
Status = Booking.Status


@dataclass(frozen=True)
class RoomRequest:
    room_type_id: int
    rooms: int
    people: int


@dataclass(frozen=True)
class Leg:
    """Rooms of one room type for consecutive nights: what a ``BookingLine`` takes."""

    room_type: RoomType
    first_night: dt.date
    nights: int
    rooms: int
    people: int

    @property
    def night_list(self) -> list[dt.date]:
        return [self.first_night + dt.timedelta(days=i) for i in range(self.nights)]


# --- look-ups with access checks --------------------------------------------------------


def organiser_batch_get(*, actor: Actor, batch_id: int, with_active_reference: bool = False) -> Batch:
    """A batch of the actor's union subtree that the actor may book for (organisers only).

    ``with_active_reference`` also reads, in the same query, the reference of the batch's active
    booking (or None) into ``batch.active_reference``: what a hold checks first. It is a plain read,
    as the check inside the transaction was; the partial unique index ``booking_one_active_per_batch``
    is what makes a second active booking impossible under concurrency."""
    actor.require(Role.ORGANISER)
    batches = Batch.objects.filter(union_subtree_q(actor, "union"), pk=batch_id).select_related("union")
    if with_active_reference:
        active = Booking.objects.filter(batch=OuterRef("pk"), status__in=Booking.ACTIVE).order_by("pk").values("reference")[:1]
        batches = batches.annotate(active_reference=Subquery(active))
    batch = batches.first()
    if batch is None:
        raise NotFound(_("批次不存在"), detail={"batch_id": batch_id})
    return batch


def _locked_booking(*, actor: Actor, booking_id: int) -> Booking:
    actor.require(Role.ORGANISER)
    booking = (
        Booking.objects.select_for_update(of=("self",))
        .filter(union_subtree_q(actor, "union"), pk=booking_id)
        .select_related("base", "batch")
        .first()
    )
    if booking is None:
        raise NotFound(_("预订不存在"), detail={"booking_id": booking_id})
    return booking


# --- checks -----------------------------------------------------------------------------


def nights_problem(nights: int) -> str | None:
    """What is wrong with a stay of ``nights``, in words, or None."""
    if 1 <= nights <= MAX_STAY_NIGHTS:
        return None
    return _("住宿晚数须在 1 到 %(max)s 之间：%(nights)s") % {"max": MAX_STAY_NIGHTS, "nights": nights}


def check_stay_dates(*, arrival: dt.date, nights: int, today: dt.date) -> None:
    if problem := nights_problem(nights):
        raise ValidationFailed(problem, detail={"nights": nights})
    if arrival < today:
        raise ValidationFailed(
            _("抵达日期 %(arrival)s 早于今天 %(today)s") % {"arrival": arrival, "today": today},
            detail={"arrival": arrival.isoformat()},
        )
    horizon = today + dt.timedelta(days=settings.INVENTORY_HORIZON_DAYS)
    # Compared before adding, so a far-off date (9999-12-31) is refused instead of overflowing.
    if arrival > horizon - dt.timedelta(days=nights - 1):
        last_night = arrival + dt.timedelta(days=nights - 1) if arrival <= horizon else arrival
        raise ValidationFailed(
            _("最后一晚 %(last_night)s 超出可预订范围（至 %(horizon)s）") % {"last_night": last_night, "horizon": horizon},
            detail={"last_night": last_night.isoformat(), "horizon": horizon.isoformat()},
        )


def check_base_certified(*, base: Base, first_night: dt.date, last_night: dt.date) -> None:
    if not base.is_bookable_on(first_night, last_night):
        raise Conflict(
            _("基地“%(base)s”的认证未覆盖 %(first_night)s 至 %(last_night)s 的全部住宿（状态：%(status)s，"
              "有效期 %(valid_from)s 至 %(valid_until)s）") % {
                "base": base.name, "first_night": first_night, "last_night": last_night, "status": base.get_status_display(),
                "valid_from": base.valid_from or "-", "valid_until": base.valid_until or "-",
            },
            code="base_not_certified",
            detail={"base_id": base.pk, "status": base.status, "first_night": first_night.isoformat(),
                    "last_night": last_night.isoformat()},
        )


def _check_room_requests(
    *, base: Base, requests: list[RoomRequest], room_types: dict[int, RoomType] | None = None
) -> dict[int, RoomType]:
    """The requested room types of ``base``, checked; ``room_types`` when the caller already read them."""
    if not requests:
        raise ValidationFailed(_("请至少选择一种房型"), detail={"rooms": []})
    ids = [r.room_type_id for r in requests]
    if len(set(ids)) != len(ids):
        raise ValidationFailed(_("同一房型只能出现一次"), detail={"room_type_ids": ids})
    if room_types is None:
        room_types = {rt.pk: rt for rt in RoomType.objects.filter(base=base, pk__in=ids)}
    problems = {}
    for request in requests:
        room_type = room_types.get(request.room_type_id)
        if room_type is None:
            problems[str(request.room_type_id)] = _("该基地没有此房型")
        elif request.rooms < 1 or request.people < 1:
            problems[str(request.room_type_id)] = _("房间数和人数须至少为 1")
        elif request.rooms > MAX_ROOMS or request.people > MAX_PEOPLE:
            problems[str(request.room_type_id)] = (
                _("房间数不超过 %(max_rooms)s、人数不超过 %(max_people)s") % {"max_rooms": MAX_ROOMS, "max_people": MAX_PEOPLE}
            )
        elif request.people > request.rooms * room_type.beds_per_room:
            problems[str(request.room_type_id)] = (
                _("%(room_type)s %(rooms)s 间只有 %(beds)s 张床，不够 %(people)s 人") % {
                    "room_type": room_type.name, "rooms": request.rooms, "beds": request.rooms * room_type.beds_per_room,
                    "people": request.people,
                }
            )
    if problems:
        raise ValidationFailed(_("房型选择有误：%(problems)s") % {"problems": listed(problems.values())}, detail=problems)
    return room_types


# --- inventory counters -----------------------------------------------------------------


def _locked_nights(legs: list[Leg]) -> dict[tuple[int, dt.date], NightInventory]:
    """The inventory rows of every leg, locked in primary-key order."""
    wanted = Q(pk__in=[])
    for leg in legs:
        wanted |= Q(room_type_id=leg.room_type.pk, night__range=(leg.first_night, leg.night_list[-1]))
    rows = NightInventory.objects.select_for_update().filter(wanted).order_by("pk")
    return {(row.room_type_id, row.night): row for row in rows}


def _take_rooms(legs: list[Leg]) -> None:
    """Hold every night of every leg, or raise naming each night that cannot be held (nothing changed)."""
    if connection.vendor == "postgresql":
        if _take_rooms_guarded(legs) != sum(leg.nights for leg in legs):
            # Nothing was changed and every row is still locked by this transaction: explain why.
            _refuse_unavailable(legs, _locked_nights(legs))
            raise Conflict(_("房间不足，未做任何修改"), code="insufficient_inventory")
    else:
        rows = _locked_nights(legs)
        _refuse_unavailable(legs, rows)
        for leg in legs:
            NightInventory.objects.filter(pk__in=[rows[(leg.room_type.pk, night)].pk for night in leg.night_list]).update(
                rooms_held=F("rooms_held") + leg.rooms, people_held=F("people_held") + leg.people
            )
    _refuse_fewer_beds(legs)


def _refuse_fewer_beds(legs: list[Leg]) -> None:
    """The legs were sized with the beds per room read before the nights were locked; an operator who
    lowered them meanwhile locked those nights first (``room_type_update``), so a fresh read now
    sees the change. Refusing here undoes the hold with the caller's transaction."""
    beds = dict(RoomType.objects.filter(pk__in={leg.room_type.pk for leg in legs}).values_list("pk", "beds_per_room"))
    short = [leg for leg in legs if leg.people > leg.rooms * beds[leg.room_type.pk]]
    if short:
        raise Conflict(
            _("房型床位数刚被修改，请重新查询后预订：%(problems)s") % {"problems": listed(
                _("%(room_type)s %(rooms)s 间现只有 %(beds)s 张床，不够 %(people)s 人") % {
                    "room_type": leg.room_type.name, "rooms": leg.rooms, "beds": leg.rooms * beds[leg.room_type.pk],
                    "people": leg.people,
                }
                for leg in short
            )},
            code="beds_changed",
            detail={"room_types": [{"room_type_id": leg.room_type.pk, "beds_per_room": beds[leg.room_type.pk]} for leg in short]},
        )


def _take_rooms_guarded(legs: list[Leg]) -> int:
    """One statement for every night of every leg: lock the rows in primary-key order (the global lock
    order), and only if every night exists, is open and has the rooms, add the held rooms and people.
    Returns the number of nights updated: all of them, or 0. The guard is evaluated on the locked (latest)
    row versions; the CHECK constraints remain the backstop."""
    table = connection.ops.quote_name(NightInventory._meta.db_table)
    want = ", ".join(["(%s::bigint, %s, %s, %s::integer, %s::integer)"] * len(legs))
    params: list = []
    for leg in legs:
        params += [leg.room_type.pk, leg.first_night, leg.night_list[-1], leg.rooms, leg.people]
    params.append(sum(leg.nights for leg in legs))
    sql = f"""
        WITH want (room_type_id, first_night, last_night, rooms, people) AS (VALUES {want}),
        locked AS MATERIALIZED (
            SELECT n.id, w.rooms, w.people, (NOT n.closed AND n.rooms - n.rooms_held - n.rooms_booked >= w.rooms) AS fits
              FROM {table} n
              JOIN want w ON n.room_type_id = w.room_type_id AND n.night BETWEEN w.first_night AND w.last_night
             ORDER BY n.id
               FOR UPDATE OF n
        ),
        verdict AS (SELECT count(*) = %s AND coalesce(bool_and(fits), false) AS all_fit FROM locked)
        UPDATE {table} n
           SET rooms_held = n.rooms_held + l.rooms, people_held = n.people_held + l.people
          FROM locked l, verdict v
         WHERE n.id = l.id AND v.all_fit AND NOT n.closed AND n.rooms - n.rooms_held - n.rooms_booked >= l.rooms
        RETURNING n.id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _refuse_unavailable(legs: list[Leg], rows: dict[tuple[int, dt.date], NightInventory]) -> None:
    """Raise a Conflict naming every night of ``legs`` that is not open or lacks the rooms."""
    not_open, short = [], []
    for leg in legs:
        for night in leg.night_list:
            row = rows.get((leg.room_type.pk, night))
            if row is None or row.closed:
                not_open.append({"night": night.isoformat(), "room_type_id": leg.room_type.pk, "room_type": leg.room_type.name,
                                 "state": "closed" if row else "not_open"})
            elif row.rooms_free < leg.rooms:
                short.append({"night": night.isoformat(), "room_type_id": leg.room_type.pk, "room_type": leg.room_type.name,
                              "rooms_wanted": leg.rooms, "rooms_free": row.rooms_free, "rooms_short": leg.rooms - row.rooms_free})
    if not_open:
        nights = listed(f"{n['night']} {n['room_type']}" for n in not_open)
        raise Conflict(
            _("以下日期未开放或已关闭，未做任何修改：%(nights)s") % {"nights": nights},
            code="nights_not_open",
            detail={"nights": not_open},
        )
    if short:
        nights = listed(
            _("%(night)s %(room_type)s 需 %(wanted)s 间，余 %(free)s 间，缺 %(short)s 间") % {
                "night": n["night"], "room_type": n["room_type"], "wanted": n["rooms_wanted"], "free": n["rooms_free"],
                "short": n["rooms_short"],
            }
            for n in short
        )
        raise Conflict(
            _("房间不足，未做任何修改：%(nights)s") % {"nights": nights},
            code="insufficient_inventory",
            detail={"nights": short},
        )


def _release_rooms(freed: dict[tuple[int, dt.date], tuple[int, int]], *, held: bool) -> None:
    """Give back ``{(room_type_id, night): (rooms, people)}`` from the held or the booked counters."""
    if not freed:
        return
    rooms_field, people_field = ("rooms_held", "people_held") if held else ("rooms_booked", "people_booked")
    wanted = Q(pk__in=[])
    for room_type_id, night in freed:
        wanted |= Q(room_type_id=room_type_id, night=night)
    rows = list(NightInventory.objects.select_for_update().filter(wanted).order_by("pk"))
    by_amount: dict[tuple[int, int], list[int]] = defaultdict(list)
    for row in rows:
        by_amount[freed[(row.room_type_id, row.night)]].append(row.pk)
    for (rooms, people), pks in by_amount.items():
        NightInventory.objects.filter(pk__in=pks).update(
            **{rooms_field: F(rooms_field) - rooms, people_field: F(people_field) - people}
        )


def _move_held_to_booked(lines: list[BookingLine]) -> None:
    legs_by_amount: dict[tuple[int, int], Q] = defaultdict(lambda: Q(pk__in=[]))
    for line in lines:
        last = line.first_night + dt.timedelta(days=line.nights - 1)
        legs_by_amount[(line.rooms, line.people)] |= Q(room_type_id=line.room_type_id, night__range=(line.first_night, last))
    everything = Q(pk__in=[])
    for q in legs_by_amount.values():
        everything |= q
    list(NightInventory.objects.select_for_update().filter(everything).order_by("pk").values_list("pk"))
    for (rooms, people), q in legs_by_amount.items():
        NightInventory.objects.filter(q).update(
            rooms_held=F("rooms_held") - rooms, rooms_booked=F("rooms_booked") + rooms,
            people_held=F("people_held") - people, people_booked=F("people_booked") + people,
        )


def _line_nights(lines: list[BookingLine]) -> dict[tuple[int, dt.date], tuple[int, int]]:
    taken = {}
    for line in lines:
        for i in range(line.nights):
            taken[(line.room_type_id, line.first_night + dt.timedelta(days=i))] = (line.rooms, line.people)
    return taken


# --- creating a hold --------------------------------------------------------------------


def booking_reference(now: dt.datetime) -> str:
    """``LX20261123K7Q2M9XD``: the date and 40 random bits in base32 (no 0/1/8/9 confusion)."""
    return "LX" + timezone.localtime(now).strftime("%Y%m%d") + base64.b32encode(secrets.token_bytes(5)).decode()


def _record(booking: Booking, *, action: str, from_status: str, actor_user_id: int | None, now: dt.datetime, detail=None):
    BookingEvent.objects.create(
        booking=booking, action=action, from_status=from_status, to_status=booking.status,
        actor_id=actor_user_id, detail=detail or {}, at=now,
    )
    booking_id, to_status = booking.pk, booking.status
    if from_status != to_status:
        transaction.on_commit(lambda: _send_status_notification(booking_id, from_status, to_status))


def _send_status_notification(booking_id: int, from_status: str, to_status: str) -> None:
    from groups.tasks import notify_booking_status

    notify_booking_status.delay(booking_id, from_status, to_status)


def _serve_waitlist_after_commit(base_ids) -> None:
    from groups.tasks import serve_waitlist

    for base_id in sorted(set(base_ids)):
        transaction.on_commit(lambda base_id=base_id: serve_waitlist.delay(base_id))


_UNREAD = object()


def _refuse_second_active_booking(batch: Batch) -> None:
    """Refuse a batch that already has an active booking; uses ``batch.active_reference`` when
    ``organiser_batch_get(with_active_reference=True)`` read it, else asks the database."""
    active = getattr(batch, "active_reference", _UNREAD)
    if active is _UNREAD:
        active = Booking.objects.filter(batch=batch, status__in=Booking.ACTIVE).values_list("reference", flat=True).first()
    if active:
        raise Conflict(
            _("该批次已有有效预订 %(reference)s，请先取消") % {"reference": active},
            code="batch_already_booked",
            detail={"reference": active},
        )


def _hold_detail(legs, hold_expires_at: dt.datetime) -> dict:
    """What a hold's event records: when it expires and the lines it holds."""
    return {"hold_expires_at": hold_expires_at.isoformat(),
            "lines": [{"room_type_id": leg.room_type.pk, "first_night": leg.first_night.isoformat(),
                       "nights": leg.nights, "rooms": leg.rooms, "people": leg.people} for leg in legs]}


def _hold(
    *, batch: Batch, base: Base, legs: list[Leg], people: int, rooms: int, created_by_id: int, now: dt.datetime,
    hold_expires_at: dt.datetime, route_departure: RouteDeparture | None = None, action: str = "hold",
) -> Booking:
    """Write the held booking and take the inventory; runs inside the caller's locked transaction.

    The rows are written first and the scarce rows (the departure, the nights) locked last, so they
    stay locked only for the guarded update and the commit: every hold of a popular stay queues on
    the same nights. A refusal raises, and the caller's transaction undoes the rows written."""
    _refuse_second_active_booking(batch)
    first = min(leg.first_night for leg in legs)
    last = max(leg.night_list[-1] for leg in legs)
    booking = Booking.objects.create(
        reference=booking_reference(now), batch=batch, union=batch.union, base=base, route_departure=route_departure,
        arrival=route_departure.date if route_departure else first,
        nights=(last - (route_departure.date if route_departure else first)).days + 1,
        people=people, rooms=rooms, status=Status.HELD, hold_expires_at=hold_expires_at, created_by_id=created_by_id,
    )
    lines = BookingLine.objects.bulk_create(
        BookingLine(booking=booking, room_type=leg.room_type, first_night=leg.first_night, nights=leg.nights,
                    rooms=leg.rooms, people=leg.people)
        for leg in legs
    )
    # The response shows the lines: hand them over as if prefetched (in the model's order) rather
    # than reading back what was just written.
    booking._prefetched_objects_cache = {"lines": sorted(lines, key=lambda line: (line.first_night, line.room_type_id))}
    _record(booking, action=action, from_status="", actor_user_id=created_by_id, now=now,
            detail=_hold_detail(legs, hold_expires_at))
    if route_departure is not None:
        departure = RouteDeparture.objects.select_for_update().get(pk=route_departure.pk)
        if departure.seats_free < people:
            raise Conflict(
                _("线路团期 %(date)s 座位不足：需 %(wanted)s 座，余 %(free)s 座") % {
                    "date": departure.date, "wanted": people, "free": departure.seats_free,
                },
                code="insufficient_seats",
                detail={"date": departure.date.isoformat(), "seats_wanted": people, "seats_free": departure.seats_free},
            )
        RouteDeparture.objects.filter(pk=departure.pk).update(seats_held=F("seats_held") + people)
    _take_rooms(legs)
    return booking


@dataclass(frozen=True)
class PlannedHold:
    """One hold of many written together (a published plan): the batch, its base and its legs."""

    batch: Batch
    base: Base
    legs: list[Leg]
    people: int
    rooms: int


def _holds_create_many(
    holds: list[PlannedHold], *, created_by_id: int, now: dt.datetime, hold_expires_at: dt.datetime, action: str,
) -> list[Booking]:
    """``_hold`` for many stays at once, in a fixed number of statements; inside the caller's locked
    transaction, which has already locked every night the legs touch. All or nothing: a refusal
    raises, and the caller's transaction undoes the rows written."""
    active = dict(
        Booking.objects.filter(batch__in=[hold.batch for hold in holds], status__in=Booking.ACTIVE)
        .values_list("batch_id", "reference")
    )
    if active:
        batch_id, reference = min(active.items())
        raise Conflict(
            _("批次 #%(batch_id)s 已有有效预订 %(reference)s，请先取消") % {"batch_id": batch_id, "reference": reference},
            code="batch_already_booked", detail={"batches": [{"batch_id": pk, "reference": ref} for pk, ref in sorted(active.items())]},
        )
    created = Booking.objects.bulk_create([
        Booking(
            reference=booking_reference(now), batch=hold.batch, union=hold.batch.union, base=hold.base,
            arrival=min(leg.first_night for leg in hold.legs),
            nights=(max(leg.night_list[-1] for leg in hold.legs) - min(leg.first_night for leg in hold.legs)).days + 1,
            people=hold.people, rooms=hold.rooms, status=Status.HELD, hold_expires_at=hold_expires_at, created_by_id=created_by_id,
        )
        for hold in holds
    ], batch_size=BULK_BATCH)
    BookingLine.objects.bulk_create([
        BookingLine(booking=booking, room_type=leg.room_type, first_night=leg.first_night, nights=leg.nights,
                    rooms=leg.rooms, people=leg.people)
        for booking, hold in zip(created, holds) for leg in hold.legs
    ], batch_size=BULK_BATCH)
    BookingEvent.objects.bulk_create([
        BookingEvent(
            booking=booking, action=action, from_status="", to_status=Status.HELD, actor_id=created_by_id, at=now,
            detail=_hold_detail(hold.legs, hold_expires_at),
        )
        for booking, hold in zip(created, holds)
    ], batch_size=BULK_BATCH)
    # The nights, summed over every stay: one leg per (room type, night), so a night is updated once.
    per_night: dict[tuple[int, dt.date], list] = {}
    for hold in holds:
        for leg in hold.legs:
            for night in leg.night_list:
                entry = per_night.setdefault((leg.room_type.pk, night), [leg.room_type, 0, 0])
                entry[1] += leg.rooms
                entry[2] += leg.people
    night_legs = [Leg(room_type, night, 1, rooms, people) for (_room_type_id, night), (room_type, rooms, people) in sorted(per_night.items())]
    chunk = 5000 if connection.vendor == "postgresql" else 200  # SQLite parses a long OR as a deep tree (depth ≤ 1000)
    for start in range(0, len(night_legs), chunk):
        _take_rooms(night_legs[start:start + chunk])
    for booking in created:
        booking_id = booking.pk
        transaction.on_commit(lambda booking_id=booking_id: _send_status_notification(booking_id, "", Status.HELD))
    return created


def _funding():
    """billing.services, imported late: it imports the groups models."""
    from billing import services

    return services


def _translate_integrity(error: IntegrityError) -> Conflict:
    text = str(error)
    if "booking_one_active_per_batch" in text:
        return Conflict(_("该批次已有有效预订"), code="batch_already_booked")
    if "never_oversold" in text or "counts_nonneg" in text:
        return Conflict(_("库存不足，未做任何修改"), code="insufficient_inventory")
    raise error


def booking_hold(
    *, actor: Actor, batch_id: int, base_id: int, arrival: dt.date, nights: int, rooms: list[RoomRequest],
    now: dt.datetime | None = None, hold_minutes: int = HOLD_MINUTES,
) -> Booking:
    """Hold rooms of one or more room types of a base for every night of the stay, all or nothing."""
    now = now or timezone.now()
    batch = organiser_batch_get(actor=actor, batch_id=batch_id, with_active_reference=True)
    check_stay_dates(arrival=arrival, nights=nights, today=timezone.localdate(now))
    # The base comes with its room types (one query); on its own only when none of them is there.
    found = list(RoomType.objects.filter(base_id=base_id, pk__in=[r.room_type_id for r in rooms]).select_related("base"))
    base = found[0].base if found else Base.objects.filter(pk=base_id).first()
    if base is None:
        raise NotFound(_("基地不存在"), detail={"base_id": base_id})
    for room_type in found:
        room_type.base = base
    room_types = _check_room_requests(base=base, requests=rooms, room_types={rt.pk: rt for rt in found})
    check_base_certified(base=base, first_night=arrival, last_night=arrival + dt.timedelta(days=nights - 1))
    legs = [Leg(room_types[r.room_type_id], arrival, nights, r.rooms, r.people) for r in rooms]
    try:
        with locked_transaction():
            return _hold(
                batch=batch, base=base, legs=legs, people=sum(r.people for r in rooms), rooms=sum(r.rooms for r in rooms),
                created_by_id=actor.user_id, now=now, hold_expires_at=now + dt.timedelta(minutes=hold_minutes),
            )
    except IntegrityError as error:
        raise _translate_integrity(error) from error


def route_legs(*, departure: RouteDeparture, people: int) -> list[Leg]:
    """The lodging of a route departure: consecutive nights at the same room type make one leg."""
    days = list(RouteDay.objects.filter(route_id=departure.route_id).select_related("night_room_type", "night_base"))
    legs: list[Leg] = []
    for day in days:
        if day.night_room_type is None:
            continue
        night = departure.date + dt.timedelta(days=day.number - 1)
        room_type = day.night_room_type
        rooms = math.ceil(people / room_type.beds_per_room)
        previous = legs[-1] if legs else None
        if previous and previous.room_type.pk == room_type.pk and previous.night_list[-1] + dt.timedelta(days=1) == night:
            legs[-1] = Leg(room_type, previous.first_night, previous.nights + 1, rooms, people)
        else:
            legs.append(Leg(room_type, night, 1, rooms, people))
    return legs


def booking_hold_route(
    *, actor: Actor, batch_id: int, departure_id: int, people: int, now: dt.datetime | None = None,
    hold_minutes: int = HOLD_MINUTES,
) -> Booking:
    """Hold seats on a route departure and the rooms of each of its nights, all or nothing."""
    now = now or timezone.now()
    batch = organiser_batch_get(actor=actor, batch_id=batch_id, with_active_reference=True)
    departure = RouteDeparture.objects.filter(pk=departure_id, route__published=True).select_related("route").first()
    if departure is None:
        raise NotFound(_("线路团期不存在"), detail={"departure_id": departure_id})
    if not 1 <= people <= MAX_PEOPLE:
        raise ValidationFailed(_("人数须在 1 到 %(max)s 之间") % {"max": MAX_PEOPLE}, detail={"people": people})
    legs = route_legs(departure=departure, people=people)
    if not legs:
        raise ValidationFailed(_("该线路没有住宿安排"), detail={"route_id": departure.route_id})
    check_stay_dates(arrival=departure.date, nights=(legs[-1].night_list[-1] - departure.date).days + 1,
                     today=timezone.localdate(now))
    for leg in legs:
        check_base_certified(base=leg.room_type.base, first_night=leg.first_night, last_night=leg.night_list[-1])
    try:
        with locked_transaction():
            return _hold(
                batch=batch, base=legs[0].room_type.base, legs=legs, people=people, rooms=max(leg.rooms for leg in legs),
                created_by_id=actor.user_id, now=now, hold_expires_at=now + dt.timedelta(minutes=hold_minutes),
                route_departure=departure,
            )
    except IntegrityError as error:
        raise _translate_integrity(error) from error


# --- confirming -------------------------------------------------------------------------


def booking_confirm(*, actor: Actor, booking_id: int, now: dt.datetime | None = None) -> Booking:
    """Turn a hold into a booking after re-checking everything the hold promised."""
    from groups.selectors import eligibility_failures

    now = now or timezone.now()
    with locked_transaction():
        booking = _locked_booking(actor=actor, booking_id=booking_id)
        if booking.status != Status.HELD:
            raise Conflict(
                _("只有暂留中的预订可以确认，当前状态：%(status)s") % {"status": booking.get_status_display()},
                code="not_held", detail={"status": booking.status},
            )
        if booking.hold_expires_at and booking.hold_expires_at <= now:
            raise Conflict(
                _("暂留已于 %(expired)s 过期，请重新预订") % {
                    "expired": f"{timezone.localtime(booking.hold_expires_at):%Y-%m-%d %H:%M}",
                },
                code="hold_lapsed", detail={"hold_expires_at": booking.hold_expires_at.isoformat()},
            )
        today = timezone.localdate(now)
        if booking.arrival < today:
            raise Conflict(
                _("抵达日期 %(arrival)s 已过（今天 %(today)s），不能再确认，请取消后重新预订") % {
                    "arrival": booking.arrival, "today": today,
                },
                code="arrival_passed", detail={"arrival": booking.arrival.isoformat(), "today": today.isoformat()},
            )
        lines = list(booking.lines.select_related("room_type__base"))
        for line in lines:
            check_base_certified(base=line.room_type.base, first_night=line.first_night,
                                 last_night=line.first_night + dt.timedelta(days=line.nights - 1))
        participants = booking.batch.participants.count()
        if participants != booking.people:
            raise Conflict(
                _("参加人员 %(participants)s 人与预订人数 %(people)s 人不一致") % {
                    "participants": participants, "people": booking.people,
                },
                code="participants_mismatch", detail={"participants": participants, "people": booking.people},
            )
        failures = eligibility_failures(batch=booking.batch, arrival=booking.arrival, nights=booking.nights)
        if failures:
            raise Conflict(
                _("不符合参加条件：%(problems)s") % {"problems": listed(f.message for f in failures)},
                code="not_eligible", detail={"failures": [{"rule": f.rule, "message": f.message, "people": f.people} for f in failures]},
            )
        WaitlistEntry.objects.filter(offered_booking=booking, status=WaitlistEntry.Status.OFFERED).update(
            status=WaitlistEntry.Status.ACCEPTED
        )
        if booking.route_departure_id:
            RouteDeparture.objects.select_for_update().filter(pk=booking.route_departure_id).update(
                seats_held=F("seats_held") - booking.people, seats_booked=F("seats_booked") + booking.people
            )
        _move_held_to_booked(lines)
        booking.status, booking.confirmed_at, booking.hold_expires_at = Status.CONFIRMED, now, None
        booking.save(update_fields=["status", "confirmed_at", "hold_expires_at"])
        # The fund programmes commit their shares in this transaction: one that cannot cover its share
        # refuses the confirmation (409 naming it) and nothing above is kept.
        _funding().funding_commit_for_booking(booking=booking, actor=actor, now=now)
        _record(booking, action="confirm", from_status=Status.HELD, actor_user_id=actor.user_id, now=now)
    return booking


# --- cancelling -------------------------------------------------------------------------


def policy_rules(policy) -> list[tuple[int, Decimal]]:
    """A policy's rules as (days before arrival, fee percent), most days first."""
    return sorted(((int(days), Decimal(str(percent))) for days, percent in policy or []), reverse=True)


def cancellation_percent(policy, days_before_arrival: int) -> Decimal:
    """The fee percentage of a policy like ``[[30, 0], [7, 20], [0, 50]]``: the rule with the most
    days that the cancellation still meets; none met (or no policy) means no fee."""
    rules = policy_rules(policy)
    # Cancelling on or after the arrival day (a booking not checked in) is at least as late as "0 days before".
    days_before_arrival = max(days_before_arrival, 0)
    for days, percent in rules:
        if days_before_arrival >= days:
            return percent
    return Decimal(0)


def freed_lodging_value(freed: dict[tuple[int, dt.date], tuple[int, int]], prices: dict[int, Decimal]) -> Decimal:
    """People-nights given back times the per-person nightly price of their room type."""
    return sum((prices[room_type_id] * people for (room_type_id, _night), (_rooms, people) in freed.items()), Decimal("0.00"))


@dataclass(frozen=True)
class CancellationFee:
    days_before_arrival: int
    percent: Decimal
    freed_value: Decimal
    fee: Decimal

    def as_detail(self) -> dict:
        """What the booking's event stores: the explanation in the site's language, as it has no reader."""
        with site_language():
            explanation = self.explanation
        return {"days_before_arrival": self.days_before_arrival, "percent": str(self.percent),
                "freed_value": str(self.freed_value), "fee": str(self.fee), "explanation": explanation}

    @property
    def explanation(self) -> str:
        """The fee in words, in the active language."""
        values = {"days": abs(self.days_before_arrival), "value": self.freed_value, "percent": self.percent, "fee": self.fee}
        if self.days_before_arrival < 0:
            return _("抵达日后 %(days)s 天退订，按退订规则收取释放住宿费 %(value)s 元的 %(percent)s%%，即 %(fee)s 元") % values
        return _("抵达前 %(days)s 天退订，按退订规则收取释放住宿费 %(value)s 元的 %(percent)s%%，即 %(fee)s 元") % values


def cancellation_fee(*, booking: Booking, freed, today: dt.date) -> CancellationFee:
    """Holds are free to let go; a confirmed booking pays the base's policy on the lodging it frees."""
    days_before = (booking.arrival - today).days
    if booking.status != Status.CONFIRMED:
        return CancellationFee(days_before, Decimal(0), Decimal("0.00"), Decimal("0.00"))
    prices = dict(RoomType.objects.filter(pk__in={key[0] for key in freed}).values_list("pk", "price_per_night"))
    value = freed_lodging_value(freed, prices)
    percent = cancellation_percent(booking.base.cancellation_policy, days_before)
    fee = (value * percent / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return CancellationFee(days_before, percent, value, fee)


def _freed_detail(freed) -> list[dict]:
    return [{"room_type_id": rt, "night": night.isoformat(), "rooms": rooms, "people": people}
            for (rt, night), (rooms, people) in sorted(freed.items(), key=lambda item: (item[0][1], item[0][0]))]


def _require_cancellable(booking: Booking) -> None:
    if booking.status not in (Status.HELD, Status.CONFIRMED):
        raise Conflict(
            _("当前状态（%(status)s）不能取消") % {"status": booking.get_status_display()},
            code="not_cancellable", detail={"status": booking.status},
        )


def booking_cancel(*, actor: Actor, booking_id: int, reason: str = "", now: dt.datetime | None = None) -> Booking:
    """Cancel the whole booking before check-in; everything is given back, the policy's fee applies."""
    now = now or timezone.now()
    with locked_transaction():
        booking = _locked_booking(actor=actor, booking_id=booking_id)
        _require_cancellable(booking)
        lines = list(booking.lines.select_related("room_type"))
        freed = _line_nights(lines)
        fee = cancellation_fee(booking=booking, freed=freed, today=timezone.localdate(now))
        held = booking.status == Status.HELD
        WaitlistEntry.objects.filter(offered_booking=booking, status=WaitlistEntry.Status.OFFERED).update(
            status=WaitlistEntry.Status.CANCELLED
        )
        if booking.route_departure_id:
            seats = "seats_held" if held else "seats_booked"
            RouteDeparture.objects.filter(pk=booking.route_departure_id).update(**{seats: F(seats) - booking.people})
        _release_rooms(freed, held=held)
        from_status = booking.status
        booking.status, booking.cancelled_at, booking.hold_expires_at = Status.CANCELLED, now, None
        booking.cancellation_fee += fee.fee
        booking.save(update_fields=["status", "cancelled_at", "hold_expires_at", "cancellation_fee"])
        if not held:
            _funding().funding_release_for_booking(booking=booking, actor=actor, now=now)
        _record(booking, action="cancel", from_status=from_status, actor_user_id=actor.user_id, now=now,
                detail={"reason": reason[:500], "freed": _freed_detail(freed), "fee": fee.as_detail()})
        _serve_waitlist_after_commit(line.room_type.base_id for line in lines)
    return booking


def booking_reduce(
    *, actor: Actor, booking_id: int, arrival: dt.date | None = None, nights: int | None = None,
    rooms: list[RoomRequest] | None = None, people: int | None = None, now: dt.datetime | None = None,
) -> Booking:
    """Partial cancellation: fewer nights (from either end), fewer rooms or people per room type, or
    for a route booking fewer people. Frees exactly what is no longer needed; the policy's fee applies."""
    now = now or timezone.now()
    with locked_transaction():
        booking = _locked_booking(actor=actor, booking_id=booking_id)
        _require_cancellable(booking)
        lines = list(booking.lines.select_related("room_type"))
        old = _line_nights(lines)
        if booking.route_departure_id:
            new_lines = _reduced_route_lines(booking=booking, lines=lines, arrival=arrival, nights=nights, rooms=rooms, people=people)
        else:
            new_lines = _reduced_stay_lines(booking=booking, lines=lines, arrival=arrival, nights=nights, rooms=rooms, people=people)
        new = _line_nights(new_lines)
        freed = {}
        for key, (old_rooms, old_people) in old.items():
            new_rooms, new_people = new.get(key, (0, 0))
            if (old_rooms - new_rooms, old_people - new_people) != (0, 0):
                freed[key] = (old_rooms - new_rooms, old_people - new_people)
        if not freed and not (booking.route_departure_id and people is not None and people < booking.people):
            raise ValidationFailed(_("没有要取消的内容"), code="nothing_to_cancel")
        fee = cancellation_fee(booking=booking, freed=freed, today=timezone.localdate(now))
        held = booking.status == Status.HELD
        new_people = sum(line.people for line in new_lines) if not booking.route_departure_id else new_lines[0].people
        if booking.route_departure_id:
            seats = "seats_held" if held else "seats_booked"
            RouteDeparture.objects.filter(pk=booking.route_departure_id).update(**{seats: F(seats) - (booking.people - new_people)})
        _release_rooms(freed, held=held)
        kept = {line.pk for line in new_lines}
        BookingLine.objects.filter(booking=booking).exclude(pk__in=kept).delete()
        BookingLine.objects.bulk_update(new_lines, ["first_night", "nights", "rooms", "people"])
        before = {"arrival": booking.arrival.isoformat(), "nights": booking.nights, "people": booking.people, "rooms": booking.rooms}
        if not booking.route_departure_id:
            booking.arrival = min(line.first_night for line in new_lines)
            booking.nights = new_lines[0].nights
            booking.rooms = sum(line.rooms for line in new_lines)
        else:
            booking.rooms = max(line.rooms for line in new_lines)
        booking.people = new_people
        booking.cancellation_fee += fee.fee
        booking.save(update_fields=["arrival", "nights", "rooms", "people", "cancellation_fee"])
        if not held:
            _funding().funding_adjust_for_booking(booking=booking, actor=actor, now=now)
        _record(booking, action="reduce", from_status=booking.status, actor_user_id=actor.user_id, now=now,
                detail={"before": before, "after": {"arrival": booking.arrival.isoformat(), "nights": booking.nights,
                                                     "people": booking.people, "rooms": booking.rooms},
                        "freed": _freed_detail(freed), "fee": fee.as_detail()})
        _serve_waitlist_after_commit(line.room_type.base_id for line in lines)
    return booking


def _reduced_stay_lines(*, booking, lines, arrival, nights, rooms, people) -> list[BookingLine]:
    if people is not None:
        raise ValidationFailed(_("按房型填写新的房间数和人数"), detail={"people": people})
    if nights is not None and not 1 <= nights <= booking.nights:
        raise ValidationFailed(
            _("新的晚数须在 1 到 %(max)s 之间：%(nights)s") % {"max": booking.nights, "nights": nights}, detail={"nights": nights}
        )
    new_arrival = arrival or booking.arrival
    within = booking.arrival <= new_arrival <= booking.last_night  # checked first: no date arithmetic on far-off input
    new_nights = nights or ((booking.last_night - new_arrival).days + 1 if within else 1)
    new_last = new_arrival + dt.timedelta(days=new_nights - 1) if within else new_arrival
    if not within or new_nights < 1 or new_last > booking.last_night:
        raise ValidationFailed(
            _("新的住宿 %(arrival)s 起 %(nights)s 晚须在原住宿 %(first)s 至 %(last)s 之内") % {
                "arrival": new_arrival, "nights": new_nights, "first": booking.arrival, "last": booking.last_night,
            },
            detail={"arrival": new_arrival.isoformat(), "nights": new_nights},
        )
    wanted = {r.room_type_id: r for r in rooms or []}
    by_type = {line.room_type_id: line for line in lines}
    unknown = sorted(set(wanted) - set(by_type))
    if unknown:
        raise ValidationFailed(_("预订中没有这些房型"), detail={"room_type_ids": unknown})
    new_lines = []
    problems = {}
    for line in lines:
        request = wanted.get(line.room_type_id)
        new_rooms, new_people = (request.rooms, request.people) if request else (line.rooms, line.people)
        if new_rooms == 0 and new_people == 0:
            continue
        if not (1 <= new_rooms <= line.rooms and 1 <= new_people <= line.people):
            problems[str(line.room_type_id)] = (
                _("%(room_type)s：房间 1..%(rooms)s、人数 1..%(people)s，或两者为 0 以退掉该房型") % {
                    "room_type": line.room_type.name, "rooms": line.rooms, "people": line.people,
                }
            )
        elif new_people > new_rooms * line.room_type.beds_per_room:
            problems[str(line.room_type_id)] = _("%(room_type)s %(rooms)s 间住不下 %(people)s 人") % {
                "room_type": line.room_type.name, "rooms": new_rooms, "people": new_people,
            }
        line.first_night, line.nights, line.rooms, line.people = new_arrival, new_nights, new_rooms, new_people
        new_lines.append(line)
    if problems:
        raise ValidationFailed(_("部分取消的数量有误：%(problems)s") % {"problems": listed(problems.values())}, detail=problems)
    if not new_lines:
        raise ValidationFailed(_("不能退掉全部房型，请取消整个预订"))
    return new_lines


def _reduced_route_lines(*, booking, lines, arrival, nights, rooms, people) -> list[BookingLine]:
    if arrival is not None or nights is not None or rooms:
        raise ValidationFailed(_("线路预订只能减少人数"), detail={"route": True})
    if people is None or not 1 <= people <= booking.people:
        raise ValidationFailed(_("新人数须在 1 到 %(max)s 之间") % {"max": booking.people}, detail={"people": people})
    for line in lines:
        line.people = people
        line.rooms = math.ceil(people / line.room_type.beds_per_room)
    return lines


# --- lapsing ----------------------------------------------------------------------------


def holds_release_lapsed(*, now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    """Lapse every hold whose time ran out, one transaction each; returns the bookings lapsed."""
    now = now or timezone.now()
    due = list(
        Booking.objects.filter(status=Status.HELD, hold_expires_at__lte=now).order_by("hold_expires_at", "pk").values_list("pk", flat=True)[:limit]
    )
    return [booking_id for booking_id in due if hold_lapse(booking_id=booking_id, now=now)]


def hold_lapse(*, booking_id: int, now: dt.datetime) -> bool:
    with locked_transaction():
        booking = (
            Booking.objects.select_for_update().filter(pk=booking_id, status=Status.HELD, hold_expires_at__lte=now).first()
        )
        if booking is None:
            return False
        WaitlistEntry.objects.filter(offered_booking=booking, status=WaitlistEntry.Status.OFFERED).update(
            status=WaitlistEntry.Status.EXPIRED
        )
        lines = list(booking.lines.select_related("room_type"))
        if booking.route_departure_id:
            RouteDeparture.objects.filter(pk=booking.route_departure_id).update(seats_held=F("seats_held") - booking.people)
        freed = _line_nights(lines)
        _release_rooms(freed, held=True)
        booking.status = Status.LAPSED
        booking.save(update_fields=["status"])
        _record(booking, action="lapse", from_status=Status.HELD, actor_user_id=None, now=now,
                detail={"hold_expires_at": booking.hold_expires_at.isoformat(), "freed": _freed_detail(freed)})
        _serve_waitlist_after_commit(line.room_type.base_id for line in lines)
    return True


# --- waitlist ---------------------------------------------------------------------------


def waitlist_join(
    *, actor: Actor, batch_id: int, base_id: int, room_type_id: int, arrival: dt.date, nights: int, rooms: int, people: int,
    now: dt.datetime | None = None,
) -> WaitlistEntry:
    """Wait for a base and dates as a whole batch; the next time enough rooms free up, an offer (a hold) is made."""
    now = now or timezone.now()
    batch = organiser_batch_get(actor=actor, batch_id=batch_id)
    check_stay_dates(arrival=arrival, nights=nights, today=timezone.localdate(now))
    base = Base.objects.filter(pk=base_id).first()
    if base is None:
        raise NotFound(_("基地不存在"), detail={"base_id": base_id})
    _check_room_requests(base=base, requests=[RoomRequest(room_type_id, rooms, people)])
    check_base_certified(base=base, first_night=arrival, last_night=arrival + dt.timedelta(days=nights - 1))
    with transaction.atomic():
        Batch.objects.select_for_update().filter(pk=batch.pk).first()
        _refuse_second_active_booking(batch)
        if batch.waitlist_entries.filter(status__in=[WaitlistEntry.Status.WAITING, WaitlistEntry.Status.OFFERED]).exists():
            raise Conflict(_("该批次已在候补中"), code="already_waiting")
        entry = WaitlistEntry.objects.create(
            batch=batch, union=batch.union, base=base, room_type_id=room_type_id, arrival=arrival, nights=nights,
            people=people, rooms=rooms, created_by_id=actor.user_id,
        )
        _serve_waitlist_after_commit([base.pk])
    return entry


def waitlist_cancel(*, actor: Actor, entry_id: int, now: dt.datetime | None = None) -> WaitlistEntry:
    """Leave the waitlist; an outstanding offer is declined, which frees its hold."""
    actor.require(Role.ORGANISER)
    entry = WaitlistEntry.objects.filter(union_subtree_q(actor, "union"), pk=entry_id).first()
    if entry is None:
        raise NotFound(_("候补不存在"), detail={"entry_id": entry_id})
    for _attempt in range(2):  # an offer may be made between reading the entry and leaving: then decline it
        if entry.status == WaitlistEntry.Status.OFFERED and entry.offered_booking_id:
            reason = in_site_language(gettext_lazy("放弃候补名额"))
            booking_cancel(actor=actor, booking_id=entry.offered_booking_id, reason=reason, now=now)
            entry.refresh_from_db()
            return entry
        updated = WaitlistEntry.objects.filter(pk=entry.pk, status=WaitlistEntry.Status.WAITING).update(
            status=WaitlistEntry.Status.CANCELLED
        )
        entry.refresh_from_db()
        if updated:
            return entry
    raise Conflict(
        _("候补状态为 %(status)s，无法取消") % {"status": entry.get_status_display()}, code="not_waiting",
        detail={"status": entry.status},
    )


def waitlist_serve(*, base_id: int, now: dt.datetime | None = None) -> list[WaitlistEntry]:
    """Offer freed rooms of a base to waiting batches in the order they joined.

    The base's waiting entries are locked first, so two servers never see the
    same entry waiting; each offer is a hold, so the capacity it takes is gone
    before the lock is released. An entry that does not fit stays waiting and
    a later, smaller one may be served (first fit, in joining order).
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    offered = []
    with locked_transaction():
        entries = list(
            WaitlistEntry.objects.select_for_update(of=("self",))
            .filter(base_id=base_id, status=WaitlistEntry.Status.WAITING)
            .select_related("batch__union", "base", "room_type")
            .order_by("created_at", "pk")
        )
        for entry in entries:
            if entry.arrival < today or entry.room_type is None:
                entry.status = WaitlistEntry.Status.EXPIRED
                entry.save(update_fields=["status"])
                continue
            if not entry.base.is_bookable_on(entry.arrival, entry.arrival + dt.timedelta(days=entry.nights - 1)):
                continue
            expires = now + dt.timedelta(hours=WAITLIST_OFFER_HOURS)
            try:
                with transaction.atomic():
                    booking = _hold(
                        batch=entry.batch, base=entry.base, people=entry.people, rooms=entry.rooms,
                        legs=[Leg(entry.room_type, entry.arrival, entry.nights, entry.rooms, entry.people)],
                        created_by_id=entry.created_by_id, now=now, hold_expires_at=expires, action="waitlist_offer",
                    )
            except Conflict as refusal:
                if refusal.code == "batch_already_booked":
                    entry.status = WaitlistEntry.Status.CANCELLED
                    entry.save(update_fields=["status"])
                continue
            entry.status, entry.offered_booking, entry.offer_expires_at = WaitlistEntry.Status.OFFERED, booking, expires
            entry.save(update_fields=["status", "offered_booking", "offer_expires_at"])
            offered.append(entry)
    return offered


# --- notifications ----------------------------------------------------------------------


def booking_status_notify(*, booking_id: int, from_status: str, to_status: str) -> int:
    """E-mail the union's organisers, whoever made the booking and the base about a status change.
    Never includes an ID number. Returns the number of messages sent."""
    booking = Booking.objects.select_related("base", "union", "batch", "created_by").filter(pk=booking_id).first()
    if booking is None:
        return 0
    organisers = get_user_model().objects.filter(
        membership__organisation=booking.union, membership__role=Membership.Role.ORGANISER
    ).exclude(email="").values_list("email", flat=True)
    recipients = sorted({*organisers, booking.created_by.email, booking.base.contact_email} - {""})
    if not recipients:
        return 0
    with site_language():  # sent from a task, to readers of any language
        subject, body = _status_mail(booking, from_status, to_status)
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)


def _status_mail(booking: Booking, from_status: str, to_status: str) -> tuple[str, str]:
    """Subject and body of a status change e-mail, in the active language."""
    labels = dict(Status.choices)
    new_status = labels.get(to_status, to_status)
    subject = _("[疗休养] 预订 %(reference)s %(before)s → %(after)s") % {
        "reference": booking.reference, "before": labels.get(from_status, _("新建")), "after": new_status}
    lines = [
        _("预订编号：%(reference)s") % {"reference": booking.reference},
        _("批次：%(batch)s（%(union)s）") % {"batch": booking.batch.title, "union": booking.union.name},
        _("基地：%(base)s") % {"base": booking.base.name},
        _("抵达：%(arrival)s，%(nights)s 晚，%(people)s 人，%(rooms)s 间") % {
            "arrival": booking.arrival, "nights": booking.nights, "people": booking.people, "rooms": booking.rooms},
        _("状态：%(status)s") % {"status": new_status},
    ]
    if to_status == Status.HELD and booking.hold_expires_at:
        until = f"{timezone.localtime(booking.hold_expires_at):%Y-%m-%d %H:%M}"
        lines.append(_("暂留至：%(until)s，逾期自动释放") % {"until": until})
    if booking.cancellation_fee:
        lines.append(_("退订费：%(fee)s 元") % {"fee": booking.cancellation_fee})
    return subject, "\n".join(lines)
