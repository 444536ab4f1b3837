from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plan_executor.domain.enums import Side
from plan_executor.domain.money import Price, dollars, price
from plan_executor.domain.slippage import (
    ShortfallItem,
    implementation_shortfall_bps,
    slippage_bps,
)


@pytest.mark.parametrize(
    ("side", "avg", "expected"),
    [
        (Side.BUY, "100.10", "10.00"),
        (Side.BUY, "99.95", "-5.00"),
        (Side.SELL, "99.90", "10.00"),
        (Side.SELL, "100.05", "-5.00"),
        (Side.BUY, "100.00", "0.00"),
    ],
)
def test_slippage_is_positive_when_worse_for_us_on_both_sides(
    side: Side, avg: str, expected: str
) -> None:
    assert slippage_bps(side, price(avg), price("100.00")) == Decimal(expected)


def test_slippage_is_rounded_to_a_hundredth_of_a_bp() -> None:
    assert slippage_bps(Side.BUY, price("100.001"), price("100.00")) == Decimal("0.10")
    assert slippage_bps(Side.BUY, price("33.3334"), price("33.3333")) == Decimal("0.03")


def test_slippage_refuses_non_positive_prices() -> None:
    with pytest.raises(ValueError, match="arrival mid"):
        slippage_bps(Side.BUY, price("1"), price("0"))
    with pytest.raises(ValueError, match="average price"):
        slippage_bps(Side.SELL, price("0"), price("1"))


@settings(max_examples=200)
@given(
    avg=st.decimals(min_value="0.01", max_value="1000", places=4).map(price),
    mid=st.decimals(min_value="0.01", max_value="1000", places=4).map(price),
)
def test_buy_and_sell_slippage_are_mirror_images(avg: Price, mid: Price) -> None:
    buy = slippage_bps(Side.BUY, avg, mid)
    sell = slippage_bps(Side.SELL, avg, mid)
    assert buy == -sell
    # Never the wrong sign; a gap under 0.005 bps rounds to zero (200.0001 against 200).
    assert (buy > 0) <= (avg > mid)
    assert (buy < 0) <= (avg < mid)
    assert (buy == 0) <= (abs(avg - mid) / mid * 10_000 <= Decimal("0.005"))


def test_shortfall_is_weighted_by_filled_notional() -> None:
    items = [
        ShortfallItem(Side.BUY, price("100.10"), price("100.00"), dollars("3000")),  # +10 bps
        ShortfallItem(Side.SELL, price("50.10"), price("50.00"), dollars("1000")),  # -20 bps
        ShortfallItem(Side.BUY, price("1"), price("2"), dollars("0")),  # nothing filled
    ]
    assert implementation_shortfall_bps(items) == Decimal("2.50")


def test_shortfall_of_nothing_filled_is_none() -> None:
    assert implementation_shortfall_bps([]) is None
    unfilled = ShortfallItem(Side.BUY, price("1"), price("1"), dollars("0"))
    assert implementation_shortfall_bps([unfilled]) is None


def test_shortfall_refuses_negative_notional() -> None:
    with pytest.raises(ValueError, match="negative"):
        implementation_shortfall_bps(
            [ShortfallItem(Side.BUY, price("1"), price("1"), dollars("-1"))]
        )
