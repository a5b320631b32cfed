"""Split a booking's cost between fund programmes, the union and the members.

Per participant, in this order:

1. cost — see `cost.price_booking`;
2. own payment — a family member pays their whole cost; a member pays what
   exceeds the booking's cost standard × stay days (if a standard is set);
3. programmes, lowest `order` first (ties by programme id, numerically for database keys), each paying part of
   what is still unpaid (cost − own payment − earlier programmes). A programme
   pays nothing for the whole booking when the booking is outside its unions,
   bases, regions or period, or its workers' front-line share is below the
   programme's minimum; nothing for a person outside its categories, staying
   longer than its limit, or back within its no-repeat years (family are named
   as excluded where the programme says so). None of this refuses the booking:
   the other programmes and the union pay as usual.
   - CoverCost pays all of it; FlatSubsidy pays amount × stay days;
   - Matching pays s = floor(unpaid × r / (1 + r)), so that s ≤ r × (unpaid − s):
     the programme matches r fen per fen the union itself is left to pay. Later
     programmes pay out of that union part, so order matching programmes after
     everything except the booking union's own pools;
   - a fully funded union turns any contribution into CoverCost;
   then the per-head (matching), per-day and per-year caps cut it, and across the
   booking the matching allowance and the available balance cut the total, spread
   back over people by largest remainder;
4. union share — whatever is still unpaid.

So per participant: cost = Σ programme shares + union share + own payment, and
for the booking the same holds with the shared cost (per-booking extras) added
to the union. Every cut and every share is recorded as an Explanation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from billing.funding.cost import BookingCost, ParticipantCost, price_booking
from billing.funding.explain import Explanation, Rule, format_percent, format_ratio
from billing.funding.money import allocate_largest_remainder
from billing.funding.rules import (
    FRONT_LINE,
    CoverCost,
    FlatSubsidy,
    Matching,
    ProgrammeRules,
    ProgrammeState,
    RepeatScope,
    front_line_share_met,
    years_before,
)


@dataclass(frozen=True, kw_only=True)
class ProgrammeShare:
    programme_id: str
    amount_fen: int


@dataclass(frozen=True, kw_only=True)
class ParticipantSplit:
    person_key: str
    cost_fen: int
    # One entry per programme, in the order they were applied (zeros included).
    programme_shares: tuple[ProgrammeShare, ...]
    union_fen: int
    own_payment_fen: int
    explanations: tuple[Explanation, ...]

    def share_of(self, programme_id: str) -> int:
        for share in self.programme_shares:
            if share.programme_id == programme_id:
                return share.amount_fen
        raise KeyError(programme_id)


@dataclass(frozen=True, kw_only=True)
class ProgrammeOutcome:
    programme_id: str
    applicable: bool
    fully_funded: bool
    # What the per-person rules and caps asked for, before the allowance and balance.
    requested_fen: int
    paid_fen: int
    available_balance_fen: int
    # Part of the request the balance could not cover; the service decides whether to refuse.
    balance_shortfall_fen: int
    matching_allowance_used_fen: int

    @property
    def balance_after_fen(self) -> int:
        return self.available_balance_fen - self.paid_fen


@dataclass(frozen=True, kw_only=True)
class Split:
    participants: tuple[ParticipantSplit, ...]
    # In the order they were applied.
    programmes: tuple[ProgrammeOutcome, ...]
    # Per-booking extras after discounts; paid by the union, not by any programme.
    shared_cost_fen: int
    total_cost_fen: int
    # The union's own money: participants' union shares plus the shared cost.
    union_fen: int
    own_payment_fen: int
    # Booking-level lines: shared cost, programme applicability, allowance and balance cuts, totals.
    explanations: tuple[Explanation, ...]

    @property
    def programmes_fen(self) -> int:
        return sum(outcome.paid_fen for outcome in self.programmes)


def _application_order(state: ProgrammeState) -> tuple:
    """Lowest `order` first; ties by programme id, numerically when ids are database keys
    ("9" before "10", as the callers' `order_by("order", "pk")` sorts them)."""
    programme_id = state.rules.programme_id
    return (state.rules.order, 0, int(programme_id), "") if programme_id.isdigit() else (state.rules.order, 1, 0, programme_id)


def compute_split(
    *, booking: BookingCost, participants: Sequence[ParticipantCost], programmes: Sequence[ProgrammeState]
) -> Split:
    _require_unique("person_key", [participant.person_key for participant in participants])
    _require_unique("programme_id", [state.rules.programme_id for state in programmes])
    priced = price_booking(booking=booking, participants=participants)
    ledgers = [
        _open_ledger(booking, participant, priced_participant.cost_fen, priced_participant.lines)
        for participant, priced_participant in zip(participants, priced.participants)
    ]
    booking_lines = list(priced.shared_lines)

    ordered = sorted(programmes, key=_application_order)
    outcomes = tuple(_apply_programme(state, booking, ledgers, booking_lines) for state in ordered)

    for ledger in ledgers:
        if not ledger.participant.is_family:
            ledger.explain(Rule.UNION_SHARE, ledger.unpaid_fen)
    if priced.shared_cost_fen:
        booking_lines.append(
            Explanation(person_key=None, rule=Rule.SHARED_COST_PAID_BY_UNION, amount_fen=priced.shared_cost_fen)
        )

    splits = tuple(ledger.close(ordered) for ledger in ledgers)
    return Split(
        participants=splits,
        programmes=outcomes,
        shared_cost_fen=priced.shared_cost_fen,
        total_cost_fen=sum(split.cost_fen for split in splits) + priced.shared_cost_fen,
        union_fen=sum(split.union_fen for split in splits) + priced.shared_cost_fen,
        own_payment_fen=sum(split.own_payment_fen for split in splits),
        explanations=tuple(booking_lines),
    )


@dataclass
class _Ledger:
    """Working state for one participant while the programmes are applied."""

    participant: ParticipantCost
    cost_fen: int
    own_payment_fen: int
    unpaid_fen: int
    explanations: list[Explanation]
    shares: dict[str, int] = field(default_factory=dict)

    def explain(self, rule: Rule, amount_fen: int, programme: ProgrammeRules | None = None, **params: str | int) -> None:
        if programme is not None:
            params = {"programme": programme.name, **params}
        self.explanations.append(
            Explanation(
                person_key=self.participant.person_key,
                rule=rule,
                amount_fen=amount_fen,
                programme_id=programme.programme_id if programme else None,
                params=params,
            )
        )

    def close(self, ordered: Sequence[ProgrammeState]) -> ParticipantSplit:
        return ParticipantSplit(
            person_key=self.participant.person_key,
            cost_fen=self.cost_fen,
            programme_shares=tuple(
                ProgrammeShare(programme_id=state.rules.programme_id, amount_fen=self.shares[state.rules.programme_id])
                for state in ordered
            ),
            union_fen=self.unpaid_fen,
            own_payment_fen=self.own_payment_fen,
            explanations=tuple(self.explanations),
        )


def _open_ledger(
    booking: BookingCost, participant: ParticipantCost, cost: int, cost_lines: Sequence[Explanation]
) -> _Ledger:
    ledger = _Ledger(participant=participant, cost_fen=cost, own_payment_fen=0, unpaid_fen=cost, explanations=list(cost_lines))
    standard = booking.cost_standard_per_person_day_fen
    if participant.is_family:
        ledger.own_payment_fen = cost
        ledger.explain(Rule.OWN_PAYMENT_FAMILY, cost)
    elif standard is not None and cost > standard * participant.stay_days:
        limit = standard * participant.stay_days
        ledger.own_payment_fen = cost - limit
        ledger.explain(
            Rule.OWN_PAYMENT_ABOVE_STANDARD,
            cost - limit,
            standard_per_day_fen=standard,
            days=participant.stay_days,
            limit_fen=limit,
        )
    ledger.unpaid_fen = cost - ledger.own_payment_fen
    return ledger


def _apply_programme(
    state: ProgrammeState, booking: BookingCost, ledgers: list[_Ledger], booking_lines: list[Explanation]
) -> ProgrammeOutcome:
    rules = state.rules

    def booking_line(rule: Rule, amount_fen: int, **params: str | int) -> None:
        booking_lines.append(
            Explanation(
                person_key=None,
                rule=rule,
                amount_fen=amount_fen,
                programme_id=rules.programme_id,
                params={"programme": rules.name, **params},
            )
        )

    exclusion = _booking_exclusion(rules, booking) or _front_line_share_exclusion(rules, ledgers)
    if exclusion is not None:
        rule, params = exclusion
        booking_line(rule, 0, **params)
        for ledger in ledgers:
            ledger.shares[rules.programme_id] = 0
        return ProgrammeOutcome(
            programme_id=rules.programme_id,
            applicable=False,
            fully_funded=False,
            requested_fen=0,
            paid_fen=0,
            available_balance_fen=state.available_balance_fen,
            balance_shortfall_fen=0,
            matching_allowance_used_fen=0,
        )

    funding_union = _fully_funding_union(rules, booking)
    if funding_union is not None:
        booking_line(Rule.FULL_FUNDING_UNION, 0, union_id=funding_union)
    is_matching = isinstance(rules.contribution, Matching) and funding_union is None

    excluded: Counter[Rule] = Counter()
    requests = [_request(state, booking, ledger, excluded, fully_funded=funding_union is not None) for ledger in ledgers]
    if excluded[Rule.EXCLUDED_FAMILY]:
        booking_line(Rule.EXCLUDED_FAMILY, 0, count=excluded[Rule.EXCLUDED_FAMILY])
    if excluded[Rule.EXCLUDED_REPEAT]:
        years = rules.eligibility.no_repeat_years or 0
        booking_line(
            Rule.EXCLUDED_REPEAT,
            0,
            count=excluded[Rule.EXCLUDED_REPEAT],
            years=years,
            since=years_before(booking.arrival_date, years).isoformat(),
        )
    requested = sum(requests)
    granted = requests
    allowance = state.remaining_matching_allowance_fen
    if is_matching and allowance is not None and requested > allowance:
        booking_line(Rule.CAP_MATCHING_ALLOWANCE, requested - allowance, allowance_fen=allowance, requested_fen=requested)
        granted = _spread_cut(
            granted, allowance, Rule.CAP_MATCHING_ALLOWANCE, rules, ledgers, allowance_fen=allowance, requested_fen=requested
        )
    before_balance = sum(granted)
    balance = state.available_balance_fen
    if before_balance > balance:
        booking_line(Rule.CAP_BALANCE, before_balance - balance, balance_fen=balance, requested_fen=before_balance)
        granted = _spread_cut(
            granted, balance, Rule.CAP_BALANCE, rules, ledgers, balance_fen=balance, requested_fen=before_balance
        )

    for ledger, amount in zip(ledgers, granted):
        ledger.shares[rules.programme_id] = amount
        ledger.unpaid_fen -= amount
        if not ledger.participant.is_family:
            ledger.explain(Rule.PROGRAMME_SHARE, amount, rules)
    paid = sum(granted)
    booking_line(Rule.PROGRAMME_TOTAL, paid)
    return ProgrammeOutcome(
        programme_id=rules.programme_id,
        applicable=True,
        fully_funded=funding_union is not None,
        requested_fen=requested,
        paid_fen=paid,
        available_balance_fen=balance,
        balance_shortfall_fen=before_balance - paid,
        matching_allowance_used_fen=paid if is_matching else 0,
    )


def _booking_exclusion(rules: ProgrammeRules, booking: BookingCost) -> tuple[Rule, dict[str, str | int]] | None:
    """Why the programme does not apply to this booking at all, or None if it does."""
    eligibility = rules.eligibility
    base = booking.base
    if eligibility.union_ids is not None and not booking.union_chain & eligibility.union_ids:
        return Rule.NOT_APPLICABLE_UNION, {"union_id": booking.union_id}
    if (
        eligibility.base_certification_levels is not None
        and base.certification_level not in eligibility.base_certification_levels
    ):
        return Rule.NOT_APPLICABLE_CERTIFICATION, {"certification_level": base.certification_level.value}
    if eligibility.base_region_prefixes is not None and not any(
        code.startswith(prefix) for code in (base.county_code, base.city_code) if code for prefix in eligibility.base_region_prefixes
    ):
        return Rule.NOT_APPLICABLE_REGION, {"county_code": base.county_code, "city_code": base.city_code}
    start, end = eligibility.period_start, eligibility.period_end
    if (start and booking.arrival_date < start) or (end and booking.arrival_date > end):
        return Rule.NOT_APPLICABLE_PERIOD, {
            "arrival_date": booking.arrival_date.isoformat(),
            "period_start": start.isoformat() if start else "—",
            "period_end": end.isoformat() if end else "—",
        }
    return None


def _front_line_share_exclusion(rules: ProgrammeRules, ledgers: Sequence[_Ledger]) -> tuple[Rule, dict[str, str | int]] | None:
    """The share rule looks at the booking's workers (family not counted), as the groups' batch rule does.

    "The booking" is the participants given: the booked list at confirmation, those
    who actually came at settlement (the share of who came, not of who was listed).

    A person whose category is not known yet (a place on the list still to fill)
    is not counted as front-line: the programme commits only what the list shows.
    """
    minimum = rules.eligibility.min_front_line_percent
    if minimum is None:
        return None
    workers = [ledger.participant for ledger in ledgers if not ledger.participant.is_family]
    front_line = sum(1 for participant in workers if participant.category == FRONT_LINE)
    if front_line_share_met(minimum, front_line=front_line, workers=len(workers)):
        return None
    return Rule.NOT_APPLICABLE_FRONT_LINE_SHARE, {
        "share": format_percent(front_line, len(workers)),
        "front_line": front_line,
        "workers": len(workers),
        "min_percent": minimum,
    }


def _fully_funding_union(rules: ProgrammeRules, booking: BookingCost) -> str | None:
    """The booking's own union, or the nearest ancestor, named for full funding."""
    for union_id in (booking.union_id, *booking.union_ancestor_ids):
        if union_id in rules.fully_funded_union_ids:
            return union_id
    return None


def _request(state: ProgrammeState, booking: BookingCost, ledger: _Ledger, excluded: Counter[Rule], *, fully_funded: bool) -> int:
    """What the programme's own per-person rules would pay for this participant."""
    rules = state.rules
    participant = ledger.participant
    eligibility = rules.eligibility
    categories = eligibility.participant_categories
    max_stay = eligibility.max_stay_days
    if participant.is_family:
        if not eligibility.family_allowed:
            ledger.explain(Rule.NOT_ELIGIBLE_FAMILY, 0, rules)
            excluded[Rule.EXCLUDED_FAMILY] += 1
        return 0  # otherwise already explained once: family pay their own cost
    if categories is not None and participant.category not in categories:
        ledger.explain(Rule.NOT_ELIGIBLE_CATEGORY, 0, rules, category=participant.category)
        return 0
    if max_stay is not None and participant.stay_days > max_stay:
        ledger.explain(Rule.NOT_ELIGIBLE_STAY_LENGTH, 0, rules, stay_days=participant.stay_days, max_stay_days=max_stay)
        return 0
    years = eligibility.no_repeat_years
    last_trip = state.earlier_trip_by_person.get(participant.person_key)
    if years is not None and last_trip is not None and last_trip > years_before(booking.arrival_date, years):
        rule = Rule.NOT_ELIGIBLE_REPEAT_FUNDED if eligibility.no_repeat_scope is RepeatScope.PROGRAMME else Rule.NOT_ELIGIBLE_REPEAT_ANY
        ledger.explain(rule, 0, rules, years=years, last_trip=last_trip.isoformat())
        excluded[Rule.EXCLUDED_REPEAT] += 1
        return 0
    if ledger.unpaid_fen == 0:
        ledger.explain(Rule.NOTHING_LEFT_TO_PAY, 0, rules)
        return 0

    unpaid = ledger.unpaid_fen
    days = participant.stay_days
    contribution = CoverCost() if fully_funded else rules.contribution
    match contribution:
        case CoverCost():
            amount = unpaid
            ledger.explain(Rule.CONTRIBUTION_FULL_FUNDING if fully_funded else Rule.CONTRIBUTION_COVER_COST, amount, rules)
        case FlatSubsidy(amount_per_person_day_fen=per_day, once_per_year=once_per_year):
            if once_per_year and participant.person_key in state.flat_subsidy_received_this_year:
                ledger.explain(Rule.FLAT_SUBSIDY_ALREADY_RECEIVED, 0, rules)
                return 0
            amount = per_day * days
            ledger.explain(Rule.CONTRIBUTION_FLAT_SUBSIDY, amount, rules, per_day_fen=per_day, days=days)
            amount = _cap(ledger, rules, amount, unpaid, Rule.CAP_REMAINING_COST)
        case Matching(ratio=ratio, cap_per_head_fen=cap_per_head):
            amount = int(unpaid * ratio // (1 + ratio))
            ledger.explain(
                Rule.CONTRIBUTION_MATCHING,
                amount,
                rules,
                ratio=format_ratio(ratio),
                unpaid_fen=unpaid,
                union_spend_fen=unpaid - amount,
            )
            if cap_per_head is not None:
                amount = _cap(ledger, rules, amount, cap_per_head, Rule.CAP_MATCHING_PER_HEAD)
        case _:
            raise TypeError(f"unknown contribution {contribution!r}")

    if rules.cap_per_person_day_fen is not None:
        limit = rules.cap_per_person_day_fen * days
        amount = _cap(
            ledger, rules, amount, limit, Rule.CAP_PER_PERSON_DAY, cap_per_day_fen=rules.cap_per_person_day_fen, days=days
        )
    if rules.cap_per_person_year_fen is not None:
        paid_this_year = state.paid_this_year_fen_by_person.get(participant.person_key, 0)
        limit = max(0, rules.cap_per_person_year_fen - paid_this_year)
        amount = _cap(
            ledger,
            rules,
            amount,
            limit,
            Rule.CAP_PER_PERSON_YEAR,
            cap_per_year_fen=rules.cap_per_person_year_fen,
            paid_this_year_fen=paid_this_year,
        )
    return amount


def _cap(ledger: _Ledger, rules: ProgrammeRules, amount: int, limit: int, rule: Rule, **params: str | int) -> int:
    if amount <= limit:
        return amount
    ledger.explain(rule, amount - limit, rules, limit_fen=limit, **params)
    return limit


def _spread_cut(
    requests: list[int], limit: int, rule: Rule, rules: ProgrammeRules, ledgers: list[_Ledger], **params: str | int
) -> list[int]:
    """Scale a booking's requests down to `limit`, in proportion, to the fen."""
    granted = allocate_largest_remainder(limit, requests)
    for ledger, asked, got in zip(ledgers, requests, granted):
        if asked > got:
            ledger.explain(rule, asked - got, rules, **params)
    return granted


def _require_unique(name: str, values: list[str]) -> None:
    if len(set(values)) != len(values):
        raise ValueError(f"duplicate {name} in the input")
