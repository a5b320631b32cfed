"""What a fund programme (专项经费) pays for, and its state when a booking is split.

Every limit is data on the programme; nothing here knows a city's numbers.
Amounts are integer fen; ratios are exact Fractions (Decimal or "0.5" accepted).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from fractions import Fraction

from billing.funding.money import exact_fraction


def trip_days(nights: int) -> int:
    """Days of a trip of `nights` nights, travel included: what a longest-stay rule counts (4 nights, 5 days)."""
    return nights + 1


class CertificationLevel(StrEnum):
    PROVINCIAL = "provincial"
    CITY = "city"


class RepeatScope(StrEnum):
    """Which earlier trips the no-repeat rule counts (the data gathering decides; this names it)."""

    # Trips this programme paid for.
    PROGRAMME = "programme"
    # Any retreat at all, funded or not.
    ANY = "any"


FRONT_LINE = "front_line"


@dataclass(frozen=True, kw_only=True)
class CoverCost:
    """Pay whatever is still unpaid, up to the programme's caps."""


@dataclass(frozen=True, kw_only=True)
class FlatSubsidy:
    """A fixed amount per person per stay day (e.g. ¥100 at provincial bases)."""

    amount_per_person_day_fen: int
    # A person who already received this programme's flat subsidy this year gets none.
    once_per_year: bool = True

    def __post_init__(self) -> None:
        _require_non_negative(amount_per_person_day_fen=self.amount_per_person_day_fen)


@dataclass(frozen=True, kw_only=True)
class Matching:
    """Add `ratio` × what the booking union itself spends on a person (配套)."""

    ratio: Fraction
    # Most this programme adds for one person in one booking; None = no per-head cap.
    cap_per_head_fen: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "ratio", exact_fraction(self.ratio))
        if self.ratio < 0:
            raise ValueError("matching ratio must not be negative")
        _require_non_negative(cap_per_head_fen=self.cap_per_head_fen)


Contribution = CoverCost | FlatSubsidy | Matching


@dataclass(frozen=True, kw_only=True)
class Eligibility:
    """Who and what a programme pays for. None means "no restriction"."""

    # The booking union or one of its ancestors must be listed.
    union_ids: frozenset[str] | None = None
    base_certification_levels: frozenset[CertificationLevel] | None = None
    # Division-code prefixes; a base matches when its county or city code starts with one.
    base_region_prefixes: tuple[str, ...] | None = None
    participant_categories: frozenset[str] | None = None
    # Days including travel (trip_days). Longer stays get nothing.
    max_stay_days: int | None = None
    # Arrival date must fall within [period_start, period_end], both inclusive.
    period_start: date | None = None
    period_end: date | None = None
    # Of the booking's workers (family not counted), at least this percent must be
    # front-line; otherwise the programme pays nothing for the whole booking.
    min_front_line_percent: int | None = None
    # A person whose latest earlier trip (ProgrammeState.earlier_trip_by_person)
    # arrived less than this many years before this arrival gets nothing.
    no_repeat_years: int | None = None
    no_repeat_scope: RepeatScope = RepeatScope.PROGRAMME
    # False: the programme names family as excluded (they pay their own cost anyway).
    family_allowed: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "no_repeat_scope", RepeatScope(self.no_repeat_scope))
        if self.min_front_line_percent is not None and not 1 <= self.min_front_line_percent <= 100:
            raise ValueError("min_front_line_percent must be between 1 and 100")
        if self.no_repeat_years is not None and self.no_repeat_years < 1:
            raise ValueError("no_repeat_years must be at least 1")
        if self.base_region_prefixes is not None and not all(self.base_region_prefixes):
            raise ValueError("region prefixes must not be empty strings")
        if self.max_stay_days is not None and self.max_stay_days < 1:
            raise ValueError("max_stay_days must be at least 1")
        if self.period_start and self.period_end and self.period_start > self.period_end:
            raise ValueError("period_start is after period_end")


@dataclass(frozen=True, kw_only=True)
class ProgrammeRules:
    programme_id: str
    name: str
    # Lower order applies first; each later programme sees only what is still unpaid.
    order: int
    contribution: Contribution
    cap_per_person_day_fen: int | None = None
    # Counts everything this programme paid for the person this calendar year.
    cap_per_person_year_fen: int | None = None
    eligibility: Eligibility = Eligibility()
    # Bookings of these unions (or their sub-unions) are paid in full, up to the per-person
    # caps and the balance; such payments do not use the matching allowance.
    fully_funded_union_ids: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        _require_non_negative(
            cap_per_person_day_fen=self.cap_per_person_day_fen,
            cap_per_person_year_fen=self.cap_per_person_year_fen,
        )


@dataclass(frozen=True, kw_only=True)
class ProgrammeState:
    """A programme's rules plus the money facts that change from booking to booking."""

    rules: ProgrammeRules
    available_balance_fen: int
    # What is left of the programme's total matching budget; None = no total cap.
    remaining_matching_allowance_fen: int | None = None
    # person key → fen this programme already paid for that person this year.
    paid_this_year_fen_by_person: Mapping[str, int] = field(default_factory=dict)
    # person keys who already received this programme's flat subsidy this year.
    flat_subsidy_received_this_year: frozenset[str] = frozenset()
    # person key → arrival of that person's latest earlier trip that the programme's
    # no-repeat rule counts (see Eligibility.no_repeat_scope); the window is checked here.
    earlier_trip_by_person: Mapping[str, date] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _require_non_negative(
            available_balance_fen=self.available_balance_fen,
            remaining_matching_allowance_fen=self.remaining_matching_allowance_fen,
            **{f"paid_this_year_fen_by_person[{key}]": paid for key, paid in self.paid_this_year_fen_by_person.items()},
        )


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier (29 February falls back to the 28th)."""
    if day.year - years < date.min.year:
        return date.min
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def front_line_share_met(minimum_percent: int | None, *, front_line: int, workers: int) -> bool:
    """front_line / workers >= minimum_percent / 100, in integers; with no workers a minimum is not met."""
    if minimum_percent is None:
        return True
    return workers > 0 and front_line * 100 >= minimum_percent * workers


def _require_non_negative(**amounts: int | None) -> None:
    for name, amount in amounts.items():
        if amount is not None and amount < 0:
            raise ValueError(f"{name} must not be negative, got {amount}")
