"""Holding, confirming, lapsing and cancelling, through the services with a fixed clock."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import translation

from bases.models import NightInventory
from groups import bookings
from groups.access import actor_of
from groups.bookings import RoomRequest
from groups.models import Booking, BookingEvent
from retreat.errors import Conflict, NotFound, ValidationFailed
from tests.groups.conftest import ARRIVAL, NOW, add_participant

pytestmark = pytest.mark.django_db


def nights_of(room_type, first=ARRIVAL, count=3):
    return list(NightInventory.objects.filter(room_type=room_type, night__range=(first, first + dt.timedelta(days=count - 1))).order_by("night"))


def hold(users, batch, room_types_and_sizes, arrival=ARRIVAL, nights=3, now=NOW):
    base_id = room_types_and_sizes[0][0].base_id
    return bookings.booking_hold(
        actor=actor_of(users["factory_organiser"]), batch_id=batch.pk, base_id=base_id, arrival=arrival, nights=nights,
        rooms=[RoomRequest(rt.pk, rooms, people) for rt, rooms, people in room_types_and_sizes], now=now,
    )


def test_hold_takes_every_night_of_each_room_type(users, batch, twin, single):
    booking = hold(users, batch, [(twin, 4, 8), (single, 2, 2)])
    assert booking.status == "held" and booking.rooms == 6 and booking.people == 10
    assert booking.reference.startswith("LX2027011") and len(booking.reference) == 18
    assert booking.hold_expires_at == NOW + dt.timedelta(minutes=bookings.HOLD_MINUTES)
    assert [(n.rooms_held, n.people_held) for n in nights_of(twin)] == [(4, 8)] * 3
    assert [(n.rooms_held, n.people_held) for n in nights_of(single)] == [(2, 2)] * 3
    assert nights_of(twin, ARRIVAL + dt.timedelta(days=3), 1)[0].rooms_held == 0  # departure day is not a night
    assert BookingEvent.objects.get(booking=booking).action == "hold"


def test_not_enough_rooms_names_the_night_and_shortfall_and_changes_nothing(users, batch, twin):
    NightInventory.objects.filter(room_type=twin, night=ARRIVAL + dt.timedelta(days=1)).update(rooms_booked=8)
    with pytest.raises(Conflict) as refused:
        hold(users, batch, [(twin, 4, 8)])
    assert refused.value.code == "insufficient_inventory"
    assert refused.value.detail["nights"] == [
        {"night": "2027-03-02", "room_type_id": twin.pk, "room_type": "标准双床房", "rooms_wanted": 4, "rooms_free": 2, "rooms_short": 2}
    ]
    assert "2027-03-02" in refused.value.message and "缺 2 间" in refused.value.message
    assert sum(n.rooms_held for n in nights_of(twin)) == 0
    assert not Booking.objects.exists()


def test_closed_or_unopened_nights_are_refused(users, batch, twin):
    NightInventory.objects.filter(room_type=twin, night=ARRIVAL).update(closed=True)
    with pytest.raises(Conflict) as refused:
        hold(users, batch, [(twin, 1, 2)])
    assert refused.value.code == "nights_not_open"
    with pytest.raises(Conflict, match="未开放或已关闭"):
        hold(users, batch, [(twin, 1, 2)], arrival=ARRIVAL + dt.timedelta(days=13))  # runs past the opened nights


def test_bad_input_is_a_422(users, batch, twin, settings):
    with pytest.raises(ValidationFailed, match="床"):
        hold(users, batch, [(twin, 1, 3)])  # 3 people in one twin room
    with pytest.raises(ValidationFailed, match="早于今天"):
        hold(users, batch, [(twin, 1, 2)], arrival=dt.date(2027, 1, 1))
    settings.INVENTORY_HORIZON_DAYS = 30
    with pytest.raises(ValidationFailed, match="超出可预订范围"):
        hold(users, batch, [(twin, 1, 2)])


def test_a_base_not_certified_for_the_whole_stay_is_a_409(users, batch, twin, base):
    base.valid_until = ARRIVAL + dt.timedelta(days=1)
    base.save()
    with pytest.raises(Conflict) as refused:
        hold(users, batch, [(twin, 1, 2)])
    assert refused.value.code == "base_not_certified"


def test_one_active_booking_per_batch(users, batch, twin):
    hold(users, batch, [(twin, 1, 2)])
    with pytest.raises(Conflict) as refused:
        hold(users, batch, [(twin, 1, 2)])
    assert refused.value.code == "batch_already_booked"


def test_another_unions_batch_is_not_found(users, batch, twin):
    with pytest.raises(NotFound):
        bookings.booking_hold(actor=actor_of(users["shenzhen_organiser"]), batch_id=batch.pk, base_id=twin.base_id,
                              arrival=ARRIVAL, nights=3, rooms=[RoomRequest(twin.pk, 1, 2)], now=NOW)


def test_confirm_rechecks_participants_and_moves_held_to_booked(users, batch, twin, django_capture_on_commit_callbacks):
    booking = hold(users, batch, [(twin, 1, 2)])
    organiser = actor_of(users["factory_organiser"])
    add_participant(batch, sequence=1)
    with pytest.raises(Conflict) as refused:
        bookings.booking_confirm(actor=organiser, booking_id=booking.pk, now=NOW)
    assert refused.value.code == "participants_mismatch"
    add_participant(batch, sequence=2, female=True)
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = bookings.booking_confirm(actor=organiser, booking_id=booking.pk, now=NOW)
    assert confirmed.status == "confirmed" and confirmed.hold_expires_at is None
    assert [(n.rooms_held, n.rooms_booked, n.people_booked) for n in nights_of(twin)] == [(0, 1, 2)] * 3
    assert len(mail.outbox) == 1 and "已确认" in mail.outbox[0].subject
    assert "base@example.cn" in mail.outbox[0].to


@pytest.mark.parametrize("language, subject, status_line", [
    ("zh-hans", "[疗休养] 预订 {} 新建 → 暂留", "状态：暂留"),
    ("en", "[Retreats] Booking {} New → Held", "Status: Held"),
])
def test_a_status_mail_is_in_the_sites_language_whatever_is_active(users, batch, twin, settings, language, subject,
                                                                   status_line):
    settings.LANGUAGE_CODE = language
    booking = hold(users, batch, [(twin, 1, 2)])
    mail.outbox.clear()
    with translation.override("en" if language == "zh-hans" else "zh-hans"):
        assert bookings.booking_status_notify(booking_id=booking.pk, from_status="", to_status="held") == 1
    assert mail.outbox[0].subject == subject.format(booking.reference)
    assert status_line in mail.outbox[0].body.splitlines()


def test_confirm_refuses_ineligible_batches_with_the_reasons(users, batch, twin):
    batch.min_front_line_percent = 90
    batch.save()
    booking = hold(users, batch, [(twin, 1, 2)])
    add_participant(batch, sequence=1)
    add_participant(batch, sequence=2, category="manager")
    with pytest.raises(Conflict) as refused:
        bookings.booking_confirm(actor=actor_of(users["factory_organiser"]), booking_id=booking.pk, now=NOW)
    assert refused.value.code == "not_eligible"
    assert refused.value.detail["failures"][0]["rule"] == "front_line_share"


def test_confirm_refuses_a_base_suspended_since_the_hold(users, batch, twin, base):
    booking = hold(users, batch, [(twin, 1, 2)])
    add_participant(batch, sequence=1)
    add_participant(batch, sequence=2)
    base.status = "suspended"
    base.save()
    with pytest.raises(Conflict, match="认证"):
        bookings.booking_confirm(actor=actor_of(users["factory_organiser"]), booking_id=booking.pk, now=NOW)


def test_hold_lapses_at_its_expiry_and_frees_the_rooms(users, batch, twin, django_capture_on_commit_callbacks):
    booking = hold(users, batch, [(twin, 3, 6)])
    assert bookings.holds_release_lapsed(now=booking.hold_expires_at - dt.timedelta(seconds=1)) == []
    with pytest.raises(Conflict) as refused:
        bookings.booking_confirm(actor=actor_of(users["factory_organiser"]), booking_id=booking.pk,
                                 now=booking.hold_expires_at)
    assert refused.value.code == "hold_lapsed"
    with django_capture_on_commit_callbacks(execute=True):
        assert bookings.holds_release_lapsed(now=booking.hold_expires_at) == [booking.pk]
    booking.refresh_from_db()
    assert booking.status == "lapsed"
    assert [(n.rooms_held, n.people_held) for n in nights_of(twin)] == [(0, 0)] * 3
    assert bookings.holds_release_lapsed(now=booking.hold_expires_at) == []  # once only
    assert any("已过期释放" in m.subject for m in mail.outbox)


def confirmed(users, batch, sizes, people):
    booking = hold(users, batch, sizes)
    for i in range(people):
        add_participant(batch, sequence=i + 1)
    return bookings.booking_confirm(actor=actor_of(users["factory_organiser"]), booking_id=booking.pk, now=NOW)


def test_partial_cancellation_frees_exactly_what_is_no_longer_needed(users, batch, twin, single):
    booking = confirmed(users, batch, [(twin, 4, 8), (single, 2, 2)], people=10)
    organiser = actor_of(users["factory_organiser"])
    today = dt.datetime(2027, 2, 25, 10, 0, tzinfo=NOW.tzinfo)  # 4 days before arrival: 50%
    reduced = bookings.booking_reduce(
        actor=organiser, booking_id=booking.pk, arrival=ARRIVAL + dt.timedelta(days=1), nights=1,
        rooms=[RoomRequest(twin.pk, 3, 6), RoomRequest(single.pk, 0, 0)], now=today,
    )
    # Twin: night 1 and 3 freed entirely (4 rooms/8 people), night 2 freed 1 room/2 people. Single: all three nights.
    assert [(n.rooms_booked, n.people_booked) for n in nights_of(twin)] == [(0, 0), (3, 6), (0, 0)]
    assert [(n.rooms_booked, n.people_booked) for n in nights_of(single)] == [(0, 0)] * 3
    assert (reduced.arrival, reduced.nights, reduced.rooms, reduced.people) == (ARRIVAL + dt.timedelta(days=1), 1, 3, 6)
    # Freed people-nights: twin 8+2+8 = 18 × 260 = 4680; single 2×3 = 6 × 380 = 2280; 6960 × 50% = 3480.00
    assert reduced.cancellation_fee == Decimal("3480.00")
    event = reduced.events.get(action="reduce")
    assert event.detail["fee"]["freed_value"] == "6960.00" and event.detail["fee"]["percent"] == "50"
    assert "50%" in event.detail["fee"]["explanation"]
    assert [line.rooms for line in reduced.lines.all()] == [3]


def test_whole_cancellation_gives_everything_back_with_the_policy_fee(users, batch, twin):
    booking = confirmed(users, batch, [(twin, 2, 4)], people=4)
    ten_days_before = dt.datetime(2027, 2, 19, 10, 0, tzinfo=NOW.tzinfo)  # 20%
    cancelled = bookings.booking_cancel(actor=actor_of(users["factory_organiser"]), booking_id=booking.pk, now=ten_days_before)
    assert cancelled.status == "cancelled"
    assert cancelled.cancellation_fee == Decimal("624.00")  # 4 × 3 × 260 × 20%
    assert [(n.rooms_booked, n.people_booked) for n in nights_of(twin)] == [(0, 0)] * 3
    with pytest.raises(Conflict):
        bookings.booking_cancel(actor=actor_of(users["factory_organiser"]), booking_id=booking.pk, now=ten_days_before)


def test_cancelling_a_hold_is_free(users, batch, twin):
    booking = hold(users, batch, [(twin, 2, 4)])
    cancelled = bookings.booking_cancel(actor=actor_of(users["factory_organiser"]), booking_id=booking.pk, now=NOW)
    assert cancelled.cancellation_fee == 0
    assert sum(n.rooms_held for n in nights_of(twin)) == 0


def test_reductions_that_grow_or_leave_the_stay_are_refused(users, batch, twin):
    booking = hold(users, batch, [(twin, 2, 4)])
    organiser = actor_of(users["factory_organiser"])
    with pytest.raises(ValidationFailed):
        bookings.booking_reduce(actor=organiser, booking_id=booking.pk, rooms=[RoomRequest(twin.pk, 3, 4)], now=NOW)
    with pytest.raises(ValidationFailed):
        bookings.booking_reduce(actor=organiser, booking_id=booking.pk, arrival=ARRIVAL - dt.timedelta(days=1), now=NOW)
    with pytest.raises(ValidationFailed, match="没有要取消的内容"):
        bookings.booking_reduce(actor=organiser, booking_id=booking.pk, rooms=[RoomRequest(twin.pk, 2, 4)], now=NOW)
    assert [n.rooms_held for n in nights_of(twin)] == [2, 2, 2]


def test_cancellation_policy_rules():
    policy = [[30, 0], [7, 20], [0, 50]]
    assert bookings.cancellation_percent(policy, 45) == 0
    assert bookings.cancellation_percent(policy, 7) == 20
    assert bookings.cancellation_percent(policy, 0) == 50
    # After the arrival day (a booking never checked in) is no cheaper than the day itself: no free no-shows.
    assert bookings.cancellation_percent(policy, -2) == 50
    assert bookings.cancellation_percent([[30, 0], [7, 20]], -2) == 0  # a policy without a same-day rule charges nothing late
    assert bookings.cancellation_percent([], 3) == 0


@pytest.mark.parametrize("room_types", [1, 2])
def test_a_hold_costs_the_same_few_queries_however_many_nights(users, batch, twin, single, room_types):
    """One guarded statement takes every night of every room type: the queries do not grow with the nights."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from groups.models import Batch

    sizes = [(twin, 1, 2), (single, 1, 1)][:room_types]
    counts = {}
    for nights in (1, 10):
        other = Batch.objects.create(union=batch.union, title=f"{nights} 晚批次", nights=nights, created_by=batch.created_by)
        with CaptureQueriesContext(connection) as queries:
            booking = hold(users, other, sizes, nights=nights)
        counts[nights] = len(queries)
        assert booking.nights == nights
        assert [n.rooms_held for n in nights_of(twin, count=nights)] == ([1] if nights == 1 else [2] + [1] * (nights - 1))
    assert counts[1] == counts[10] <= 11, counts  # batch, room types + base, lock timeout, take, beds re-read, 3 inserts, savepoints


