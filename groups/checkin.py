"""Arrival verification (一码核销): check-in services and arrival / no-show figures.

Writes: ``check_in_by_code`` (a scanned or typed group or personal code),
``check_in_participants`` (an operator ticks people off by hand) and
``booking_complete`` (after the last night). Each is one transaction holding the
booking's row lock, so two devices scanning the same group at once check each
person in exactly once; scanning again is fine and says when they arrived.

Reads: ``arrivals_on`` (the day's arriving bookings, expected vs checked in),
``booking_arrivals`` (who of one booking came) and ``arrival_figures``
(arrivals and no-shows per booking, base, union or month).

A code names its booking; the dates checked are the booking's as they are now
(a partial cancellation may have shortened the stay since the code was printed).

A participant is a *no-show* once the arrival day of a booked stay is over
without their check-in; until then they are *awaited*.
"""

import datetime as dt
import enum
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from bases.models import Base
from groups.access import Actor, Role
from groups.codes import ArrivalCode, CodeKind, signing_public_key, verify_arrival_code
from groups.models import Booking, BookingEvent, CheckIn, Participant
from groups.selectors import visible_bookings_q
from retreat.errors import Conflict, NotFound, ValidationFailed
from retreat.locking import locked_transaction

Status = Booking.Status
# Bookings whose places were claimed: they count in arrival and no-show figures.
CLAIMED_STATUSES = (Status.CONFIRMED, Status.CHECKED_IN, Status.COMPLETED)
CHECK_IN_OPEN_STATUSES = (Status.CONFIRMED, Status.CHECKED_IN)


class CheckInMethod(enum.StrEnum):
    PERSON = "person"
    GROUP = "group"
    MANUAL = "manual"


@dataclass(frozen=True)
class PersonCheckIn:
    participant_id: int
    name: str
    at: dt.datetime
    just_now: bool


@dataclass(frozen=True)
class CheckInResult:
    booking: Booking
    method: CheckInMethod
    people: list[PersonCheckIn]
    expected: int
    arrived: int

    @property
    def checked_in_now(self) -> list[PersonCheckIn]:
        return [person for person in self.people if person.just_now]

    @property
    def already_checked_in(self) -> list[PersonCheckIn]:
        return [person for person in self.people if not person.just_now]

    @property
    def message(self) -> str:
        if self.method == CheckInMethod.PERSON:
            person = self.people[0]
            if person.just_now:
                return _("%(name)s 核销成功") % {"name": person.name}
            return _("%(name)s 已于 %(time)s 核销，无需重复") % {"name": person.name, "time": _clock(person.at)}
        counts = {"now": len(self.checked_in_now), "before": len(self.already_checked_in),
                  "arrived": self.arrived, "expected": self.expected}
        if counts["before"]:
            return _("本次核销 %(now)s 人，%(before)s 人此前已核销；已到 %(arrived)s/%(expected)s 人") % counts
        return _("本次核销 %(now)s 人；已到 %(arrived)s/%(expected)s 人") % counts


# ---------------------------------------------------------------------------
# Scoping


def bookings_visible_to(actor: Actor) -> QuerySet[Booking]:
    return Booking.objects.filter(visible_bookings_q(actor))


def booking_visible_get(*, actor: Actor, reference: str) -> Booking:
    booking = bookings_visible_to(actor).select_related("base", "union", "batch").filter(reference=reference).first()
    if booking is None:
        raise NotFound(_("预订 %(reference)s 不存在") % {"reference": reference}, detail={"reference": reference})
    return booking


# ---------------------------------------------------------------------------
# Services


def check_in_by_code(
    *,
    actor: Actor,
    code: str,
    participant_ids: list[int] | None = None,
    base_id: int | None = None,
    now: dt.datetime | None = None,
) -> CheckInResult:
    """Check in the holder of a personal code, or a group (everyone not yet in, or ``participant_ids``).

    ``base_id`` is the base the operator is scanning at, when they run several.
    """
    actor.require(Role.OPERATOR)
    arrival_code = verify_arrival_code(code, public_key=signing_public_key())
    _require_operator_base(actor=actor, arrival_code=arrival_code, scanning_base_id=base_id)
    if arrival_code.kind == CodeKind.PERSON:
        if participant_ids:
            raise ValidationFailed(
                _("个人码只能核销本人"), detail={"participant_ids": participant_ids}
            )
        participant_ids, method = [arrival_code.participant_id], CheckInMethod.PERSON
    else:
        method = CheckInMethod.GROUP
    return _check_in(
        actor=actor,
        booking_filter=Q(reference=arrival_code.reference, base_id=arrival_code.base_id),
        reference=arrival_code.reference,
        participant_ids=participant_ids or None,
        method=method,
        now=now or timezone.now(),
    )


