"""Small input builders for the funding tests: sensible defaults, override what a test is about."""

from __future__ import annotations

from datetime import date

from billing.funding import (
    BaseDiscount,
    BaseFacts,
    BookingCost,
    CertificationLevel,
    CoverCost,
    Eligibility,
    ParticipantCost,
    ProgrammeRules,
    ProgrammeState,
)
from billing.funding.rules import Contribution

ENTERPRISE, TOWN, CITY, PROVINCE = "u-enterprise", "u-town", "u-dongguan", "u-guangdong"
HEYUAN_HOT_SPRING = BaseFacts(certification_level=CertificationLevel.PROVINCIAL, county_code="441621", city_code="441600")
LOTS = 10**10


def booking(**overrides: object) -> BookingCost:
    values: dict[str, object] = {
        "union_id": ENTERPRISE,
        "union_ancestor_ids": (TOWN, CITY, PROVINCE),
        "base": HEYUAN_HOT_SPRING,
        "arrival_date": date(2025, 5, 10),
        "nightly_price_per_person_fen": {"twin": 20000, "single": 35000},
        "discount": BaseDiscount(),
    }
    values.update(overrides)
    return BookingCost(**values)  # type: ignore[arg-type]


def person(key: str = "p1", **overrides: object) -> ParticipantCost:
    values: dict[str, object] = {
        "person_key": key,
        "category": "front_line",
        "is_family": False,
        "room_type": "twin",
        "nights": 2,
    }
    values.update(overrides)
    return ParticipantCost(**values)  # type: ignore[arg-type]


def programme(
    programme_id: str = "prog",
    *,
    contribution: Contribution | None = None,
    order: int = 1,
    balance: int = LOTS,
    allowance: int | None = None,
    paid_this_year: dict[str, int] | None = None,
    flat_received: frozenset[str] = frozenset(),
    earlier_trips: dict[str, date] | None = None,
    **rule_overrides: object,
) -> ProgrammeState:
    rules: dict[str, object] = {
        "programme_id": programme_id,
        "name": f"经费{programme_id}",
        "order": order,
        "contribution": contribution or CoverCost(),
        "eligibility": Eligibility(),
    }
    rules.update(rule_overrides)
    return ProgrammeState(
        rules=ProgrammeRules(**rules),  # type: ignore[arg-type]
        available_balance_fen=balance,
        remaining_matching_allowance_fen=allowance,
        paid_this_year_fen_by_person=paid_this_year or {},
        flat_subsidy_received_this_year=flat_received,
        earlier_trip_by_person=earlier_trips or {},
    )
