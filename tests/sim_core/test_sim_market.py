"""The simulated market: tick grid, spreads, sizes, scripted and halted quotes."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from simcore_support import make_venue, step

from alpaca_sim import default_scenario
from alpaca_sim.decimals import decimal_places
from alpaca_sim.market import Market

START = datetime(2026, 11, 24, 14, 45, tzinfo=UTC)


def new_market(seed: int) -> Market:
    scenario = default_scenario()
    return Market(scenario, random.Random(seed), START, scenario.clock.calendar())


def test_walk_quotes_stay_on_the_tick_grid_uncrossed_with_displayed_size() -> None:
    market = new_market(1)
    for second in range(0, 3600, 7):
        at = START + timedelta(seconds=second)
        for symbol in ("AAPL", "PNNY", "BRK.B"):
            quote = market.quote(symbol, at)
            places = 2 if quote.bid >= 1 else 4
            assert decimal_places(quote.bid) <= places
            assert decimal_places(quote.ask) <= (2 if quote.ask >= 1 else 4)
            assert 0 < quote.bid < quote.ask
            assert quote.bid_size >= 1
            assert quote.ask_size >= 1
            assert at - quote.timestamp < timedelta(seconds=1)


def test_a_spread_in_bps_follows_the_scenario_within_tick_rounding() -> None:
    market = new_market(2)
    quote = market.quote("DFNCT", START)
    spread_bps = (quote.ask - quote.bid) / quote.mid * 10000
    assert Decimal("5") <= spread_bps <= Decimal("5") + Decimal("0.02") / quote.mid * 10000


def test_large_caps_quote_one_tick_most_of_the_time_at_their_scenario_shares() -> None:
    market = new_market(4)
    scenario = default_scenario()
    steps = range(1, 6001)
    for symbol in ("SPY", "AAPL", "MSFT"):
        spread = scenario.spreads[symbol]
        ticks = []
        for second in steps:
            quote = market.quote(symbol, START + timedelta(seconds=second))
            width = (quote.ask - quote.bid) / Decimal("0.01")
            assert width == width.to_integral_value(), "a whole number of ticks"
            assert quote.bid <= quote.mid <= quote.ask
            ticks.append(int(width))
        assert set(ticks) <= set(spread.ticks)
        one_tick = ticks.count(1) / len(ticks)
        assert one_tick > 0.5, f"{symbol}: one tick most of the time"
        assert abs(one_tick - spread.cumulative[0]) < 0.03, f"{symbol}: {one_tick}"
        assert len(set(ticks)) > 1, f"{symbol}: wider sometimes"


def test_prices_actually_move_and_stay_plausible_over_a_session() -> None:
    market = new_market(3)
    first = market.quote("TSLA", START).mid
    closes = [market.quote("TSLA", START + timedelta(minutes=m)).mid for m in range(1, 375)]
    assert len(set(closes)) > 300
    assert all(first * Decimal("0.8") < price < first * Decimal("1.2") for price in closes)


def test_a_one_tick_script_lasts_until_the_next_market_step() -> None:
    venue = make_venue()
    venue.script_quote("AAPL", bid="10.00", ask="10.05", hold=False)
    assert venue.latest_quotes(["AAPL"])["quotes"]["AAPL"]["bp"] == 10.0  # type: ignore[index]
    step(venue)
    assert venue.latest_quotes(["AAPL"])["quotes"]["AAPL"]["bp"] > 200  # type: ignore[index, operator]


def test_held_script_stays_until_cleared_and_reports_its_age() -> None:
    venue = make_venue()
    venue.script_quote("AAPL", bid="10.00", ask="10.05", age_seconds=30)
    step(venue, 10)
    quote = venue.latest_quotes(["AAPL"])["quotes"]["AAPL"]
    assert (quote["bp"], quote["ap"]) == (10.0, 10.05)  # type: ignore[index]
    assert quote["t"] == "2026-11-24T14:44:40.000000Z"  # type: ignore[index]
    assert venue.state()["scripted"] == ["AAPL"]
    venue.clear_scripted_quote("AAPL")
    assert venue.latest_quotes(["AAPL"])["quotes"]["AAPL"]["bp"] > 200  # type: ignore[index, operator]


def test_zero_and_one_sided_scripts_show_zero_sides() -> None:
    venue = make_venue()
    venue.script_quote("XOM", bid=None, ask="118.00")
    quote = venue.latest_quotes(["XOM"])["quotes"]["XOM"]
    assert (quote["bp"], quote["bs"], quote["ap"]) == (0.0, 0, 118.0)  # type: ignore[index]
    assert quote["as"] == default_scenario().sizes["XOM"]  # type: ignore[index]
