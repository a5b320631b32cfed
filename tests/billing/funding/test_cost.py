from decimal import Decimal

import pytest

from billing.funding import BaseDiscount, ExtraBasis, ExtraCharge, Rule, compute_split
from billing.funding.cost import price_booking
from tests.billing.funding.builders import booking, person


def rules_of(explanations):
    return [explanation.rule for explanation in explanations]


def test_lodging_is_nightly_price_of_the_room_type_times_nights():
    priced = price_booking(
        booking=booking(), participants=[person("a", room_type="twin", nights=3), person("b", room_type="single", nights=2)]
    )
    assert [p.cost_fen for p in priced.participants] == [60000, 70000]
    lodging = priced.participants[1].lines[0]
    assert lodging.rule is Rule.COST_LODGING
    assert lodging.params == {"room_type": "single", "nightly_price_fen": 35000, "nights": 2}


def test_meals_count_stay_days_which_include_the_travel_day():
    priced = price_booking(booking=booking(meals_per_person_day_fen=6000), participants=[person(nights=4)])
    assert priced.participants[0].cost_fen == 4 * 20000 + 5 * 6000


def test_a_day_trip_has_no_lodging_and_one_day_of_meals():
    priced = price_booking(booking=booking(meals_per_person_day_fen=6000), participants=[person(nights=0)])
    assert priced.participants[0].cost_fen == 6000


def test_route_fee_and_per_person_extras_apply_to_every_participant():
    extras = (ExtraCharge(name="温泉门票", amount_fen=8800, basis=ExtraBasis.PER_PERSON),)
    priced = price_booking(
        booking=booking(route_fee_per_head_fen=15000, extras=extras),
        participants=[person("a", nights=1), person("b", nights=1, is_family=True)],
    )
    assert [p.cost_fen for p in priced.participants] == [20000 + 15000 + 8800] * 2
    assert Rule.COST_EXTRA in rules_of(priced.participants[1].lines)


def test_per_booking_extras_are_a_shared_cost_not_spread_over_people():
    extras = (ExtraCharge(name="大巴", amount_fen=300000, basis=ExtraBasis.PER_BOOKING),)
    priced = price_booking(booking=booking(extras=extras), participants=[person("a"), person("b")])
    assert [p.cost_fen for p in priced.participants] == [40000, 40000]
    assert priced.shared_cost_fen == 300000


def test_percentage_discount_rounds_half_up_once_per_person():
    # 12.5 % of ¥401.00 = ¥50.125 → ¥50.13
    priced = price_booking(
        booking=booking(nightly_price_per_person_fen={"twin": 40100}, discount=BaseDiscount(percent=Decimal("12.5"))),
        participants=[person(nights=1)],
    )
    assert priced.participants[0].cost_fen == 40100 - 5013
    discount = priced.participants[0].lines[-1]
    assert discount.rule is Rule.COST_DISCOUNT_PERCENT
    assert discount.params == {"percent": "12.5", "base_fen": 40100}


def test_percentage_discount_also_applies_to_the_shared_cost():
    extras = (ExtraCharge(name="导游", amount_fen=50000, basis=ExtraBasis.PER_BOOKING),)
    priced = price_booking(booking=booking(extras=extras, discount=BaseDiscount(percent=10)), participants=[person()])
    assert priced.shared_cost_fen == 45000


def test_fixed_discount_is_shared_in_proportion_to_cost_and_adds_up():
    priced = price_booking(
        booking=booking(discount=BaseDiscount(fixed_fen=1000)),
        participants=[person("a", nights=1), person("b", nights=2), person("c", nights=3)],
    )
    # costs 20000 / 40000 / 60000; ¥10 off shared 1:2:3 → exact 166.67 / 333.33 / 500 → 167 / 333 / 500
    assert [p.cost_fen for p in priced.participants] == [20000 - 167, 40000 - 333, 60000 - 500]


def test_fixed_discount_beyond_the_people_reduces_the_shared_cost_then_goes_unused():
    extras = (ExtraCharge(name="大巴", amount_fen=10000, basis=ExtraBasis.PER_BOOKING),)
    priced = price_booking(
        booking=booking(extras=extras, discount=BaseDiscount(fixed_fen=60000)), participants=[person(nights=1)]
    )
    assert priced.participants[0].cost_fen == 0
    assert priced.shared_cost_fen == 0
    unused = [line for line in priced.shared_lines if line.rule is Rule.FIXED_DISCOUNT_UNUSED]
    assert [line.amount_fen for line in unused] == [30000]


def test_unknown_room_type_is_an_error():
    with pytest.raises(ValueError, match="suite"):
        price_booking(booking=booking(), participants=[person(room_type="suite")])


@pytest.mark.parametrize(
    "make",
    [
        lambda: person(nights=-1),
        lambda: ExtraCharge(name="x", amount_fen=-1, basis=ExtraBasis.PER_PERSON),
        lambda: BaseDiscount(percent=101),
        lambda: BaseDiscount(percent=-1),
        lambda: BaseDiscount(fixed_fen=-1),
        lambda: booking(meals_per_person_day_fen=-1),
        lambda: booking(nightly_price_per_person_fen={"twin": -1}),
        lambda: booking(cost_standard_per_person_day_fen=-1),
    ],
)
def test_negative_inputs_are_refused(make):
    with pytest.raises(ValueError):
        make()


def test_discount_percent_refuses_float():
    with pytest.raises(TypeError):
        BaseDiscount(percent=12.5)


def test_booking_totals_include_the_shared_cost():
    extras = (ExtraCharge(name="大巴", amount_fen=30000, basis=ExtraBasis.PER_BOOKING),)
    split = compute_split(booking=booking(extras=extras), participants=[person("a"), person("b")], programmes=[])
    assert split.total_cost_fen == 40000 * 2 + 30000
    assert split.union_fen == split.total_cost_fen
    assert Rule.SHARED_COST_PAID_BY_UNION in rules_of(split.explanations)
