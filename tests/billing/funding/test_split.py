"""One or two tests per funding rule. Default person: twin room ¥200 × 2 nights = ¥400, 3 stay days."""

from datetime import date
from decimal import Decimal

import pytest

from billing.funding import (
    BaseFacts,
    CertificationLevel,
    CoverCost,
    Eligibility,
    FlatSubsidy,
    Matching,
    ProgrammeRules,
    ProgrammeState,
    Rule,
    compute_split,
)
from tests.billing.funding.builders import CITY, ENTERPRISE, PROVINCE, booking, person, programme


def split_of(*, programmes, participants=None, **booking_overrides):
    return compute_split(
        booking=booking(**booking_overrides), participants=participants or [person()], programmes=programmes
    )


def rules_of(explanations, programme_id=None):
    return [e.rule for e in explanations if programme_id is None or e.programme_id == programme_id]


def only(split):
    (participant,) = split.participants
    return participant


# --- who pays when nothing applies ----------------------------------------------------------


def test_without_programmes_the_union_pays_everything():
    p = only(split_of(programmes=[]))
    assert (p.cost_fen, p.union_fen, p.own_payment_fen, p.programme_shares) == (40000, 40000, 0, ())


def test_family_members_pay_their_whole_cost_and_get_no_programme_money():
    split = split_of(programmes=[programme()], participants=[person("worker"), person("spouse", is_family=True)])
    worker, spouse = split.participants
    assert worker.share_of("prog") == 40000
    assert (spouse.share_of("prog"), spouse.union_fen, spouse.own_payment_fen) == (0, 0, 40000)
    assert Rule.OWN_PAYMENT_FAMILY in rules_of(spouse.explanations)


def test_cost_above_the_union_standard_is_the_members_own_payment():
    # standard ¥100/day × 3 days = ¥300 of the ¥400 cost
    p = only(split_of(programmes=[programme()], cost_standard_per_person_day_fen=10000))
    assert (p.share_of("prog"), p.union_fen, p.own_payment_fen) == (30000, 0, 10000)
    line = next(e for e in p.explanations if e.rule is Rule.OWN_PAYMENT_ABOVE_STANDARD)
    assert line.params == {"standard_per_day_fen": 10000, "days": 3, "limit_fen": 30000}


# --- caps -----------------------------------------------------------------------------------


def test_per_person_per_day_cap_counts_stay_days():
    p = only(split_of(programmes=[programme(cap_per_person_day_fen=10000)]))
    assert (p.share_of("prog"), p.union_fen) == (30000, 10000)
    assert Rule.CAP_PER_PERSON_DAY in rules_of(p.explanations)


def test_per_person_per_year_cap_counts_what_was_paid_earlier_this_year():
    state = programme(cap_per_person_year_fen=300000, paid_this_year={"p1": 280000})
    p = only(split_of(programmes=[state]))
    assert (p.share_of("prog"), p.union_fen) == (20000, 20000)
    cap = next(e for e in p.explanations if e.rule is Rule.CAP_PER_PERSON_YEAR)
    assert cap.params["paid_this_year_fen"] == 280000 and cap.params["limit_fen"] == 20000


def test_an_exhausted_yearly_cap_pays_nothing():
    p = only(split_of(programmes=[programme(cap_per_person_year_fen=300000, paid_this_year={"p1": 310000})]))
    assert p.share_of("prog") == 0


# --- flat subsidy ---------------------------------------------------------------------------


def test_flat_subsidy_is_amount_per_person_per_stay_day():
    p = only(split_of(programmes=[programme(contribution=FlatSubsidy(amount_per_person_day_fen=10000))]))
    assert (p.share_of("prog"), p.union_fen) == (30000, 10000)


def test_flat_subsidy_once_a_year():
    flat = FlatSubsidy(amount_per_person_day_fen=10000)
    split = split_of(
        programmes=[programme(contribution=flat, flat_received=frozenset({"old"}))],
        participants=[person("old"), person("new")],
    )
    old, new = split.participants
    assert (old.share_of("prog"), new.share_of("prog")) == (0, 30000)
    assert Rule.FLAT_SUBSIDY_ALREADY_RECEIVED in rules_of(old.explanations)


def test_flat_subsidy_without_the_once_a_year_rule_pays_again():
    flat = FlatSubsidy(amount_per_person_day_fen=10000, once_per_year=False)
    p = only(split_of(programmes=[programme(contribution=flat, flat_received=frozenset({"p1"}))]))
    assert p.share_of("prog") == 30000


def test_flat_subsidy_never_exceeds_the_remaining_cost():
    p = only(split_of(programmes=[programme(contribution=FlatSubsidy(amount_per_person_day_fen=50000))]))
    assert (p.share_of("prog"), p.union_fen) == (40000, 0)
    assert Rule.CAP_REMAINING_COST in rules_of(p.explanations)


# --- matching -------------------------------------------------------------------------------


def test_one_to_one_matching_pays_as_much_as_the_union_spends():
    p = only(split_of(programmes=[programme(contribution=Matching(ratio=Decimal("1")))]))
    assert (p.share_of("prog"), p.union_fen) == (20000, 20000)