def test_cancelling_after_the_arrival_day_pays_the_same_day_fee(users, batch, twin):
    booking = confirmed(users, batch, [(twin, 2, 4)], people=4)
    two_days_after = dt.datetime(2027, 3, 3, 10, 0, tzinfo=NOW.tzinfo)
    cancelled = bookings.booking_cancel(actor=actor_of(users["factory_organiser"]), booking_id=booking.pk, now=two_days_after)
    assert cancelled.cancellation_fee == Decimal("1560.00")  # 4 people × 3 nights × 260 × 50%
    explanation = cancelled.events.get(action="cancel").detail["fee"]["explanation"]
    assert "抵达日后 2 天" in explanation and "50%" in explanation


def test_a_hold_whose_arrival_has_passed_cannot_be_confirmed(users, batch, twin):
    booking = hold(users, batch, [(twin, 2, 4)])
    for i in range(4):
        add_participant(batch, sequence=i + 1)
    Booking.objects.filter(pk=booking.pk).update(hold_expires_at=dt.datetime(2027, 3, 10, tzinfo=NOW.tzinfo))  # e.g. a long offer
    the_day_after = dt.datetime(2027, 3, 2, 9, 0, tzinfo=NOW.tzinfo)
    with pytest.raises(Conflict) as refused:
        bookings.booking_confirm(actor=actor_of(users["factory_organiser"]), booking_id=booking.pk, now=the_day_after)
    assert refused.value.code == "arrival_passed"
    assert Booking.objects.get(pk=booking.pk).status == "held"
    assert [(n.rooms_held, n.rooms_booked) for n in nights_of(twin)] == [(2, 0)] * 3


