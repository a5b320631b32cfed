"""Reads for organisations, tokens, batches, participants, bookings and the waitlist, always scoped to the actor."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from bases.models import Base, NightInventory, RoomType
from bases.selectors import MAX_STAY_NIGHTS
from groups.access import Actor, administered_region_q, union_subtree_q, visible_unions
from groups.eligibility import EligibilityFailure, EligibilityRules, Person, check_eligibility
from groups.models import ApiToken, Batch, Booking, BookingLine, Organisation, Participant, WaitlistEntry
from retreat.errors import NotFound, ValidationFailed

if TYPE_CHECKING:
    from groups.bookings import CancellationFee
    from groups.rooming import BookedRooms, Occupant


def union_list(*, actor: Actor, kind: str | None = None, region: str | None = None, q: str | None = None) -> QuerySet[Organisation]:
    unions = visible_unions(actor)
    if kind:
        unions = unions.filter(kind=kind)
    if region:
        unions = unions.filter(division_code__startswith=region.rstrip("0") or region)
    if q:
        unions = unions.filter(name__icontains=q)
    return unions


def union_get(*, actor: Actor, union_id: int) -> Organisation:
    union = visible_unions(actor).filter(pk=union_id).first()
    if union is None:
        raise NotFound(_("工会不存在"))
    return union


def api_token_list(*, actor: Actor) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user_id=actor.user_id)


# --- batches, participants, bookings, waitlist ------------------------------------------


def visible_bookings_q(actor: Actor) -> Q:
    """Unions see their subtree's bookings; operators the bookings at their bases (any leg of a
    route); administrators those of their region and of the unions under them."""
    if actor.is_operator:
        at_their_base = BookingLine.objects.filter(booking=OuterRef("pk"), room_type__base__operator=actor.organisation)
        return Q(base__operator=actor.organisation) | Q(Exists(at_their_base))
    if actor.is_admin:
        return administered_region_q(actor, "base__city_code") | union_subtree_q(actor, "union")
    return union_subtree_q(actor, "union")


def visible_batches_q(actor: Actor) -> Q:
    if actor.is_operator:
        booked_here = Booking.objects.filter(visible_bookings_q(actor), batch=OuterRef("pk"), status__in=Booking.ACTIVE + Booking.DONE_OR_GOING)
        return Q(Exists(booked_here))
    return union_subtree_q(actor, "union")


def batch_list(*, actor: Actor, q: str | None = None) -> QuerySet[Batch]:
    batches = Batch.objects.filter(visible_batches_q(actor)).select_related("union")
    return batches.filter(title__icontains=q) if q else batches


def batch_get(*, actor: Actor, batch_id: int) -> Batch:
    batch = Batch.objects.filter(visible_batches_q(actor), pk=batch_id).select_related("union", "route_departure").first()
    if batch is None:
        raise NotFound(_("批次不存在"), detail={"batch_id": batch_id})
    return batch


def may_see_full_ids(*, actor: Actor, batch: Batch) -> bool:
    """Only the batch's own union organiser sees full ID numbers (for the real-name sign-in sheet);
    everyone else, higher unions and base operators included, sees them masked."""
    return actor.is_organiser and actor.organisation.pk == batch.union_id


def participant_list(*, actor: Actor, batch_id: int) -> QuerySet[Participant]:
    batch = batch_get(actor=actor, batch_id=batch_id)
    return batch.participants.select_related("room_type", "family_of").order_by("pk")


def active_booking_of(*, batch: Batch) -> Booking | None:
    return batch.bookings.filter(status__in=Booking.ACTIVE).prefetch_related("lines__room_type").first()


def rooming_inputs_of(*, booking: Booking) -> tuple[list[Participant], list["Occupant"], list["BookedRooms"]]:
    """The batch's people and the rooms booked for the first night, as the rooming rules take them."""
    from groups.rooming import BookedRooms, Occupant, family_key_of

    first_lines = [line for line in booking.lines.all() if line.first_night == booking.arrival]  # prefetched with their room types
    booked = [BookedRooms(line.room_type_id, line.room_type.name, line.rooms, line.room_type.beds_per_room) for line in first_lines]
    participants = list(booking.batch.participants.order_by("pk"))
    with_family = {p.family_of_id for p in participants if p.family_of_id}
    occupants = [
        Occupant(p.pk, p.name, p.gender, family_key_of(participant_id=p.pk, family_of_id=p.family_of_id, has_family=p.pk in with_family))
        for p in participants
    ]
    return participants, occupants, booked