def test_half_matching_pays_a_third_of_the_unpaid_part():
    p = only(split_of(programmes=[programme(contribution=Matching(ratio="0.5"))]))
    assert (p.share_of("prog"), p.union_fen) == (13333, 26667)  # floored: never more than 0.5 × union


def test_matching_per_head_cap():
    p = only(split_of(programmes=[programme(contribution=Matching(ratio=1, cap_per_head_fen=5000))]))
    assert (p.share_of("prog"), p.union_fen) == (5000, 35000)
    assert Rule.CAP_MATCHING_PER_HEAD in rules_of(p.explanations)


def test_matching_total_allowance_is_spread_over_the_group_and_used_up_exactly():
    state = programme(contribution=Matching(ratio=1), allowance=10001)
    split = split_of(programmes=[state], participants=[person("a"), person("b"), person("c")])
    assert [p.share_of("prog") for p in split.participants] == [3334, 3334, 3333]
    (outcome,) = split.programmes
    assert (outcome.requested_fen, outcome.paid_fen, outcome.matching_allowance_used_fen) == (60000, 10001, 10001)
    assert Rule.CAP_MATCHING_ALLOWANCE in rules_of(split.explanations)


def test_matching_counts_only_what_earlier_programmes_left_unpaid():
    flat = programme("flat", order=1, contribution=FlatSubsidy(amount_per_person_day_fen=10000))
    match = programme("match", order=2, contribution=Matching(ratio=1))
    p = only(split_of(programmes=[match, flat]))
    assert (p.share_of("flat"), p.share_of("match"), p.union_fen) == (30000, 5000, 5000)


# --- full funding ---------------------------------------------------------------------------


def test_named_union_is_fully_funded_instead_of_matched():
    state = programme(contribution=Matching(ratio=1), allowance=0, fully_funded_union_ids=frozenset({ENTERPRISE}))
    split = split_of(programmes=[state])
    assert (only(split).share_of("prog"), only(split).union_fen) == (40000, 0)
    (outcome,) = split.programmes
    assert outcome.fully_funded and outcome.matching_allowance_used_fen == 0
    assert Rule.FULL_FUNDING_UNION in rules_of(split.explanations)


def test_full_funding_reaches_sub_unions_of_the_named_union_and_keeps_the_caps():
    state = programme(
        contribution=Matching(ratio=1), fully_funded_union_ids=frozenset({CITY}), cap_per_person_day_fen=12000
    )
    p = only(split_of(programmes=[state]))
    assert (p.share_of("prog"), p.union_fen) == (36000, 4000)


# --- eligibility ----------------------------------------------------------------------------


def test_union_eligibility_matches_the_booking_union_or_an_ancestor():
    inside = programme("in", eligibility=Eligibility(union_ids=frozenset({PROVINCE})))
    outside = programme("out", order=0, eligibility=Eligibility(union_ids=frozenset({"u-shenzhen"})))
    split = split_of(programmes=[inside, outside])
    assert (only(split).share_of("out"), only(split).share_of("in")) == (0, 40000)
    assert not split.programmes[0].applicable
    assert Rule.NOT_APPLICABLE_UNION in rules_of(split.explanations, "out")


@pytest.mark.parametrize(
    ("levels", "pays"),
    [({CertificationLevel.PROVINCIAL}, True), ({CertificationLevel.CITY}, False), (None, True)],
)
def test_base_certification_level(levels, pays):
    eligibility = Eligibility(base_certification_levels=frozenset(levels) if levels else None)
    split = split_of(programmes=[programme(eligibility=eligibility)])
    assert only(split).share_of("prog") == (40000 if pays else 0)
    assert (Rule.NOT_APPLICABLE_CERTIFICATION in rules_of(split.explanations)) is not pays


@pytest.mark.parametrize(
    ("prefixes", "pays"),
    [
        (("4416",), True),  # the whole of Heyuan by prefix
        (("441621",), True),  # the base's own county
        (("441600",), True),  # the city code itself
        (("441622", "4402"), False),  # another Heyuan county, Shaoguan
        (("44",), True),  # the province
    ],
)
def test_base_region_by_division_code_prefix(prefixes, pays):
    split = split_of(programmes=[programme(eligibility=Eligibility(base_region_prefixes=prefixes))])
    assert only(split).share_of("prog") == (40000 if pays else 0)


def test_region_of_a_base_without_county_code_uses_its_city():
    base = BaseFacts(certification_level=CertificationLevel.CITY, county_code="", city_code="441400")
    eligibility = Eligibility(base_region_prefixes=("4414",))
    assert only(split_of(programmes=[programme(eligibility=eligibility)], base=base)).share_of("prog") == 40000


def test_participant_categories():
    eligibility = Eligibility(participant_categories=frozenset({"front_line", "model_worker"}))
    split = split_of(
        programmes=[programme(eligibility=eligibility)],
        participants=[person("a"), person("b", category="office")],
    )
    front_line, office = split.participants
    assert (front_line.share_of("prog"), office.share_of("prog"), office.union_fen) == (40000, 0, 40000)
    assert Rule.NOT_ELIGIBLE_CATEGORY in rules_of(office.explanations)


