"""Schemathesis against the API's own OpenAPI schema: whatever a client sends, no 5xx.

Every operation gets schemathesis's boundary and wrong-type cases (its coverage phase)
and a few random ones, in-process through the WSGI app, each as one of three roles, in
a small world of real objects: most generated ids are mapped onto those objects, so
the calls reach the services behind the look-ups instead of stopping at a 404.
"""
import datetime as dt
import zlib

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from retreat.api import api

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.config.phases.update(phases=["coverage", "fuzzing"])
app = get_wsgi_application()
ROLES = ("dongguan_admin", "factory_organiser", "operator")


@pytest.fixture
def keep_the_test_connection():
    """As Django's test client does: a request must not close the test's transaction."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(keep_the_test_connection, users, union_tree):
    """One of everything the paths name, by path parameter, and a bearer token per role."""
    from groups.access import actor_of
    from groups.services import api_token_create
    from itineraries import planning
    from tests.billing.conftest import make_programme
    from tests.factories import BaseFactory, RoomTypeFactory, open_nights
    from tests.groups.conftest import add_participant
    from tests.groups.factories_booking import confirmed_booking, published_route

    base = BaseFactory(operator=union_tree["operator"], name="河源温泉疗休养基地")
    room_type = RoomTypeFactory(base=base, rooms=10)
    open_nights(room_type, timezone.localdate() + dt.timedelta(days=30), 10)
    booking = confirmed_booking(union=union_tree["factory"], base=base, room_type=room_type)
    booking.batch.participants.all().delete()  # the factory's ID numbers are not real ciphertexts
    participants = [add_participant(booking.batch, sequence=n) for n in range(1, 5)]
    first_night = timezone.localdate() + dt.timedelta(days=30)
    departure = published_route(operator=union_tree["operator"], night_bases=[(base, room_type)], departure=first_night)
    programme = make_programme(union=union_tree["dongguan"], user=users["dongguan_fund"], name="东莞市职工疗休养专项经费",
                               budget="50000.00", valid_from=first_night, valid_until=first_night + dt.timedelta(days=90))
    planning_round = planning.round_create(
        actor=actor_of(users["province_admin"]), name="统筹轮次", first_night=first_night,
        last_night=first_night + dt.timedelta(days=9), union_ids=[union_tree["dongguan"].pk], base_ids=[base.pk],
        programme_ids=[programme.pk], settings=planning.RoundSettings(time_limit_seconds=5, workers=1),
    )
    tokens = {role: api_token_create(actor=actor_of(users[role]), name="fuzz") for role in ROLES}
    ids = {
        "base_id": [base.pk], "room_type_id": [room_type.pk], "booking_id": [booking.pk], "batch_id": [booking.batch_id],
        "union_id": [union_tree["factory"].pk, union_tree["dongguan"].pk], "participant_id": [p.pk for p in participants],
        "reference": [booking.reference], "route_id": [departure.route_id], "departure_id": [departure.pk],
        "programme_id": [programme.pk], "round_id": [planning_round.pk], "token_id": [token.pk for token, _ in tokens.values()],
    }
    return ids, {role: secret for role, (_, secret) in tokens.items()}


def stable_hash(value) -> int:
    """The same on every run (``hash`` of a string is salted per process)."""
    return zlib.crc32(repr(value).encode())


def mapped(path_parameters: dict, ids: dict) -> dict:
    """Two in three generated values of the right type become ids of real objects; the rest
    (wrong types included: those must be refused) stay as generated."""
    result = {}
    for name, value in path_parameters.items():
        known = ids.get(name)
        if known and type(value) is type(known[0]) and stable_hash(value) % 3:
            value = known[stable_hash(value) % len(known)]
        result[name] = value
    return result


@schema.parametrize()
@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_input_makes_the_api_fail(case, world):
    ids, tokens = world
    if case.path_parameters:
        case.path_parameters = mapped(case.path_parameters, ids)
    role = ROLES[stable_hash((case.path_parameters, case.query, case.body)) % len(ROLES)]
    response = case.call(app=app, headers={"Authorization": f"Bearer {tokens[role]}"})
    case.validate_response(response, checks=[not_a_server_error])