def rooming_warning(*, booking: Booking) -> str | None:
    """Why the booked rooms cannot house the list by the rooming rules (beds, no mixed genders except
    families), or None: a complete, valid saved rooming list or a possible proposal is fine."""
    from groups.rooming import Placement, RoomingImpossible, propose_rooming, rooming_problems

    if booking.status not in (Booking.Status.HELD, Booking.Status.CONFIRMED):
        return None
    participants, occupants, booked = rooming_inputs_of(booking=booking)
    if not occupants or not booked:
        return None
    saved = {p.pk: Placement(p.room_type_id, p.room_label) for p in participants if p.room_type_id and p.room_label}
    if len(saved) == len(occupants) and not rooming_problems(occupants=occupants, placements=saved, booked=booked):
        return None
    try:
        propose_rooming(occupants=occupants, booked=booked)
    except RoomingImpossible as error:
        return str(error)
    return None


def eligibility_failures(*, batch: Batch, arrival: dt.date | None, nights: int) -> list[EligibilityFailure]:
    """The batch's switched-on rules checked against its participants and every other batch's trips."""
    rules = EligibilityRules(
        min_front_line_percent=batch.min_front_line_percent, no_repeat_years=batch.no_repeat_years,
        max_stay_days=batch.max_stay_days, family_allowed=batch.family_allowed,
    )
    people = [Person(name, category, id_hash) for name, category, id_hash in batch.participants.values_list("name", "category", "id_hash")]
    earlier: dict[str, dt.date] = {}
    if rules.no_repeat_years is not None and people:
        trips = (
            Participant.objects.filter(id_hash__in=[p.id_hash for p in people], batch__bookings__status__in=Booking.DONE_OR_GOING)
            .exclude(batch=batch)
            .values("id_hash")
            .annotate(latest=Max("batch__bookings__arrival"))
        )
        earlier = {row["id_hash"]: row["latest"] for row in trips}
    return check_eligibility(rules=rules, people=people, arrival=arrival, nights=nights, earlier_trips=earlier)


def batch_eligibility(*, actor: Actor, batch_id: int) -> list[EligibilityFailure]:
    batch = batch_get(actor=actor, batch_id=batch_id)
    booking = active_booking_of(batch=batch)
    arrival, nights = (booking.arrival, booking.nights) if booking else (batch.arrival, batch.nights)
    return eligibility_failures(batch=batch, arrival=arrival, nights=nights)


def booking_list(*, actor: Actor, status: str | None = None, base_id: int | None = None, batch_id: int | None = None) -> QuerySet[Booking]:
    bookings = Booking.objects.filter(visible_bookings_q(actor)).select_related("base", "union", "batch")
    if status:
        bookings = bookings.filter(status=status)
    if base_id:
        bookings = bookings.filter(base_id=base_id)
    if batch_id:
        bookings = bookings.filter(batch_id=batch_id)
    return bookings.order_by("-created_at", "-pk")


def booking_get(*, actor: Actor, booking_id: int) -> Booking:
    booking = (
        Booking.objects.filter(visible_bookings_q(actor), pk=booking_id)
        .select_related("base", "union", "batch", "route_departure__route")
        .prefetch_related("lines__room_type", "events__actor")
        .first()
    )
    if booking is None:
        raise NotFound(_("预订不存在"), detail={"booking_id": booking_id})
    return booking


@dataclass(frozen=True)
class CancellationQuote:
    """What cancelling the whole booking would cost on ``today``, and the base's policy behind it."""

    booking: Booking
    policy: list[tuple[int, Decimal]]  # (days before arrival, fee percent), most days first
    fee: "CancellationFee | None"  # None: the booking can no longer be cancelled

    @property
    def cancellable(self) -> bool:
        return self.fee is not None