@pytest.mark.parametrize("arrival", [dt.date(9999, 12, 31), dt.date(2029, 12, 31)])
def test_arrivals_beyond_the_horizon_are_a_422_not_an_overflow(users, batch, twin, arrival):
    organiser = actor_of(users["factory_organiser"])
    with pytest.raises(ValidationFailed, match="超出可预订范围"):
        hold(users, batch, [(twin, 1, 2)], arrival=arrival)
    with pytest.raises(ValidationFailed, match="超出可预订范围"):
        bookings.waitlist_join(actor=organiser, batch_id=batch.pk, base_id=twin.base_id, room_type_id=twin.pk, arrival=arrival,
                               nights=3, rooms=1, people=2, now=NOW)
    assert not Booking.objects.exists()


def test_reductions_with_far_off_or_oversized_values_are_refused(users, batch, twin):
    booking = hold(users, batch, [(twin, 2, 4)])
    organiser = actor_of(users["factory_organiser"])
    for arguments in ({"arrival": dt.date(9999, 12, 31)}, {"arrival": dt.date(1, 1, 1)}, {"nights": 10**12}, {"nights": 4}):
        with pytest.raises(ValidationFailed):
            bookings.booking_reduce(actor=organiser, booking_id=booking.pk, now=NOW, **arguments)
    assert [n.rooms_held for n in nights_of(twin)] == [2, 2, 2]


