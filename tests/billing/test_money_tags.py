"""The ``yuan`` template filter prints stored amounts as the split tables do (``format_fen``)."""

from decimal import Decimal

import pytest

from billing.templatetags.money import yuan


def test_yuan_prints_thousands_separators_and_two_places():
    assert yuan(Decimal("5560")) == "¥5,560.00"
    assert yuan(Decimal("12345.6")) == "¥12,345.60"
    assert yuan(Decimal("-1234.50")) == "-¥1,234.50"
    assert yuan(Decimal("0.00")) == "¥0.00"
    assert yuan(100000) == "¥100,000.00"
    assert yuan(None) == "" and yuan("") == ""


def test_yuan_refuses_a_float():
    with pytest.raises(TypeError):
        yuan(5560.0)
