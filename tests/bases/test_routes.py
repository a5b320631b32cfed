import datetime as dt
import json

import pytest

from bases.models import Route, RouteDeparture

pytestmark = pytest.mark.django_db


def post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


@pytest.fixture
def route_body(heyuan_base, shaoguan_base):
    return {
        "title": "河源温泉康养三日游",
        "summary": "温泉、客家围屋、万绿湖",
        "price_per_head": "1280.00",
        "days": [
            {"number": 1, "night_base_id": heyuan_base.pk, "night_room_type_id": heyuan_base.room_types.get().pk,
             "items": [{"time": "09:00", "place": "河源市劳模馆", "activity": "参观学习", "meals": "午餐"},
                       {"time": "15:00", "place": "温泉", "activity": "康养理疗", "meals": "晚餐"}]},
            {"number": 2, "night_base_id": shaoguan_base.pk, "night_room_type_id": shaoguan_base.room_types.get().pk,
             "items": [{"time": "08:30", "place": "丹霞山", "activity": "徒步", "meals": "早午晚"}]},
            {"number": 3, "items": [{"time": "10:00", "place": "返程", "activity": "返回", "meals": "早餐"}]},
        ],
    }


def test_an_operator_creates_publishes_and_schedules_a_route(users, client_for, route_body, today):
    operator = client_for(users["operator"])
    created = post(operator, "/api/v1/bases/routes", route_body)
    assert created.status_code == 201, created.content
    route = created.json()
    assert [len(day["items"]) for day in route["days"]] == [2, 1, 1]
    assert route["days"][1]["night_base_name"] == "韶关丹霞疗休养基地" and not route["published"]

    organiser = client_for(users["dongguan_organiser"])
    assert organiser.get(f"/api/v1/bases/routes/{route['id']}").status_code == 404  # not published yet
    assert post(operator, f"/api/v1/bases/routes/{route['id']}/publish", {}).json()["published"]
    assert organiser.get(f"/api/v1/bases/routes/{route['id']}").status_code == 200

    departure = post(operator, f"/api/v1/bases/routes/{route['id']}/departures", {"date": str(today + dt.timedelta(days=14)), "seats": 40})
    assert departure.status_code == 201 and departure.json()["seats_free"] == 40
    duplicate = post(operator, f"/api/v1/bases/routes/{route['id']}/departures", {"date": str(today + dt.timedelta(days=14)), "seats": 10})
    assert duplicate.status_code == 409


def test_route_days_are_checked(users, client_for, route_body, heyuan_base, draft_base, shaoguan_base):
    operator = client_for(users["operator"])
    gap = {**route_body, "days": [route_body["days"][0], {**route_body["days"][2], "number": 3}]}
    wrong_room_type = {**route_body, "days": [{**route_body["days"][0], "night_room_type_id": shaoguan_base.room_types.get().pk}]}
    unknown_base = {**route_body, "days": [{"number": 1, "night_base_id": 999999, "night_room_type_id": 1}]}
    for body in (gap, wrong_room_type, unknown_base):
        response = post(operator, "/api/v1/bases/routes", body)
        assert response.status_code == 422, response.content
    assert not Route.objects.exists()
    # Another operator cannot send guests to this operator's unpublished base.
    hidden = {**route_body, "days": [{"number": 1, "night_base_id": draft_base.pk, "night_room_type_id": draft_base.room_types.get().pk}]}
    assert post(client_for(users["other_operator"]), "/api/v1/bases/routes", hidden).status_code == 422
    assert post(operator, "/api/v1/bases/routes", hidden).status_code == 201


def test_only_operators_publish_routes(users, client_for, route_body):
    assert post(client_for(users["dongguan_organiser"]), "/api/v1/bases/routes", route_body).status_code == 403


def test_seats_never_drop_below_those_taken(users, client_for, route_body, today):
    operator = client_for(users["operator"])
    route = post(operator, "/api/v1/bases/routes", route_body).json()
    departure = post(operator, f"/api/v1/bases/routes/{route['id']}/departures", {"date": str(today + dt.timedelta(days=7)), "seats": 30}).json()
    RouteDeparture.objects.filter(pk=departure["id"]).update(seats_held=12, seats_booked=8)
    url = f"/api/v1/bases/routes/{route['id']}/departures/{departure['id']}"
    refused = operator.patch(url, json.dumps({"seats": 15}), content_type="application/json")
    assert refused.status_code == 409
    assert refused.json()["detail"] == {"date": str(today + dt.timedelta(days=7)), "seats_taken": 20, "seats_left": 15, "seats_short": 5}
    assert RouteDeparture.objects.get().seats == 30
    assert operator.patch(url, json.dumps({"seats": 20}), content_type="application/json").json()["seats_free"] == 0
    assert operator.delete(url).status_code == 409
    past = post(operator, f"/api/v1/bases/routes/{route['id']}/departures", {"date": str(today - dt.timedelta(days=1)), "seats": 5})
    assert past.status_code == 422


