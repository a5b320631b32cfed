import datetime as dt

import pytest

from bases.models import Base, NightInventory
from tests.factories import BaseFactory, open_nights

pytestmark = pytest.mark.django_db


def test_the_directory_lists_and_searches_availability(users, client_for, heyuan_base, shaoguan_base, today):
    open_nights(heyuan_base.room_types.get(), today, 5)
    client = client_for(users["dongguan_organiser"])
    listing = client.get("/bases/?region=441600")
    assert listing.status_code == 200
    assert "河源温泉疗休养基地" in listing.content.decode() and "韶关丹霞" not in listing.content.decode()
    search = client.get(f"/bases/?first_night={today}&nights=3&people=10&rooms=5")
    page = search.content.decode()
    assert "河源温泉疗休养基地" in page and "韶关丹霞" not in page  # Shaoguan has no nights opened
    assert "¥7,800.00" in page  # 260 × 10 people × 3 nights


def test_the_base_page_shows_history_only_to_those_who_manage_it(users, client_for, heyuan_base):
    assert "认证记录" in client_for(users["operator"]).get(f"/bases/{heyuan_base.pk}/").content.decode()
    assert "认证记录" not in client_for(users["dongguan_organiser"]).get(f"/bases/{heyuan_base.pk}/").content.decode()
    assert "认证办理" in client_for(users["province_admin"]).get(f"/bases/{heyuan_base.pk}/").content.decode()


def test_operator_pages_are_404_for_another_operators_base(users, client_for, heyuan_base, draft_base):
    other = client_for(users["other_operator"])
    for url in (f"/bases/{heyuan_base.pk}/calendar/", f"/bases/{heyuan_base.pk}/edit/", f"/bases/{draft_base.pk}/"):
        assert other.get(url).status_code == 404
    assert other.post(f"/bases/{draft_base.pk}/certification/", {"action": "apply"}).status_code == 302
    draft_base.refresh_from_db()
    assert draft_base.status == "draft"
    mine = client_for(users["operator"]).get("/bases/mine/").content.decode()
    assert "河源温泉疗休养基地" in mine and "河源在建基地" in mine and "韶关" not in mine


