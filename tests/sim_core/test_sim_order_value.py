"""What an order is worth before it is placed, and the rules that read it: the $1 minimum, the
buying power check, and which opposite-side pairs are potential wash trades."""

from decimal import Decimal

import pytest
from simcore_support import limit, make_venue, market, refused

from alpaca_sim import SimError, Venue, default_scenario
from alpaca_sim.errors import FORBIDDEN

MINIMUM = "cost basis must be >= minimal amount of order 1"
WASH = "potential wash trade detected. use complex orders"
CASH = default_scenario().cash


def assert_below_minimum(error: SimError) -> None:
    assert (error.status, error.code, error.message) == (403, FORBIDDEN, MINIMUM)
    assert error.body() == {"code": FORBIDDEN, "message": MINIMUM}


def wide_aapl() -> Venue:
    """AAPL quoted 270 / 280: a sell valued at the bid and a buy at the ask differ."""
    venue = make_venue()
    venue.script_quote("AAPL", bid="270.00", ask="280.00")
    venue.set_halted("AAPL", True)  # orders that pass stay open, nothing fills
    return venue


def test_whole_shares_of_a_sub_dollar_stock_are_held_to_the_minimum_too() -> None:
    venue = make_venue()
    venue.script_quote("PNNY", bid="0.4500", ask="0.4510")
    assert_below_minimum(refused(lambda: venue.submit_order(market("PNNY", "buy", "2"))))
    assert venue.submit_order(market("PNNY", "buy", "3"))["status"] == "filled"  # $1.353


def test_a_limit_order_is_valued_at_its_limit() -> None:
    venue = make_venue()
    venue.set_halted("PNNY", True)
    assert_below_minimum(refused(lambda: venue.submit_order(limit("PNNY", "buy", "2", "0.4999"))))
    assert venue.submit_order(limit("PNNY", "buy", "2", "0.5000"))["status"] == "new"


def test_a_market_sell_is_valued_at_the_bid_and_a_market_buy_at_the_ask() -> None:
    venue = wide_aapl()
    # 0.0036 shares: $0.972 at the bid, $1.008 at the ask.
    assert_below_minimum(refused(lambda: venue.submit_order(market("AAPL", "sell", "0.0036"))))
    venue.submit_order(market("AAPL", "buy", "0.0036"))
    venue.submit_order(market("MSFT", "sell", "0.0036"))  # other symbols are unaffected


def test_a_limit_sell_above_the_bid_is_valued_at_its_limit() -> None:
    venue = wide_aapl()
    assert venue.submit_order(limit("AAPL", "sell", "0.0036", "300.00"))["status"] == "new"


def test_a_notional_order_is_valued_at_its_notional() -> None:
    venue = wide_aapl()
    notional = {"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day"}
    assert_below_minimum(refused(lambda: venue.submit_order({**notional, "notional": "0.99"})))
    venue.submit_order({**notional, "notional": "1"})


def test_a_replacement_is_held_to_the_minimum() -> None:
    venue = make_venue()
    venue.script_quote("PNNY", bid="0.3000", ask="0.3500")
    order = venue.submit_order(limit("PNNY", "buy", "3", "0.3400"))  # $1.02, rests
    assert order["status"] == "new"
    error = refused(lambda: venue.replace_order(order["id"], {"limit_price": "0.3300"}))
    assert_below_minimum(error)
    assert venue.get_order(order["id"])["status"] == "new"  # the refused replace changed nothing


def test_buying_power_values_a_market_buy_at_the_ask_not_the_collar() -> None:
    venue = make_venue()
    venue.script_quote("MSFT", bid="499.90", ask="500.00")
    venue.set_halted("MSFT", True)
    # 80 x 500.00 = 40000.00 fits the 40125.37 of cash; at the 2 % collar it would be 40800.
    assert venue.submit_order(market("MSFT", "buy", "80"))["status"] == "new"
    error = refused(lambda: venue.submit_order(market("MSFT", "buy", "1")))
    assert (error.status, error.message) == (403, "insufficient buying power")
    assert error.extra == {"buying_power": str(CASH - Decimal(40000)), "cost_basis": "500"}


@pytest.mark.parametrize(
    ("resting", "incoming", "refused_as_wash"),
    [
        (("buy", "limit", "100.00"), ("sell", "limit", "100.00"), True),
        (("buy", "limit", "100.00"), ("sell", "limit", "99.99"), True),
        (("buy", "limit", "100.00"), ("sell", "limit", "100.01"), False),
        (("sell", "limit", "100.00"), ("buy", "limit", "100.00"), True),
        (("sell", "limit", "100.00"), ("buy", "limit", "100.01"), True),
        (("sell", "limit", "100.00"), ("buy", "limit", "99.99"), False),
        (("buy", "market", None), ("sell", "limit", "9999.00"), True),
        (("buy", "market", None), ("sell", "market", None), True),
        (("sell", "market", None), ("buy", "limit", "1.00"), True),
        (("buy", "limit", "1.00"), ("sell", "market", None), True),
        (("sell", "limit", "9999.00"), ("buy", "market", None), True),
        (("buy", "limit", "100.00"), ("buy", "limit", "100.00"), False),
    ],
    ids=lambda value: "-".join(str(part) for part in value) if isinstance(value, tuple) else None,
)
def test_wash_trade_table(
    resting: tuple[str, str, str | None],
    incoming: tuple[str, str, str | None],
    refused_as_wash: bool,
) -> None:
    venue = make_venue()
    venue.set_halted("AAPL", True)  # the resting order stays open
    venue.submit_order(_order(*resting))
    if refused_as_wash:
        error = refused(lambda: venue.submit_order(_order(*incoming)))
        assert (error.status, error.code, error.message) == (403, FORBIDDEN, WASH)
    else:
        assert venue.submit_order(_order(*incoming))["status"] == "new"


def test_an_order_being_replaced_is_no_wash_trade_partner_of_its_replacement() -> None:
    venue = make_venue()
    venue.script_quote("AAPL", bid="99.00", ask="101.00")
    sell = venue.submit_order(limit("AAPL", "sell", "1", "105.00"))
    buy = venue.submit_order(limit("AAPL", "buy", "1", "95.00"))
    error = refused(lambda: venue.replace_order(buy["id"], {"limit_price": "105.00"}))
    assert error.message == WASH  # the sell at 105 could meet it
    replaced = venue.replace_order(sell["id"], {"limit_price": "104.00"})
    assert replaced["limit_price"] == "104"


def _order(side: str, kind: str, price: str | None) -> dict[str, object]:
    return market("AAPL", side, "1") if kind == "market" else limit("AAPL", side, "1", price)
