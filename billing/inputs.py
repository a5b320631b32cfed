"""Turning bookings, participants and programmes into the pure arithmetic's inputs.

Room types are keyed by their id, people by their ID hash (the same person has
the same key in every batch, which is what the yearly caps count by).
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.utils.translation import gettext as _

from billing.funding import (
    BaseDiscount,
    BaseFacts,
    BookingCost,
    CertificationLevel,
    CoverCost,
    Eligibility,
    ExtraBasis,
    ExtraCharge,
    FlatSubsidy,
    Matching,
    ParticipantCost,
    ProgrammeRules,
    ProgrammeState,
    RepeatScope,
    to_fen,
)
from billing.funding.rules import years_before as eligibility_years_before
from billing.models import FundingAllocation, FundProgramme, UnionFundingPolicy
from groups.models import Booking, BookingLine, Organisation, Participant
from retreat.errors import ValidationFailed


@dataclass(frozen=True, kw_only=True)
class Person:
    """A participant as the split sees them; ``participant`` is None for a name not yet on the list."""

    cost: ParticipantCost
    participant: Participant | None

    @property
    def name(self) -> str:
        return self.participant.name if self.participant else "（名单待补）"


def programme_rules(programme: FundProgramme) -> ProgrammeRules:
    """The programme's configuration as the pure rules; bad configuration is a 422."""
    try:
        return ProgrammeRules(
            programme_id=str(programme.pk),
            name=programme.name,
            order=programme.order,
            contribution=_contribution(programme),
            cap_per_person_day_fen=_fen_or_none(programme.cap_per_person_day),
            cap_per_person_year_fen=_fen_or_none(programme.cap_per_person_year),
            eligibility=Eligibility(
                union_ids=frozenset(str(union_id) for union_id in _funded_union_ids(programme)),
                base_certification_levels=(
                    frozenset(CertificationLevel(level) for level in programme.base_levels) if programme.base_levels else None
                ),
                base_region_prefixes=tuple(programme.base_region_prefixes) or None,
                participant_categories=frozenset(programme.participant_categories) or None,
                max_stay_days=programme.max_stay_days,
                period_start=programme.valid_from,
                period_end=programme.valid_until,
                min_front_line_percent=programme.min_front_line_percent,
                no_repeat_years=programme.no_repeat_years,
                no_repeat_scope=RepeatScope(programme.no_repeat_scope),
                family_allowed=programme.family_allowed,
            ),
            fully_funded_union_ids=frozenset(str(pk) for pk in programme.fully_funded_unions.values_list("pk", flat=True)),
        )
    except (TypeError, ValueError) as error:
        raise ValidationFailed(
            _("专项经费「%(programme)s」的规则配置有误：%(error)s") % {"programme": programme.name, "error": error},
            detail={"programme_id": programme.pk},
        ) from error


def _contribution(programme: FundProgramme) -> CoverCost | FlatSubsidy | Matching:
    kind = FundProgramme.Contribution
    if programme.contribution == kind.FLAT_SUBSIDY:
        return FlatSubsidy(
            amount_per_person_day_fen=to_fen(programme.flat_amount_per_person_day), once_per_year=programme.flat_once_per_year
        )
    if programme.contribution == kind.MATCHING:
        return Matching(ratio=programme.matching_ratio, cap_per_head_fen=_fen_or_none(programme.matching_cap_per_head))
    return CoverCost()


def _funded_union_ids(programme: FundProgramme) -> Iterable[int]:
    """A programme funds its union's subtree; matching funds only the unions below it (配套下级)."""
    if programme.contribution == FundProgramme.Contribution.MATCHING:
        return programme.union.children.values_list("pk", flat=True)
    return [programme.union_id]


def _fen_or_none(amount: Decimal | None) -> int | None:
    return None if amount is None else to_fen(amount)


def programmes_for_booking(booking: Booking) -> QuerySet[FundProgramme]:
    """Active programmes of the booking union or its ancestors whose period covers the arrival."""
    ancestry = [*booking.union.ancestor_ids(), booking.union_id]
    return (
        FundProgramme.objects.filter(
            union_id__in=ancestry, is_active=True, valid_from__lte=booking.arrival, valid_until__gte=booking.arrival
        )
        .select_related("union")
        .order_by("order", "pk")
    )


