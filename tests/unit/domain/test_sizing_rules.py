from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mypy import api as mypy_api

from plan_executor.domain.money import QTY_QUANTUM, Price, Shares, dollars, price, shares
from plan_executor.domain.sizing import (
    AssetTerms,
    Sized,
    Skip,
    SkipReason,
    capped_sell_qty,
    quantise_qty,
    remaining_notional,
    remaining_qty,
    size_buy,
    size_sell,
)

FRACTIONAL = AssetTerms(fractionable=True, tradable=True)
WHOLE_ONLY = AssetTerms(fractionable=False, tradable=True)
UNTRADABLE = AssetTerms(fractionable=True, tradable=False)

prices = st.decimals(min_value="0.0001", max_value="5000", places=4).map(price)
amounts = st.decimals(min_value="0", max_value="1000000", places=2).map(dollars)
holdings = st.decimals(min_value="0", max_value="100000", places=9).map(shares)
terms = st.sampled_from([FRACTIONAL, WHOLE_ONLY])


def sized(result: Sized | Skip) -> Sized:
    assert isinstance(result, Sized), result
    return result


def skipped(result: Sized | Skip) -> Skip:
    assert isinstance(result, Skip), result
    return result


def test_incident_01_no_price_never_yields_a_quantity() -> None:
    for bad_price in (None, price("0"), price("-1"), price("NaN")):
        buy = skipped(size_buy(dollars("1000"), bad_price, FRACTIONAL))
        sell = skipped(
            size_sell(dollars("1000"), bad_price, shares("50"), FRACTIONAL, full_exit=False)
        )
        assert buy.reason is sell.reason is SkipReason.NO_USABLE_PRICE
        assert "no usable price" in buy.detail


def test_incident_01_dollars_cannot_be_passed_as_shares(tmp_path: Path) -> None:
    snippet = tmp_path / "dollars_as_shares.py"
    snippet.write_text(
        "from plan_executor.domain.money import dollars, price\n"
        "from plan_executor.domain.sizing import AssetTerms, size_sell\n"
        "size_sell(dollars(1), price(1), dollars(5), AssetTerms(True, True), full_exit=False)\n"
    )
    report, _, status = mypy_api.run(
        ["--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"), str(snippet)]
    )
    assert status == 1
    assert 'Argument 3 to "size_sell" has incompatible type "Dollars"; expected "Shares"' in report


def test_incident_02_liquidation_never_rounds_past_holding() -> None:
    held = shares("7.2273576")
    result = sized(size_sell(dollars("0"), price("151.37"), held, FRACTIONAL, full_exit=True))
    assert result.qty == held
    assert str(result.qty) == "7.227357600"
    assert result.full_exit


def test_incident_02_partial_sell_rounds_down_and_caps_at_holding() -> None:
    held = shares("7.2273576")
    asked_for_more = size_sell(dollars("5000"), price("100"), held, FRACTIONAL, full_exit=False)
    assert sized(asked_for_more).qty == held
    rounding = sized(
        size_sell(dollars("100"), price("3"), shares("50"), FRACTIONAL, full_exit=False)
    )
    assert rounding.qty == Decimal("33.333333333")


def test_incident_03_non_fractionable_remainder_rounding_to_zero_is_a_skip() -> None:
    sell = size_sell(dollars("0"), price("400"), shares("0.4"), WHOLE_ONLY, full_exit=True)
    assert skipped(sell).reason is SkipReason.ROUNDS_TO_ZERO
    buy = size_buy(dollars("399.99"), price("400"), WHOLE_ONLY)
    assert skipped(buy).reason is SkipReason.ROUNDS_TO_ZERO


@settings(max_examples=200)
@given(qty=st.decimals(min_value="1e-12", max_value="1000", places=12), price_=prices)
def test_incident_03_buys_and_sells_share_one_quantiser(qty: Decimal, price_: Price) -> None:
    """The same share count comes out of both paths for both kinds of asset."""
    for asset in (FRACTIONAL, WHOLE_ONLY):
        expected = quantise_qty(qty, asset)
        held = shares(qty)
        sell = size_sell(
            dollars("0"), price_, held, asset, full_exit=True, min_notional=dollars("0")
        )
        buy = size_buy(dollars(qty * price_), price_, asset, min_notional=dollars("0"))
        for result in (sell, buy):
            if expected > 0:
                assert sized(result).qty == expected
            else:
                assert skipped(result).reason is SkipReason.ROUNDS_TO_ZERO


def test_fractional_buy_rounds_down_to_nine_decimals() -> None:
    result = sized(size_buy(dollars("100"), price("3"), FRACTIONAL))
    assert result.qty == Decimal("33.333333333")
    assert result.notional <= dollars("100")


def test_whole_share_buy_rounds_down() -> None:
    assert sized(size_buy(dollars("1000"), price("300"), WHOLE_ONLY)).qty == 3


def test_non_fractionable_full_exit_sells_whole_shares_only() -> None:
    result = sized(size_sell(dollars("0"), price("400"), shares("7.5"), WHOLE_ONLY, full_exit=True))
    assert result.qty == 7


def test_buy_below_one_dollar_is_skipped() -> None:
    assert skipped(size_buy(dollars("0.99"), price("10"), FRACTIONAL)).reason is (
        SkipReason.BELOW_MIN_NOTIONAL
    )