def check_in_participants(
    *, actor: Actor, reference: str, participant_ids: list[int], now: dt.datetime | None = None
) -> CheckInResult:
    """An operator checks people in by hand (a lost phone, an unreadable code)."""
    actor.require(Role.OPERATOR)
    if not participant_ids:
        raise ValidationFailed(_("请选择要核销的人员"), detail={"participant_ids": []})
    return _check_in(
        actor=actor,
        booking_filter=Q(reference=reference, base__operator=actor.organisation),
        reference=reference,
        participant_ids=participant_ids,
        method=CheckInMethod.MANUAL,
        now=now or timezone.now(),
    )


def booking_complete(*, actor: Actor, reference: str, now: dt.datetime | None = None) -> Booking:
    """Close a stay after its last night; the arrival figures are recorded on the event."""
    actor.require(Role.OPERATOR)
    now = now or timezone.now()
    with locked_transaction():
        booking = _lock_booking(Q(reference=reference, base__operator=actor.organisation), reference=reference)
        if booking.status not in CHECK_IN_OPEN_STATUSES:
            raise Conflict(
                _("预订状态为「%(status)s」，不能完成") % {"status": booking.get_status_display()},
                code="not_completable",
                detail={"status": booking.status},
            )
        today = timezone.localdate(now)
        if today <= booking.last_night:
            raise Conflict(
                _("最后一晚 %(last_night)s 尚未过去") % {"last_night": f"{booking.last_night:%Y-%m-%d}"},
                code="stay_not_over",
                detail={"last_night": booking.last_night.isoformat()},
            )
        expected = booking.batch.participants.count()
        arrived = booking.check_ins.count()
        _change_status(
            booking,
            to_status=Status.COMPLETED,
            action="complete",
            actor=actor,
            detail={"expected": expected, "arrived": arrived, "no_shows": expected - arrived},
            now=now,
        )
    return booking


def _check_in(
    *,
    actor: Actor,
    booking_filter: Q,
    reference: str,
    participant_ids: list[int] | None,
    method: CheckInMethod,
    now: dt.datetime,
) -> CheckInResult:
    with locked_transaction():
        booking = _lock_booking(booking_filter, reference=reference)
        _require_open_for_check_in(booking=booking, today=timezone.localdate(now))
        participants = {p.pk: p for p in booking.batch.participants.all()}
        wanted = list(dict.fromkeys(participant_ids)) if participant_ids else list(participants)
        strangers = [pid for pid in wanted if pid not in participants]
        if strangers:
            raise ValidationFailed(
                _("人员不属于预订 %(reference)s：%(ids)s") % {"reference": booking.reference, "ids": ", ".join(map(str, strangers))},
                code="unknown_participant",
                detail={"participant_ids": strangers},
            )
        if not wanted:
            raise ValidationFailed(_("预订 %(reference)s 尚无参加人员名单") % {"reference": booking.reference},
                                   code="no_participants")
        earlier = dict(CheckIn.objects.filter(booking=booking, participant_id__in=wanted).values_list("participant_id", "at"))
        arriving = [pid for pid in wanted if pid not in earlier]
        CheckIn.objects.bulk_create(
            CheckIn(booking=booking, participant_id=pid, checked_in_by_id=actor.user_id, at=now, method=method)
            for pid in arriving
        )
        if arriving:
            _change_status(
                booking,
                to_status=Status.CHECKED_IN,
                action="check_in",
                actor=actor,
                detail={"method": method.value, "participant_ids": arriving},
                now=now,
            )
        arrived = CheckIn.objects.filter(booking=booking).count()
    people = [
        PersonCheckIn(participant_id=pid, name=participants[pid].name, at=earlier.get(pid, now), just_now=pid not in earlier)
        for pid in wanted
    ]
    return CheckInResult(booking=booking, method=method, people=people, expected=len(participants), arrived=arrived)


def _change_status(booking: Booking, *, to_status: str, action: str, actor: Actor, detail: dict, now: dt.datetime) -> None:
    """Record the event; a real status change notifies the union and the base after commit."""
    from_status = booking.status
    if from_status != to_status:
        booking.status = to_status
        booking.save(update_fields=["status"])
        booking_id = booking.pk
        transaction.on_commit(lambda: _notify_status_change(booking_id, from_status, to_status))
    BookingEvent.objects.create(
        booking=booking, action=action, from_status=from_status, to_status=to_status, actor_id=actor.user_id, detail=detail, at=now
    )


