"""Cash account: buying power held by open buys, qty_available held by open sells."""

from datetime import timedelta
from decimal import Decimal

from simcore_support import CLOSE, limit, make_venue, market, refused, settle, step

from alpaca_sim import default_scenario

CASH = default_scenario().cash


def bp(venue) -> Decimal:  # type: ignore[no-untyped-def]
    return Decimal(venue.account()["buying_power"])


def test_starting_account_matches_the_scenario() -> None:
    venue = make_venue()
    account = venue.account()
    assert Decimal(account["cash"]) == CASH
    assert bp(venue) == CASH
    positions = {p["symbol"]: p for p in venue.list_positions()}
    assert positions["SPY"]["qty"] == "7.2273576"
    assert positions["SPY"]["qty_available"] == "7.2273576"
    total = Decimal(account["cash"]) + sum(Decimal(p["market_value"]) for p in positions.values())
    assert abs(total - Decimal(account["equity"])) <= Decimal("0.01") * len(positions)
    assert Decimal("95000") < Decimal(account["equity"]) < Decimal("105000")


def test_open_limit_buy_holds_limit_times_remaining_until_filled_or_canceled() -> None:
    venue = make_venue()
    venue.script_quote("AAPL", bid="99.90", ask="100.10")
    venue.partial_fill_next("AAPL", "4")
    order = venue.submit_order(limit("AAPL", "buy", "10", "100.50"))
    venue.script_quote("AAPL", bid="100.90", ask="101.10")  # the rest is no longer marketable
    # 4 filled at 100.10 (cash spent), 6 still held at the limit price
    assert Decimal(venue.account()["cash"]) == CASH - Decimal("400.40")
    assert bp(venue) == CASH - Decimal("400.40") - Decimal("603.00")
    venue.cancel_order(order["id"])
    assert venue.get_order(order["id"])["status"] == "canceled"
    assert bp(venue) == CASH - Decimal("400.40")


def test_market_buy_is_held_at_the_ask_not_at_its_collar() -> None:
    venue = make_venue()
    venue.script_quote("MSFT", bid="499.90", ask="500.00")
    venue.set_halted("MSFT", True)  # keeps the order open so its hold stays visible
    order = venue.submit_order(market("MSFT", "buy", "10"))
    assert bp(venue) == CASH - Decimal("500.00") * 10
    venue.cancel_order(order["id"])
    assert bp(venue) == CASH


def test_market_buy_sent_outside_the_session_is_held_at_the_mid() -> None:
    venue = make_venue()
    venue.script_quote("MSFT", bid="499.90", ask="500.10")
    venue.clock.set(CLOSE + timedelta(hours=1))
    venue.submit_order(market("MSFT", "buy", "10"))  # queued for the next open
    assert bp(venue) == CASH - Decimal("500.00") * 10


def test_notional_buy_holds_its_notional() -> None:
    venue = make_venue()
    venue.set_halted("SPY", True)
    venue.submit_order(
        {
            "symbol": "SPY",
            "side": "buy",
            "type": "market",
            "time_in_force": "day",
            "notional": "1234.56",
        }
    )
    assert bp(venue) == CASH - Decimal("1234.56")


def test_sells_add_cash_only_when_they_fill() -> None:
    venue = make_venue()
    venue.script_quote("JNJ", bid="198.00", ask="198.10", bid_size="100")
    order = venue.submit_order(limit("JNJ", "sell", "10", "199.00"))
    assert bp(venue) == CASH
    assert Decimal(venue.account()["cash"]) == CASH
    venue.script_quote("JNJ", bid="199.00", ask="199.10", bid_size="100")
    assert venue.get_order(order["id"])["status"] == "filled"
    assert Decimal(venue.account()["cash"]) == CASH + Decimal("1990.00")
    assert bp(venue) == CASH + Decimal("1990.00")


def test_open_sells_reduce_qty_available_not_qty() -> None:
    venue = make_venue()
    venue.script_quote("XOM", bid="110.00", ask="110.10")
    venue.submit_order(limit("XOM", "sell", "20.5", "120.00"))
    position = venue.get_position("XOM")
    assert position["qty"] == "50.8"
    assert position["qty_available"] == "30.3"


def test_position_disappears_when_sold_out_and_avg_entry_is_volume_weighted() -> None:
    venue = make_venue()
    venue.script_quote("TSLA", bid="430.00", ask="430.20", bid_size="1000", ask_size="1000")
    bought = venue.submit_order(limit("TSLA", "buy", "6", "430.20"))
    assert settle(venue, bought["id"])["status"] == "filled"
    position = venue.get_position("TSLA")
    expected_avg = (Decimal("352.75") * 14 + Decimal("430.20") * 6) / 20
    assert position["qty"] == "20"
    assert Decimal(position["avg_entry_price"]) == expected_avg.quantize(Decimal("1e-10"))
    sold = venue.submit_order(market("TSLA", "sell", "20"))
    assert settle(venue, sold["id"])["status"] == "filled"
    assert all(p["symbol"] != "TSLA" for p in venue.list_positions())
    assert refused(lambda: venue.get_position("TSLA")).status == 404


def test_full_exit_of_a_fractional_position_sells_exactly_what_is_held() -> None:
    venue = make_venue()
    venue.script_quote("SPY", bid="679.30", ask="679.40", bid_size="100")
    order = venue.close_position("SPY", qty=None, percentage=None)
    assert order["qty"] == "7.2273576"
    assert venue.get_order(order["id"])["status"] == "filled"
    assert all(p["symbol"] != "SPY" for p in venue.list_positions())


def test_close_position_by_percentage_rounds_down_and_whole_shares_for_non_fractionable() -> None:
    venue = make_venue()
    venue.set_halted("SPY", True)
    venue.set_halted("BRK.B", True)
    spy = venue.close_position("SPY", qty=None, percentage="33.3")
    assert spy["qty"] == "2.40671008"  # 7.2273576 * 0.333 = 2.4067100808, floored to 9 dp
    brk = venue.close_position("BRK.B", qty=None, percentage="50.5")
    assert brk["qty"] == "6"


def test_a_position_can_be_looked_up_by_asset_id() -> None:
    venue = make_venue()
    asset = venue.get_asset("NVDA")
    assert venue.get_position(str(asset["id"]))["symbol"] == "NVDA"


def test_buying_power_never_negative_after_fills_below_the_limit() -> None:
    venue = make_venue()
    venue.script_quote("AMZN", bid="229.00", ask="229.10", ask_size="1000")
    venue.submit_order(limit("AMZN", "buy", "100", "230.00"))
    step(venue)
    assert bp(venue) == CASH - Decimal("22910.00")
    assert bp(venue) >= 0
