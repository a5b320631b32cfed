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
    monkeypatch.setattr("groups.bookings.timezone.now", lambda: real_now().replace(year=2027, month=1, day=10))


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
