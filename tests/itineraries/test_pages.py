import datetime as dt

import pytest
from django.utils import timezone

from groups.codes import group_code_for
from groups.models import Booking, CheckIn
from tests.factories import BaseFactory
from tests.groups.factories_booking import confirmed_booking

pytestmark = pytest.mark.django_db


@pytest.fixture
def booking(union_tree):
    base = BaseFactory(operator=union_tree["operator"], name="河源温泉疗休养基地")
    return confirmed_booking(union=union_tree["factory"], base=base, arrival=timezone.localdate(), nights=2, people=3, names=["张伟", "王芳", "李娜"])


def test_the_itinerary_page_shows_the_days_and_every_code(booking, users, client_for):
    response = client_for(users["factory_organiser"]).get(f"/itineraries/bookings/{booking.reference}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "河源温泉疗休养基地" in html and group_code_for(booking) in html
    assert html.count("data:image/svg+xml") == 1 + 3  # the group's QR and one per participant
    for name in ("张伟", "王芳", "李娜"):
        assert name in html
    assert f"/itineraries/bookings/{booking.reference}/itinerary.pdf" in html
    assert f"/itineraries/bookings/{booking.reference}/itinerary.ics" in html


def test_the_itinerary_page_follows_the_readers_language(booking, users, client_for):
    client = client_for(users["factory_organiser"])
    chinese = client.get(f"/itineraries/bookings/{booking.reference}/").content.decode()
    assert "抵达 河源温泉疗休养基地" in chinese and "离开 河源温泉疗休养基地，返程" in chinese and "早餐、午餐、晚餐" in chinese
    assert "基地联系人 · 河源温泉疗休养基地" in chinese
    english = client.get(f"/itineraries/bookings/{booking.reference}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Arrive at 河源温泉疗休养基地" in english and "Leave 河源温泉疗休养基地 and travel home" in english
    assert "Breakfast, Lunch, Dinner" in english and "Base contact · 河源温泉疗休养基地" in english and "Union organiser · " in english
    for words in ("抵达", "返程", "早餐", "晚餐", "基地联系人", "工会组织者", "第 2 天"):
        assert words not in english, words


def test_itinerary_downloads(booking, users, client_for):
    client = client_for(users["factory_organiser"])
    pdf = client.get(f"/itineraries/bookings/{booking.reference}/itinerary.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and "attachment" in pdf["Content-Disposition"]
    ics = client.get(f"/itineraries/bookings/{booking.reference}/itinerary.ics")
    assert ics.status_code == 200 and ics.content.startswith(b"BEGIN:VCALENDAR")


@pytest.mark.parametrize("path", ["", "itinerary.pdf", "itinerary.ics", "arrivals/"])
def test_another_tenants_pages_are_404(booking, users, client_for, path):
    assert client_for(users["shenzhen_organiser"]).get(f"/itineraries/bookings/{booking.reference}/{path}").status_code == 404
    assert client_for(users["other_operator"]).get(f"/itineraries/bookings/{booking.reference}/{path}").status_code == 404


def test_a_held_booking_has_no_itinerary_page_yet(booking, users, client_for):
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.HELD)
    response = client_for(users["factory_organiser"]).get(f"/itineraries/bookings/{booking.reference}/")
    assert response.status_code == 409 and "确认后才有行程" in response.content.decode()


def test_the_scan_page_is_for_operators_and_carries_the_public_key(booking, users, client_for):
    from groups.codes import public_key_hex

    page = client_for(users["operator"]).get("/itineraries/scan/")
    assert page.status_code == 200
    html = page.content.decode()
    assert public_key_hex() in html and "/api/v1/itineraries/check-ins" in html and "BarcodeDetector" in html
    assert "河源温泉疗休养基地" in html
    assert "<script src=" not in html  # no external JS
    assert client_for(users["factory_organiser"]).get("/itineraries/scan/").status_code == 403


def test_todays_arrivals_page(booking, users, client_for):
    CheckIn.objects.create(booking=booking, participant=booking.batch.participants.first(), checked_in_by=users["operator"], at=timezone.now())
    html = client_for(users["operator"]).get("/itineraries/arrivals/").content.decode()
    assert booking.reference in html and "东莞某电子厂工会" in html
    other_day = client_for(users["operator"]).get(f"/itineraries/arrivals/?date={timezone.localdate() + dt.timedelta(days=3)}")
    assert booking.reference not in other_day.content.decode()
    assert booking.reference not in client_for(users["other_operator"]).get("/itineraries/arrivals/").content.decode()


def test_the_stats_page(booking, users, client_for):
    for group_by in ("month", "base", "union", "booking", "nonsense"):
        response = client_for(users["dongguan_organiser"]).get(f"/itineraries/arrivals/stats/?group_by={group_by}&date_from=bad")
        assert response.status_code == 200
    assert "河源温泉疗休养基地" in client_for(users["operator"]).get("/itineraries/arrivals/stats/?group_by=base").content.decode()


def test_an_operator_checks_in_by_hand_on_the_booking_arrivals_page(booking, users, client_for):
    client = client_for(users["operator"])
    ids = list(booking.batch.participants.values_list("pk", flat=True))
    response = client.post(f"/itineraries/bookings/{booking.reference}/arrivals/", {"participant_ids": ids[:2]}, follow=True)
    assert response.status_code == 200 and "本次核销 2 人" in response.content.decode()
    assert CheckIn.objects.filter(booking=booking, method="manual").count() == 2
    early = client.post(f"/itineraries/bookings/{booking.reference}/arrivals/", {"complete": "1"}, follow=True)
    assert "尚未过去" in early.content.decode()
    organiser = client_for(users["factory_organiser"])
    assert organiser.get(f"/itineraries/bookings/{booking.reference}/arrivals/").status_code == 200
    assert organiser.post(f"/itineraries/bookings/{booking.reference}/arrivals/", {"participant_ids": ids}).status_code == 403


def test_impossible_dates_in_the_address_are_ignored_not_a_500(booking, users, client_for):
    operator = client_for(users["operator"])
    assert operator.get("/itineraries/arrivals/?date=2027-02-31&base_id=٣").status_code == 200
    for query in ("date_from=2027-13-01", "date_to=2027-02-30"):
        assert operator.get(f"/itineraries/arrivals/stats/?{query}").status_code == 200


def test_a_nul_character_in_a_reference_is_a_422_page(booking, users, client_for):
    operator = client_for(users["operator"])
    for url in ("/itineraries/bookings/AB%00C/", "/itineraries/bookings/AB%00C/arrivals/", "/itineraries/arrivals/?date=%00"):
        response = operator.get(url)
        assert response.status_code == 422 and "NUL" in response.content.decode()
