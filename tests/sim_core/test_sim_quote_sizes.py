"""Latest-quote sizes: round lots of 100 shares before 2025-11-03, shares from then."""

import json
import random
from datetime import datetime, timedelta
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest

from alpaca_sim import Scenario, Venue, scenario_from_dict
from alpaca_sim.decimals import Price, Shares
from alpaca_sim.market import Market, Quote
from alpaca_sim.wire import quote_wire

BEFORE_SHARES = "2025-10-28T14:45:00Z"  # a Tuesday before the SIPs sent sizes in shares
SYMBOLS = ["AAPL", "MSFT", "NVDA", "SPY", "XOM", "PNNY"]


def scenario(start: str | None = None, unit: str | None = None) -> Scenario:
    text = resources.files("alpaca_sim").joinpath("scenarios/default.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    if start is not None:
        data["clock"]["start"] = start
    if unit is not None:
        data["market"]["quote_size_unit"] = unit
    return scenario_from_dict(data)


def walk(chosen: Scenario) -> list[Quote]:
    """A minute of quotes of every symbol, from one seed."""
    start = chosen.clock.start
    market = Market(chosen, random.Random(5), start, chosen.clock.calendar())
    return [
        market.quote(symbol, start + timedelta(seconds=second))
        for second in range(60)
        for symbol in SYMBOLS
    ]


def test_the_unit_follows_the_scenario_date_unless_forced() -> None:
    assert (scenario(BEFORE_SHARES).quote_size_unit, scenario().quote_size_unit) == (
        "lots",
        "shares",
    )
    assert scenario(BEFORE_SHARES, "shares").quote_lot == 1
    assert scenario(None, "lots").quote_lot == 100


def test_in_lots_the_displayed_sizes_are_whole_hundreds_and_prices_are_unchanged() -> None:
    in_lots, in_shares = walk(scenario(None, "lots")), walk(scenario(None, "shares"))
    assert all(q.bid_size % 100 == 0 and q.ask_size % 100 == 0 for q in in_lots)
    assert all(q.bid_size >= 100 and q.ask_size >= 100 for q in in_lots)
    assert any(q.bid_size % 100 for q in in_shares)  # odd sizes occur in shares
    assert [(q.bid, q.ask) for q in in_lots] == [(q.bid, q.ask) for q in in_shares]


def test_served_sizes_are_lots_or_shares() -> None:
    quote = Quote(
        "AAPL",
        Price(Decimal("270.00")),
        Price(Decimal("270.10")),
        Shares(Decimal(300)),
        Shares(Decimal(250)),
        datetime.fromisoformat("2026-11-24T15:00:00+00:00"),
        (0, 0),
    )
    lots, shares = quote_wire(quote, "NASDAQ", "sip", 100), quote_wire(quote, "NASDAQ", "sip")
    assert (lots["bs"], lots["as"]) == (3, 2)  # the odd 50 shares are not a lot
    assert (shares["bs"], shares["as"]) == (300, 250)


@pytest.mark.parametrize(("start", "lot"), [(BEFORE_SHARES, 100), (None, 1)])
def test_the_venue_serves_its_scenario_unit(start: str | None, lot: int) -> None:
    venue = Venue(scenario(start), seed=3)
    venue.script_quote("AAPL", bid="270.00", ask="270.10", bid_size="400", ask_size="1200")
    served = venue.latest_quotes(["AAPL"])["quotes"]["AAPL"]  # type: ignore[index]
    assert (served["bs"], served["as"]) == (400 // lot, 1200 // lot)
    assert venue.state()["quotes"]["AAPL"]["bs"] == 400 // lot  # type: ignore[index]