def test_the_calendar_shows_a_refused_operation_inline_and_changes_nothing(users, client_for, heyuan_base, today):
    room_type = heyuan_base.room_types.get()
    open_nights(room_type, today, 10, rooms=10)
    busy_night = today + dt.timedelta(days=2)
    NightInventory.objects.filter(room_type=room_type, night=busy_night).update(rooms_booked=4, people_booked=8)
    client = client_for(users["operator"])
    response = client.post(
        f"/bases/{heyuan_base.pk}/calendar/",
        {"operation": "capacity", "capacity-room_type": room_type.pk, "capacity-first_night": today,
         "capacity-last_night": today + dt.timedelta(days=5), "capacity-rooms": 3},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert 'role="alert"' in page and str(busy_night) in page and "缺 1 间" in page
    assert set(NightInventory.objects.filter(room_type=room_type).values_list("rooms", flat=True)) == {10}

    closed = client.post(
        f"/bases/{heyuan_base.pk}/calendar/",
        {"operation": "close", "close-room_type": room_type.pk, "close-first_night": today + dt.timedelta(days=5),
         "close-last_night": today + dt.timedelta(days=6)},
        follow=True,
    )
    assert closed.status_code == 200
    assert NightInventory.objects.filter(room_type=room_type, closed=True).count() == 2
    assert f'data-night="{today + dt.timedelta(days=5)}"' in closed.content.decode()


def test_the_calendar_rejects_malformed_dates_inline(users, client_for, heyuan_base):
    room_type = heyuan_base.room_types.get()
    response = client_for(users["operator"]).post(
        f"/bases/{heyuan_base.pk}/calendar/",
        {"operation": "open_season", "open_season-room_type": room_type.pk, "open_season-first_night": "2026-02-30",
         "open_season-last_night": "2026-03-01", "open_season-rooms": "-4"},
    )
    assert response.status_code == 422
    assert not NightInventory.objects.exists()


def test_the_certification_queue_certifies_suspends_and_explains_refusals(users, client_for, union_tree, today):
    applied = BaseFactory(operator=union_tree["operator"], status="applied", level="", certificate_number="", valid_from=None, valid_until=None, name="待审基地")
    expiring = BaseFactory(valid_until=today + dt.timedelta(days=20), name="即将到期基地")
    BaseFactory(valid_until=today + dt.timedelta(days=400), name="长期有效基地")
    admin = client_for(users["province_admin"])
    queue = admin.get("/bases/certification/").content.decode()
    assert "待审基地" in queue and "即将到期基地" in queue and "长期有效基地" not in queue

    certified = admin.post(
        f"/bases/{applied.pk}/certification/",
        {"action": "certify", "level": "provincial", "certificate_number": "粤疗证2026-001", "valid_from": today,
         "valid_until": today + dt.timedelta(days=1095), "next": "/bases/certification/"},
        follow=True,
    )
    assert certified.redirect_chain[-1][0] == "/bases/certification/"
    applied.refresh_from_db()
    assert applied.status == "certified"

    no_reason = admin.post(f"/bases/{expiring.pk}/certification/", {"action": "suspend", "reason": ""}, follow=True)
    assert "原因" in no_reason.content.decode()
    admin.post(f"/bases/{expiring.pk}/certification/", {"action": "suspend", "reason": "安全检查"})
    expiring.refresh_from_db()
    assert expiring.status == "suspended" and expiring.certification_events.get().reason == "安全检查"
    again = admin.post(f"/bases/{expiring.pk}/certification/", {"action": "suspend", "reason": "再次"}, follow=True)
    assert "基地当前状态为“暂停”" in again.content.decode()  # the 409 message names the current status


def test_the_certification_queue_is_for_administrators(users, client_for):
    assert client_for(users["operator"]).get("/bases/certification/").status_code == 404


def test_an_operator_registers_a_base_through_the_page(users, client_for):
    client = client_for(users["operator"])
    response = client.post("/bases/new/", {
        "name": "清远连州地下河基地", "city_code": "441800", "county_code": "441882", "address": "清远市连州市",
        "latitude": "24.78", "longitude": "112.38", "kind": "scenic_lodge", "discount_percent": "0",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    base = Base.objects.get()
    assert (base.status, base.operator.name) == ("draft", "河源温泉运营公司")
    added = client.post(f"/bases/{base.pk}/edit/", {
        "form": "room_type", "room_type-name": "标准间", "room_type-beds_per_room": 2, "room_type-rooms": 8,
        "room_type-price_per_night": "180", "room_type-meals_per_day": "60",
    })
    assert added.status_code == 302 and base.room_types.count() == 1



def test_the_django_admin_shows_bases_inventory_and_routes_and_keeps_history_as_it_happened(users, client_for, heyuan_base, today):
    from django.contrib.auth import get_user_model

    from bases import services
    from bases.models import CertificationEvent
    from groups.access import actor_of

    services.certification_suspend(actor=actor_of(users["province_admin"]), base_id=heyuan_base.pk, reason="整改")
    open_nights(heyuan_base.room_types.get(), today, 3)
    root = client_for(get_user_model().objects.create_superuser("root", "root@example.cn", "pass12345"))
    for path in ("/admin/bases/base/", f"/admin/bases/base/{heyuan_base.pk}/change/", "/admin/bases/roomtype/",
                 "/admin/bases/nightinventory/", "/admin/bases/route/", "/admin/bases/certificationevent/"):
        assert root.get(path).status_code == 200, path
    event = CertificationEvent.objects.get(base=heyuan_base)
    assert root.get("/admin/bases/certificationevent/add/").status_code == 403
    assert root.post(f"/admin/bases/certificationevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert CertificationEvent.objects.filter(pk=event.pk).exists()
    night = NightInventory.objects.filter(room_type__base=heyuan_base).first()
    form = root.get(f"/admin/bases/nightinventory/{night.pk}/change/").content.decode()
    assert 'name="rooms"' in form and 'name="rooms_held"' not in form and 'name="people_booked"' not in form
    # Product users are not admin staff.
    assert client_for(users["operator"]).get("/admin/bases/base/").status_code == 302
