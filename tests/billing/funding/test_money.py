from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.funding.money import (
    allocate_divisor,
    allocate_largest_remainder,
    exact_fraction,
    fen_to_decimal,
    format_fen,
    round_half_up,
    to_fen,
)


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("1234.5", 123450),
        ("1,234.50", 123450),
        ("¥1,234.50", 123450),
        ("-¥3", -300),
        (" 100 ", 10000),
        ("0.005", 1),
        ("0.004", 0),
        ("-0.005", -1),
        ("2.675", 268),  # the classic binary-float trap: Decimal keeps it exact
        ("1,000,000.00", 100000000),
    ],
)
def test_to_fen_parses_yuan_text_half_up(text, fen):
    assert to_fen(text) == fen


def test_to_fen_takes_decimals():
    assert to_fen(Decimal("0.125")) == 13
    assert to_fen(Decimal("-0.125")) == -13
    assert to_fen(Decimal("600")) == 60000


@pytest.mark.parametrize("value", [1.5, 100, True])
def test_to_fen_refuses_floats_and_ambiguous_ints(value):
    with pytest.raises(TypeError):
        to_fen(value)


@pytest.mark.parametrize("text", ["", "abc", "1,23", "1e5", "¥", "12,34.5", "1.2.3"])
def test_to_fen_refuses_malformed_text(text):
    with pytest.raises(ValueError):
        to_fen(text)


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("1E+40")])
def test_to_fen_refuses_non_finite_and_absurd(value):
    with pytest.raises(ValueError):
        to_fen(value)


@pytest.mark.parametrize(
    ("fen", "text"),
    [(0, "¥0.00"), (5, "¥0.05"), (123450, "¥1,234.50"), (-123450, "-¥1,234.50"), (100000000, "¥1,000,000.00")],
)
def test_format_fen(fen, text):
    assert format_fen(fen) == text


def test_fen_to_decimal_is_exact_two_places():
    assert str(fen_to_decimal(123450)) == "1234.50"
    assert fen_to_decimal(-7) == Decimal("-0.07")


@pytest.mark.parametrize(
    ("value", "rounded"),
    [(Fraction(1, 2), 1), (Fraction(-1, 2), -1), (Fraction(3, 2), 2), (Fraction(1, 3), 0), (Fraction(2, 3), 1), (Fraction(-5, 3), -2)],
)
def test_round_half_up_on_fractions(value, rounded):
    assert round_half_up(value) == rounded


def test_exact_fraction_accepts_decimal_text_and_refuses_float():
    assert exact_fraction("0.5") == Fraction(1, 2)
    assert exact_fraction("1/3") == Fraction(1, 3)
    assert exact_fraction(Decimal("1.25")) == Fraction(5, 4)
    with pytest.raises(TypeError):
        exact_fraction(0.5)


def test_largest_remainder_examples():
    assert allocate_largest_remainder(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate_largest_remainder(10, [1, 2, 3, 4]) == [1, 2, 3, 4]
    assert allocate_largest_remainder(7, [5, 0, 5]) == [4, 0, 3]
    assert allocate_largest_remainder(0, [0, 0]) == [0, 0]
    assert allocate_largest_remainder(0, []) == []


def test_divisor_examples_favour_the_larger_weight_on_leftovers():
    assert allocate_divisor(100, [100, 100, 100]) == [34, 33, 33]
    assert allocate_divisor(3, [10, 1]) == [3, 0]
    assert allocate_divisor(11, [10, 1]) == [10, 1]


@pytest.mark.parametrize("allocate", [allocate_largest_remainder, allocate_divisor])
def test_allocation_refuses_impossible_input(allocate):
    with pytest.raises(ValueError):
        allocate(5, [0, 0])
    with pytest.raises(ValueError):
        allocate(-1, [1])
    with pytest.raises(ValueError):
        allocate(1, [2, -1])


def test_divisor_refuses_more_than_the_weights():
    with pytest.raises(ValueError):
        allocate_divisor(4, [1, 2])


fen_amounts = st.integers(min_value=-(10**13), max_value=10**13)
weights_lists = st.lists(st.integers(min_value=0, max_value=10**7), max_size=12)


@given(fen_amounts)
def test_round_trip_fen_decimal_fen(fen):
    assert to_fen(fen_to_decimal(fen)) == fen


@given(fen_amounts)
def test_round_trip_fen_text_fen(fen):
    assert to_fen(format_fen(fen)) == fen


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=6, allow_nan=False, allow_infinity=False))
def test_to_fen_is_half_up_of_the_exact_value(amount):
    assert to_fen(amount) == round_half_up(Fraction(amount) * 100)
    assert to_fen(amount) == int(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) * 100)


@given(st.data(), weights_lists)
def test_largest_remainder_adds_up_and_stays_within_a_fen_of_exact(data, weights):
    total = data.draw(st.integers(min_value=0, max_value=sum(weights)) if any(weights) else st.just(0))
    parts = allocate_largest_remainder(total, weights)
    assert sum(parts) == total
    for part, weight in zip(parts, weights):
        exact = Fraction(total * weight, sum(weights)) if any(weights) else 0
        assert 0 <= part <= weight
        assert abs(part - exact) < 1


def _dhondt_from_scratch(total, weights):
    """Reference: hand out one fen at a time to the highest weight / (part + 1)."""
    parts = [0] * len(weights)
    for _ in range(total):
        best = max((i for i in range(len(weights)) if weights[i]), key=lambda i: (Fraction(weights[i], parts[i] + 1), -i))
        parts[best] += 1
    return parts


@given(st.data(), st.lists(st.integers(min_value=0, max_value=60), max_size=6))
def test_divisor_matches_the_one_fen_at_a_time_definition(data, weights):
    total = data.draw(st.integers(min_value=0, max_value=sum(weights)))
    assert allocate_divisor(total, weights) == _dhondt_from_scratch(total, weights)


@given(st.data(), st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=10))
def test_divisor_adds_up_and_removing_a_weight_never_lowers_another_part(data, weights):
    total = data.draw(st.integers(min_value=0, max_value=sum(weights)))
    removed = data.draw(st.integers(min_value=0, max_value=len(weights) - 1))
    parts = allocate_divisor(total, weights)
    assert sum(parts) == total
    assert all(0 <= part <= weight for part, weight in zip(parts, weights))

    remaining_weights = weights[:removed] + weights[removed + 1 :]
    remaining_total = min(total, sum(remaining_weights))  # the caller caps at what is left
    after = allocate_divisor(remaining_total, remaining_weights)
    before = parts[:removed] + parts[removed + 1 :]
    if remaining_total == total:
        assert all(new >= old for new, old in zip(after, before))
    else:  # everything left is fully covered
        assert after == remaining_weights