def booking_cost(*, booking: Booking, extras: Sequence[ExtraCharge] = ()) -> BookingCost:
    """Agreed prices of the booking's room types, meals, route fee and the base's discount.

    A route booking's published price per head covers its lodging and meals, so
    the room types then price at zero and only the route fee counts.
    """
    base = booking.base
    lines = list(booking.lines.select_related("room_type"))
    keys = room_type_keys(lines)
    on_route = booking.route_departure_id is not None
    main_room_type = max(lines, key=lambda line: (line.people, -line.room_type_id)).room_type if lines else None
    return BookingCost(
        union_id=str(booking.union_id),
        union_ancestor_ids=tuple(str(pk) for pk in reversed(booking.union.ancestor_ids()) if pk != booking.union_id),
        base=BaseFacts(
            # An uncertified base is never bookable; treat a missing level as the lower one.
            certification_level=CertificationLevel(base.level or CertificationLevel.CITY),
            county_code=base.county_code,
            city_code=base.city_code,
        ),
        arrival_date=booking.arrival,
        nightly_price_per_person_fen={
            keys[line.room_type_id]: 0 if on_route else to_fen(line.room_type.price_per_night) for line in lines
        },
        meals_per_person_day_fen=0 if on_route or main_room_type is None else to_fen(main_room_type.meals_per_day),
        route_fee_per_head_fen=to_fen(booking.route_departure.route.price_per_head) if on_route else 0,
        extras=tuple(extras),
        discount=BaseDiscount(percent=base.discount_percent),
        cost_standard_per_person_day_fen=_cost_standard_fen(booking.union),
    )


def room_type_keys(lines: Sequence[BookingLine]) -> dict[int, str]:
    """Room types keyed by name (what explanations print), made unique with the id if two share a name."""
    names = {line.room_type_id: line.room_type.name for line in lines}
    duplicated = {name for name in names.values() if list(names.values()).count(name) > 1}
    return {pk: f"{name}·{pk}" if name in duplicated else name for pk, name in names.items()}


def _cost_standard_fen(union: Organisation) -> int | None:
    ancestry = [*union.ancestor_ids(), union.pk]
    policies = {
        policy.union_id: policy.cost_standard_per_person_day
        for policy in UnionFundingPolicy.objects.filter(union_id__in=ancestry)
    }
    for union_id in reversed(ancestry):  # the nearest policy wins
        if union_id in policies:
            return to_fen(policies[union_id])
    return None


def booked_people(booking: Booking) -> list[Person]:
    """The people a confirmed booking pays for: the batch's list up to the booked head count.

    Names not yet on the list are counted as ordinary members, so an organiser
    sees the split before the list is complete.
    """
    lines = list(booking.lines.select_related("room_type").order_by("first_night", "room_type_id"))
    keys = room_type_keys(lines)
    participants = list(booking.batch.participants.order_by("pk")[: booking.people])
    seats = [line.room_type_id for line in lines for _ in range(line.people)]
    if not seats:
        raise ValidationFailed(_("预订 %(reference)s 没有房型明细，无法计算费用") % {"reference": booking.reference})
    people = []
    for index in range(booking.people):
        participant = participants[index] if index < len(participants) else None
        if participant and participant.room_type_id in keys:
            room_type_id = participant.room_type_id
        else:
            room_type_id = seats[min(index, len(seats) - 1)]
        people.append(
            Person(
                participant=participant,
                cost=ParticipantCost(
                    person_key=participant.id_hash if participant else f"booking-{booking.pk}-place-{index + 1}",
                    category=participant.category if participant else Participant.Category.OTHER,
                    is_family=participant.is_family if participant else False,
                    room_type=keys[room_type_id],
                    nights=booking.nights,
                ),
            )
        )
    return people


def arrived_people(*, booking: Booking, nights_by_participant: Mapping[int, int]) -> list[Person]:
    """Only the participants who actually came, for the nights they stayed."""
    lines = list(booking.lines.select_related("room_type").order_by("first_night", "room_type_id"))
    keys = room_type_keys(lines)
    participants = Participant.objects.filter(pk__in=nights_by_participant.keys()).order_by("pk")
    return [
        Person(
            participant=participant,
            cost=ParticipantCost(
                person_key=participant.id_hash,
                category=participant.category,
                is_family=participant.is_family,
                room_type=keys.get(participant.room_type_id, keys[lines[0].room_type_id]),
                nights=nights_by_participant[participant.pk],
            ),
        )
        for participant in participants
    ]


