"""The planning API: tenant isolation on every endpoint, and bad input answered with a 4xx."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from itineraries import planning
from itineraries.models import PlanningRound
from tests.factories import OrganisationFactory, member
from tests.itineraries.planning.conftest import FIRST_NIGHT, make_batch, propose, submit

API = "/api/v1/planning"


def post(client, url, payload=None):
    return client.post(url, data=json.dumps(payload or {}), content_type="application/json")


@pytest.fixture
def placed_request(world, open_round, union_tree, users, organiser, admin):
    batch = make_batch(union=union_tree["factory"], user=users["factory_organiser"], title="一线职工", people=6)
    request = submit(actor=organiser, planning_round=open_round, batch=batch, people=6, rooms=3,
                     preferences=[{"base": world["heyuan"].pk}])
    propose(planning_round=open_round, placements={request: (world["heyuan"], FIRST_NIGHT)})
    return request


@pytest.fixture
def outsiders(db, union_tree):
    """An administrator and an organiser of another province's union: they see none of this."""
    other = OrganisationFactory(name="湖南省总工会", kind="province", division_code="430000")
    return {"admin": member(organisation=other, role="admin", username="hn_admin"),
            "organiser": member(organisation=other, role="organiser", username="hn_org")}


def test_admin_creates_and_runs_a_round_through_the_api(world, union_tree, users, client_for):
    client = client_for(users["province_admin"])
    response = post(client, f"{API}/rounds", {
        "name": "六月统筹", "first_night": "2031-06-01", "last_night": "2031-06-30",
        "union_ids": [union_tree["dongguan"].pk], "base_ids": [world["heyuan"].pk], "programme_ids": [world["programme"].pk],
        "regional_balance": "min_share", "min_city_share_percent": 40, "time_limit_seconds": 5, "workers": 1, "seed": 3,
    })
    assert response.status_code == 201, response.content
    round_id = response.json()["id"]
    assert response.json()["status"] == "draft"
    assert post(client, f"{API}/rounds/{round_id}/open").json()["status"] == "open"
    assert client.get(f"{API}/rounds").json()["count"] == 1
    settings = client.put(f"{API}/rounds/{round_id}/settings", data=json.dumps({"rural_weight": 20, "seed": 9}),
                          content_type="application/json")
    assert settings.json()["rural_weight"] == 20 and settings.json()["seed"] == 9
    assert client.get(f"{API}/rounds/{round_id}/export").json()["format"] == "retreat-plan/1"
    assert client.get(f"{API}/rounds/{round_id}/progress").json() == {"round_status": "open", "run": None}


def test_organiser_submits_and_answers_through_the_api(world, open_round, placed_request, users, client_for, admin):
    planning.round_publish(actor=admin, round_id=open_round.pk, now=timezone.now())
    client = client_for(users["factory_organiser"])
    mine = client.get(f"{API}/rounds/{open_round.pk}/requests").json()
    assert [item["id"] for item in mine["items"]] == [placed_request.pk]
    assert mine["items"][0]["booking_reference"].startswith("LX")
    answered = client.post(f"{API}/requests/{placed_request.pk}/accept", headers={"Idempotency-Key": "accept-1"})
    assert answered.status_code == 200, answered.content
    assert answered.json()["status"] == "accepted"
    replayed = client.post(f"{API}/requests/{placed_request.pk}/accept", headers={"Idempotency-Key": "accept-1"})
    assert replayed.headers["Idempotent-Replayed"] == "true" and replayed.json() == answered.json()
    assert post(client, f"{API}/requests/{placed_request.pk}/accept").status_code == 409  # a fresh answer: nothing to accept
    result = client.get(f"{API}/rounds/{open_round.pk}/result").json()
    assert result["placed_requests"] == 1
    assert result["city_shares"] == [{"city_code": "441900", "city_name": "东莞", "requested_people": 6,
                                      "placed_people": 6, "share_percent": 100.0,
                                      "minimum_people": 0, "short_people": 0}]


