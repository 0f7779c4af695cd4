from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tallyroom.count.numbers import Scale


def test_div_and_mul_round_down() -> None:
    s = Scale(4)
    assert s.div_down(s.votes(178), s.votes(15044)) == 118  # 0.011832... -> 0.0118
    assert s.mul_down(s.one, 118) == 118
    assert s.mul_down(3333, 5000) == 1666  # 0.3333 * 0.5 = 0.16665 -> 0.1666


def test_formats() -> None:
    s = Scale(4)
    assert s.format(123450) == "12.3450"
    assert s.format_plain(123450) == "12.345"
    assert s.format_plain(s.votes(7)) == "7"
    assert s.format_plain(0) == "0"
    assert s.format_plain(-5) == "-0.0005"


def test_from_decimal_refuses_hidden_rounding() -> None:
    with pytest.raises(ValueError):
        Scale(2).from_decimal(Decimal("1.005"))


@given(st.integers(0, 10**12), st.integers(1, 10**12), st.integers(0, 8))
def test_div_down_is_floor_of_exact_quotient(a: int, b: int, places: int) -> None:
    s = Scale(places)
    q = s.div_down(a, b)
    exact = Decimal(a) / Decimal(b)
    assert s.to_decimal(q) <= exact < s.to_decimal(q + 1)