def cancellation_quote(*, actor: Actor, booking_id: int, today: dt.date | None = None) -> CancellationQuote:
    """The base's cancellation policy and the fee a whole cancellation would pay today; nothing is changed."""
    from groups.bookings import _line_nights, cancellation_fee, policy_rules

    booking = booking_get(actor=actor, booking_id=booking_id)
    policy = policy_rules(booking.base.cancellation_policy)
    if booking.status not in (Booking.Status.HELD, Booking.Status.CONFIRMED):
        return CancellationQuote(booking=booking, policy=policy, fee=None)
    fee = cancellation_fee(booking=booking, freed=_line_nights(list(booking.lines.all())), today=today or timezone.localdate())
    return CancellationQuote(booking=booking, policy=policy, fee=fee)


def waitlist_list(*, actor: Actor, status: str | None = None) -> QuerySet[WaitlistEntry]:
    if actor.is_operator:
        scope = Q(base__operator=actor.organisation)
    elif actor.is_admin:
        scope = administered_region_q(actor, "base__city_code") | union_subtree_q(actor, "union")
    else:
        scope = union_subtree_q(actor, "union")
    entries = WaitlistEntry.objects.filter(scope).select_related("batch", "base", "room_type", "offered_booking")
    return entries.filter(status=status) if status else entries


def stay_availability(*, actor: Actor, base_id: int, arrival: dt.date, nights: int) -> list[dict]:
    """Each room type of a certified base with the rooms free on every night of the stay (0 when a night
    is not opened or closed); two queries."""
    base = Base.objects.filter(pk=base_id, status=Base.Status.CERTIFIED).first()
    if base is None:
        raise NotFound(_("基地不存在"), detail={"base_id": base_id})
    horizon = timezone.localdate() + dt.timedelta(days=settings.INVENTORY_HORIZON_DAYS)
    if not 1 <= nights <= MAX_STAY_NIGHTS or arrival > horizon:
        raise ValidationFailed(
            _("请查询 1 到 %(max)s 晚、抵达日期不晚于 %(horizon)s 的住宿：%(arrival)s 起 %(nights)s 晚") % {
                "max": MAX_STAY_NIGHTS, "horizon": horizon, "arrival": arrival, "nights": nights,
            },
            detail={"arrival": arrival.isoformat(), "nights": nights, "horizon": horizon.isoformat()},
        )
    last = arrival + dt.timedelta(days=nights - 1)
    room_types = list(RoomType.objects.filter(base=base).order_by("pk"))
    rows = NightInventory.objects.filter(room_type__base=base, night__range=(arrival, last))
    free: dict[int, dict[dt.date, int]] = {rt.pk: {} for rt in room_types}
    for row in rows:
        free[row.room_type_id][row.night] = row.rooms_free
    nights_list = [arrival + dt.timedelta(days=i) for i in range(nights)]
    return [
        {
            "room_type_id": rt.pk, "name": rt.name, "beds_per_room": rt.beds_per_room, "price_per_night": rt.price_per_night,
            "rooms_free": min(free[rt.pk].get(night, 0) for night in nights_list),
            "nights": [{"night": night, "rooms_free": free[rt.pk].get(night, 0)} for night in nights_list],
        }
        for rt in room_types
    ]


def participant_export(*, actor: Actor, batch_id: int, file_format: str) -> tuple[bytes, str, str]:
    """The participant list as (content, content type, file name); ID numbers masked unless
    ``may_see_full_ids``."""
    from groups.identity import decrypt_resident_id
    from groups.participants import export_rows, write_csv, write_xlsx

    batch = batch_get(actor=actor, batch_id=batch_id)
    participants = list(batch.participants.order_by("pk"))
    rows = export_rows(
        participants, full_ids=may_see_full_ids(actor=actor, batch=batch), decrypt=lambda p: decrypt_resident_id(p.id_encrypted)
    )
    if file_format == "xlsx":
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return write_xlsx(rows), content_type, f"participants-{batch.pk}.xlsx"
    return write_csv(rows), "text/csv; charset=utf-8", f"participants-{batch.pk}.csv"
