"""A small world for billing: a provincial base, a Dongguan batch, two programmes."""

import datetime as dt
import hashlib
import itertools
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import FundProgramme
from groups.access import actor_of
from groups.models import Batch, Booking, BookingLine, CheckIn, Participant
from tests.factories import BaseFactory, RoomTypeFactory

NOW = timezone.make_aware(dt.datetime(2026, 11, 20, 10, 0))
ARRIVAL = dt.date(2026, 11, 10)
_references = itertools.count(1)

NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄勇", "周杰", "吴婷"]


def make_participants(batch: Batch, count: int, *, family: int = 0, start: int = 0) -> list[Participant]:
    people = []
    for index in range(start, start + count):
        id_number = f"4419001990{index:04d}{index % 10:02d}12"[:18]
        people.append(
            Participant(
                batch=batch,
                name=NAMES[index % len(NAMES)] + (str(index // len(NAMES)) if index >= len(NAMES) else ""),
                id_encrypted="test-not-encrypted",
                id_hash=hashlib.sha256(id_number.encode()).hexdigest(),
                id_masked=id_number[:6] + "********" + id_number[-4:],
                birth_date=dt.date(1990, 1, 1),
                gender=Participant.Gender.MALE,
                phone="13800000000",
                employer="东莞某电子厂",
                job_title="装配工",
                category=Participant.Category.FAMILY if index - start >= count - family else Participant.Category.FRONT_LINE,
            )
        )
    return Participant.objects.bulk_create(people)


def make_booking(*, union, base, room_type, user, people: int, nights: int = 3, arrival=ARRIVAL, family: int = 0,
                 status=Booking.Status.CONFIRMED, with_participants: bool = True) -> Booking:
    batch = Batch.objects.create(union=union, title=f"{union.name}疗休养团", arrival=arrival, nights=nights, created_by=user)
    if with_participants:
        make_participants(batch, people, family=family)
    rooms = (people + 1) // 2
    booking = Booking.objects.create(
        reference=f"BK{next(_references):06d}", batch=batch, union=union, base=base, arrival=arrival, nights=nights,
        people=people, rooms=rooms, status=status, created_by=user,
    )
    BookingLine.objects.create(booking=booking, room_type=room_type, first_night=arrival, nights=nights, rooms=rooms, people=people)
    return booking


def check_in_all(booking: Booking, *, user, except_names=()) -> None:
    for participant in booking.batch.participants.all():
        if participant.name not in except_names:
            CheckIn.objects.create(booking=booking, participant=participant, checked_in_by=user, at=NOW)


def make_programme(*, union, user, name: str, budget: str, **terms) -> FundProgramme:
    defaults = {
        "valid_from": dt.date(2026, 1, 1), "valid_until": dt.date(2026, 12, 31), "order": 100,
        "contribution": FundProgramme.Contribution.COVER_COST,
    }
    defaults.update(terms)
    return FundProgramme.objects.create(
        union=union, name=name, budget=Decimal(budget), available=Decimal(budget), created_by=user, created_at=NOW, **defaults
    )



@pytest.fixture
def world(union_tree, users):
    """Per member of a 3-night stay: lodging 3 × ¥260 + meals 4 × ¥90 = ¥1,140.

    The province pays a flat ¥100 per person per day (4 days = ¥400) at provincial
    bases; Dongguan then covers the rest up to ¥150 per person per day (¥600); the
    union pays the remaining ¥140.
    """
    base = BaseFactory(operator=union_tree["operator"], name="河源万绿湖温泉疗休养基地")
    room_type = RoomTypeFactory(base=base, name="标准双床房", price_per_night=Decimal("260.00"), meals_per_day=Decimal("90.00"))
    province_flat = make_programme(
        union=union_tree["province"], user=users["province_admin"], name="省总疗休养定额补助", budget="100000.00", order=10,
        contribution=FundProgramme.Contribution.FLAT_SUBSIDY, flat_amount_per_person_day=Decimal("100.00"), base_levels=["provincial"],
    )
    dongguan_cover = make_programme(
        union=union_tree["dongguan"], user=users["dongguan_fund"], name="东莞市职工疗休养专项经费", budget="50000.00", order=20,
        cap_per_person_day=Decimal("150.00"),
    )
    return {
        "base": base, "room_type": room_type, "province_flat": province_flat, "dongguan_cover": dongguan_cover,
        "organiser": actor_of(users["factory_organiser"]), "fund": actor_of(users["dongguan_fund"]),
        "operator": actor_of(users["operator"]), "other_operator": actor_of(users["other_operator"]),
    }


@pytest.fixture
def booking(world, union_tree, users):
    return make_booking(
        union=union_tree["factory"], base=world["base"], room_type=world["room_type"], user=users["factory_organiser"], people=10, family=1
    )