def programme_states(
    *, programmes: Sequence[FundProgramme], booking: Booking, person_keys: Iterable[str], own_commitments: Mapping[int, Decimal]
) -> list[ProgrammeState]:
    """Balances and year-to-date figures as they would be without this booking's own commitment."""
    keys = list(person_keys)
    year = booking.arrival.year
    earlier = earlier_trips(programmes=programmes, booking=booking, person_keys=keys)
    states = []
    for programme in programmes:
        own = own_commitments.get(programme.pk, Decimal(0))
        others = FundingAllocation.objects.filter(programme=programme, year=year, person_key__in=keys).exclude(booking=booking)
        paid_this_year = {row["person_key"]: to_fen(row["paid"]) for row in others.values("person_key").annotate(paid=Sum("amount"))}
        allowance = None
        if programme.contribution == FundProgramme.Contribution.MATCHING and programme.matching_total_cap is not None:
            allowance = max(0, to_fen(programme.matching_total_cap - _matching_used(programme=programme, booking=booking)))
        states.append(
            ProgrammeState(
                rules=programme_rules(programme),
                available_balance_fen=to_fen(programme.available + own),
                remaining_matching_allowance_fen=allowance,
                paid_this_year_fen_by_person=paid_this_year,
                flat_subsidy_received_this_year=frozenset(
                    others.filter(is_flat_subsidy=True).values_list("person_key", flat=True)
                ),
                earlier_trip_by_person=earlier.get(programme.pk, {}),
            )
        )
    return states


def earlier_trips(
    *, programmes: Sequence[FundProgramme], booking: Booking, person_keys: Sequence[str]
) -> dict[int, dict[str, dt.date]]:
    """Per programme with a no-repeat rule: ID hash → arrival of that person's latest earlier trip.

    People are found by their ID hash across every batch. "Earlier" means another
    booking arriving before this one (the same day: created first, by id), so of two
    trips within the window the later one is the repeat, whichever was booked first.
    A programme counting its own trips sees the bookings it paid someone for (its
    allocations); one counting any trip sees every confirmed, checked-in or completed
    booking of another batch. Two queries at most, whatever the number of programmes;
    the pure rules check the window.
    """
    stay = PlannedStay(batch_id=booking.batch_id, arrival=booking.arrival, person_keys=person_keys, booking_id=booking.pk)
    return earlier_trips_of_stays(programmes=programmes, stays={booking.pk: stay})[booking.pk]


@dataclass(frozen=True, kw_only=True)
class PlannedStay:
    """A stay of a batch: who would go, arriving when, and its booking if it has one."""

    batch_id: int
    arrival: dt.date
    # ID hashes of people on this batch's list.
    person_keys: Sequence[str]
    # The stay's own booking, never its earlier trip; another booking arriving the same day is
    # earlier iff its pk is lower. None (not booked yet): nothing on the same day is earlier.
    booking_id: int | None = None


# Up to this many ID hashes, the look-up selects people by them (see earlier_trips_of_stays).
MAX_KEYS_BY_HASH = 1000


