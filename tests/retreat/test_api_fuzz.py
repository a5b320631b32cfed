"""Schemathesis against the API's own OpenAPI schema: whatever a client sends, no 5xx.

Every operation gets schemathesis's boundary and wrong-type cases (its coverage phase)
and a few random ones, in-process through the WSGI app, taking three roles in turn, in
a small world of real objects: most generated ids are mapped onto those objects, so
the calls reach the services behind the look-ups instead of stopping at a 404.
"""
import collections
import datetime as dt
import itertools
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
_cases_run: collections.Counter = collections.Counter()  # per operation, so each takes the roles in turn


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
    """One of everything the paths name, by path parameter, and a bearer token per role: a base, a room
    type, a booking, a batch and its participants, a route and departure, a programme, a planning
    round with a request, a waitlist entry and a settlement."""
    from groups.access import actor_of
    from groups.bookings import waitlist_join
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
    sequences = itertools.count(1)  # the participants' ID numbers, unique within the world
    participants = [add_participant(booking.batch, sequence=next(sequences)) for _ in range(4)]
    first_night = timezone.localdate() + dt.timedelta(days=30)
    departure = published_route(operator=union_tree["operator"], night_bases=[(base, room_type)], departure=first_night)
    programme = make_programme(union=union_tree["dongguan"], user=users["dongguan_fund"], name="东莞市职工疗休养专项经费",
                               budget="50000.00", valid_from=first_night, valid_until=first_night + dt.timedelta(days=90))
    planning_round = planning.round_create(
        actor=actor_of(users["province_admin"]), name="统筹轮次", first_night=first_night,
        last_night=first_night + dt.timedelta(days=9), union_ids=[union_tree["dongguan"].pk], base_ids=[base.pk],
        programme_ids=[programme.pk], settings=planning.RoundSettings(time_limit_seconds=5, workers=1),
    )
    planning.round_open(actor=actor_of(users["province_admin"]), round_id=planning_round.pk)
    organiser = actor_of(users["factory_organiser"])
    request = planning.request_submit(actor=organiser, round_id=planning_round.pk, now=timezone.now(), terms=planning.RequestTerms(
        batch_id=_batch(union_tree, users, people=4, sequences=sequences).pk, people=4, rooms=2, nights=2, earliest_arrival=first_night,
        latest_arrival=first_night + dt.timedelta(days=3), preferences=[{"base": base.pk}],
    ))
    entry = waitlist_join(actor=organiser, batch_id=_batch(union_tree, users, people=2, sequences=sequences).pk, base_id=base.pk,
                          room_type_id=room_type.pk, arrival=first_night, nights=2, rooms=1, people=2)
    settlement = _settlement(union_tree, users, base=base, room_type=room_type, sequences=sequences)
    tokens = {role: api_token_create(actor=actor_of(users[role]), name="fuzz") for role in ROLES}
    ids = {
        "base_id": [base.pk], "room_type_id": [room_type.pk], "booking_id": [booking.pk], "batch_id": [booking.batch_id],
        "union_id": [union_tree["factory"].pk, union_tree["dongguan"].pk], "participant_id": [p.pk for p in participants],
        "reference": [booking.reference], "route_id": [departure.route_id], "departure_id": [departure.pk],
        "programme_id": [programme.pk], "round_id": [planning_round.pk], "token_id": [token.pk for token, _ in tokens.values()],
        "request_id": [request.pk], "entry_id": [entry.pk], "settlement_id": [settlement.pk],
    }
    return ids, {role: secret for role, (_, secret) in tokens.items()}


def _batch(union_tree, users, *, people: int, sequences):
    """A batch of the enterprise union with real (really encrypted) participants, numbered from `sequences`."""
    from groups.models import Batch
    from tests.groups.conftest import add_participant

    batch = Batch.objects.create(union=union_tree["factory"], title="车间疗休养团", nights=2, created_by=users["factory_organiser"])
    for _ in range(people):
        add_participant(batch, sequence=next(sequences))
    return batch


def _settlement(union_tree, users, *, base, room_type, sequences):
    """A settlement submitted by the base for a stay that began ten days ago, everyone checked in."""
    from billing import services
    from groups.access import actor_of
    from groups.models import Booking, BookingLine, CheckIn

    arrival = timezone.localdate() - dt.timedelta(days=10)
    batch = _batch(union_tree, users, people=2, sequences=sequences)
    booking = Booking.objects.create(
        reference="BKFUZZ01", batch=batch, union=batch.union, base=base, arrival=arrival, nights=2, people=2, rooms=1,
        status=Booking.Status.CONFIRMED, created_by=users["factory_organiser"],
    )
    BookingLine.objects.create(booking=booking, room_type=room_type, first_night=arrival, nights=2, rooms=1, people=2)
    for participant in batch.participants.all():
        CheckIn.objects.create(booking=booking, participant=participant, checked_in_by=users["operator"], at=timezone.now())
    return services.settlement_submit(actor=actor_of(users["operator"]), booking_id=booking.pk, arrivals=None, extras=[],
                                      now=timezone.now())


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
    # an operation's cases take the roles in turn (a role from a hash of the case would give
    # the mapped cases of an operation without a body, all naming one object, a single role)
    label = case.operation.label
    role = ROLES[(stable_hash(label) + _cases_run[label]) % len(ROLES)]
    _cases_run[label] += 1
    if case.path_parameters:
        case.path_parameters = mapped(case.path_parameters, ids)
    response = case.call(app=app, headers={"Authorization": f"Bearer {tokens[role]}"})
    case.validate_response(response, checks=[not_a_server_error])
