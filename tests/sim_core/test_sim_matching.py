"""Matching through the venue under the default (paper) fill model: whole fills at the touch,
partials, resting limits, the market-order collar, and quotes never to be traded against."""

from decimal import Decimal

from simcore_support import limit, make_venue, market, recorded, step

from alpaca_sim.decimals import QTY_QUANTUM
from alpaca_sim.market import Quote
from alpaca_sim.matching import collar_price


def test_a_marketable_limit_fills_whole_at_the_touch_whatever_the_displayed_size() -> None:
    venue = make_venue()
    venue.script_quote("AAPL", bid="100.00", ask="100.10", bid_size="50", ask_size="30")
    order = venue.submit_order(limit("AAPL", "buy", "100", "100.50"))
    assert order["status"] == "filled"
    assert order["filled_qty"] == "100"  # paper does not check the quote's size
    assert order["filled_avg_price"] == "100.1"  # the touch, not the limit


def test_a_partial_fills_remainder_fills_as_the_market_moves() -> None:
    venue = make_venue()
    updates = recorded(venue)
    venue.script_quote("AAPL", bid="100.00", ask="100.10")
    venue.partial_fill_next("AAPL", "30")
    order = venue.submit_order(limit("AAPL", "buy", "100", "100.05"))
    assert venue.get_order(order["id"])["filled_qty"] == "0"  # not marketable yet
    venue.script_quote("AAPL", bid="99.95", ask="100.05")
    assert venue.get_order(order["id"])["filled_qty"] == "30"
    step(venue)  # the next market step: still marketable, the rest fills
    final = venue.get_order(order["id"])
    assert final["status"] == "filled"
    assert final["filled_qty"] == "100"
    fills = [u for u in updates.for_order(order["id"]) if u["execution_id"]]
    assert [(u["event"], u["qty"], u["price"]) for u in fills] == [
        ("partial_fill", "30", "100.05"),
        ("fill", "70", "100.05"),
    ]


def test_a_partial_fill_is_never_forced_on_a_fill_or_kill_and_waits_for_the_next_fill() -> None:
    venue = make_venue()
    venue.script_quote("AAPL", bid="100.00", ask="100.10")
    venue.partial_fill_next("AAPL", "1")
    fok = venue.submit_order(limit("AAPL", "buy", "5", "100.10", time_in_force="fok"))
    assert (fok["status"], fok["filled_qty"]) == ("filled", "5")
    later = venue.submit_order(limit("AAPL", "buy", "5", "100.10"))
    assert (later["status"], later["filled_qty"]) == ("partially_filled", "1")


def test_resting_limit_fills_only_when_the_market_reaches_it() -> None:
    venue = make_venue()
    venue.script_quote("MSFT", bid="499.90", ask="500.10", ask_size="100")
    order = venue.submit_order(limit("MSFT", "buy", "10", "500.00"))
    for _ in range(5):
        step(venue)
    assert venue.get_order(order["id"])["status"] == "new"
    venue.script_quote("MSFT", bid="499.80", ask="500.01", ask_size="100")
    assert venue.get_order(order["id"])["filled_qty"] == "0"
    venue.script_quote("MSFT", bid="499.80", ask="499.95", ask_size="100")
    filled = venue.get_order(order["id"])
    assert filled["status"] == "filled"
    assert filled["filled_avg_price"] == "499.95"


def test_resting_sell_fills_when_the_bid_rises_to_it_on_the_random_walk() -> None:
    venue = make_venue(seed=3)
    quote = venue.latest_quotes(["NVDA"])["quotes"]["NVDA"]
    target = Decimal(str(quote["bp"])) + Decimal("0.05")
    order = venue.submit_order(limit("NVDA", "sell", "5", str(target)))
    seen_bids = []
    for _ in range(3600):
        if venue.get_order(order["id"])["status"] == "filled":
            break
        seen_bids.append(Decimal(str(venue.latest_quotes(["NVDA"])["quotes"]["NVDA"]["bp"])))
        step(venue)
    filled = venue.get_order(order["id"])
    assert filled["status"] == "filled"
    assert Decimal(filled["filled_avg_price"]) >= target
    assert seen_bids, "the order must rest before it fills"
    assert all(bid < target for bid in seen_bids), "filled late: the bid had reached it earlier"