def test_oversized_room_requests_are_a_422(users, batch, twin):
    with pytest.raises(ValidationFailed, match="房间数不超过"):
        hold(users, batch, [(twin, 10**11, 10**11)])
    assert not Booking.objects.exists()


def test_the_beat_task_lapses_holds_whose_time_ran_out(users, batch, twin, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from groups.tasks import release_lapsed_holds

    booking = hold(users, batch, [(twin, 2, 4)])
    Booking.objects.filter(pk=booking.pk).update(hold_expires_at=timezone.now() - dt.timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert release_lapsed_holds.delay().get() == 1
    assert Booking.objects.get(pk=booking.pk).status == "lapsed"
    assert [(n.rooms_held, n.people_held) for n in nights_of(twin)] == [(0, 0)] * 3


def test_no_notification_leaves_for_a_change_that_was_rolled_back(users, batch, twin, django_capture_on_commit_callbacks):
    from django.db import transaction

    booking = hold(users, batch, [(twin, 1, 2)])
    for i in range(2):
        add_participant(batch, sequence=i + 1)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            bookings.booking_confirm(actor=actor_of(users["factory_organiser"]), booking_id=booking.pk, now=NOW)
            raise RuntimeError("the surrounding work failed")
    assert callbacks == [] and mail.outbox == []
    assert Booking.objects.get(pk=booking.pk).status == "held"


def test_a_hold_sized_before_the_beds_per_room_were_lowered_is_refused(users, batch, twin, monkeypatch):
    # The operator lowers the twin rooms to one bed after the hold checked its rooms, before it took the nights.
    from bases.models import RoomType

    take = bookings._take_rooms_guarded

    def lowered_meanwhile(legs):
        RoomType.objects.filter(pk=twin.pk).update(beds_per_room=1)
        return take(legs)

    if bookings.connection.vendor != "postgresql":
        pytest.skip("the guarded statement is PostgreSQL's")
    monkeypatch.setattr(bookings, "_take_rooms_guarded", lowered_meanwhile)
    with pytest.raises(Conflict) as refused:
        hold(users, batch, [(twin, 2, 4)])
    assert refused.value.code == "beds_changed" and "现只有 2 张床，不够 4 人" in refused.value.message
    assert not Booking.objects.exists()
    assert not NightInventory.objects.filter(room_type=twin, rooms_held__gt=0).exists()
