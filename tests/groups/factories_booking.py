"""Batches, participants and confirmed bookings made straight with the ORM.

The booking services (hold, confirm) are tested on their own; arrival and
itinerary tests only need a booking that is already confirmed.
"""

import datetime as dt
import itertools

import factory

from bases.models import Base, Route, RouteDay, RouteDeparture, RouteItem, RoomType
from groups.models import Batch, Booking, BookingLine, Organisation, Participant
from tests.factories import BaseFactory, RoomTypeFactory, UserFactory

_references = itertools.count(1)



class BatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Batch

    title = factory.Sequence(lambda n: f"2025年劳模疗休养第{n}批")
    arrival = dt.date(2025, 5, 12)
    nights = 3
    created_by = factory.SubFactory(UserFactory)


class ParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Participant

    name = factory.Iterator(["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强"])
    id_encrypted = "not-a-real-ciphertext"
    id_hash = factory.Sequence(lambda n: f"{n:064x}")
    id_masked = factory.Sequence(lambda n: f"440***********{n % 10000:04d}")
    birth_date = dt.date(1985, 6, 1)
    gender = Participant.Gender.FEMALE
    phone = "13800138000"
    employer = "东莞某电子厂"
    job_title = "装配工"
    category = Participant.Category.FRONT_LINE


def confirmed_booking(
    *,
    union: Organisation,
    base: Base | None = None,
    room_type: RoomType | None = None,
    arrival: dt.date = dt.date(2025, 5, 12),
    nights: int = 3,
    people: int = 4,
    names: list[str] | None = None,
    status: str = Booking.Status.CONFIRMED,
    route_departure: RouteDeparture | None = None,
) -> Booking:
    """A confirmed booking of a fresh batch of ``people`` participants, one lodging line."""
    room_type = room_type or RoomTypeFactory(base=base or BaseFactory())
    base = base or room_type.base
    organiser = UserFactory(first_name="周organiser", email="org@example.cn")
    batch = BatchFactory(union=union, arrival=arrival, nights=nights, created_by=organiser, route_departure=route_departure)
    for index in range(people):
        ParticipantFactory(batch=batch, **({"name": names[index]} if names else {}))
    rooms = -(-people // room_type.beds_per_room)
    booking = Booking.objects.create(
        reference=f"BK{next(_references):06d}",
        batch=batch,
        union=union,
        base=base,
        route_departure=route_departure,
        arrival=arrival,
        nights=nights,
        people=people,
        rooms=rooms,
        status=status,
        created_by=organiser,
    )
    BookingLine.objects.create(booking=booking, room_type=room_type, first_night=arrival, nights=nights, rooms=rooms, people=people)
    return booking


def published_route(*, operator: Organisation, night_bases: list[tuple[Base, RoomType]], departure: dt.date) -> RouteDeparture:
    """A route of len(night_bases)+1 days with two programme items a day; its departure on ``departure``."""
    route = Route.objects.create(operator=operator, title="河源红色文化与温泉三日游", price_per_head="980.00")
    plan = [(base, room_type) for base, room_type in night_bases] + [(None, None)]
    for number, (base, room_type) in enumerate(plan, start=1):
        day = RouteDay.objects.create(route=route, number=number, night_base=base, night_room_type=room_type)
        RouteItem.objects.create(day=day, time=dt.time(9, 0), place=f"第{number}站劳模馆", activity=f"参观学习{number}", meals="早餐")
        RouteItem.objects.create(day=day, time=dt.time(14, 30), place=f"第{number}站非遗工坊", activity=f"非遗体验{number}", meals="午餐、晚餐")
    return RouteDeparture.objects.create(route=route, date=departure, seats=40)


def confirmed_route_booking(*, union: Organisation, departure: RouteDeparture, people: int = 4) -> Booking:
    """A confirmed booking on a route departure: one lodging line per route night, at that night's base."""
    nights = [day for day in departure.route.route_days.order_by("number") if day.night_base_id]
    first_base = nights[0].night_base
    booking = confirmed_booking(
        union=union,
        room_type=nights[0].night_room_type,
        arrival=departure.date,
        nights=len(nights),
        people=people,
        route_departure=departure,
    )
    booking.lines.all().delete()
    rooms = -(-people // nights[0].night_room_type.beds_per_room)
    BookingLine.objects.bulk_create(
        BookingLine(
            booking=booking,
            room_type=day.night_room_type,
            first_night=departure.date + dt.timedelta(days=day.number - 1),
            nights=1,
            rooms=rooms,
            people=people,
        )
        for day in nights
    )
    assert booking.base == first_base
    return booking
