import datetime as dt
import shutil
import subprocess
import time
from zoneinfo import ZoneInfo

import icalendar
import pytest

from groups.codes import public_key_from_hex, public_key_hex, verify_arrival_code
from groups.models import Booking
from tests.factories import BaseFactory, RoomTypeFactory
from tests.groups.factories_booking import confirmed_booking, confirmed_route_booking, published_route

pytestmark = pytest.mark.django_db
API = "/api/v1/itineraries"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NAMES = ["张伟", "王芳", "欧阳娜娜", "刘洋"]


@pytest.fixture
def hot_spring(union_tree):
    return BaseFactory(
        operator=union_tree["operator"],
        name="河源巴伐利亚温泉疗休养基地",
        address="河源市和平县阳明镇温泉大道88号",
        contact_name="钟经理",
        contact_phone="0762-5551234",
        contact_email="desk@hotspring.example.cn",
    )


@pytest.fixture
def booking(union_tree, hot_spring):
    union_tree["factory"].contact_phone = "0769-85551234"
    union_tree["factory"].save()
    room_type = RoomTypeFactory(base=hot_spring, name="温泉双床房")
    return confirmed_booking(union=union_tree["factory"], base=hot_spring, room_type=room_type, arrival=dt.date(2025, 5, 12), nights=3, people=4, names=NAMES)


@pytest.fixture
def route_booking(union_tree, hot_spring):
    lodge = BaseFactory(operator=union_tree["operator"], name="万绿湖景区酒店", address="河源市东源县万绿湖风景区")
    night_bases = [(hot_spring, RoomTypeFactory(base=hot_spring, name="温泉双床房")), (lodge, RoomTypeFactory(base=lodge, name="湖景房"))]
    departure = published_route(operator=union_tree["operator"], night_bases=night_bases, departure=dt.date(2025, 6, 2))
    return confirmed_route_booking(union=union_tree["factory"], departure=departure, people=4)


def test_a_plain_booking_itinerary(booking, users, client_for):
    body = client_for(users["factory_organiser"]).get(f"{API}/bookings/{booking.reference}").json()
    assert (body["arrival"], body["departure"], body["nights"], body["route_title"]) == ("2025-05-12", "2025-05-15", 3, "")
    assert body["arrival_place"]["address"] == "河源市和平县阳明镇温泉大道88号"
    days = body["days"]
    assert [d["date"] for d in days] == ["2025-05-12", "2025-05-13", "2025-05-14", "2025-05-15"]
    assert days[0]["is_arrival"] and days[0]["meals"] == ["晚餐"] and days[3]["is_departure"]
    assert [d["lodging"][0]["room_type"] if d["lodging"] else None for d in days] == ["温泉双床房"] * 3 + [None]
    assert days[1]["meals"] == ["早餐", "午餐", "晚餐"]
    contacts = {c["role"]: (c["name"], c["phone"]) for c in body["contacts"]}
    assert contacts["基地联系人 · 河源巴伐利亚温泉疗休养基地"] == ("钟经理", "0762-5551234")
    assert contacts["工会组织者 · 东莞某电子厂工会"] == ("周organiser", "0769-85551234")
    assert [t["name"] for t in body["travellers"]] == NAMES


def test_a_route_booking_itinerary_follows_the_programme(route_booking, users, client_for):
    body = client_for(users["dongguan_organiser"]).get(f"{API}/bookings/{route_booking.reference}").json()
    assert body["route_title"] == "河源红色文化与温泉三日游"
    days = body["days"]
    assert len(days) == 3 and days[0]["date"] == "2025-06-02"
    assert [item["activity"] for item in days[1]["programme"]] == ["参观学习2", "非遗体验2"]
    assert days[1]["programme"][1] == {"time": "14:30:00", "place": "第2站非遗工坊", "activity": "非遗体验2", "meals": "午餐、晚餐"}
    assert days[1]["meals"] == ["早餐", "午餐", "晚餐"]
    assert [d["lodging"][0]["place"]["name"] if d["lodging"] else None for d in days] == ["河源巴伐利亚温泉疗休养基地", "万绿湖景区酒店", None]
    assert body["departure_place"]["name"] == "万绿湖景区酒店"


def test_codes_verify_with_the_published_key(booking, users, client_for):
    body = client_for(users["factory_organiser"]).get(f"{API}/bookings/{booking.reference}/codes").json()
    key = public_key_from_hex(public_key_hex())
    assert verify_arrival_code(body["group_code"], public_key=key).reference == booking.reference
    people = {code["name"]: verify_arrival_code(code["code"], public_key=key).participant_id for code in body["personal_codes"]}
    assert people == dict(booking.batch.participants.values_list("name", "pk"))