def test_fractional_sell_worth_under_one_dollar_is_skipped() -> None:
    result = size_sell(dollars("0"), price("100"), shares("0.005"), FRACTIONAL, full_exit=True)
    assert skipped(result).reason is SkipReason.BELOW_MIN_NOTIONAL


def test_whole_share_orders_under_one_dollar_are_skipped_too() -> None:
    result = size_sell(dollars("0"), price("0.40"), shares("2"), WHOLE_ONLY, full_exit=True)
    assert skipped(result).reason is SkipReason.BELOW_MIN_NOTIONAL
    assert sized(size_sell(dollars("0"), price("0.40"), shares("3"), WHOLE_ONLY, full_exit=True))


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        (size_buy(dollars("100"), price("10"), UNTRADABLE), SkipReason.NOT_TRADABLE),
        (size_buy(dollars("0"), price("10"), FRACTIONAL), SkipReason.NOTHING_TO_TRADE),
        (size_buy(dollars("-5"), price("10"), FRACTIONAL), SkipReason.NOTHING_TO_TRADE),
        (
            size_sell(dollars("100"), price("10"), shares("0"), FRACTIONAL, full_exit=True),
            SkipReason.NOTHING_HELD,
        ),
        (
            size_sell(dollars("0"), price("10"), shares("5"), FRACTIONAL, full_exit=False),
            SkipReason.NOTHING_TO_TRADE,
        ),
    ],
)
def test_skips_carry_their_reason(result: Sized | Skip, reason: SkipReason) -> None:
    assert skipped(result).reason is reason


@settings(max_examples=300)
@given(target=amounts, price_=prices, held=holdings, asset=terms, full_exit=st.booleans())
def test_sells_never_exceed_holding_and_always_round_down(
    target: Decimal, price_: Price, held: Shares, asset: AssetTerms, full_exit: bool
) -> None:
    result = size_sell(dollars(target), price_, held, asset, full_exit=full_exit)
    if isinstance(result, Skip):
        return
    assert 0 < result.qty <= held
    quantum = QTY_QUANTUM if asset.fractionable else Decimal(1)
    assert result.qty == result.qty.quantize(quantum)
    if full_exit:
        assert held - result.qty < quantum
    else:
        assert result.qty * price_ <= target


@settings(max_examples=300)
@given(amount=amounts, price_=prices, asset=terms)
def test_buys_never_cost_more_than_the_amount(amount: Decimal, price_: Price, asset: AssetTerms):
    result = size_buy(dollars(amount), price_, asset)
    if isinstance(result, Skip):
        return
    assert result.qty > 0
    assert result.notional == result.qty * price_ <= amount
    if result.qty != result.qty.to_integral_value():
        assert result.notional >= 1


def test_incident_06_only_the_remainder_is_ever_sent() -> None:
    assert remaining_qty(shares("10"), shares("3.5")) == Decimal("6.5")
    assert remaining_qty(shares("10"), shares("10")) == 0
    assert remaining_qty(shares("10"), shares("10.000000001")) == 0
    assert remaining_notional(dollars("1000"), dollars("400.25")) == Decimal("599.75")
    assert remaining_notional(dollars("1000"), dollars("1000.03")) == 0


def test_remainders_refuse_negative_inputs() -> None:
    with pytest.raises(ValueError, match="negative"):
        remaining_qty(shares("-1"), shares("0"))
    with pytest.raises(ValueError, match="negative"):
        remaining_notional(dollars("10"), dollars("-1"))


def test_a_whole_share_buy_below_one_share_rounds_to_zero_and_says_why() -> None:
    skipped = size_buy(dollars("400.00"), price("497.65"), WHOLE_ONLY)
    assert isinstance(skipped, Skip)
    assert skipped.reason is SkipReason.ROUNDS_TO_ZERO
    assert skipped.detail == "400.00 buys less than one whole share at 497.65"


def test_a_sell_sized_below_its_dollars_was_capped_at_the_holding() -> None:
    sized = size_sell(
        dollars("20000"), price("271.45"), shares("22.5"), FRACTIONAL, full_exit=False
    )
    assert isinstance(sized, Sized)
    asked = capped_sell_qty(dollars("20000"), price("271.45"), sized.qty, FRACTIONAL)
    assert asked == Decimal("73.678393811")
    within = size_sell(
        dollars("2000"), price("271.45"), shares("22.5"), FRACTIONAL, full_exit=False
    )
    assert isinstance(within, Sized)
    assert capped_sell_qty(dollars("2000"), price("271.45"), within.qty, FRACTIONAL) is None


@settings(max_examples=200)
@given(amount=amounts, price_=prices, held=holdings, asset=terms)
def test_capped_exactly_when_the_holding_sized_the_sell(
    amount: Decimal, price_: Price, held: Shares, asset: AssetTerms
) -> None:
    sized = size_sell(dollars(amount), price_, held, asset, full_exit=False)
    if not isinstance(sized, Sized):
        return
    asked = capped_sell_qty(dollars(amount), price_, sized.qty, asset)
    unlimited = size_sell(dollars(amount), price_, shares("1e12"), asset, full_exit=False)
    assert isinstance(unlimited, Sized)
    assert (asked is not None) == (sized.qty < unlimited.qty)
