"""What a booking costs, per participant and for the booking as a whole.

A participant's cost depends only on their own room type and nights and the
booking's agreed prices, never on who else comes — except the booking's fixed
discount, which is spread by a population-monotone method so that removing a
participant can only lower the others' cost. Per-booking extras (a bus, a
guide) are not spread over people at all: they are the booking's shared cost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from fractions import Fraction

from billing.funding.explain import Explanation, Rule, format_ratio
from billing.funding.money import allocate_divisor, exact_fraction, round_half_up
from billing.funding.rules import CertificationLevel, trip_days


class ExtraBasis(StrEnum):
    PER_PERSON = "per_person"
    PER_BOOKING = "per_booking"


@dataclass(frozen=True, kw_only=True)
class ExtraCharge:
    name: str
    amount_fen: int
    basis: ExtraBasis

    def __post_init__(self) -> None:
        if self.amount_fen < 0:
            raise ValueError(f"extra {self.name!r} must not be negative")


@dataclass(frozen=True, kw_only=True)
class BaseDiscount:
    # Percent off every line, e.g. Decimal("10") for 10 %; applied before the fixed amount.
    percent: Fraction = Fraction(0)
    # Fen off the whole booking, spread over participants' costs, then the shared cost.
    fixed_fen: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "percent", exact_fraction(self.percent))
        if not 0 <= self.percent <= 100:
            raise ValueError("discount percent must be between 0 and 100")
        if self.fixed_fen < 0:
            raise ValueError("fixed discount must not be negative")


@dataclass(frozen=True, kw_only=True)
class BaseFacts:
    certification_level: CertificationLevel
    county_code: str  # six-digit division code, e.g. "441621"; "" if the base has none
    city_code: str  # e.g. "441600"


@dataclass(frozen=True, kw_only=True)
class BookingCost:
    union_id: str
    # Parent, grandparent, ... up to the province; used for union eligibility.
    union_ancestor_ids: tuple[str, ...]
    base: BaseFacts
    arrival_date: date
    # Agreed price per person per night, by room type code.
    nightly_price_per_person_fen: Mapping[str, int]
    meals_per_person_day_fen: int = 0
    route_fee_per_head_fen: int = 0
    extras: tuple[ExtraCharge, ...] = ()
    discount: BaseDiscount = field(default_factory=BaseDiscount)
    # The union's spending standard: a member's cost above standard × stay days is
    # their own payment. None = programmes and union cover members' whole cost.
    cost_standard_per_person_day_fen: int | None = None

    def __post_init__(self) -> None:
        amounts = {
            "meals_per_person_day_fen": self.meals_per_person_day_fen,
            "route_fee_per_head_fen": self.route_fee_per_head_fen,
            **{f"nightly price of {room}": price for room, price in self.nightly_price_per_person_fen.items()},
        }
        if self.cost_standard_per_person_day_fen is not None:
            amounts["cost_standard_per_person_day_fen"] = self.cost_standard_per_person_day_fen
        for name, amount in amounts.items():
            if amount < 0:
                raise ValueError(f"{name} must not be negative")

    @property
    def union_chain(self) -> frozenset[str]:
        return frozenset((self.union_id, *self.union_ancestor_ids))


@dataclass(frozen=True, kw_only=True)
class ParticipantCost:
    person_key: str  # opaque hash of the ID number; the same person has the same key every year
    category: str  # e.g. "front_line", "model_worker"; compared with programme eligibility
    is_family: bool
    room_type: str
    nights: int

    def __post_init__(self) -> None:
        if self.nights < 0:
            raise ValueError("nights must not be negative")

    @property
    def stay_days(self) -> int:
        return trip_days(self.nights)


@dataclass(frozen=True, kw_only=True)
class PricedParticipant:
    cost_fen: int
    lines: tuple[Explanation, ...]


@dataclass(frozen=True, kw_only=True)
class PricedBooking:
    participants: tuple[PricedParticipant, ...]
    shared_cost_fen: int
    shared_lines: tuple[Explanation, ...]


def price_booking(*, booking: BookingCost, participants: Sequence[ParticipantCost]) -> PricedBooking:
    person_lines = [_personal_lines(booking, participant) for participant in participants]
    net_costs = [sum(line.amount_fen for line in lines) for lines in person_lines]

    shared_lines = [_extra_line(None, extra) for extra in booking.extras if extra.basis is ExtraBasis.PER_BOOKING]
    _add_percent_discount(shared_lines, None, booking.discount.percent)
    shared_cost = sum(line.amount_fen for line in shared_lines)

    fixed = booking.discount.fixed_fen
    to_people = min(fixed, sum(net_costs))
    for participant, lines, part in zip(participants, person_lines, allocate_divisor(to_people, net_costs)):
        if part:
            lines.append(_fixed_discount_line(participant.person_key, part, fixed))
    to_shared = min(fixed - to_people, shared_cost)
    if to_shared:
        shared_lines.append(_fixed_discount_line(None, to_shared, fixed))
    if unused := fixed - to_people - to_shared:
        shared_lines.append(Explanation(person_key=None, rule=Rule.FIXED_DISCOUNT_UNUSED, amount_fen=unused))

    return PricedBooking(
        participants=tuple(
            PricedParticipant(cost_fen=sum(line.amount_fen for line in lines), lines=tuple(lines)) for lines in person_lines
        ),
        shared_cost_fen=shared_cost - to_shared,
        shared_lines=tuple(shared_lines),
    )


def _personal_lines(booking: BookingCost, participant: ParticipantCost) -> list[Explanation]:
    key = participant.person_key
    try:
        nightly = booking.nightly_price_per_person_fen[participant.room_type]
    except KeyError:
        raise ValueError(f"no agreed price for room type {participant.room_type!r}") from None
    lines = [
        Explanation(
            person_key=key,
            rule=Rule.COST_LODGING,
            amount_fen=nightly * participant.nights,
            params={"room_type": participant.room_type, "nightly_price_fen": nightly, "nights": participant.nights},
        )
    ]
    if booking.meals_per_person_day_fen:
        lines.append(
            Explanation(
                person_key=key,
                rule=Rule.COST_MEALS,
                amount_fen=booking.meals_per_person_day_fen * participant.stay_days,
                params={"meal_price_fen": booking.meals_per_person_day_fen, "days": participant.stay_days},
            )
        )
    if booking.route_fee_per_head_fen:
        lines.append(Explanation(person_key=key, rule=Rule.COST_ROUTE_FEE, amount_fen=booking.route_fee_per_head_fen))
    lines.extend(_extra_line(key, extra) for extra in booking.extras if extra.basis is ExtraBasis.PER_PERSON)
    _add_percent_discount(lines, key, booking.discount.percent)
    return lines


def _extra_line(person_key: str | None, extra: ExtraCharge) -> Explanation:
    return Explanation(person_key=person_key, rule=Rule.COST_EXTRA, amount_fen=extra.amount_fen, params={"name": extra.name})


def _add_percent_discount(lines: list[Explanation], person_key: str | None, percent: Fraction) -> None:
    # One rounding per subject (person or shared), so totals never drift line by line.
    subtotal = sum(line.amount_fen for line in lines)
    if discount := round_half_up(subtotal * percent / 100):
        lines.append(
            Explanation(
                person_key=person_key,
                rule=Rule.COST_DISCOUNT_PERCENT,
                amount_fen=-discount,
                params={"percent": format_ratio(percent), "base_fen": subtotal},
            )
        )


def _fixed_discount_line(person_key: str | None, part: int, fixed: int) -> Explanation:
    return Explanation(person_key=person_key, rule=Rule.COST_DISCOUNT_FIXED, amount_fen=-part, params={"fixed_fen": fixed})