def test_routes_are_filtered_by_region_theme_and_free_seats(users, client_for, route_body, shaoguan_base, today):
    operator = client_for(users["operator"])
    through_shaoguan = post(operator, "/api/v1/bases/routes", {**route_body, "published": True}).json()
    heyuan_only = post(operator, "/api/v1/bases/routes", {**route_body, "title": "河源一日", "published": True, "days": route_body["days"][:1]}).json()
    post(operator, f"/api/v1/bases/routes/{heyuan_only['id']}/departures", {"date": str(today + dt.timedelta(days=10)), "seats": 5})
    organiser = client_for(users["dongguan_organiser"])

    def ids(query):
        response = organiser.get(f"/api/v1/bases/routes?{query}")
        assert response.status_code == 200, response.content
        return {r["id"] for r in response.json()["items"]}

    assert ids("region=440200") == {through_shaoguan["id"]}
    assert ids("region=441600") == {through_shaoguan["id"], heyuan_only["id"]}
    assert ids(f"departing_from={today}&seats=5") == {heyuan_only["id"]}
    assert ids(f"departing_from={today}&seats=6") == set()
    assert ids("q=一日") == {heyuan_only["id"]}
    assert organiser.get("/api/v1/bases/routes?departing_from=someday").status_code == 422


def test_editing_a_route_replaces_its_days(users, client_for, route_body):
    operator = client_for(users["operator"])
    route = post(operator, "/api/v1/bases/routes", route_body).json()
    changed = operator.patch(
        f"/api/v1/bases/routes/{route['id']}", json.dumps({"price_per_head": "999.00", "days": route_body["days"][:2]}),
        content_type="application/json",
    )
    assert changed.status_code == 200
    assert changed.json()["price_per_head"] == "999.00" and len(changed.json()["days"]) == 2


def test_a_routes_departures_are_filtered_by_date_and_free_seats(users, client_for, route_body, today):
    operator = client_for(users["operator"])
    route = post(operator, "/api/v1/bases/routes", {**route_body, "published": True}).json()
    dates = [today + dt.timedelta(days=offset) for offset in (5, 12, 19)]
    made = [post(operator, f"/api/v1/bases/routes/{route['id']}/departures", {"date": str(day), "seats": 30}).json() for day in dates]
    RouteDeparture.objects.filter(pk=made[1]["id"]).update(seats_held=20, seats_booked=6)  # 4 seats left
    organiser = client_for(users["dongguan_organiser"])

    def listed(query=""):
        response = organiser.get(f"/api/v1/bases/routes/{route['id']}/departures?{query}")
        assert response.status_code == 200, response.content
        return [item["date"] for item in response.json()["items"]]

    assert listed() == [str(day) for day in dates]
    assert listed(f"departing_from={dates[1]}") == [str(dates[1]), str(dates[2])]
    assert listed(f"departing_until={dates[1]}&seats=5") == [str(dates[0])]
    assert listed("seats=4") == [str(day) for day in dates]
    for bad in ("seats=0", "departing_from=2026-02-30", f"departing_from={dates[2]}&departing_until={dates[0]}"):
        response = organiser.get(f"/api/v1/bases/routes/{route['id']}/departures?{bad}")
        assert response.status_code == 422 and set(response.json()) == {"code", "message", "detail"}, bad


def test_a_route_is_published_only_while_every_night_is_at_a_certified_base(users, client_for, route_body, shaoguan_base, draft_base):
    operator = client_for(users["operator"])
    at_draft = {**route_body, "days": [
        route_body["days"][0],
        {"number": 2, "night_base_id": draft_base.pk, "night_room_type_id": draft_base.room_types.get().pk},
        {"number": 3},
    ]}
    refused = post(operator, "/api/v1/bases/routes", {**at_draft, "published": True})
    assert refused.status_code == 409 and refused.json()["code"] == "base_not_certified"
    assert refused.json()["detail"]["days"] == [{"day": 2, "night_base_id": draft_base.pk, "status": "draft"}]
    assert not Route.objects.exists()

    draft_route = post(operator, "/api/v1/bases/routes", at_draft).json()  # an unpublished draft may plan ahead
    assert post(operator, f"/api/v1/bases/routes/{draft_route['id']}/publish", {}).status_code == 409
    assert not Route.objects.get(pk=draft_route["id"]).published

    route = post(operator, "/api/v1/bases/routes", {**route_body, "published": True}).json()
    moved = operator.patch(f"/api/v1/bases/routes/{route['id']}", json.dumps({"days": at_draft["days"]}), content_type="application/json")
    assert moved.status_code == 409
    assert [day["night_base_id"] for day in operator.get(f"/api/v1/bases/routes/{route['id']}").json()["days"]][1] == shaoguan_base.pk

    # The page says why instead of failing.
    page = operator.post(f"/bases/routes/{draft_route['id']}/publish/", {"published": "1", "next": "/bases/routes/mine/"})
    assert page.status_code == 302 and not Route.objects.get(pk=draft_route["id"]).published
