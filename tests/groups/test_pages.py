"""The organiser and base operator pages: a walk through, and tenancy."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from groups.models import Batch, Booking, Participant
from tests.groups.conftest import ARRIVAL, add_participant
from tests.groups.test_participants import csv_file, good_rows

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    import django.utils.timezone as tz

    real_now = tz.now
    monkeypatch.setattr("groups.bookings.timezone.now", lambda: tz.localtime(real_now()).replace(year=2027, month=1, day=10))


def test_organiser_creates_imports_holds_confirms_and_the_operator_sees_it(users, twin, client_for):
    web = client_for(users["factory_organiser"])
    created = web.post("/batches/", {"title": "春季批次", "arrival": ARRIVAL.isoformat(), "nights": "3", "family_allowed": "on"})
    batch = Batch.objects.get(title="春季批次")
    assert created.status_code == 302 and created["Location"] == f"/batches/{batch.pk}/"

    bad = good_rows()
    bad[1][2] = "123"
    page = web.post(f"/batches/{batch.pk}/", {"file": SimpleUploadedFile("a.csv", csv_file(bad))})
    assert page.status_code == 200 and "手机号" in page.content.decode() and not Participant.objects.exists()
    web.post(f"/batches/{batch.pk}/", {"file": SimpleUploadedFile("a.csv", csv_file(good_rows()))})
    assert batch.participants.count() == 3

    search = web.get(f"/batches/{batch.pk}/availability/?arrival={ARRIVAL}&nights=3&people=3&rooms=2&base_id={twin.base_id}")
    assert search.status_code == 200 and twin.base.name in search.content.decode()
    held = web.post(f"/batches/{batch.pk}/availability/?arrival={ARRIVAL}&nights=3",
                    {"action": "hold", "base_id": twin.base_id, f"rooms_{twin.pk}": "2", f"people_{twin.pk}": "3"})
    booking = Booking.objects.get()
    assert held["Location"] == f"/bookings/{booking.pk}/"
    web.post(f"/bookings/{booking.pk}/", {"action": "confirm"})
    booking.refresh_from_db()
    assert booking.status == "confirmed"

    incoming = client_for(users["operator"]).get("/bookings/")
    assert booking.reference in incoming.content.decode()
    assert booking.reference not in client_for(users["other_operator"]).get("/bookings/").content.decode()


def test_pages_of_another_tenant_are_404(users, batch, twin, client_for):
    outsider = client_for(users["shenzhen_organiser"])
    assert outsider.get(f"/batches/{batch.pk}/").status_code == 404
    assert outsider.get(f"/batches/{batch.pk}/availability/").status_code == 404
    assert outsider.post(f"/batches/{batch.pk}/", {"propose_rooming": "1"}).status_code == 404
    web = client_for(users["factory_organiser"])
    web.post(f"/batches/{batch.pk}/availability/?arrival={ARRIVAL}&nights=3",
             {"action": "hold", "base_id": twin.base_id, f"rooms_{twin.pk}": "1", f"people_{twin.pk}": "2"})
    booking = Booking.objects.get()
    assert outsider.get(f"/bookings/{booking.pk}/").status_code == 404
    assert outsider.post(f"/bookings/{booking.pk}/", {"action": "cancel"}).status_code == 404
    assert Booking.objects.get().status == "held"


def test_partial_cancellation_and_waitlist_from_the_pages(users, batch, twin, client_for):
    web = client_for(users["factory_organiser"])
    web.post(f"/batches/{batch.pk}/availability/?arrival={ARRIVAL}&nights=3",
             {"action": "hold", "base_id": twin.base_id, f"rooms_{twin.pk}": "3", f"people_{twin.pk}": "6"})
    booking = Booking.objects.get()
    web.post(f"/bookings/{booking.pk}/", {"action": "reduce", "arrival": (ARRIVAL + dt.timedelta(days=1)).isoformat(),
                                          "nights": "2", f"rooms_{twin.pk}": "2", f"people_{twin.pk}": "4"})
    booking.refresh_from_db()
    assert (booking.arrival, booking.nights, booking.rooms, booking.people) == (ARRIVAL + dt.timedelta(days=1), 2, 2, 4)
    web.post(f"/bookings/{booking.pk}/", {"action": "cancel"})
    other = Batch.objects.create(union=batch.union, title="候补批次", arrival=ARRIVAL, nights=3, created_by=users["factory_organiser"])
    add_participant(other, sequence=1)
    web.post(f"/batches/{other.pk}/availability/?arrival={ARRIVAL}&nights=3",
             {"action": "waitlist", "base_id": twin.base_id, "room_type_id": twin.pk, "rooms": "1", "people": "2"})
    assert other.waitlist_entries.get().status in ("waiting", "offered")
    assert "候补批次" in web.get("/bookings/").content.decode()


def test_odd_form_input_is_explained_and_changes_nothing(users, batch, twin, client_for):
    web = client_for(users["factory_organiser"])
    far = web.get(f"/batches/{batch.pk}/availability/?arrival=9999-12-31&nights=3&base_id={twin.base_id}")
    assert far.status_code == 200 and "超出可预订范围" in far.content.decode()
    assert web.get(f"/batches/{batch.pk}/availability/?arrival=0001-01-01&nights=3").status_code == 200
    odd = web.post(f"/batches/{batch.pk}/availability/?arrival={ARRIVAL}&nights=3",
                   {"action": "hold", "base_id": twin.base_id, "rooms_abc": "2", "rooms_²": "2", f"rooms_{twin.pk}": "99999999999",
                    f"people_{twin.pk}": "99999999999"}, follow=True)
    assert odd.status_code == 200 and "房间数不超过" in odd.content.decode()
    waiting = web.post(f"/batches/{batch.pk}/availability/?arrival={ARRIVAL}&nights=3",
                       {"action": "waitlist", "base_id": twin.base_id, "room_type_id": twin.pk, "rooms": "99999999999", "people": "1"})
    assert waiting.status_code == 200
    far_batch = web.post("/batches/", {"title": "远期批次", "arrival": "9999-12-31", "nights": "3"})
    assert far_batch.status_code == 200 and "超出可预订范围" in far_batch.content.decode()
    assert not Booking.objects.exists() and not batch.waitlist_entries.exists()
    assert not Batch.objects.filter(title="远期批次").exists()
    past_batch = web.post("/batches/", {"title": "过期批次", "arrival": "2020-01-01", "nights": "3"})
    assert past_batch.status_code == 200 and "早于今天" in past_batch.content.decode()
    past_api = web.post("/api/v1/batches", {"title": "过期批次", "arrival": "2020-01-01", "nights": 3},
                        content_type="application/json")
    assert past_api.status_code == 422 and "早于今天" in past_api.json()["message"]
    assert not Batch.objects.filter(title="过期批次").exists()


def test_the_booking_page_shows_the_policy_and_what_cancelling_today_costs(users, batch, twin, client_for):
    from groups import bookings
    from groups.access import actor_of
    from groups.bookings import RoomRequest
    from tests.groups.conftest import NOW

    organiser = actor_of(users["factory_organiser"])
    booking = bookings.booking_hold(actor=organiser, batch_id=batch.pk, base_id=twin.base_id, arrival=ARRIVAL, nights=3,
                                    rooms=[RoomRequest(twin.pk, 2, 4)], now=NOW)
    for i in range(4):
        add_participant(batch, sequence=i + 1)
    bookings.booking_confirm(actor=organiser, booking_id=booking.pk, now=NOW)
    web = client_for(users["factory_organiser"])
    html = web.get(f"/bookings/{booking.pk}/").content.decode()
    assert "退订规则" in html and "≥ 7" in html and "20%" in html
    assert "¥3,120.00" in html and "退订费 ¥0.00" in html  # 50 days ahead: the 30-day rule, no fee
    english = web.get(f"/bookings/{booking.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Cancellation policy" in english and "a fee of ¥0.00" in english


def test_the_rooming_list_is_edited_on_the_batch_page(users, batch, twin, client_for):
    from groups import bookings
    from groups.access import actor_of
    from groups.bookings import RoomRequest
    from tests.groups.conftest import NOW

    bookings.booking_hold(actor=actor_of(users["factory_organiser"]), batch_id=batch.pk, base_id=twin.base_id, arrival=ARRIVAL,
                          nights=3, rooms=[RoomRequest(twin.pk, 2, 3)], now=NOW)
    men = [add_participant(batch, sequence=i) for i in (1, 2)]
    woman = add_participant(batch, sequence=3, female=True)
    web = client_for(users["factory_organiser"])
    assert 'id="rooming-form"' in web.get(f"/batches/{batch.pk}/").content.decode()
    mixed = {f"room_type_{p.pk}": twin.pk for p in (*men, woman)} | {f"room_label_{men[0].pk}": "A01",
                                                                     f"room_label_{men[1].pk}": "A02", f"room_label_{woman.pk}": "A02"}
    refused = web.post(f"/batches/{batch.pk}/", {"save_rooming": "1", **mixed}, follow=True)
    assert "男女混住" in refused.content.decode()
    assert set(batch.participants.values_list("room_label", flat=True)) == {""}
    good = {**mixed, f"room_label_{men[1].pk}": "A01", f"room_label_{woman.pk}": "A02"}
    saved = web.post(f"/batches/{batch.pk}/", {"save_rooming": "1", **good}, follow=True)
    assert "排房表已保存" in saved.content.decode()
    assert dict(batch.participants.values_list("pk", "room_label")) == {men[0].pk: "A01", men[1].pk: "A01", woman.pk: "A02"}


def test_a_person_is_removed_from_the_batch_page(users, batch, client_for):
    web = client_for(users["factory_organiser"])
    web.post(f"/batches/{batch.pk}/", {"file": SimpleUploadedFile("a.csv", csv_file(good_rows()))})
    wife = batch.participants.get(name="张三妻")
    page = web.get(f"/batches/{batch.pk}/").content.decode()
    assert f'name="remove_participant" value="{wife.pk}"' in page
    removed = web.post(f"/batches/{batch.pk}/", {"remove_participant": str(wife.pk)}, follow=True)
    assert "已从名单移除 张三妻" in removed.content.decode()
    odd = web.post(f"/batches/{batch.pk}/", {"remove_participant": "abc"}, follow=True)
    assert odd.status_code == 200 and batch.participants.count() == 2


def test_a_nul_character_in_a_page_address_or_form_is_a_422_page(users, batch, client_for):
    web = client_for(users["factory_organiser"])
    for response in (
        web.post("/batches/", {"title": "a\x00b"}),
        web.get("/batches/?q=a%00b"),
        web.get("/bookings/?status=%00"),
        web.post("/tokens/", {"name": "x\x00"}),
        web.post(f"/batches/{batch.pk}/", {"remove_participant": "1\x00"}),
    ):
        assert response.status_code == 422 and "NUL" in response.content.decode()
    assert Batch.objects.count() == 1


def test_the_booking_page_warns_when_the_rooms_cannot_house_the_list(users, batch, twin, client_for):
    from groups import bookings
    from groups.access import actor_of
    from groups.bookings import RoomRequest
    from tests.groups.conftest import NOW

    booking = bookings.booking_hold(actor=actor_of(users["factory_organiser"]), batch_id=batch.pk, base_id=twin.base_id,
                                    arrival=ARRIVAL, nights=3, rooms=[RoomRequest(twin.pk, 1, 2)], now=NOW)
    add_participant(batch, sequence=1)
    woman = add_participant(batch, sequence=2, female=True)
    web = client_for(users["factory_organiser"])
    assert 'id="rooming-warning"' in web.get(f"/bookings/{booking.pk}/").content.decode()
    woman.delete()
    add_participant(batch, sequence=3)
    assert 'id="rooming-warning"' not in web.get(f"/bookings/{booking.pk}/").content.decode()
    assert 'id="rooming-warning"' not in client_for(users["operator"]).get(f"/bookings/{booking.pk}/").content.decode()


def test_the_booking_history_names_actions_and_statuses_in_the_readers_language(users, batch, twin, client_for):
    web = client_for(users["factory_organiser"])
    web.post(f"/batches/{batch.pk}/availability/?arrival={ARRIVAL}&nights=3",
             {"action": "hold", "base_id": twin.base_id, f"rooms_{twin.pk}": "2", f"people_{twin.pk}": "4"})
    booking = Booking.objects.get()
    web.post(f"/bookings/{booking.pk}/", {"action": "cancel"})
    html = web.get(f"/bookings/{booking.pk}/").content.decode()
    history = html[html.index('id="booking-events"'):]
    assert "暂留 · — → 暂留" in history and "取消 · 暂留 → 已取消" in history
    assert "held" not in history and "cancelled" not in history
    english = web.get(f"/bookings/{booking.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    history = english[english.index('id="booking-events"'):]
    assert "Hold · — → Held" in history and "Cancellation · Held → Cancelled" in history


def test_a_batch_with_numbers_out_of_range_is_refused_with_a_sentence(users, client_for):
    web = client_for(users["factory_organiser"])
    for fields, words in [({"nights": "0"}, "住宿晚数须在 1 到 30 之间"), ({"nights": "31"}, "住宿晚数须在 1 到 30 之间"),
                          ({"nights": "3", "min_front_line_percent": "150"}, "一线职工最低占比须在 0 到 100 之间"),
                          ({"nights": "3", "no_repeat_years": "0"}, "不得重复参加的年数须在 1 到 20 之间"),
                          ({"nights": "4", "max_stay_days": "4"}, "最长天数 4 天短于本批次的 4 晚即 5 天")]:
        page = web.post("/batches/", {"title": "越界批次", "arrival": ARRIVAL.isoformat(), **fields})
        html = page.content.decode()
        assert page.status_code == 200 and words in html and "约束" not in html, fields
    assert not Batch.objects.filter(title="越界批次").exists()


def test_an_empty_search_says_to_widen_it_and_offers_no_waitlist_it_cannot_give(users, batch, twin, client_for):
    web = client_for(users["factory_organiser"])
    page = web.get(f"/batches/{batch.pk}/availability/?arrival={ARRIVAL}&nights=3&people=200&rooms=100").content.decode()
    assert twin.base.name not in page
    assert "请调整抵达日期、晚数、人数或房间数后重新查询" in page
    assert "加入候补" not in page  # no base chosen, so no waitlist form, and the page no longer promises one
    english = web.get(f"/batches/{batch.pk}/availability/?arrival={ARRIVAL}&nights=3&people=200&rooms=100",
                      HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "change the arrival date, nights, people or rooms and search again" in english