def test_max_stay_days_include_travel_so_four_nights_is_five_days():
    eligibility = Eligibility(max_stay_days=5)
    split = split_of(
        programmes=[programme(eligibility=eligibility)], participants=[person("ok", nights=4), person("long", nights=5)]
    )
    ok, long = split.participants
    assert (ok.share_of("prog"), long.share_of("prog")) == (80000, 0)
    line = next(e for e in long.explanations if e.rule is Rule.NOT_ELIGIBLE_STAY_LENGTH)
    assert line.params["stay_days"] == 6


@pytest.mark.parametrize(
    ("arrival", "pays"),
    [(date(2025, 3, 31), False), (date(2025, 4, 1), True), (date(2025, 10, 31), True), (date(2025, 11, 1), False)],
)
def test_arrival_must_fall_within_the_programme_period_inclusive(arrival, pays):
    eligibility = Eligibility(period_start=date(2025, 4, 1), period_end=date(2025, 10, 31))
    split = split_of(programmes=[programme(eligibility=eligibility)], arrival_date=arrival)
    assert only(split).share_of("prog") == (40000 if pays else 0)


# --- order and balance ----------------------------------------------------------------------


def test_lower_order_applies_first_and_later_programmes_see_only_what_is_unpaid():
    provincial = programme("province", order=1, cap_per_person_day_fen=5000)
    city = programme("city", order=2)
    p = only(split_of(programmes=[city, provincial]))
    assert [share.programme_id for share in p.programme_shares] == ["province", "city"]
    assert (p.share_of("province"), p.share_of("city"), p.union_fen) == (15000, 25000, 0)


def test_equal_order_is_settled_by_programme_id():
    p = only(split_of(programmes=[programme("b"), programme("a")]))
    assert (p.share_of("a"), p.share_of("b")) == (40000, 0)
    assert Rule.NOTHING_LEFT_TO_PAY in rules_of(p.explanations, "b")


def test_equal_order_compares_numeric_ids_as_numbers():
    # ids are database keys: programme 9 was made before programme 10 and is applied first
    p = only(split_of(programmes=[programme("10"), programme("9")]))
    assert (p.share_of("9"), p.share_of("10")) == (40000, 0)


def test_a_short_balance_pays_what_it_can_and_says_so():
    split = split_of(programmes=[programme(balance=50001)], participants=[person("a"), person("b")])
    assert [p.share_of("prog") for p in split.participants] == [25001, 25000]
    assert [p.union_fen for p in split.participants] == [14999, 15000]
    (outcome,) = split.programmes
    assert (outcome.paid_fen, outcome.balance_shortfall_fen, outcome.balance_after_fen) == (50001, 29999, 0)
    cut = next(e for e in split.explanations if e.rule is Rule.CAP_BALANCE)
    assert cut.amount_fen == 29999 and cut.params["balance_fen"] == 50001


def test_balance_cut_comes_after_the_matching_allowance_cut():
    state = programme(contribution=Matching(ratio=1), allowance=15000, balance=10000)
    split = split_of(programmes=[state], participants=[person("a"), person("b")])
    (outcome,) = split.programmes
    assert (outcome.requested_fen, outcome.paid_fen, outcome.balance_shortfall_fen) == (40000, 10000, 5000)


# --- input checks ---------------------------------------------------------------------------


def test_duplicate_people_or_programmes_are_refused():
    with pytest.raises(ValueError, match="person_key"):
        split_of(programmes=[], participants=[person("a"), person("a")])
    with pytest.raises(ValueError, match="programme_id"):
        split_of(programmes=[programme("x"), programme("x")])


@pytest.mark.parametrize(
    "make",
    [
        lambda: Matching(ratio=-1),
        lambda: Matching(ratio=1, cap_per_head_fen=-1),
        lambda: FlatSubsidy(amount_per_person_day_fen=-1),
        lambda: Eligibility(max_stay_days=0),
        lambda: Eligibility(base_region_prefixes=("",)),
        lambda: Eligibility(period_start=date(2025, 2, 1), period_end=date(2025, 1, 1)),
        lambda: programme(cap_per_person_day_fen=-1),
        lambda: programme(balance=-1),
        lambda: programme(allowance=-1),
        lambda: programme(paid_this_year={"p1": -1}),
    ],
)
def test_invalid_rules_are_refused(make):
    with pytest.raises(ValueError):
        make()


def test_ratio_refuses_float():
    with pytest.raises(TypeError):
        Matching(ratio=0.5)


def test_rules_and_states_are_frozen():
    rules = ProgrammeRules(programme_id="x", name="x", order=1, contribution=CoverCost())
    with pytest.raises(AttributeError):
        rules.order = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        ProgrammeState(rules=rules, available_balance_fen=0).available_balance_fen = 5  # type: ignore[misc]