def _notify_status_change(booking_id: int, from_status: str, to_status: str) -> None:
    from groups.tasks import notify_booking_status

    notify_booking_status.delay(booking_id, from_status, to_status)


def _lock_booking(booking_filter: Q, *, reference: str) -> Booking:
    booking = Booking.objects.select_for_update(of=("self",)).select_related("base", "batch", "union").filter(booking_filter).first()
    if booking is None:
        raise NotFound(_("预订 %(reference)s 不存在") % {"reference": reference}, detail={"reference": reference})
    return booking


def scanning_bases(actor: Actor) -> QuerySet[Base]:
    """The bases where the operator may check people in."""
    if not actor.is_operator:
        return Base.objects.none()
    return Base.objects.filter(operator=actor.organisation).order_by("name")


def _require_operator_base(*, actor: Actor, arrival_code: ArrivalCode, scanning_base_id: int | None) -> None:
    own_base_ids = set(scanning_bases(actor).values_list("pk", flat=True))
    if arrival_code.base_id in own_base_ids and scanning_base_id in (None, arrival_code.base_id):
        return
    base_name = Base.objects.filter(pk=arrival_code.base_id).values_list("name", flat=True).first() or f"#{arrival_code.base_id}"
    raise Conflict(
        _("该码属于基地「%(base)s」，不能在本基地核销") % {"base": base_name},
        code="wrong_base",
        detail={"base_id": arrival_code.base_id, "base_name": base_name},
    )


def _require_open_for_check_in(*, booking: Booking, today: dt.date) -> None:
    if booking.status in (Status.CANCELLED, Status.LAPSED):
        raise Conflict(
            _("预订 %(reference)s %(status)s，不能核销") % {"reference": booking.reference, "status": booking.get_status_display()},
            code="booking_cancelled",
            detail={"status": booking.status},
        )
    if booking.status == Status.HELD:
        raise Conflict(
            _("预订 %(reference)s 尚未确认，不能核销") % {"reference": booking.reference},
            code="not_confirmed",
            detail={"status": booking.status},
        )
    if booking.status == Status.COMPLETED:
        raise Conflict(
            _("预订 %(reference)s 已完成，不能再核销") % {"reference": booking.reference},
            code="stay_completed",
            detail={"status": booking.status},
        )
    if not booking.arrival <= today <= booking.last_night:
        first, last = booking.arrival.isoformat(), booking.last_night.isoformat()
        raise Conflict(
            _("日期不符：预订入住 %(first)s 至 %(last)s（末晚），今天是 %(today)s") % {
                "first": first, "last": last, "today": today.isoformat(),
            },
            code="wrong_date",
            detail={"arrival": first, "last_night": last, "today": today.isoformat()},
        )


def _clock(moment: dt.datetime) -> str:
    return date_format(timezone.localtime(moment), "H:i")


# ---------------------------------------------------------------------------
# Selectors


@dataclass(frozen=True)
class ArrivalCount:
    """Expected (listed participants), arrived (checked in), no-shows and still awaited."""

    expected: int = 0
    arrived: int = 0
    no_shows: int = 0
    awaited: int = 0

    @property
    def arrival_percent(self) -> int | None:
        """Arrived out of the people whose arrival day has come (arrived + no-shows), a whole percent; people still
        awaited do not count against it. None while nobody is due yet."""
        due = self.arrived + self.no_shows
        return (200 * self.arrived + due) // (2 * due) if due else None

    def __add__(self, other: "ArrivalCount") -> "ArrivalCount":
        return ArrivalCount(
            expected=self.expected + other.expected,
            arrived=self.arrived + other.arrived,
            no_shows=self.no_shows + other.no_shows,
            awaited=self.awaited + other.awaited,
        )


@dataclass(frozen=True)
class BookingArrivalRow:
    booking: Booking
    count: ArrivalCount


@dataclass(frozen=True)
class ParticipantArrival:
    participant: Participant
    check_in: CheckIn | None
    no_show: bool


@dataclass(frozen=True)
class BookingArrivalDetail:
    booking: Booking
    count: ArrivalCount
    participants: list[ParticipantArrival]


@dataclass
class ArrivalFigure:
    """One row of the figures: a booking, a base, a union or a month."""

    key: str
    label: str
    bookings: int = 0
    count: ArrivalCount = field(default_factory=ArrivalCount)


class FigureGrouping(enum.StrEnum):
    BOOKING = "booking"
    BASE = "base"
    UNION = "union"
    MONTH = "month"


