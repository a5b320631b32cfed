import datetime as dt
from decimal import Decimal

import pytest

from bases.models import Base
from groups.identity import check_character
from groups.models import Batch, Participant
from groups.identity import encrypt_resident_id, mask_resident_id, resident_id_hash
from tests.factories import BaseFactory, RoomTypeFactory, open_nights

ARRIVAL = dt.date(2027, 3, 1)
NOW = dt.datetime(2027, 1, 10, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def resident_id(*, area: str = "440300", birth: str = "19900101", sequence: int = 1, female: bool = False) -> str:
    """A valid ID number; the 17th digit's parity carries the gender."""
    serial = sequence * 2 + (0 if female else 1)
    first_17 = f"{area}{birth}{serial:03d}"
    return first_17 + check_character(first_17)


def add_participant(batch: Batch, *, sequence: int, female: bool = False, category: str = "front_line", name: str | None = None,
                    family_of: Participant | None = None, birth: str = "19900101") -> Participant:
    number = resident_id(sequence=sequence, female=female, birth=birth)
    return Participant.objects.create(
        batch=batch, name=name or f"职工{sequence}", id_encrypted=encrypt_resident_id(number), id_hash=resident_id_hash(number),
        id_masked=mask_resident_id(number), birth_date=dt.date(int(birth[:4]), int(birth[4:6]), int(birth[6:])),
        gender="F" if female else "M", phone="13800138000", employer="东莞某电子厂", category=category, family_of=family_of,
    )



@pytest.fixture
def base(union_tree):
    return BaseFactory(
        operator=union_tree["operator"], name="河源温泉疗休养基地", contact_email="base@example.cn",
        cancellation_policy=[[30, 0], [7, 20], [0, 50]],
    )


@pytest.fixture
def twin(base):
    room_type = RoomTypeFactory(base=base, name="标准双床房", beds_per_room=2, rooms=10, price_per_night=Decimal("260.00"))
    open_nights(room_type, ARRIVAL - dt.timedelta(days=5), 20)
    return room_type


@pytest.fixture
def single(base):
    room_type = RoomTypeFactory(base=base, name="单人间", beds_per_room=1, rooms=4, price_per_night=Decimal("380.00"))
    open_nights(room_type, ARRIVAL - dt.timedelta(days=5), 20)
    return room_type


@pytest.fixture
def batch(users, union_tree):
    return Batch.objects.create(union=union_tree["factory"], title="2027 春季先进职工疗休养", arrival=ARRIVAL, nights=3,
                                created_by=users["factory_organiser"])


def make_batch(union, user, title="批次") -> Batch:
    return Batch.objects.create(union=union, title=title, arrival=ARRIVAL, nights=3, created_by=user)


@pytest.fixture
def uncertified_base(union_tree):
    return BaseFactory(operator=union_tree["operator"], status=Base.Status.SUSPENDED)
