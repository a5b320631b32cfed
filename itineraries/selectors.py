"""Reads for itineraries and arrival codes, scoped to the actor.

Union roles see the bookings of their sub-tree, operators the bookings at their
bases, administrators also their region's; anything else is a 404. Whoever sees
an itinerary sees its codes too: an operator may re-print a group's code at the
desk (and may check people in by hand anyway).
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from groups.access import Actor
from groups.checkin import CLAIMED_STATUSES, booking_visible_get
from groups.codes import group_code_for, personal_code_for
from groups.models import Booking, Participant
from itineraries.builder import (
    Contact,
    Itinerary,
    LodgingLine,
    Place,
    ProgrammeDay,
    ProgrammeItem,
    StayFacts,
    Traveller,
    build_itinerary,
)
from retreat.errors import Conflict


@dataclass(frozen=True)
class PersonalCode:
    participant: Participant
    code: str


@dataclass(frozen=True)
class BookingCodes:
    booking: Booking
    group_code: str
    personal_codes: list[PersonalCode]


def itinerary_get(*, actor: Actor, reference: str) -> Itinerary:
    booking = booking_visible_get(actor=actor, reference=reference)
    _require_claimed(booking)
    return build_itinerary(stay_facts_of(booking))


def printable_itinerary_get(*, actor: Actor, reference: str) -> tuple[Itinerary, str]:
    """The itinerary and the group code printed on it."""
    booking = booking_visible_get(actor=actor, reference=reference)
    _require_claimed(booking)
    return build_itinerary(stay_facts_of(booking)), group_code_for(booking)


def booking_codes_get(*, actor: Actor, reference: str) -> BookingCodes:
    booking = booking_visible_get(actor=actor, reference=reference)
    _require_claimed(booking)
    return BookingCodes(
        booking=booking,
        group_code=group_code_for(booking),
        personal_codes=[
            PersonalCode(participant=participant, code=personal_code_for(booking, participant))
            for participant in booking.batch.participants.all()
        ],
    )


def stay_facts_of(booking: Booking) -> StayFacts:
    lines = booking.lines.select_related("room_type__base").order_by("first_night", "room_type_id")
    departure = booking.route_departure
    programme: tuple[ProgrammeDay, ...] = ()
    if departure is not None:
        route_days = departure.route.route_days.prefetch_related("items").order_by("number")
        programme = tuple(
            ProgrammeDay(
                number=day.number,
                items=tuple(
                    ProgrammeItem(time=item.time, place=item.place, activity=item.activity, meals=item.meals)
                    for item in day.items.all()
                ),
            )
            for day in route_days
        )
    organiser = booking.created_by
    return StayFacts(
        reference=booking.reference,
        title=booking.batch.title,
        union_name=booking.union.name,
        arrival_place=_place(booking.base),
        arrival=booking.arrival,
        nights=booking.nights,
        people=booking.people,
        lodging=tuple(
            LodgingLine(
                place=_place(line.room_type.base),
                room_type=line.room_type.name,
                first_night=line.first_night,
                nights=line.nights,
                rooms=line.rooms,
                people=line.people,
            )
            for line in lines
        ),
        organiser=Contact(
            kind="organiser",
            of=booking.union.name,
            name=organiser.get_full_name() or organiser.username,
            phone=booking.union.contact_phone,
            email=organiser.email,
        ),
        travellers=tuple(
            Traveller(
                participant_id=participant.pk,
                name=participant.name,
                gender=participant.get_gender_display(),
                category=participant.get_category_display(),
                employer=participant.employer,
                room=participant.room_label,
            )
            for participant in booking.batch.participants.all()
        ),
        route_title=departure.route.title if departure is not None else "",
        programme=programme,
    )


def _place(base) -> Place:
    return Place(
        base_id=base.pk,
        name=base.name,
        address=base.address,
        contact_name=base.contact_name,
        contact_phone=base.contact_phone,
        contact_email=base.contact_email,
    )


def _require_claimed(booking: Booking) -> None:
    if booking.status not in CLAIMED_STATUSES:
        raise Conflict(
            _("预订 %(reference)s 状态为「%(status)s」，确认后才有行程和核销码")
            % {"reference": booking.reference, "status": booking.get_status_display()},
            code="not_confirmed",
            detail={"status": booking.status},
        )
