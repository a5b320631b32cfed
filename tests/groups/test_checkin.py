import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

pytestmark = pytest.mark.django_db
from django.utils import timezone

from groups.access import actor_of
from groups.checkin import booking_complete, check_in_by_code, check_in_participants
from groups.codes import group_code_for, personal_code_for
from groups.models import Booking, BookingEvent, CheckIn
from retreat.celery import app as celery_app
from retreat.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tests.factories import BaseFactory, RoomTypeFactory
from tests.groups.factories_booking import confirmed_booking

SHANGHAI = ZoneInfo("Asia/Shanghai")
ARRIVAL = dt.date(2025, 5, 12)
ON_ARRIVAL = dt.datetime(2025, 5, 12, 15, 7, tzinfo=SHANGHAI)
API = "/api/v1/itineraries"


@pytest.fixture
def hot_spring(union_tree):
    return BaseFactory(operator=union_tree["operator"], name="河源巴伐利亚温泉疗休养基地")


@pytest.fixture
def booking(union_tree, hot_spring):
    return confirmed_booking(union=union_tree["factory"], base=hot_spring, room_type=RoomTypeFactory(base=hot_spring), arrival=ARRIVAL, nights=3, people=4)


@pytest.fixture
def operator(users):
    return actor_of(users["operator"])


def post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def test_a_personal_code_checks_its_holder_in(booking, operator):
    person = booking.batch.participants.first()
    result = check_in_by_code(actor=operator, code=personal_code_for(booking, person), now=ON_ARRIVAL)
    assert [p.participant_id for p in result.checked_in_now] == [person.pk]
    assert result.message == f"{person.name} 核销成功"
    assert (result.expected, result.arrived) == (4, 1)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CHECKED_IN
    check_in = CheckIn.objects.get()
    assert (check_in.participant, check_in.method, check_in.at) == (person, "person", ON_ARRIVAL)
    event = BookingEvent.objects.get(booking=booking)
    assert (event.action, event.from_status, event.to_status) == ("check_in", "confirmed", "checked_in")
    assert event.detail == {"method": "person", "participant_ids": [person.pk]}


def test_scanning_twice_is_fine_and_says_when(booking, operator):
    person = booking.batch.participants.first()
    code = personal_code_for(booking, person)
    check_in_by_code(actor=operator, code=code, now=ON_ARRIVAL)
    again = check_in_by_code(actor=operator, code=code, now=ON_ARRIVAL + dt.timedelta(hours=2))
    assert again.checked_in_now == [] and len(again.already_checked_in) == 1
    assert "已于 15:07 核销" in again.message
    assert CheckIn.objects.count() == 1
    assert BookingEvent.objects.filter(action="check_in").count() == 1


def test_a_group_code_checks_in_everyone_not_yet_in(booking, operator):
    first = booking.batch.participants.first()
    check_in_by_code(actor=operator, code=personal_code_for(booking, first), now=ON_ARRIVAL)
    result = check_in_by_code(actor=operator, code=group_code_for(booking), now=ON_ARRIVAL + dt.timedelta(minutes=5))
    assert (len(result.checked_in_now), len(result.already_checked_in)) == (3, 1)
    assert (result.expected, result.arrived) == (4, 4)
    assert "本次核销 3 人" in result.message and "1 人此前已核销" in result.message and "已到 4/4 人" in result.message
    assert set(CheckIn.objects.values_list("method", flat=True)) == {"person", "group"}
    repeat = check_in_by_code(actor=operator, code=group_code_for(booking), now=ON_ARRIVAL + dt.timedelta(minutes=9))
    assert repeat.checked_in_now == [] and CheckIn.objects.count() == 4


def test_a_group_code_may_check_in_an_explicit_subset(booking, operator):
    ids = list(booking.batch.participants.values_list("pk", flat=True))
    result = check_in_by_code(actor=operator, code=group_code_for(booking), participant_ids=ids[:2], now=ON_ARRIVAL)
    assert [p.participant_id for p in result.checked_in_now] == ids[:2]
    assert set(CheckIn.objects.values_list("participant_id", flat=True)) == set(ids[:2])


