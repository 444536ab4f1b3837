"""Account rules through the real alpaca-py clients: the $1 minimum on every order, which
opposite-side pairs are wash trades, buying power at the ask, margin accounts and the legacy
pattern day trader refusal, market data's answer to bad keys, and quote sizes in lots."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest
from alpaca.common.exceptions import APIError
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.requests import StockLatestQuoteRequest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest
from tests.support.sim_clock import settle_server

from alpaca_sim import scenario_from_dict
from alpaca_sim.server import SimServer

LEGACY_START = "2026-06-02T14:45:00Z"  # before Alpaca retired the PDT rule (2026-07-06)
BEFORE_SHARES = "2025-10-28T14:45:00Z"  # before quote sizes came in shares (2025-11-03)


def scenario_dict(edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    text = resources.files("alpaca_sim").joinpath("scenarios/default.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    edit(data)
    return data


def client_for(server: SimServer) -> TradingClient:
    client = TradingClient(
        server.api_key, server.api_secret, paper=True, url_override=server.trading_url
    )
    client._retry = 0
    return client


async def api_error(call: Callable[..., Any], *args: Any) -> APIError:
    with pytest.raises(APIError) as caught:
        await asyncio.to_thread(call, *args)
    return caught.value


def market(symbol: str, side: OrderSide, qty: float) -> MarketOrderRequest:
    return MarketOrderRequest(symbol=symbol, qty=qty, side=side, time_in_force=TimeInForce.DAY)


def limit(symbol: str, side: OrderSide, qty: float, price: float) -> LimitOrderRequest:
    return LimitOrderRequest(
        symbol=symbol, qty=qty, side=side, time_in_force=TimeInForce.DAY, limit_price=price
    )


@pytest.fixture
async def margin_sim() -> AsyncIterator[SimServer]:
    data = scenario_dict(lambda d: d["account"].update(type="margin"))
    data["partial_fill_share"] = 0  # whole fills: the test reads the cash one order leaves
    async with SimServer(scenario_from_dict(data), seed=7) as server:
        yield server


@pytest.fixture
async def legacy_pdt_sim() -> AsyncIterator[SimServer]:
    """A $10,000 margin account with 3 day trades already made, under the legacy PDT rule."""

    def edit(data: dict[str, Any]) -> None:
        data["clock"]["start"] = LEGACY_START
        data["account"].update(type="margin", cash="10000", daytrade_count=3)
        data["partial_fill_share"] = 0  # whole fills: a round trip is one day trade, at once
        data["positions"] = {}

    async with SimServer(scenario_from_dict(scenario_dict(edit)), seed=7) as server:
        yield server


async def test_a_whole_share_order_under_one_dollar_is_refused(trading: TradingClient):
    error = await api_error(trading.submit_order, market("PNNY", OrderSide.BUY, 2))

    assert (error.status_code, error.code) == (403, 40310000)
    assert error.message == "cost basis must be >= minimal amount of order 1"


async def test_a_limit_pair_that_cannot_meet_is_no_wash_trade(
    trading: TradingClient, sim: SimServer, settle: Callable[[], Awaitable[object]]
):
    sim.faults.halt("AAPL")  # both orders rest
    await asyncio.to_thread(trading.submit_order, limit("AAPL", OrderSide.SELL, 1, 300.0))

    buy = await asyncio.to_thread(trading.submit_order, limit("AAPL", OrderSide.BUY, 1, 299.99))
    await settle()  # both acknowledged: working at the venue
    error = await api_error(trading.submit_order, limit("AAPL", OrderSide.BUY, 1, 300.0))
    working = await asyncio.to_thread(trading.get_order_by_id, buy.id)

    assert working.status == "new"
    assert (error.status_code, error.code) == (403, 40310000)
    assert error.message == "potential wash trade detected. use complex orders"


async def test_a_market_buy_is_checked_at_the_ask(
    trading: TradingClient, sim: SimServer, settle: Callable[[], Awaitable[object]]
):
    sim.venue.script_quote("MSFT", bid="499.90", ask="500.00")
    sim.faults.halt("MSFT")
    # $40,000 at the ask fits $40,125.37 of cash; at the 2 % collar it would not.
    order = await asyncio.to_thread(trading.submit_order, market("MSFT", OrderSide.BUY, 80))
    await settle()  # acknowledged, and held open by the halt
    working = await asyncio.to_thread(trading.get_order_by_id, order.id)
    account = await asyncio.to_thread(trading.get_account)

    assert working.status == "new"
    assert Decimal(account.buying_power) == Decimal("125.37")


async def test_a_margin_account_as_alpaca_shows_it(margin_sim: SimServer):
    account = await asyncio.to_thread(client_for(margin_sim).get_account)

    equity, held = Decimal(account.equity), Decimal(account.long_market_value)
    assert (account.multiplier, account.shorting_enabled) == ("2", True)
    assert abs(Decimal(account.buying_power) - (2 * equity - held)) <= Decimal("0.02")
    assert Decimal(account.regt_buying_power) == Decimal(account.buying_power)
    assert Decimal(account.initial_margin) > 0
    assert account.pattern_day_trader is None  # the field is gone since 2026-07-06
    assert account.daytrade_count is None


async def test_a_margin_account_may_buy_beyond_its_cash(margin_sim: SimServer):
    margin_sim.venue.script_quote("MSFT", bid="499.90", ask="500.00", ask_size="1000")
    client = client_for(margin_sim)

    order = await asyncio.to_thread(client.submit_order, market("MSFT", OrderSide.BUY, 100))
    settle_server(margin_sim)
    filled = await asyncio.to_thread(client.get_order_by_id, order.id)
    account = await asyncio.to_thread(client.get_account)

    assert filled.status == "filled"
    assert Decimal(account.cash) < 0


async def test_the_fourth_day_trade_is_refused_under_25k(legacy_pdt_sim: SimServer):
    legacy_pdt_sim.venue.script_quote("AAPL", bid="99.90", ask="100.00")
    client = client_for(legacy_pdt_sim)
    before = await asyncio.to_thread(client.get_account)
    bought = await asyncio.to_thread(client.submit_order, market("AAPL", OrderSide.BUY, 1))
    settle_server(legacy_pdt_sim)
    filled = await asyncio.to_thread(client.get_order_by_id, bought.id)

    error = await api_error(client.submit_order, market("AAPL", OrderSide.SELL, 1))

    assert (before.daytrade_count, before.pattern_day_trader) == (3, False)
    assert filled.status == "filled"  # so the sell would close a day trade, not wash against it
    assert (error.status_code, error.code) == (403, 40310100)
    assert error.message == "trade denied due to pattern day trading protection"


async def test_market_data_answers_bad_keys_403_and_trading_401(sim: SimServer):
    data = StockHistoricalDataClient("wrong", "keys", url_override=sim.data_url)
    data._retry = 0
    trading = TradingClient("wrong", "keys", paper=True, url_override=sim.trading_url)

    data_error = await api_error(
        data.get_stock_latest_quote, StockLatestQuoteRequest(symbol_or_symbols=["AAPL"])
    )
    trading_error = await api_error(trading.get_account)

    assert data_error.status_code == 403
    assert json.loads(str(data_error)) == {"message": "forbidden."}
    assert trading_error.status_code == 401


async def test_quote_sizes_come_in_round_lots_before_2025_11_03():
    data = scenario_dict(lambda d: d["clock"].update(start=BEFORE_SHARES))
    async with SimServer(scenario_from_dict(data), seed=7) as server:
        server.venue.script_quote("AAPL", bid="270.00", ask="270.10", bid_size="300")
        client = StockHistoricalDataClient(
            server.api_key, server.api_secret, url_override=server.data_url
        )
        quotes = await asyncio.to_thread(
            client.get_stock_latest_quote, StockLatestQuoteRequest(symbol_or_symbols=["AAPL"])
        )

    assert quotes["AAPL"].bid_size == 3  # 3 round lots: 300 shares