@pytest.mark.parametrize("role", ["admin", "organiser"])
@pytest.mark.parametrize("method,path", [
    ("get", "/rounds/{round}"),
    ("get", "/rounds/{round}/requests"),
    ("get", "/rounds/{round}/progress"),
    ("get", "/rounds/{round}/runs"),
    ("get", "/rounds/{round}/result"),
    ("get", "/rounds/{round}/export"),
    ("post", "/rounds/{round}/open"),
    ("post", "/rounds/{round}/close"),
    ("post", "/rounds/{round}/solve"),
    ("post", "/rounds/{round}/solve/cancel"),
    ("post", "/rounds/{round}/publish"),
    ("get", "/requests/{request}"),
    ("post", "/requests/{request}/accept"),
    ("post", "/requests/{request}/decline"),
    ("post", "/requests/{request}/withdraw"),
])
def test_another_tenant_never_learns_what_exists(open_round, placed_request, outsiders, client_for, method, path, role):
    client = client_for(outsiders[role])
    url = API + path.format(round=open_round.pk, request=placed_request.pk)
    response = client.get(url) if method == "get" else post(client, url)
    # Not found, or refused for the role before anything is looked up: never the object.
    assert response.status_code in (403, 404), (url, response.content)
    if method == "get" or (role == "admin") == path.startswith("/rounds"):
        assert response.status_code == 404, (url, response.content)


def test_another_union_sees_the_round_but_not_our_requests(open_round, placed_request, users, client_for):
    client = client_for(users["shenzhen_organiser"])
    assert client.get(f"{API}/rounds/{open_round.pk}").status_code == 200
    assert client.get(f"{API}/rounds/{open_round.pk}/requests").json()["items"] == []
    assert client.get(f"{API}/requests/{placed_request.pk}").status_code == 404
    assert post(client, f"{API}/requests/{placed_request.pk}/accept").status_code == 404


def test_a_city_admin_does_not_see_the_province_round(open_round, users, client_for):
    client = client_for(users["dongguan_admin"])
    assert client.get(f"{API}/rounds/{open_round.pk}").status_code == 404
    assert client.get(f"{API}/rounds").json()["count"] == 0


def test_organisers_cannot_run_rounds(open_round, users, client_for):
    client = client_for(users["factory_organiser"])
    assert post(client, f"{API}/rounds/{open_round.pk}/solve").status_code == 403
    assert post(client, f"{API}/rounds/{open_round.pk}/publish").status_code == 403
    response = post(client, f"{API}/rounds", {"name": "x", "first_night": "2031-06-01", "last_night": "2031-06-02",
                                              "union_ids": [1], "base_ids": [1]})
    assert response.status_code == 403


def test_draft_rounds_are_invisible_to_organisers(world, union_tree, users, admin, client_for):
    draft = planning.round_create(
        actor=admin, name="草稿", first_night=FIRST_NIGHT, last_night=FIRST_NIGHT + dt.timedelta(days=3),
        union_ids=[union_tree["dongguan"].pk], base_ids=[world["heyuan"].pk], programme_ids=[],
        settings=planning.RoundSettings(),
    )
    assert client_for(users["factory_organiser"]).get(f"{API}/rounds/{draft.pk}").status_code == 404


@pytest.mark.parametrize("change,code", [
    ({"first_night": "2031-07-01", "last_night": "2031-06-01"}, 422),
    ({"first_night": "not a date"}, 422),
    ({"union_ids": []}, 422),
    ({"base_ids": [999999]}, 422),
    ({"workers": 0}, 422),
    ({"regional_balance": "everyone"}, 422),
    ({"min_city_share_percent": 101}, 422),
])
def test_bad_round_input_is_refused(world, union_tree, users, client_for, change, code):
    payload = {"name": "轮次", "first_night": "2031-06-01", "last_night": "2031-06-30",
               "union_ids": [union_tree["dongguan"].pk], "base_ids": [world["heyuan"].pk], **change}
    response = post(client_for(users["province_admin"]), f"{API}/rounds", payload)
    assert response.status_code == code, response.content
    assert response.json()["message"]
    assert not PlanningRound.objects.exists()