def test_a_subset_naming_a_stranger_changes_nothing(booking, operator, union_tree):
    stranger = confirmed_booking(union=union_tree["factory"], arrival=ARRIVAL).batch.participants.first()
    own = booking.batch.participants.first()
    with pytest.raises(ValidationFailed) as refused:
        check_in_by_code(actor=operator, code=group_code_for(booking), participant_ids=[own.pk, stranger.pk], now=ON_ARRIVAL)
    assert refused.value.detail == {"participant_ids": [stranger.pk]}
    assert not CheckIn.objects.exists()


def test_a_personal_code_cannot_check_in_others(booking, operator):
    first, second = booking.batch.participants.all()[:2]
    with pytest.raises(ValidationFailed):
        check_in_by_code(actor=operator, code=personal_code_for(booking, first), participant_ids=[second.pk], now=ON_ARRIVAL)


def test_a_code_of_another_operators_base_is_refused_naming_the_base(booking, users):
    with pytest.raises(Conflict) as refused:
        check_in_by_code(actor=actor_of(users["other_operator"]), code=group_code_for(booking), now=ON_ARRIVAL)
    assert refused.value.code == "wrong_base"
    assert "河源巴伐利亚温泉疗休养基地" in refused.value.message and "不能在本基地核销" in refused.value.message
    assert refused.value.detail["base_name"] == "河源巴伐利亚温泉疗休养基地"
    assert not CheckIn.objects.exists()


def test_scanning_at_another_of_ones_own_bases_is_refused(booking, operator, union_tree):
    second_base = BaseFactory(operator=union_tree["operator"], name="河源万绿湖民宿")
    with pytest.raises(Conflict) as refused:
        check_in_by_code(actor=operator, code=group_code_for(booking), base_id=second_base.pk, now=ON_ARRIVAL)
    assert refused.value.code == "wrong_base"
    assert check_in_by_code(actor=operator, code=group_code_for(booking), base_id=booking.base_id, now=ON_ARRIVAL).arrived == 4


@pytest.mark.parametrize(
    "status, code",
    [
        (Booking.Status.CANCELLED, "booking_cancelled"),
        (Booking.Status.LAPSED, "booking_cancelled"),
        (Booking.Status.HELD, "not_confirmed"),
        (Booking.Status.COMPLETED, "stay_completed"),
    ],
)
def test_a_booking_that_is_not_confirmed_is_refused(booking, operator, status, code):
    Booking.objects.filter(pk=booking.pk).update(status=status)
    with pytest.raises(Conflict) as refused:
        check_in_by_code(actor=operator, code=group_code_for(booking), now=ON_ARRIVAL)
    assert refused.value.code == code
    assert not CheckIn.objects.exists()


@pytest.mark.parametrize("day", [dt.date(2025, 5, 11), dt.date(2025, 5, 15), dt.date(2026, 5, 12)])
def test_a_wrong_date_is_refused_saying_the_booked_dates(booking, operator, day):
    with pytest.raises(Conflict) as refused:
        check_in_by_code(actor=operator, code=group_code_for(booking), now=dt.datetime.combine(day, dt.time(10), tzinfo=SHANGHAI))
    assert refused.value.code == "wrong_date"
    assert "2025-05-12 至 2025-05-14" in refused.value.message and f"今天是 {day.isoformat()}" in refused.value.message
    assert refused.value.detail == {"arrival": "2025-05-12", "last_night": "2025-05-14", "today": day.isoformat()}


@pytest.mark.parametrize("day", [dt.date(2025, 5, 12), dt.date(2025, 5, 14)])
def test_any_booked_night_is_a_right_date(booking, operator, day):
    late_evening = dt.datetime.combine(day, dt.time(23, 30), tzinfo=SHANGHAI)  # 15:30 UTC: still the same day in Shanghai
    assert check_in_by_code(actor=operator, code=group_code_for(booking), now=late_evening).arrived == 4


def test_only_operators_check_in(booking, users):
    with pytest.raises(Forbidden):
        check_in_by_code(actor=actor_of(users["factory_organiser"]), code=group_code_for(booking), now=ON_ARRIVAL)


def test_an_operator_checks_people_in_by_hand(booking, operator):
    ids = list(booking.batch.participants.values_list("pk", flat=True))
    result = check_in_participants(actor=operator, reference=booking.reference, participant_ids=ids[1:3], now=ON_ARRIVAL)
    assert len(result.checked_in_now) == 2
    assert set(CheckIn.objects.values_list("method", flat=True)) == {"manual"}