def test_market_order_carries_the_collar_and_rests_beyond_it() -> None:
    venue = make_venue()
    venue.script_quote("AAPL", bid="99.90", ask="100.00")
    venue.partial_fill_next("AAPL", "10")
    order = venue.submit_order(market("AAPL", "buy", "30"))
    assert order["type"] == "market"
    assert order["limit_price"] is None
    assert order["filled_qty"] == "10"
    venue.script_quote("AAPL", bid="102.40", ask="102.50")  # beyond 100 * 1.02
    step(venue, 5)
    resting = venue.get_order(order["id"])
    assert resting["filled_qty"] == "10"
    assert resting["status"] == "partially_filled"
    venue.script_quote("AAPL", bid="101.90", ask="102.00")
    filled = venue.get_order(order["id"])
    assert (filled["status"], filled["filled_qty"]) == ("filled", "30")


def test_collar_price_is_two_percent_through_the_last_touch_on_the_tick_grid() -> None:
    quote = Quote("X", Decimal("99.99"), Decimal("100.01"), Decimal(1), Decimal(1), None, (0, 0))  # type: ignore[arg-type]
    assert collar_price("buy", quote, Decimal(2)) == Decimal("102.01")
    assert collar_price("sell", quote, Decimal(2)) == Decimal("98.00")  # 97.9902 rounded up
    penny = Quote("P", Decimal("0.4519"), Decimal("0.4523"), Decimal(1), Decimal(1), None, (0, 0))  # type: ignore[arg-type]
    assert collar_price("buy", penny, Decimal(2)) == Decimal("0.4613")
    assert collar_price("sell", penny, Decimal(2)) == Decimal("0.4429")


def test_no_fill_against_an_absent_crossed_or_stale_side() -> None:
    venue = make_venue()
    venue.script_quote("AAPL", bid="100.00", ask="0")  # one-sided: no ask
    buy = venue.submit_order(limit("AAPL", "buy", "1", "150.00"))
    assert buy["filled_qty"] == "0"
    venue.script_quote("AAPL", bid=None, ask=None)  # zero quote
    venue.script_quote("AAPL", bid="100.20", ask="100.10")  # crossed
    step(venue)
    venue.script_quote("AAPL", bid="100.00", ask="100.10", age_seconds=30)  # stale
    step(venue)
    assert venue.get_order(buy["id"])["filled_qty"] == "0"
    venue.script_quote("AAPL", bid="100.00", ask="100.10")
    assert venue.get_order(buy["id"])["status"] == "filled"


def test_a_one_sided_quote_still_fills_on_the_side_that_exists() -> None:
    venue = make_venue()
    venue.script_quote("AAPL", bid="100.00", ask=None)
    sell = venue.submit_order(limit("AAPL", "sell", "2", "99.00"))
    assert sell["status"] == "filled"
    assert sell["filled_avg_price"] == "100"


def test_halted_symbol_accepts_orders_but_never_fills_and_its_quote_goes_stale() -> None:
    venue = make_venue()
    before = venue.latest_quotes(["TSLA"])["quotes"]["TSLA"]
    venue.set_halted("TSLA", True)
    order = venue.submit_order(market("TSLA", "buy", "1"))
    step(venue, 60)
    assert venue.get_order(order["id"])["status"] == "new"
    assert venue.latest_quotes(["TSLA"])["quotes"]["TSLA"]["t"] == before["t"]
    venue.set_halted("TSLA", False)
    step(venue)
    assert venue.get_order(order["id"])["status"] == "filled"


def test_non_fractionable_assets_fill_in_whole_shares() -> None:
    venue = make_venue()
    venue.script_quote("AAPL", bid="100.00", ask="100.10")
    venue.partial_fill_next("AAPL", "5.5")
    frac = venue.submit_order(limit("AAPL", "buy", "7.25", "100.10"))
    assert frac["filled_qty"] == "5.5"
    venue.script_quote("BRK.B", bid="497.00", ask="497.10")
    venue.partial_fill_next("BRK.B", "2.5")
    whole = venue.submit_order(limit("BRK.B", "buy", "3", "497.10"))
    assert whole["filled_qty"] == "2"


def test_notional_buy_gets_nine_decimal_shares_and_never_overspends() -> None:
    venue = make_venue()
    venue.script_quote("SPY", bid="679.30", ask="679.40")
    order = venue.submit_order(
        {
            "symbol": "SPY",
            "side": "buy",
            "type": "market",
            "time_in_force": "day",
            "notional": "1000",
        }
    )
    assert order["status"] == "filled"
    qty = Decimal(order["filled_qty"])
    assert qty == (Decimal(1000) / Decimal("679.40")).quantize(QTY_QUANTUM, rounding="ROUND_DOWN")
    assert qty * Decimal("679.40") <= 1000