@pytest.mark.parametrize("change", [
    {"people": 0},
    {"rooms": 9},  # more rooms than people
    {"earliest_arrival": "2031-04-01"},  # before the round
    {"latest_arrival": "2031-05-01", "earliest_arrival": "2031-05-03"},
    {"preferences": []},
    {"preferences": [{"base": 999999}]},
    {"preferences": [{"planet": "mars"}]},
    {"room_mix": {"2": 1}},  # does not add up to the rooms
    {"accessible_rooms": 7},
    {"priority": 9},
    {"batch_id": 999999},
])
def test_bad_request_input_is_refused(world, open_round, union_tree, users, client_for, change):
    batch = make_batch(union=union_tree["factory"], user=users["factory_organiser"], title="团", people=6)
    payload = {"batch_id": batch.pk, "people": 6, "rooms": 3, "nights": 3, "earliest_arrival": "2031-05-01",
               "latest_arrival": "2031-05-05", "preferences": [{"base": world["heyuan"].pk}], **change}
    response = post(client_for(users["factory_organiser"]), f"{API}/rounds/{open_round.pk}/requests", payload)
    assert response.status_code in (404, 422), response.content
    assert response.json()["code"] in ("validation_error", "not_found")


def test_errors_are_in_the_readers_language_with_the_same_code_and_detail(world, open_round, union_tree, users, client_for):
    batch = make_batch(union=union_tree["factory"], user=users["factory_organiser"], title="团", people=6)
    payload = {"batch_id": batch.pk, "people": 6, "rooms": 9, "nights": 3, "earliest_arrival": "2031-05-01",
               "latest_arrival": "2031-05-05", "preferences": [{"base": world["heyuan"].pk}], "accessible_rooms": 10}
    client = client_for(users["factory_organiser"])
    url = f"{API}/rounds/{open_round.pk}/requests"
    chinese = post(client, url, payload).json()
    english = client.post(url, data=json.dumps(payload), content_type="application/json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert chinese["message"] == "统筹需求有误：房间数 9 多于人数 6；无障碍房间数须在 0 到房间数之间"
    assert english["message"] == (
        "Invalid request: More rooms (9) than people (6); Accessible rooms must be between 0 and the number of rooms"
    )
    assert chinese["code"] == english["code"] == "validation_error"
    assert set(chinese["detail"]) == set(english["detail"]) == {"rooms", "accessible_rooms"}


def test_submitting_twice_and_answering_nothing_are_conflicts(world, open_round, union_tree, users, client_for):
    client = client_for(users["factory_organiser"])
    batch = make_batch(union=union_tree["factory"], user=users["factory_organiser"], title="团", people=6)
    payload = {"batch_id": batch.pk, "people": 6, "rooms": 3, "nights": 3, "earliest_arrival": "2031-05-01",
               "latest_arrival": "2031-05-05", "preferences": [{"base": world["heyuan"].pk}, {"city": "440200"}]}
    first = post(client, f"{API}/rounds/{open_round.pk}/requests", payload)
    assert first.status_code == 201, first.content
    assert post(client, f"{API}/rounds/{open_round.pk}/requests", payload).status_code == 409
    assert post(client, f"{API}/requests/{first.json()['id']}/accept").status_code == 409
    assert post(client, f"{API}/requests/{first.json()['id']}/withdraw").json()["status"] == "withdrawn"


def test_a_union_outside_the_round_cannot_submit(world, union_tree, users, admin, client_for):
    only_shenzhen = planning.round_open(actor=admin, round_id=planning.round_create(
        actor=admin, name="深圳专场", first_night=FIRST_NIGHT, last_night=FIRST_NIGHT + dt.timedelta(days=9),
        union_ids=[union_tree["shenzhen"].pk], base_ids=[world["heyuan"].pk], programme_ids=[],
        settings=planning.RoundSettings(),
    ).pk)
    batch = make_batch(union=union_tree["factory"], user=users["factory_organiser"], title="团", people=6)
    response = post(client_for(users["factory_organiser"]), f"{API}/rounds/{only_shenzhen.pk}/requests", {
        "batch_id": batch.pk, "people": 6, "rooms": 3, "nights": 3, "earliest_arrival": "2031-05-01",
        "latest_arrival": "2031-05-03", "preferences": [{"base": world["heyuan"].pk}]})
    assert response.status_code == 404  # the round is not theirs to see