def test_qr_images(booking, users, client_for):
    client = client_for(users["factory_organiser"])
    svg = client.get(f"{API}/bookings/{booking.reference}/codes/qr")
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    person = booking.batch.participants.first()
    png = client.get(f"{API}/bookings/{booking.reference}/codes/qr?participant_id={person.pk}&image=png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert client.get(f"{API}/bookings/{booking.reference}/codes/qr?participant_id=999999").status_code == 404
    assert client.get(f"{API}/bookings/{booking.reference}/codes/qr?image=gif").status_code == 422


def test_ics_has_arrival_lodging_programme_and_departure(route_booking, users, client_for):
    response = client_for(users["factory_organiser"]).get(f"{API}/bookings/{route_booking.reference}/itinerary.ics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    assert f"itinerary-{route_booking.reference}.ics" in response["Content-Disposition"]
    calendar = icalendar.Calendar.from_ical(response.content)
    events = [(str(e["summary"]), e.decoded("dtstart"), e.decoded("dtend")) for e in calendar.walk("VEVENT")]
    all_day = [(s, start) for s, start, end in events if not isinstance(start, dt.datetime)]
    assert all_day == [
        ("抵达：河源巴伐利亚温泉疗休养基地", dt.date(2025, 6, 2)),
        ("住宿：河源巴伐利亚温泉疗休养基地 · 温泉双床房", dt.date(2025, 6, 2)),
        ("住宿：万绿湖景区酒店 · 湖景房", dt.date(2025, 6, 3)),
        ("返程：离开 万绿湖景区酒店", dt.date(2025, 6, 4)),
    ]
    timed = [(s, start, end) for s, start, end in events if isinstance(start, dt.datetime)]
    assert len(timed) == 6
    summary, start, end = timed[0]
    assert summary == "参观学习1"
    assert start == dt.datetime(2025, 6, 2, 9, 0, tzinfo=SHANGHAI) and start.utcoffset() == dt.timedelta(hours=8)
    assert end == dt.datetime(2025, 6, 2, 14, 30, tzinfo=SHANGHAI)  # until the next item
    assert timed[1][2] - timed[1][1] == dt.timedelta(hours=1)  # the day's last item lasts an hour
    assert [tz["tzid"] for tz in calendar.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    assert len({str(e["uid"]) for e in calendar.walk("VEVENT")}) == len(events)


def test_ics_of_a_plain_stay_has_an_event_every_day(booking, users, client_for):
    response = client_for(users["factory_organiser"]).get(f"{API}/bookings/{booking.reference}/itinerary.ics")
    calendar = icalendar.Calendar.from_ical(response.content)
    days = sorted({e.decoded("dtstart") for e in calendar.walk("VEVENT")})
    assert days == [dt.date(2025, 5, 12), dt.date(2025, 5, 13), dt.date(2025, 5, 14), dt.date(2025, 5, 15)]


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
def test_the_pdf_is_chinese_text_with_the_cjk_font_embedded(booking, users, client_for, tmp_path):
    started = time.perf_counter()
    response = client_for(users["factory_organiser"]).get(f"{API}/bookings/{booking.reference}/itinerary.pdf")
    elapsed = time.perf_counter() - started
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    pdf = tmp_path / "itinerary.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "河源巴伐利亚温泉疗休养基地" in text and "行程单" in text and booking.reference in text
    for name in NAMES:
        assert name in text
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()
    cjk = [line for line in fonts if "NotoSans" in line.split()[0].replace("-", "") and "CJK" in line.split()[0]]
    assert cjk, fonts
    for line in cjk:
        assert line.split()[-5] == "yes", line  # the "emb" column
    assert len(cjk) == len(fonts) - 2, fonts  # no fallback font, not even for the page numbers
    assert elapsed < 20, f"PDF took {elapsed:.1f}s"


def test_held_or_cancelled_bookings_have_no_itinerary_or_codes(booking, users, client_for):
    client = client_for(users["factory_organiser"])
    for status in (Booking.Status.HELD, Booking.Status.CANCELLED):
        Booking.objects.filter(pk=booking.pk).update(status=status)
        for path in ("", "/codes", "/itinerary.pdf", "/itinerary.ics"):
            response = client.get(f"{API}/bookings/{booking.reference}{path}")
            assert response.status_code == 409 and response.json()["code"] == "not_confirmed"


ENDPOINTS = ["", "/codes", "/codes/qr", "/itinerary.pdf", "/itinerary.ics", "/arrivals"]


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("user", ["shenzhen_organiser", "other_operator"])
def test_another_tenants_booking_is_404_on_every_endpoint(booking, users, client_for, path, user):
    response = client_for(users[user]).get(f"{API}/bookings/{booking.reference}{path}")
    assert response.status_code == 404
    assert set(response.json()) == {"code", "message", "detail"}


@pytest.mark.parametrize("user", ["factory_organiser", "dongguan_organiser", "dongguan_fund", "province_admin", "operator"])
def test_the_union_subtree_the_base_operator_and_administrators_see_it(booking, users, client_for, user):
    assert client_for(users[user]).get(f"{API}/bookings/{booking.reference}").status_code == 200


def test_unknown_bookings_and_anonymous_callers(booking, users, client_for, client):
    assert client_for(users["factory_organiser"]).get(f"{API}/bookings/NOPE").status_code == 404
    assert client.get(f"{API}/bookings/{booking.reference}").status_code == 401
    assert client.get(f"{API}/bookings/{booking.reference}/itinerary.pdf").status_code == 401
