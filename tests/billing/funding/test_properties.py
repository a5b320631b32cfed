"""Properties of compute_split over random bookings, groups and programme mixes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

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
    Rule,
    compute_split,
)
from billing.funding.rules import years_before

UNION_CHAIN = ("u-enterprise", "u-town", "u-city", "u-province")
ROOM_TYPES = ("twin", "single", "suite")
CATEGORIES = ("front_line", "front_line", "model_worker", "office")

fen = st.integers(min_value=0, max_value=200_000)
optional_cap = st.none() | st.integers(min_value=0, max_value=150_000)

bases = st.builds(
    BaseFacts,
    certification_level=st.sampled_from(CertificationLevel),
    county_code=st.sampled_from(["441621", "440232", "441481", ""]),
    city_code=st.sampled_from(["441600", "440200", "441400"]),
)
extras = st.builds(ExtraCharge, name=st.sampled_from(["大巴", "导游", "门票"]), amount_fen=fen, basis=st.sampled_from(ExtraBasis))
discounts = st.builds(
    BaseDiscount,
    percent=st.sampled_from([Decimal("0"), Decimal("5"), Decimal("12.5"), Decimal("33.33"), Decimal("100")]),
    fixed_fen=st.integers(min_value=0, max_value=300_000),
)
bookings = st.builds(
    BookingCost,
    union_id=st.just(UNION_CHAIN[0]),
    union_ancestor_ids=st.just(UNION_CHAIN[1:]),
    base=bases,
    arrival_date=st.dates(min_value=date(2025, 1, 1), max_value=date(2025, 12, 31)),
    nightly_price_per_person_fen=st.fixed_dictionaries({room: fen for room in ROOM_TYPES}),
    meals_per_person_day_fen=st.integers(min_value=0, max_value=20_000),
    route_fee_per_head_fen=st.integers(min_value=0, max_value=50_000),
    extras=st.lists(extras, max_size=3).map(tuple),
    discount=discounts,
    cost_standard_per_person_day_fen=optional_cap,
)


@st.composite
def participant_lists(draw: st.DrawFn) -> list[ParticipantCost]:
    count = draw(st.integers(min_value=0, max_value=6))
    return [
        ParticipantCost(
            person_key=f"person-{index}",
            category=draw(st.sampled_from(CATEGORIES)),
            is_family=draw(st.booleans()),
            room_type=draw(st.sampled_from(ROOM_TYPES)),
            nights=draw(st.integers(min_value=0, max_value=7)),
        )
        for index in range(count)
    ]


contributions = st.one_of(
    st.just(CoverCost()),
    st.builds(FlatSubsidy, amount_per_person_day_fen=st.integers(min_value=0, max_value=30_000), once_per_year=st.booleans()),
    st.builds(
        Matching,
        ratio=st.sampled_from([Decimal("1"), Decimal("0.5"), Decimal("2"), "1/3", Decimal("0")]),
        cap_per_head_fen=optional_cap,
    ),
)
eligibilities = st.builds(
    Eligibility,
    union_ids=st.none() | st.frozensets(st.sampled_from([*UNION_CHAIN, "u-elsewhere"]), min_size=1),
    base_certification_levels=st.none() | st.frozensets(st.sampled_from(CertificationLevel), min_size=1),
    base_region_prefixes=st.none() | st.lists(st.sampled_from(["44", "4416", "441621", "4402"]), min_size=1).map(tuple),
    participant_categories=st.none() | st.frozensets(st.sampled_from(CATEGORIES), min_size=1),
    max_stay_days=st.none() | st.integers(min_value=1, max_value=8),
    period_start=st.none() | st.just(date(2025, 3, 1)),
    period_end=st.none() | st.just(date(2025, 10, 31)),
    min_front_line_percent=st.none() | st.integers(min_value=1, max_value=100),
    no_repeat_years=st.none() | st.integers(min_value=1, max_value=5),
    no_repeat_scope=st.sampled_from(RepeatScope),
    family_allowed=st.booleans(),
)
person_keys = st.sampled_from([f"person-{index}" for index in range(6)])


@st.composite
def programme_lists(draw: st.DrawFn) -> list[ProgrammeState]:
    count = draw(st.integers(min_value=0, max_value=4))
    return [
        ProgrammeState(
            rules=ProgrammeRules(
                programme_id=f"programme-{index}",
                name=f"经费{index}",
                order=draw(st.integers(min_value=0, max_value=3)),
                contribution=draw(contributions),
                cap_per_person_day_fen=draw(st.none() | st.integers(min_value=0, max_value=60_000)),
                cap_per_person_year_fen=draw(optional_cap),
                eligibility=draw(eligibilities),
                fully_funded_union_ids=draw(st.frozensets(st.sampled_from([*UNION_CHAIN, "u-elsewhere"]), max_size=1)),
            ),
            available_balance_fen=draw(st.integers(min_value=0, max_value=1_000_000)),
            remaining_matching_allowance_fen=draw(st.none() | st.integers(min_value=0, max_value=500_000)),
            paid_this_year_fen_by_person=draw(st.dictionaries(person_keys, st.integers(min_value=0, max_value=200_000))),
            flat_subsidy_received_this_year=draw(st.frozensets(person_keys)),
            earlier_trip_by_person=draw(
                st.dictionaries(person_keys, st.dates(min_value=date(2019, 1, 1), max_value=date(2025, 12, 31)))
            ),
        )
        for index in range(count)
    ]


def states_by_id(programmes):
    return {state.rules.programme_id: state for state in programmes}


@given(bookings, participant_lists(), programme_lists())
def test_shares_add_up_to_the_cost_per_person_and_per_booking(booking, participants, programmes):
    split = compute_split(booking=booking, participants=participants, programmes=programmes)
    for p in split.participants:
        assert sum(share.amount_fen for share in p.programme_shares) + p.union_fen + p.own_payment_fen == p.cost_fen
    assert split.programmes_fen + split.union_fen + split.own_payment_fen == split.total_cost_fen
    assert split.total_cost_fen == sum(p.cost_fen for p in split.participants) + split.shared_cost_fen
    for outcome in split.programmes:
        assert outcome.paid_fen == sum(p.share_of(outcome.programme_id) for p in split.participants)


@given(bookings, participant_lists(), programme_lists())
def test_nothing_is_negative(booking, participants, programmes):
    split = compute_split(booking=booking, participants=participants, programmes=programmes)
    figures = [split.shared_cost_fen, split.union_fen, split.own_payment_fen, split.total_cost_fen]
    for p in split.participants:
        figures += [p.cost_fen, p.union_fen, p.own_payment_fen, *(share.amount_fen for share in p.programme_shares)]
    for outcome in split.programmes:
        figures += [outcome.requested_fen, outcome.paid_fen, outcome.balance_shortfall_fen, outcome.balance_after_fen]
    assert min(figures, default=0) >= 0


@given(bookings, participant_lists(), programme_lists())
def test_no_cap_is_exceeded(booking, participants, programmes):
    split = compute_split(booking=booking, participants=participants, programmes=programmes)
    states = states_by_id(programmes)
    days = {p.person_key: p.stay_days for p in participants}
    family = {p.person_key for p in participants if p.is_family}
    for outcome in split.programmes:
        state = states[outcome.programme_id]
        rules = state.rules
        assert outcome.paid_fen <= state.available_balance_fen
        if state.remaining_matching_allowance_fen is not None:
            assert outcome.matching_allowance_used_fen <= state.remaining_matching_allowance_fen
        if not outcome.applicable:
            assert outcome.paid_fen == 0
        for p in split.participants:
            share = p.share_of(outcome.programme_id)
            if p.person_key in family:
                assert share == 0
            if rules.cap_per_person_day_fen is not None:
                assert share <= rules.cap_per_person_day_fen * days[p.person_key]
            if rules.cap_per_person_year_fen is not None:
                paid_before = state.paid_this_year_fen_by_person.get(p.person_key, 0)
                assert share <= max(0, rules.cap_per_person_year_fen - paid_before)
            contribution = rules.contribution
            if outcome.fully_funded:
                continue
            if isinstance(contribution, FlatSubsidy):
                assert share <= contribution.amount_per_person_day_fen * days[p.person_key]
                if contribution.once_per_year and p.person_key in state.flat_subsidy_received_this_year:
                    assert share == 0
            if isinstance(contribution, Matching):
                if contribution.cap_per_head_fen is not None:
                    assert share <= contribution.cap_per_head_fen
                # The union spends at least share / ratio of its own: itself plus whatever later programmes paid.
                later = [s.amount_fen for s in p.programme_shares]
                position = [s.programme_id for s in p.programme_shares].index(outcome.programme_id)
                assert share <= Fraction(contribution.ratio) * (p.union_fen + sum(later[position + 1 :]))


@given(bookings, participant_lists(), programme_lists(), st.data())
def test_removing_a_participant_never_raises_anyone_elses_cost_or_own_payment(booking, participants, programmes, data):
    if not participants:
        return
    removed = data.draw(st.integers(min_value=0, max_value=len(participants) - 1))
    before = compute_split(booking=booking, participants=participants, programmes=programmes)
    after = compute_split(
        booking=booking, participants=participants[:removed] + participants[removed + 1 :], programmes=programmes
    )
    before_by_key = {p.person_key: p for p in before.participants}
    for p in after.participants:
        assert p.cost_fen <= before_by_key[p.person_key].cost_fen
        assert p.own_payment_fen <= before_by_key[p.person_key].own_payment_fen


@settings(max_examples=50)
@given(bookings, participant_lists(), programme_lists(), st.randoms(use_true_random=False))
def test_same_input_same_split_whatever_the_programme_order_in_the_list(booking, participants, programmes, random):
    first = compute_split(booking=booking, participants=participants, programmes=programmes)
    shuffled = list(programmes)
    random.shuffle(shuffled)
    assert compute_split(booking=booking, participants=participants, programmes=shuffled) == first


@settings(max_examples=50)
@given(bookings, participant_lists(), programme_lists())
def test_every_explanation_renders_in_both_languages(booking, participants, programmes):
    split = compute_split(booking=booking, participants=participants, programmes=programmes)
    for line in [*split.explanations, *(line for p in split.participants for line in p.explanations)]:
        assert line.text("zh") and line.text("en")


@given(bookings, participant_lists(), programme_lists())
def test_a_failed_programme_rule_pays_nothing_for_those_it_excludes_and_refuses_nothing(booking, participants, programmes):
    split = compute_split(booking=booking, participants=participants, programmes=programmes)
    states = states_by_id(programmes)
    workers = [p for p in participants if not p.is_family]
    front_line = sum(1 for p in workers if p.category == "front_line")
    for outcome in split.programmes:
        eligibility = states[outcome.programme_id].rules.eligibility
        state = states[outcome.programme_id]
        minimum = eligibility.min_front_line_percent
        if minimum is not None and (not workers or front_line * 100 < minimum * len(workers)):
            assert outcome.paid_fen == 0 and not outcome.applicable
        for participant, p in zip(participants, split.participants):
            last = state.earlier_trip_by_person.get(p.person_key)
            if eligibility.no_repeat_years is not None and last and last > years_before(booking.arrival_date, eligibility.no_repeat_years):
                assert p.share_of(outcome.programme_id) == 0
            if eligibility.max_stay_days is not None and participant.stay_days > eligibility.max_stay_days:
                assert p.share_of(outcome.programme_id) == 0
        notes = [line for line in split.explanations if line.programme_id == outcome.programme_id]
        if any(line.rule is Rule.NOT_APPLICABLE_FRONT_LINE_SHARE for line in notes):
            assert minimum is not None
    # Whatever the rules exclude falls to the union or the member: the split still covers the whole cost.
    assert split.programmes_fen + split.union_fen + split.own_payment_fen == split.total_cost_fen


@given(bookings, participant_lists(), programme_lists())
def test_switches_left_off_change_nothing(booking, participants, programmes):
    """Programmes without the new switches split exactly as they would with the switches absent."""
    switches_off = {"min_front_line_percent": None, "no_repeat_years": None,
                    "no_repeat_scope": RepeatScope.PROGRAMME, "family_allowed": True}
    plain = [
        replace(state, rules=replace(state.rules, eligibility=replace(state.rules.eligibility, **switches_off)),
                earlier_trip_by_person={})
        for state in programmes
    ]
    # earlier trips are known, but no rule looks at them
    with_trips_but_no_rule = [
        replace(state, earlier_trip_by_person={key: date(2025, 1, 1) for key in state.paid_this_year_fen_by_person})
        for state in plain
    ]
    expected = compute_split(booking=booking, participants=participants, programmes=plain)
    assert compute_split(booking=booking, participants=participants, programmes=with_trips_but_no_rule) == expected
    rules_new = {line.rule for p in expected.participants for line in p.explanations} | {line.rule for line in expected.explanations}
    assert not rules_new & {
        Rule.NOT_APPLICABLE_FRONT_LINE_SHARE, Rule.NOT_ELIGIBLE_FAMILY, Rule.NOT_ELIGIBLE_REPEAT_FUNDED,
        Rule.NOT_ELIGIBLE_REPEAT_ANY, Rule.EXCLUDED_FAMILY, Rule.EXCLUDED_REPEAT,
    }
