"""The booking API: idempotent replays, error shapes, tenancy for every endpoint."""

import datetime as dt
import json
import threading

import pytest
from django.db import connection, connections  # noqa: F401  (skipif evaluates "connection")
from django.test import Client

from bases.models import NightInventory
from groups.models import Booking, IdempotencyRecord, WaitlistEntry
from tests.groups.conftest import ARRIVAL, add_participant

pytestmark = pytest.mark.django_db


def post(client, url, body=None, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(url, json.dumps(body or {}), content_type="application/json", **headers)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    """Holds made "now" by the API use the real clock; keep arrivals in its future.

    The date is set on the local (Shanghai) clock: set on UTC's, after 16:00 UTC it is the 11th there.
    """
    import django.utils.timezone as tz

    real_now = tz.now
    monkeypatch.setattr("groups.bookings.timezone.now", lambda: tz.localtime(real_now()).replace(year=2027, month=1, day=10))


def hold_body(batch, twin, rooms=2, people=4):
    return {"batch_id": batch.pk, "base_id": twin.base_id, "arrival": ARRIVAL.isoformat(), "nights": 3,
            "rooms": [{"room_type_id": twin.pk, "rooms": rooms, "people": people}]}


def test_hold_replay_returns_the_first_response(users, batch, twin, client_for):
    client = client_for(users["factory_organiser"])
    first = post(client, "/api/v1/bookings", hold_body(batch, twin), key="k-1")
    assert first.status_code == 201, first.content
    again = post(client, "/api/v1/bookings", hold_body(batch, twin), key="k-1")
    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Booking.objects.count() == 1
    assert NightInventory.objects.get(room_type=twin, night=ARRIVAL).rooms_held == 2


def test_errors_are_replayed_too_and_a_different_body_is_422(users, batch, twin, client_for):
    client = client_for(users["factory_organiser"])
    too_big = hold_body(batch, twin, rooms=11, people=20)
    first = post(client, "/api/v1/bookings", too_big, key="k-2")
    assert first.status_code == 409 and first.json()["code"] == "insufficient_inventory"
    NightInventory.objects.filter(room_type=twin).update(rooms=30)  # now it would fit, but the key has its answer
    again = post(client, "/api/v1/bookings", too_big, key="k-2")
    assert (again.status_code, again.json()) == (409, first.json())
    different = post(client, "/api/v1/bookings", hold_body(batch, twin), key="k-2")
    assert different.status_code == 422 and different.json()["code"] == "idempotency_key_reused"
    assert not Booking.objects.exists()


def test_the_same_key_of_another_user_is_independent(users, batch, twin, client_for, union_tree):
    post(client_for(users["factory_organiser"]), "/api/v1/bookings", hold_body(batch, twin), key="shared")
    other = post(client_for(users["shenzhen_organiser"]), "/api/v1/bookings", hold_body(batch, twin), key="shared")
    assert other.status_code == 404  # not a replay of someone else's answer
    assert IdempotencyRecord.objects.filter(key="shared").count() == 2


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_make_one_booking(users, batch, twin):
    barrier = threading.Barrier(8)
    answers = []

    def replay():
        client = Client()
        client.force_login(users["factory_organiser"])
        barrier.wait()
        response = post(client, "/api/v1/bookings", hold_body(batch, twin), key="same-key")
        answers.append((response.status_code, response.json().get("reference") or response.json().get("code")))
        connections.close_all()

    threads = [threading.Thread(target=replay) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert Booking.objects.count() == 1
    reference = Booking.objects.get().reference
    assert all(answer == (201, reference) or answer == (409, "busy") for answer in answers), answers
    assert (201, reference) in answers
    assert NightInventory.objects.get(room_type=twin, night=ARRIVAL).rooms_held == 2


def test_bad_input_gets_the_error_shape_and_changes_nothing(users, batch, twin, client_for):
    client = client_for(users["factory_organiser"])
    for body in [
        {"batch_id": batch.pk},  # no stay
        {**hold_body(batch, twin), "nights": 0},
        {**hold_body(batch, twin), "arrival": "2027-02-30"},
        {**hold_body(batch, twin), "rooms": [{"room_type_id": 999999, "rooms": 1, "people": 1}]},
        {**hold_body(batch, twin), "rooms": [{"room_type_id": twin.pk, "rooms": 1, "people": 5}]},
        "not an object",
    ]:
        response = client.post("/api/v1/bookings", json.dumps(body), content_type="application/json")
        assert response.status_code == 422, (body, response.content)
        assert set(response.json()) == {"code", "message", "detail"}
    assert client.post("/api/v1/bookings", "{oops", content_type="application/json").status_code in (400, 422)
    response = post(client, "/api/v1/bookings", hold_body(batch, twin), key="x" * 200)
    assert response.status_code == 422
    assert not Booking.objects.exists()
    assert set(NightInventory.objects.values_list("rooms_held", flat=True)) == {0}


def test_hold_confirm_reduce_cancel_through_the_api(users, batch, twin, client_for):
    client = client_for(users["factory_organiser"])
    booking = post(client, "/api/v1/bookings", hold_body(batch, twin, rooms=2, people=4), key="a").json()
    for i in range(3):
        add_participant(batch, sequence=i + 1)
    mismatch = post(client, f"/api/v1/bookings/{booking['id']}/confirm", key="b")
    assert mismatch.status_code == 409 and mismatch.json()["code"] == "participants_mismatch"
    reduced = post(client, f"/api/v1/bookings/{booking['id']}/reduce",
                   {"rooms": [{"room_type_id": twin.pk, "rooms": 2, "people": 3}]}, key="c")
    assert reduced.status_code == 200 and reduced.json()["people"] == 3
    confirmed = post(client, f"/api/v1/bookings/{booking['id']}/confirm", key="d")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    detail = client.get(f"/api/v1/bookings/{booking['id']}").json()
    assert [e["action"] for e in detail["events"]] == ["hold", "reduce", "confirm"]
    cancelled = post(client, f"/api/v1/bookings/{booking['id']}/cancel", {"reason": "疫情"}, key="e")
    assert cancelled.json()["status"] == "cancelled"


def test_route_hold_validation(users, batch, client_for):
    response = post(client_for(users["factory_organiser"]), "/api/v1/bookings",
                    {"batch_id": batch.pk, "route_departure_id": 999999, "people": 10})
    assert response.status_code == 404


def test_tenancy_for_every_booking_endpoint(users, batch, twin, client_for, union_tree):
    mine = client_for(users["factory_organiser"])
    booking = post(mine, "/api/v1/bookings", hold_body(batch, twin)).json()
    outsider = client_for(users["shenzhen_organiser"])
    other_operator = client_for(users["other_operator"])
    for client in (outsider, other_operator):
        assert client.get(f"/api/v1/bookings/{booking['id']}").status_code == 404
        assert client.get("/api/v1/bookings").json()["count"] == 0
        assert client.get(f"/api/v1/batches/{batch.pk}").status_code == 404
        assert client.get(f"/api/v1/batches/{batch.pk}/participants").status_code == 404
        assert client.get(f"/api/v1/batches/{batch.pk}/participants/export").status_code == 404
        assert client.get(f"/api/v1/batches/{batch.pk}/rooming").status_code == 404
        assert client.get(f"/api/v1/batches/{batch.pk}/eligibility").status_code == 404
    assert post(outsider, f"/api/v1/bookings/{booking['id']}/confirm").status_code == 404
    assert post(outsider, f"/api/v1/bookings/{booking['id']}/cancel").status_code == 404
    assert post(outsider, f"/api/v1/bookings/{booking['id']}/reduce", {"nights": 1}).status_code == 404
    assert post(outsider, f"/api/v1/batches/{batch.pk}/rooming/propose").status_code == 404
    assert post(outsider, "/api/v1/bookings", hold_body(batch, twin)).status_code == 404
    assert post(outsider, "/api/v1/waitlist", {"batch_id": batch.pk, "base_id": twin.base_id, "room_type_id": twin.pk,
                                               "arrival": ARRIVAL.isoformat(), "nights": 3, "rooms": 1, "people": 2}).status_code == 404
    # Operators may read what is booked at their base but not change it.
    operator = client_for(users["operator"])
    assert operator.get(f"/api/v1/bookings/{booking['id']}").status_code == 200
    assert [b["reference"] for b in operator.get("/api/v1/bookings").json()["items"]] == [booking["reference"]]
    assert post(operator, f"/api/v1/bookings/{booking['id']}/cancel").status_code == 403
    # The higher union sees it; the province administrator too.
    assert client_for(users["dongguan_organiser"]).get(f"/api/v1/bookings/{booking['id']}").status_code == 200
    assert client_for(users["province_admin"]).get(f"/api/v1/bookings/{booking['id']}").status_code == 200
    assert Booking.objects.get().status == "held"


def test_waitlist_endpoints_are_scoped(users, batch, twin, client_for):
    mine = client_for(users["factory_organiser"])
    NightInventory.objects.filter(room_type=twin).update(rooms_booked=10)
    joined = post(mine, "/api/v1/waitlist", {"batch_id": batch.pk, "base_id": twin.base_id, "room_type_id": twin.pk,
                                             "arrival": ARRIVAL.isoformat(), "nights": 3, "rooms": 1, "people": 2}, key="w")
    assert joined.status_code == 201 and joined.json()["status"] == "waiting"
    assert client_for(users["shenzhen_organiser"]).get("/api/v1/waitlist").json()["count"] == 0
    assert post(client_for(users["shenzhen_organiser"]), f"/api/v1/waitlist/{joined.json()['id']}/cancel").status_code == 404
    assert client_for(users["operator"]).get("/api/v1/waitlist").json()["count"] == 1
    assert post(mine, f"/api/v1/waitlist/{joined.json()['id']}/cancel").json()["status"] == "cancelled"
    assert WaitlistEntry.objects.get().status == "cancelled"


def test_availability_lists_room_types_with_free_rooms(users, twin, single, client_for):
    NightInventory.objects.filter(room_type=twin, night=ARRIVAL + dt.timedelta(days=1)).update(rooms_held=7)
    rows = client_for(users["factory_organiser"]).get(
        f"/api/v1/availability?base_id={twin.base_id}&arrival={ARRIVAL}&nights=3").json()
    assert [(r["name"], r["rooms_free"]) for r in rows] == [("标准双床房", 3), ("单人间", 4)]


@pytest.mark.parametrize("nights", [1, 8])
def test_an_api_hold_runs_a_bounded_number_of_queries(users, batch, twin, client_for, nights):
    """Authentication, the idempotency record and the hold, but no N+1: the response's lines are not read back."""
    from django.test.utils import CaptureQueriesContext

    client = client_for(users["factory_organiser"])
    body = {**hold_body(batch, twin, rooms=1, people=2), "nights": nights}
    with CaptureQueriesContext(connection) as queries:
        response = post(client, "/api/v1/bookings", body, key=f"count-{nights}")
    assert response.status_code == 201, response.content
    assert [line["nights"] for line in response.json()["lines"]] == [nights]
    assert len(queries) <= 20, [q["sql"][:80] for q in queries]
    assert not [q for q in queries if "groups_bookingline" in q["sql"] and q["sql"].lstrip().startswith("SELECT")]


def test_the_cancellation_quote_shows_the_policy_and_todays_fee_and_changes_nothing(users, batch, twin, client_for):
    client = client_for(users["factory_organiser"])
    booking = post(client, "/api/v1/bookings", hold_body(batch, twin, rooms=2, people=4)).json()
    held = client.get(f"/api/v1/bookings/{booking['id']}/cancellation-quote").json()
    assert [(rule["days_before_arrival"], rule["percent"]) for rule in held["policy"]] == [(30, "0"), (7, "20"), (0, "50")]
    assert held["cancellable"] and held["fee"] == "0.00" and "免费" in held["explanation"]
    for i in range(4):
        add_participant(batch, sequence=i + 1)
    assert post(client, f"/api/v1/bookings/{booking['id']}/confirm").status_code == 200
    quote = client.get(f"/api/v1/bookings/{booking['id']}/cancellation-quote").json()
    # Today is 2027-01-10, 50 days before arrival: the 30-day rule, 0%.
    assert (quote["days_before_arrival"], quote["percent"], quote["freed_value"], quote["fee"]) == (50, "0", "3120.00", "0.00")
    assert Booking.objects.get().status == "confirmed"
    assert client_for(users["shenzhen_organiser"]).get(f"/api/v1/bookings/{booking['id']}/cancellation-quote").status_code == 404