def test_another_operators_booking_cannot_be_checked_in_by_hand(booking, users):
    ids = list(booking.batch.participants.values_list("pk", flat=True))
    with pytest.raises(NotFound):
        check_in_participants(actor=actor_of(users["other_operator"]), reference=booking.reference, participant_ids=ids, now=ON_ARRIVAL)


def test_a_stay_is_completed_only_after_its_last_night(booking, operator):
    check_in_by_code(actor=operator, code=personal_code_for(booking, booking.batch.participants.first()), now=ON_ARRIVAL)
    with pytest.raises(Conflict) as refused:
        booking_complete(actor=operator, reference=booking.reference, now=dt.datetime(2025, 5, 14, 22, tzinfo=SHANGHAI))
    assert refused.value.code == "stay_not_over"
    completed = booking_complete(actor=operator, reference=booking.reference, now=dt.datetime(2025, 5, 15, 9, tzinfo=SHANGHAI))
    assert completed.status == Booking.Status.COMPLETED
    event = BookingEvent.objects.get(action="complete")
    assert event.detail == {"expected": 4, "arrived": 1, "no_shows": 3}
    with pytest.raises(Conflict):
        booking_complete(actor=operator, reference=booking.reference, now=dt.datetime(2025, 5, 16, tzinfo=SHANGHAI))


# --- through the API --------------------------------------------------------


@pytest.fixture
def booking_today(union_tree, hot_spring):
    return confirmed_booking(union=union_tree["factory"], base=hot_spring, arrival=timezone.localdate(), nights=2, people=3)


def test_api_check_in_reports_who_and_which_group(booking_today, users, client_for):
    response = post(client_for(users["operator"]), f"{API}/check-ins", {"code": group_code_for(booking_today)})
    assert response.status_code == 200
    body = response.json()
    assert body["reference"] == booking_today.reference and body["base_name"] == "河源巴伐利亚温泉疗休养基地"
    assert body["union_name"] == "东莞某电子厂工会" and body["batch_title"] == booking_today.batch.title
    assert (body["checked_in_now"], body["already_checked_in"], body["expected"], body["arrived"]) == (3, 0, 3, 3)
    assert body["status"] == "checked_in" and {p["just_now"] for p in body["people"]} == {True}
    again = post(client_for(users["operator"]), f"{API}/check-ins", {"code": group_code_for(booking_today)}).json()
    assert (again["checked_in_now"], again["already_checked_in"]) == (0, 3)


def test_api_manual_check_in_and_complete(booking_today, users, client_for):
    client = client_for(users["operator"])
    ids = list(booking_today.batch.participants.values_list("pk", flat=True))
    manual = post(client, f"{API}/bookings/{booking_today.reference}/check-ins", {"participant_ids": ids[:1]})
    assert manual.status_code == 200 and manual.json()["method"] == "manual"
    early = client.post(f"{API}/bookings/{booking_today.reference}/complete")
    assert early.status_code == 409 and early.json()["code"] == "stay_not_over"
    empty = post(client, f"{API}/bookings/{booking_today.reference}/check-ins", {"participant_ids": []})
    assert empty.status_code == 422


def refusal(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "detail"} and body["code"] == code
    return body


def test_api_refusals_have_the_error_shape(booking_today, union_tree, users, client_for, hot_spring):
    operator_client = client_for(users["operator"])
    code = group_code_for(booking_today)
    refusal(post(client_for(users["other_operator"]), f"{API}/check-ins", {"code": code}), 409, "wrong_base")
    refusal(post(operator_client, f"{API}/check-ins", {"code": code[:-4] + "AAAA"}), 422, "bad_code")
    refusal(post(operator_client, f"{API}/check-ins", {"code": "hello"}), 422, "bad_code")
    refusal(post(operator_client, f"{API}/check-ins", {"code": ""}), 422, "validation_error")
    refusal(post(operator_client, f"{API}/check-ins", {"codes": code}), 422, "validation_error")
    refusal(operator_client.post(f"{API}/check-ins", "not json", content_type="application/json"), 400, "bad_request")
    refusal(post(operator_client, f"{API}/check-ins", {"code": code, "participant_ids": ["x"]}), 422, "validation_error")
    refusal(post(client_for(users["factory_organiser"]), f"{API}/check-ins", {"code": code}), 403, "forbidden")
    tomorrow = confirmed_booking(union=union_tree["factory"], base=hot_spring, arrival=timezone.localdate() + dt.timedelta(days=1))
    body = refusal(post(operator_client, f"{API}/check-ins", {"code": group_code_for(tomorrow)}), 409, "wrong_date")
    assert body["detail"]["arrival"] == tomorrow.arrival.isoformat()
    Booking.objects.filter(pk=booking_today.pk).update(status=Booking.Status.CANCELLED)
    refusal(post(operator_client, f"{API}/check-ins", {"code": code}), 409, "booking_cancelled")
    assert not CheckIn.objects.exists()


