"""Money as integer fen (分). Decimal appears only when parsing or printing.

Rounding is ROUND_HALF_UP in the Decimal sense (ties away from zero), which is
what a Chinese ledger calls 四舍五入. Internal ratios are exact `Fraction`s.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

FEN_PER_YUAN = 100
_CENT = Decimal("0.01")
# "1234.5", "1,234.50", "¥1,234.50", "-¥3" — the forms people type and format_fen prints.
_YUAN_TEXT = re.compile(r"-?¥?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")


def to_fen(amount: Decimal | str) -> int:
    """Yuan (a Decimal or a decimal string) → integer fen, rounded half-up.

    Floats are refused: they cannot hold most fen amounts exactly.
    """
    if isinstance(amount, str):
        text = amount.strip()
        if not _YUAN_TEXT.fullmatch(text):
            raise ValueError(f"not a yuan amount: {amount!r}")
        amount = Decimal(text.replace("¥", "").replace(",", ""))
    elif not isinstance(amount, Decimal):
        raise TypeError(f"yuan must be a Decimal or a decimal string, not {type(amount).__name__}")
    if not amount.is_finite():
        raise ValueError(f"not a finite amount: {amount!r}")
    try:
        return int(amount.quantize(_CENT, rounding=ROUND_HALF_UP).scaleb(2))
    except InvalidOperation as error:
        raise ValueError(f"amount out of range: {amount!r}") from error


def fen_to_decimal(fen: int) -> Decimal:
    """Integer fen → yuan as an exact two-place Decimal (for DecimalField)."""
    return Decimal(fen).scaleb(-2)


def format_fen(fen: int) -> str:
    """12345 → "¥123.45"; -123450 → "-¥1,234.50"."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}¥{yuan:,}.{cents:02d}"


def exact_fraction(value: Fraction | Decimal | str | int) -> Fraction:
    """A ratio or percentage given as Decimal, "0.5", "1/3" or int, held exactly."""
    if isinstance(value, (float, bool)):
        raise TypeError(f"refusing {type(value).__name__}: give a Decimal or a string")
    return Fraction(value)


def round_half_up(value: Fraction) -> int:
    """Nearest integer, ties away from zero (matches Decimal ROUND_HALF_UP)."""
    magnitude = (abs(value) * 2 + 1) // 2
    return int(magnitude) if value >= 0 else -int(magnitude)


def allocate_largest_remainder(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` fen in proportion to `weights` (Hamilton / largest remainder).

    Parts add up to `total` exactly; each part is within one fen of its exact
    proportional value and never exceeds its weight when total <= sum(weights).
    Ties in remainder go to the earlier position, so the result is deterministic.
    """
    weight_sum = _check_allocation(total, weights)
    if weight_sum == 0:
        return [0] * len(weights)
    floors_and_remainders = [divmod(total * weight, weight_sum) for weight in weights]
    parts = [floor for floor, _ in floors_and_remainders]
    leftover = total - sum(parts)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-floors_and_remainders[i][1], i))
    for index in by_remainder[:leftover]:
        parts[index] += 1
    return parts


def allocate_divisor(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` fen in proportion to `weights` by the D'Hondt divisor method.

    Unlike largest remainder, this is population-monotone: dropping one weight
    never lowers any other part. That is why a booking's fixed discount is spread
    with it — removing a participant must never raise anyone else's cost.
    Requires total <= sum(weights); then no part exceeds its weight.
    """
    weight_sum = _check_allocation(total, weights)
    if total > weight_sum:
        raise ValueError("cannot allocate more than the weights add up to")
    if weight_sum == 0:
        return [0] * len(weights)
    # D'Hondt always gives at least the floor of the exact quota, so start there
    # and hand out the few remaining fen by highest weight / (part + 1).
    parts = [total * weight // weight_sum for weight in weights]
    queue = [(-Fraction(weight, part + 1), index) for index, (weight, part) in enumerate(zip(weights, parts)) if weight]
    heapq.heapify(queue)
    for _ in range(total - sum(parts)):
        _, index = heapq.heappop(queue)
        parts[index] += 1
        heapq.heappush(queue, (-Fraction(weights[index], parts[index] + 1), index))
    return parts


def _check_allocation(total: int, weights: Sequence[int]) -> int:
    if total < 0 or any(weight < 0 for weight in weights):
        raise ValueError("allocation needs a non-negative total and weights")
    weight_sum = sum(weights)
    if weight_sum == 0 and total:
        raise ValueError("cannot allocate a positive total over zero weights")
    return weight_sum