def earlier_trips_of_stays(
    *, programmes: Sequence[FundProgramme], stays: Mapping[Hashable, PlannedStay]
) -> dict[Hashable, dict[int, dict[str, dt.date]]]:
    """``earlier_trips`` for many stays at once, booked or not, in two queries at most; one booking is one stay.

    A planning round asks this for thousands of batches, so the statements fetch every trip
    some stay could count (within the widest window, up to the latest arrival) and each stay's
    window, its own batch and booking and "before it" are applied here.
    """
    with_rule = [programme for programme in programmes if programme.no_repeat_years]
    keys_of = {name: {key for key in stay.person_keys if key} for name, stay in stays.items()}
    wanted = {name: stay for name, stay in stays.items() if keys_of[name]}
    if not with_rule or not wanted:
        return {name: {} for name in stays}
    oldest = {
        name: min(eligibility_years_before(stay.arrival, programme.no_repeat_years) for programme in with_rule)
        for name, stay in wanted.items()
    }
    # Few people (one booking, a small round): selected by their ID hashes, so any key is looked up
    # whether it is on a batch's list or not. Many: by a subquery on the stays' batches' lists, so the
    # statement carries batch ids, not every ID hash; a key on none of those lists then finds nothing,
    # which changes nothing for the callers: they pass people of the stay's own list (and booked_people's
    # placeholders for names not listed yet, which no other booking's trip has).
    everyone = set().union(*(keys_of[name] for name in wanted))
    if len(everyone) <= MAX_KEYS_BY_HASH:
        people: list[str] | QuerySet = sorted(everyone)
    else:
        people = Participant.objects.filter(batch_id__in=sorted({stay.batch_id for stay in wanted.values()})).values("id_hash")

    def any_earlier_trip(booking: str) -> Q:
        """A trip (the booking at path ``booking``) that may be earlier than some stay, within its widest window."""
        return Q(**{
            f"{booking}__status__in": Booking.DONE_OR_GOING,
            f"{booking}__arrival__gt": min(oldest.values()),
            f"{booking}__arrival__lte": max(stay.arrival for stay in wanted.values()),  # the same day may tie
        })

    # person key -> (programme id or None for any trip, batch id, booking id, arrival) of each trip found
    trips: dict[str, list[tuple[int | None, int, int, dt.date]]] = defaultdict(list)
    own_scope = [programme.pk for programme in with_rule if programme.no_repeat_scope == FundProgramme.RepeatScope.PROGRAMME]
    if own_scope:
        funded = FundingAllocation.objects.filter(
            any_earlier_trip("booking"), programme_id__in=own_scope, person_key__in=people
        ).values_list("person_key", "programme_id", "booking__batch_id", "booking_id", "booking__arrival")
        for key, programme_id, batch_id, booking_id, arrival in funded:
            trips[key].append((programme_id, batch_id, booking_id, arrival))
    any_scope = [programme.pk for programme in with_rule if programme.no_repeat_scope == FundProgramme.RepeatScope.ANY]
    if any_scope:
        went = Participant.objects.filter(any_earlier_trip("batch__bookings"), id_hash__in=people).values_list(
            "id_hash", "batch_id", "batch__bookings__pk", "batch__bookings__arrival"
        )
        for key, batch_id, booking_id, arrival in went:
            trips[key].append((None, batch_id, booking_id, arrival))

    result: dict[Hashable, dict[int, dict[str, dt.date]]] = {name: {} for name in stays}
    for name, stay in wanted.items():
        found: dict[int, dict[str, dt.date]] = {programme.pk: {} for programme in with_rule}
        for key in keys_of[name]:
            latest_any = None
            for programme_id, batch_id, booking_id, arrival in trips.get(key, ()):
                # Another batch's trip, inside this stay's window and before it: of two on the same
                # day, the one booked first (so exactly one of them is the repeat).
                if batch_id == stay.batch_id or booking_id == stay.booking_id or not oldest[name] < arrival:
                    continue
                same_day_earlier = arrival == stay.arrival and stay.booking_id is not None and booking_id < stay.booking_id
                if not (arrival < stay.arrival or same_day_earlier):
                    continue
                if programme_id is None:
                    if latest_any is None or arrival > latest_any:
                        latest_any = arrival
                elif arrival > found[programme_id].get(key, dt.date.min):
                    found[programme_id][key] = arrival
            if latest_any is not None:
                for programme_id in any_scope:
                    found[programme_id][key] = latest_any
        result[name] = found
    return result


def _matching_used(*, programme: FundProgramme, booking: Booking) -> Decimal:
    """What the programme's other bookings use of its total matching cap.

    A programme's allocations add up to what it committed and spent; payments to
    fully funded unions are not matching (see ``billing.funding.rules``), so they
    do not use the cap.
    """
    fully_funded = Q(pk__in=[])
    for path in programme.fully_funded_unions.values_list("path", flat=True):
        fully_funded |= Q(booking__union__path__startswith=path)
    used = (
        FundingAllocation.objects.filter(programme=programme)
        .exclude(booking=booking)
        .exclude(fully_funded)
        .aggregate(total=Sum("amount"))["total"]
    )
    return used or Decimal("0.00")


def settlement_extras(extras: Iterable[tuple[str, Decimal, str]]) -> list[ExtraCharge]:
    return [ExtraCharge(name=name, amount_fen=to_fen(amount), basis=ExtraBasis(basis)) for name, amount, basis in extras]