def test_api_check_in_needs_a_signed_in_user(booking_today, client):
    refusal(post(client, f"{API}/check-ins", {"code": group_code_for(booking_today)}), 401, "unauthenticated")


def test_api_manual_check_in_of_another_tenant_is_404(booking_today, users, client_for):
    ids = list(booking_today.batch.participants.values_list("pk", flat=True))
    response = post(client_for(users["other_operator"]), f"{API}/bookings/{booking_today.reference}/check-ins", {"participant_ids": ids})
    refusal(response, 404, "not_found")
    refusal(client_for(users["other_operator"]).post(f"{API}/bookings/{booking_today.reference}/complete"), 404, "not_found")


def test_the_first_check_in_notifies_after_commit(booking, operator, django_capture_on_commit_callbacks, mailoutbox, monkeypatch):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)  # also when REDIS_URL is set
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        check_in_by_code(actor=operator, code=group_code_for(booking), now=ON_ARRIVAL)
    assert len(callbacks) == 1
    assert len(mailoutbox) == 1 and booking.reference in mailoutbox[0].subject and "已入住" in mailoutbox[0].subject
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        check_in_by_code(actor=operator, code=group_code_for(booking), now=ON_ARRIVAL)
    assert callbacks == []  # nothing changed, nothing to tell


def test_api_check_in_replays_an_idempotency_key(booking_today, users, client_for):
    client = client_for(users["operator"])
    first = client.post(f"{API}/check-ins", json.dumps({"code": group_code_for(booking_today)}), content_type="application/json", HTTP_IDEMPOTENCY_KEY="scan-1")
    replay = client.post(f"{API}/check-ins", json.dumps({"code": group_code_for(booking_today)}), content_type="application/json", HTTP_IDEMPOTENCY_KEY="scan-1")
    assert replay.json() == first.json() and replay["Idempotent-Replayed"] == "true"
    assert replay.json()["checked_in_now"] == 3
    other = personal_code_for(booking_today, booking_today.batch.participants.first())
    reused = client.post(f"{API}/check-ins", json.dumps({"code": other}), content_type="application/json", HTTP_IDEMPOTENCY_KEY="scan-1")
    refusal(reused, 422, "idempotency_key_reused")


@pytest.mark.django_db(transaction=True)
def test_devices_scanning_one_group_at_once_check_each_person_in_once(union_tree, users):
    import threading

    from django.db import connection

    from retreat.errors import Busy

    base = BaseFactory(operator=union_tree["operator"])
    booking = confirmed_booking(union=union_tree["factory"], base=base, arrival=ARRIVAL, people=12)
    people = list(booking.batch.participants.all())
    codes = [group_code_for(booking)] * 4 + [personal_code_for(booking, person) for person in people]
    operator = actor_of(users["operator"])
    barrier = threading.Barrier(len(codes))
    outcomes: list[str] = []
    covered: set[int] = set()

    def scan(code):
        try:
            barrier.wait()
            result = check_in_by_code(actor=operator, code=code, now=ON_ARRIVAL)
            outcomes.append("ok")
            covered.update(person.participant_id for person in result.people)
        except Busy:
            outcomes.append("busy")  # a lock wait past LOCK_TIMEOUT_MS: nothing changed, retry
        finally:
            connection.close()

    threads = [threading.Thread(target=scan, args=(code,)) for code in codes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == len(codes) and set(outcomes) <= {"ok", "busy"} and "ok" in outcomes
    assert sorted(CheckIn.objects.filter(booking=booking).values_list("participant_id", flat=True)) == sorted(covered)
    assert BookingEvent.objects.filter(booking=booking, action="check_in", from_status="confirmed").count() == 1
