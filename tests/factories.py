"""factory_boy factories shared by the whole suite."""

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from bases.models import Base, NightInventory, RoomType
from groups.models import Membership, Organisation
from groups.services import organisation_create


class OrganisationFactory(factory.django.DjangoModelFactory):
    """Goes through ``organisation_create`` so the tree path is right."""

    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"测试工会{n}")
    kind = Organisation.Kind.ENTERPRISE
    division_code = "441900"
    parent = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return organisation_create(**kwargs)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.PostGenerationMethodCall("set_password", "pass12345")

    @factory.post_generation
    def finish(self, create, extracted, **kwargs):
        if create:
            self.save()


def member(*, organisation: Organisation, role: str, username: str | None = None):
    user = UserFactory(**({"username": username} if username else {}))
    Membership.objects.create(user=user, organisation=organisation, role=role)
    return user


class BaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Base
        skip_postgeneration_save = True

    operator = factory.LazyFunction(lambda: OrganisationFactory(kind=Organisation.Kind.OPERATOR, division_code="441600"))
    name = factory.Sequence(lambda n: f"测试疗休养基地{n}")
    city_code = "441600"
    county_code = "441622"
    address = "河源市龙川县测试路1号"
    latitude = Decimal("24.100000")
    longitude = Decimal("115.260000")
    kind = Base.Kind.HOT_SPRING
    status = Base.Status.CERTIFIED
    level = Base.Level.PROVINCIAL
    certificate_number = factory.Sequence(lambda n: f"粤疗证{n:05d}")
    valid_from = dt.date(2020, 1, 1)
    valid_until = dt.date(2035, 12, 31)


class RoomTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoomType

    base = factory.SubFactory(BaseFactory)
    name = "标准双床房"
    beds_per_room = 2
    rooms = 20
    price_per_night = Decimal("260.00")
    meals_per_day = Decimal("90.00")


def open_nights(room_type: RoomType, first: dt.date, count: int, rooms: int | None = None) -> list[NightInventory]:
    return NightInventory.objects.bulk_create(
        NightInventory(room_type=room_type, night=first + dt.timedelta(days=i), rooms=room_type.rooms if rooms is None else rooms)
        for i in range(count)
    )