def arrivals_on(*, actor: Actor, day: dt.date, base_id: int | None = None, today: dt.date | None = None) -> list[BookingArrivalRow]:
    """Bookings arriving on ``day``, with expected and checked-in counts."""
    bookings = bookings_visible_to(actor).filter(arrival=day, status__in=CLAIMED_STATUSES)
    if base_id is not None:
        bookings = bookings.filter(base_id=base_id)
    return _rows(bookings.order_by("base__name", "reference"), today=today or timezone.localdate())


def booking_arrivals(*, actor: Actor, reference: str, today: dt.date | None = None) -> BookingArrivalDetail:
    booking = booking_visible_get(actor=actor, reference=reference)
    today = today or timezone.localdate()
    check_ins = {check_in.participant_id: check_in for check_in in booking.check_ins.all()}
    arrival_over = _arrival_day_over(booking, today)
    participants = [
        ParticipantArrival(
            participant=participant,
            check_in=check_ins.get(participant.pk),
            no_show=arrival_over and participant.pk not in check_ins,
        )
        for participant in booking.batch.participants.all()
    ]
    count = _count(booking, expected=len(participants), arrived=len(check_ins), today=today)
    return BookingArrivalDetail(booking=booking, count=count, participants=participants)


def arrival_figures(
    *,
    actor: Actor,
    group_by: FigureGrouping,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    base_id: int | None = None,
    union_id: int | None = None,
    today: dt.date | None = None,
) -> list[ArrivalFigure]:
    """Arrivals and no-shows of claimed bookings arriving in [date_from, date_to], grouped.

    A union's figures include its whole sub-tree: ``union_id`` picks a sub-tree.
    """
    bookings = bookings_visible_to(actor).filter(status__in=CLAIMED_STATUSES)
    if date_from:
        bookings = bookings.filter(arrival__gte=date_from)
    if date_to:
        bookings = bookings.filter(arrival__lte=date_to)
    if base_id is not None:
        bookings = bookings.filter(base_id=base_id)
    if union_id is not None:
        bookings = bookings.filter(union__path__contains=f"/{union_id}/")
    rows = _rows(bookings.order_by("arrival", "reference"), today=today or timezone.localdate())
    figures: dict[str, ArrivalFigure] = {}
    for row in rows:
        key, label = _figure_key(row.booking, group_by)
        figure = figures.setdefault(key, ArrivalFigure(key=key, label=label))
        figure.bookings += 1
        figure.count += row.count
    return sorted(figures.values(), key=lambda figure: (figure.label, figure.key) if group_by != FigureGrouping.MONTH else figure.key)


def arrival_totals(figures: list[ArrivalFigure]) -> ArrivalFigure:
    total = ArrivalFigure(key="total", label=_("合计"))
    for figure in figures:
        total.bookings += figure.bookings
        total.count += figure.count
    return total


def _rows(bookings: QuerySet[Booking], *, today: dt.date) -> list[BookingArrivalRow]:
    annotated = bookings.select_related("base", "union", "batch").annotate(
        expected_count=_count_of(Participant.objects.filter(batch_id=OuterRef("batch_id"))),
        arrived_count=_count_of(CheckIn.objects.filter(booking_id=OuterRef("pk"))),
    )
    return [
        BookingArrivalRow(
            booking=booking, count=_count(booking, expected=booking.expected_count, arrived=booking.arrived_count, today=today)
        )
        for booking in annotated
    ]


def _count_of(rows: QuerySet) -> Coalesce:
    """A correlated COUNT(*) subquery (one row per booking, no join fan-out)."""
    counted = rows.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _count(booking: Booking, *, expected: int, arrived: int, today: dt.date) -> ArrivalCount:
    missing = max(expected - arrived, 0)
    if _arrival_day_over(booking, today):
        return ArrivalCount(expected=expected, arrived=arrived, no_shows=missing)
    return ArrivalCount(expected=expected, arrived=arrived, awaited=missing)


def _arrival_day_over(booking: Booking, today: dt.date) -> bool:
    return booking.arrival < today


def _figure_key(booking: Booking, group_by: FigureGrouping) -> tuple[str, str]:
    if group_by == FigureGrouping.BOOKING:
        return booking.reference, f"{booking.reference} · {booking.batch.title}"
    if group_by == FigureGrouping.BASE:
        return str(booking.base_id), booking.base.name
    if group_by == FigureGrouping.UNION:
        return str(booking.union_id), booking.union.name
    return booking.arrival.strftime("%Y-%m"), booking.arrival.strftime("%Y-%m")
