import json

import pytest

from bases.models import Base, RoomType, Theme

pytestmark = pytest.mark.django_db

NEW_BASE = {
    "name": "梅州客家围屋疗休养基地", "city_code": "441400", "county_code": "441481", "address": "梅州市兴宁市围龙屋路8号",
    "latitude": "24.150000", "longitude": "115.730000", "kind": "homestay", "themes": ["hakka"], "is_rural": True,
}


def send(client, method, path, body=None):
    return getattr(client, method)(path, json.dumps(body or {}), content_type="application/json")


@pytest.fixture(autouse=True)
def hakka():
    return Theme.objects.create(slug="hakka", name="客家文化")


def test_an_operator_registers_a_draft_base_adds_room_types_and_applies(users, client_for):
    operator = client_for(users["operator"])
    created = send(operator, "post", "/api/v1/bases", NEW_BASE)
    assert created.status_code == 201, created.content
    base = created.json()
    assert (base["status"], base["themes"], base["operator_name"]) == ("draft", ["hakka"], "河源温泉运营公司")

    room_type = send(operator, "post", f"/api/v1/bases/{base['id']}/room-types",
                     {"name": "围屋双床房", "beds_per_room": 2, "rooms": 12, "price_per_night": "198.00", "meals_per_day": "60"})
    assert room_type.status_code == 201
    changed = send(operator, "patch", f"/api/v1/bases/{base['id']}/room-types/{room_type.json()['id']}", {"rooms": 14})
    assert changed.json()["rooms"] == 14
    renamed = send(operator, "patch", f"/api/v1/bases/{base['id']}", {"name": "梅州围龙屋基地", "themes": []})
    assert renamed.json()["name"] == "梅州围龙屋基地" and renamed.json()["themes"] == []

    applied = send(operator, "post", f"/api/v1/bases/{base['id']}/certification/apply", {"reason": "申请市级认证"})
    assert applied.status_code == 200 and applied.json()["to_status"] == "applied"
    events = operator.get(f"/api/v1/bases/{base['id']}/certification/events").json()
    assert [e["action"] for e in events["items"]] == ["apply"] and events["items"][0]["actor_username"] == "hy_operator"
    # Only drafts can be deleted.
    assert operator.delete(f"/api/v1/bases/{base['id']}").status_code == 409


def test_bad_base_input_is_a_422_naming_the_field(users, client_for):
    operator = client_for(users["operator"])
    for change in ({"county_code": "440282"}, {"city_code": "441401"}, {"themes": ["nope"]}, {"latitude": "95"}, {"kind": "castle"}):
        response = send(operator, "post", "/api/v1/bases", {**NEW_BASE, **change})
        assert response.status_code == 422, (change, response.content)
    assert not Base.objects.exists()


def test_an_admin_registers_bases_for_an_operator_in_its_own_region(users, client_for, union_tree):
    dongguan = client_for(users["dongguan_admin"])
    assert send(dongguan, "post", "/api/v1/bases", {**NEW_BASE, "operator_id": union_tree["operator"].pk}).status_code == 422
    in_dongguan = {**NEW_BASE, "city_code": "441900", "county_code": "441900", "operator_id": union_tree["operator"].pk}
    assert send(dongguan, "post", "/api/v1/bases", in_dongguan).status_code == 201
    assert send(dongguan, "post", "/api/v1/bases", {**in_dongguan, "operator_id": union_tree["dongguan"].pk}).status_code == 422
    assert send(client_for(users["dongguan_organiser"]), "post", "/api/v1/bases", NEW_BASE).status_code == 403


def test_a_draft_is_deleted_and_a_booked_room_type_is_kept(users, client_for, draft_base, today):
    operator = client_for(users["operator"])
    room_type = draft_base.room_types.get()
    room_type.nights.create(night=today, rooms=5, rooms_held=1, people_held=2)
    assert operator.delete(f"/api/v1/bases/{draft_base.pk}/room-types/{room_type.pk}").status_code == 409
    room_type.nights.update(rooms_held=0, people_held=0)
    assert operator.delete(f"/api/v1/bases/{draft_base.pk}/room-types/{room_type.pk}").status_code == 204
    assert operator.delete(f"/api/v1/bases/{draft_base.pk}").status_code == 204
    assert not Base.objects.filter(pk=draft_base.pk).exists() and not RoomType.objects.filter(pk=room_type.pk).exists()


def test_the_directory_filters(users, client_for, heyuan_base, shaoguan_base, hakka):
    heyuan_base.themes.add(hakka)
    Base.objects.filter(pk=shaoguan_base.pk).update(level="city", kind="sanatorium")
    client = client_for(users["dongguan_organiser"])

    def ids(query):
        response = client.get(f"/api/v1/bases?{query}")
        assert response.status_code == 200, response.content
        return {b["id"] for b in response.json()["items"]}

    assert ids("region=441600") == {heyuan_base.pk}
    assert ids("region=440282") == {shaoguan_base.pk}
    assert ids("region=440000") == {heyuan_base.pk, shaoguan_base.pk}
    assert ids("theme=hakka") == {heyuan_base.pk}
    assert ids("level=city") == {shaoguan_base.pk}
    assert ids("kind=sanatorium&status=certified") == {shaoguan_base.pk}
    assert ids("q=丹霞") == {shaoguan_base.pk}
    assert client.get("/api/v1/bases?level=national").status_code == 422
    assert client.get("/api/v1/bases?limit=201").status_code == 422
