"""Reads through the real SDK: clock, account, positions, assets, quotes."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from broker_helpers import CountingLimiter, api_requests

from alpaca_sim.server import SimServer
from plan_executor.adapters.alpaca_broker import AlpacaBroker
from plan_executor.ports import BrokerUnavailable


async def test_clock(broker: AlpacaBroker) -> None:
    clock = await broker.clock()

    assert clock.is_open is True
    assert clock.at == datetime(2026, 11, 24, 14, 45, tzinfo=UTC)
    assert clock.next_close == datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
    assert clock.next_open == datetime(2026, 11, 25, 14, 30, tzinfo=UTC)


async def test_account_is_exact_and_tradable(broker: AlpacaBroker, sim: SimServer) -> None:
    account = await broker.account()

    assert account.cash == Decimal("40125.37")
    assert account.buying_power == Decimal("40125.37")
    # Positions valued at the quotes' mids: the sim's own figure to the cent, no float in between.
    assert account.equity == Decimal(str(sim.venue.account()["equity"]))
    assert account.trading_blocked is False


async def test_positions_keep_every_decimal(broker: AlpacaBroker) -> None:
    positions = await broker.positions()

    assert set(positions) == {
        "AAPL", "MSFT", "NVDA", "GOOGL", "AMZN", "SPY", "BRK.B", "TSLA", "JNJ", "XOM"
    }  # fmt: skip
    assert positions["SPY"].qty == Decimal("7.2273576")
    assert positions["SPY"].qty_available == Decimal("7.2273576")
    assert positions["XOM"].qty == Decimal("50.8")


async def test_assets_report_their_flags(broker: AlpacaBroker) -> None:
    assets = await broker.assets(["AAPL", "BRK.B", "DFNCT", "LOCKD"])

    assert (assets["AAPL"].tradable, assets["AAPL"].fractionable) == (True, True)
    assert (assets["BRK.B"].tradable, assets["BRK.B"].fractionable) == (True, False)
    assert (assets["DFNCT"].active, assets["DFNCT"].tradable) == (False, False)
    assert (assets["LOCKD"].active, assets["LOCKD"].tradable) == (True, False)


async def test_an_unknown_asset_reads_as_not_tradable(broker: AlpacaBroker) -> None:
    assets = await broker.assets(["ZZZZ"])

    assert (assets["ZZZZ"].tradable, assets["ZZZZ"].active) == (False, False)


async def test_assets_of_any_number_of_symbols_are_one_listing_request(
    broker: AlpacaBroker, sim: SimServer
) -> None:
    symbols = ["AAPL", "MSFT", "NVDA", "GOOGL", "AMZN", "SPY", "BRK.B", "TSLA", "LOCKD", "ZZZZ"]

    assets = await broker.assets(symbols)

    assert list(assets) == symbols
    assert (assets["ZZZZ"].tradable, assets["ZZZZ"].active) == (False, False)
    [listing] = sim.context.log.entries()
    assert (listing["method"], listing["path"]) == ("GET", "/v2/assets")
    assert listing["query"] == {"status": "active", "asset_class": "us_equity"}


async def test_a_failed_assets_listing_raises(broker: AlpacaBroker, sim: SimServer) -> None:
    sim.faults.fail_next(503, count=None, method="GET", path="/v2/assets")

    with pytest.raises(BrokerUnavailable, match="after 3 attempts"):
        await broker.assets(["AAPL", "MSFT", "NVDA"])


async def test_quotes_are_exact_decimals(broker: AlpacaBroker, sim: SimServer) -> None:
    sim.faults.script_quote("AAPL", bid="271.41", ask="271.47", bid_size="300", ask_size="120")
    sim.faults.script_quote("PNNY", bid="0.4519", ask="0.4523")

    quotes = await broker.latest_quotes(["AAPL", "PNNY"])

    assert (quotes["AAPL"].bid, quotes["AAPL"].ask) == (Decimal("271.41"), Decimal("271.47"))
    assert (quotes["AAPL"].bid_size, quotes["AAPL"].ask_size) == (Decimal(300), Decimal(120))
    assert (quotes["PNNY"].bid, quotes["PNNY"].ask) == (Decimal("0.4519"), Decimal("0.4523"))
    assert quotes["AAPL"].at == datetime(2026, 11, 24, 14, 45, tzinfo=UTC)


async def test_quotes_ask_the_configured_feed_in_one_request(
    broker: AlpacaBroker, sim: SimServer
) -> None:
    await broker.latest_quotes(["AAPL", "MSFT", "NVDA"])

    [request] = api_requests(sim, "GET", "/v2/stocks/quotes/latest")
    assert request["query"] == {"symbols": "AAPL,MSFT,NVDA", "feed": "iex"}


async def test_a_one_sided_quote_is_passed_on_for_the_domain_to_refuse(
    broker: AlpacaBroker, sim: SimServer
) -> None:
    sim.faults.script_quote("MSFT", bid="508.10", ask=None)

    quote = (await broker.latest_quotes(["MSFT"]))["MSFT"]

    assert (quote.bid, quote.ask) == (Decimal("508.10"), Decimal(0))


async def test_a_symbol_without_a_quote_is_left_out(broker: AlpacaBroker) -> None:
    quotes = await broker.latest_quotes(["AAPL", "ZZZZ"])

    assert set(quotes) == {"AAPL"}


async def test_no_symbols_no_request(broker: AlpacaBroker, limiter: CountingLimiter) -> None:
    assert await broker.latest_quotes([]) == {}
    assert limiter.acquired == 0


async def test_every_request_takes_a_token_first(
    broker: AlpacaBroker, sim: SimServer, limiter: CountingLimiter
) -> None:
    await broker.clock()
    await broker.account()
    await broker.positions()
    await broker.assets(["AAPL", "MSFT"])
    await broker.latest_quotes(["AAPL"])

    assert limiter.acquired == 5
    assert len(sim.context.log.entries()) == 5
