import datetime as dt

import pytest
from django.utils import timezone

from bases.models import Base
from tests.factories import BaseFactory, RoomTypeFactory



@pytest.fixture
def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture
def heyuan_base(union_tree):
    """A certified hot-spring base in Heyuan run by the fixture operator, with one room type."""
    base = BaseFactory(operator=union_tree["operator"], name="河源温泉疗休养基地", city_code="441600", county_code="441622")
    RoomTypeFactory(base=base, name="标准双床房", beds_per_room=2, rooms=20)
    return base


@pytest.fixture
def shaoguan_base(union_tree):
    """A certified base in Shaoguan run by the other operator."""
    base = BaseFactory(operator=union_tree["other_operator"], name="韶关丹霞疗休养基地", city_code="440200", county_code="440282")
    RoomTypeFactory(base=base, name="山景房", beds_per_room=2, rooms=10)
    return base


@pytest.fixture
def draft_base(union_tree):
    """A base the fixture operator is still preparing: invisible to everyone else."""
    base = BaseFactory(
        operator=union_tree["operator"], name="河源在建基地", status=Base.Status.DRAFT, level="",
        certificate_number="", valid_from=None, valid_until=None,
    )
    RoomTypeFactory(base=base, name="家庭房", beds_per_room=3, rooms=5)
    return base
