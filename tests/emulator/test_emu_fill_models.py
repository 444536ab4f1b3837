"""The fill models through the real alpaca-py SDK (alpaca_sim.fillmodel): paper fills marketable
orders at the quote whatever their size, never improves, partial-fills about 10 % of the time and
never fills a passive limit inside the spread; live improves marketable orders by about half the
half-spread, fills resting limits through flow that is adversely selected, and quotes large caps
one tick wide most of the time."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from decimal import Decimal
from importlib import resources
from statistics import mean
from typing import Any

import pytest
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.requests import StockLatestQuoteRequest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus, TimeInForce
from alpaca.trading.models import Order
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest
from emu_stream_clients import StreamRecorder
from tests.support.sim_clock import SETTLE_SECONDS

from alpaca_sim import Venue, default_scenario, scenario_from_dict
from alpaca_sim.server import SimServer

CENT = Decimal("0.01")
FLOW = {"rate_per_min": 60, "mean_size": 1500}
MINUTE = timedelta(seconds=60)
Settle = Callable[[], Awaitable[object]]


def scenario(fill_model: str, **top: object) -> dict[str, Any]:
    text = resources.files("alpaca_sim").joinpath("scenarios/default.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    data["fill_model"] = fill_model
    data["account"]["cash"] = "10000000"
    data["rate_limit"]["enabled"] = False
    data.update(top)
    return data


@pytest.fixture
async def sim(request: pytest.FixtureRequest) -> AsyncIterator[SimServer]:
    """A server on the scenario `request.param` describes (a fill model, or its whole dict)."""
    param = request.param
    data = scenario(param) if isinstance(param, str) else scenario(**param)
    async with SimServer(scenario_from_dict(data), seed=7) as server:
        yield server


@pytest.fixture
async def recorder(sim: SimServer) -> AsyncIterator[StreamRecorder]:
    recorder = StreamRecorder(sim)
    await recorder.start()
    yield recorder
    await recorder.stop()


def market(symbol: str, side: OrderSide, qty: float) -> MarketOrderRequest:
    return MarketOrderRequest(symbol=symbol, qty=qty, side=side, time_in_force=TimeInForce.DAY)


def limit(symbol: str, side: OrderSide, qty: float, price: Decimal) -> LimitOrderRequest:
    return LimitOrderRequest(
        symbol=symbol, qty=qty, side=side, time_in_force=TimeInForce.DAY, limit_price=float(price)
    )


async def submit(trading: TradingClient, request: MarketOrderRequest | LimitOrderRequest) -> Order:
    order = await asyncio.to_thread(trading.submit_order, request)
    assert isinstance(order, Order)
    return order


async def order_of(trading: TradingClient, order_id: object) -> Order:
    order = await asyncio.to_thread(trading.get_order_by_id, str(order_id))
    assert isinstance(order, Order)
    return order


async def sim_now(trading: TradingClient) -> datetime:
    clock = await asyncio.to_thread(trading.get_clock)
    return clock.timestamp  # type: ignore[union-attr]


async def touch(market_data: StockHistoricalDataClient, symbol: str) -> tuple[Decimal, Decimal]:
    request = StockLatestQuoteRequest(symbol_or_symbols=symbol)
    quote = (await asyncio.to_thread(market_data.get_stock_latest_quote, request))[symbol]
    return Decimal(str(quote.bid_price)), Decimal(str(quote.ask_price))


async def fills_until_done(
    recorder: StreamRecorder, control: Any, order_id: object
) -> list[tuple[str, Decimal, Decimal]]:
    """The order's (event, qty, price) fills from the stream, advancing the clock a market step
    whenever a partial fill leaves the rest working."""
    fills: list[tuple[str, Decimal, Decimal]] = []
    while not fills or fills[-1][0] != "fill":
        update = await recorder.next()
        if str(update.order.id) != str(order_id) or update.event not in {"fill", "partial_fill"}:
            continue
        fills.append((update.event, Decimal(str(update.qty)), Decimal(str(update.price))))
        if update.event == "partial_fill":
            await control("POST", "clock", {"advance": 1})
    return fills


# ----- paper -----


@pytest.mark.parametrize("sim", ["paper"], indirect=True)
async def test_paper_fills_at_the_quote_whatever_the_size_with_about_a_tenth_partial(
    trading: TradingClient, recorder: StreamRecorder, control: Any, settle: Settle
) -> None:
    await control(
        "POST",
        "quotes",
        {"symbol": "AAPL", "bid": "100.00", "ask": "100.02", "bid_size": 1, "ask_size": 1},
    )
    first_events: list[str] = []
    for index in range(400):
        side = OrderSide.BUY if index % 2 == 0 else OrderSide.SELL
        order = await submit(trading, market("AAPL", side, 9))
        await settle()  # acknowledged, then executed
        fills = await fills_until_done(recorder, control, order.id)
        at_quote = Decimal("100.02") if side is OrderSide.BUY else Decimal("100.00")
        assert {price for _, _, price in fills} == {at_quote}, "at the quote, never improved"
        assert sum(qty for _, qty, _ in fills) == 9
        first_events.append(fills[0][0])
        if fills[0][0] == "fill":
            assert fills[0][1] == 9, "9 shares against 1 displayed"
    partial = first_events.count("partial_fill") / len(first_events)
    assert 0.05 <= partial <= 0.15, partial


@pytest.mark.parametrize("sim", [{"fill_model": "paper", "flow": FLOW}], indirect=True)
async def test_paper_never_fills_a_passive_limit_inside_the_spread(
    trading: TradingClient, control: Any
) -> None:
    await control("POST", "quotes", {"symbol": "AAPL", "bid": "100.00", "ask": "100.10"})
    inside = await submit(trading, limit("AAPL", OrderSide.BUY, 5, Decimal("100.05")))
    await control("POST", "clock", {"advance": 3600})
    resting = await order_of(trading, inside.id)
    assert (resting.status, Decimal(str(resting.filled_qty))) == (OrderStatus.NEW, 0)
    await control("POST", "quotes", {"symbol": "AAPL", "bid": "99.97", "ask": "100.04"})
    filled = await order_of(trading, inside.id)
    assert filled.status == OrderStatus.FILLED
    assert Decimal(str(filled.filled_avg_price)) == Decimal("100.04"), "at the quote"


# ----- live -----


@pytest.mark.parametrize("sim", ["live"], indirect=True)
async def test_live_improves_marketable_orders_by_about_half_the_half_spread(
    trading: TradingClient, market_data: StockHistoricalDataClient, control: Any, settle: Settle
) -> None:
    ratios: list[Decimal] = []
    for index in range(300):
        symbol = ("AAPL", "MSFT", "TSLA")[index % 3]
        side = OrderSide.BUY if index % 2 == 0 else OrderSide.SELL
        bid, ask = await touch(market_data, symbol)
        order = await submit(trading, market(symbol, side, 4))
        await settle()  # acknowledged, then executed
        done = await order_of(trading, order.id)
        assert (done.status, Decimal(str(done.filled_qty))) == (OrderStatus.FILLED, 4)
        price = Decimal(str(done.filled_avg_price))
        mid, half = (bid + ask) / 2, (ask - bid) / 2
        assert bid < price < ask
        assert (price >= mid) if side is OrderSide.BUY else (price <= mid), "never past the mid"
        assert price == price.quantize(Decimal("0.0001")), "a hundredth-of-a-cent grid"
        ratios.append(abs(price - mid) / half)
        # 5 s in all from one order to the next: each is sent on a market step and fills within
        # its delays, far shorter than a step, so it meets the quote read before it was sent.
        await control("POST", "clock", {"advance": 5 - SETTLE_SECONDS})
    assert Decimal("0.43") <= mean(ratios) <= Decimal("0.5"), mean(ratios)


@pytest.mark.parametrize("sim", ["live"], indirect=True)
async def test_live_quotes_a_large_cap_one_tick_wide_most_of_the_time(
    market_data: StockHistoricalDataClient, control: Any
) -> None:
    widths: list[Decimal] = []
    for _ in range(300):
        bid, ask = await touch(market_data, "SPY")
        widths.append((ask - bid) / CENT)
        await control("POST", "clock", {"advance": 1})
    assert all(width == width.to_integral_value() for width in widths), "whole ticks"
    assert widths.count(1) / len(widths) > 0.8
    assert max(widths) > 1, "wider sometimes"


RESTING = ("AAPL", "NVDA", "AMZN", "JNJ", "XOM")


async def resting_buy_fills(
    trading: TradingClient, market_data: StockHistoricalDataClient, control: Any, until: datetime
) -> list[tuple[datetime, str, Decimal]]:
    """A buy resting at the bid on each symbol, renewed a minute after it fills (no two measured
    minutes of a symbol overlap) or after 30 s unfilled; (filled_at, symbol, limit) of each."""
    working: dict[str, tuple[str, Decimal, datetime]] = {}
    idle_until: dict[str, datetime] = {}
    fills: list[tuple[datetime, str, Decimal]] = []
    now = await sim_now(trading)
    while now < until:
        for symbol in RESTING:
            if symbol not in working and idle_until.get(symbol, now) <= now:
                bid, _ = await touch(market_data, symbol)
                order = await submit(trading, limit(symbol, OrderSide.BUY, 1, bid))
                working[symbol] = (str(order.id), bid, now)
        now = datetime.fromisoformat((await control("POST", "clock", {"advance": 10}))["timestamp"])
        for symbol, (order_id, price, placed) in list(working.items()):
            order = await order_of(trading, order_id)
            if order.status == OrderStatus.FILLED:
                assert order.filled_at is not None
                assert Decimal(str(order.filled_avg_price)) == price, "at its limit"
                fills.append((order.filled_at, symbol, price))
                idle_until[symbol] = order.filled_at + MINUTE
                del working[symbol]
            elif placed + timedelta(seconds=30) <= now:
                await asyncio.to_thread(trading.cancel_order_by_id, order_id)
                del working[symbol]
    return fills


@pytest.mark.parametrize(
    "sim", [{"fill_model": "live", "flow": {**FLOW, "informed_share": 0.5}}], indirect=True
)
async def test_live_fills_resting_limits_through_flow_that_is_adversely_selected(
    trading: TradingClient, market_data: StockHistoricalDataClient, control: Any
) -> None:
    start = await sim_now(trading)
    fills = await resting_buy_fills(trading, market_data, control, start + timedelta(hours=2))
    twin = Venue(default_scenario(), seed=7)  # the same price path: it depends on the seed alone
    points = sorted({(at, s) for at, s, _ in fills} | {(at + MINUTE, s) for at, s, _ in fills})
    quotes = {}
    for at, symbol in points:
        twin.clock.set(at)
        quote = twin.latest_quotes([symbol])["quotes"][symbol]
        quotes[(at, symbol)] = (Decimal(str(quote["bp"])), Decimal(str(quote["ap"])))  # type: ignore[index]
    moves = [
        (sum(quotes[(at + MINUTE, symbol)]) - sum(quotes[(at, symbol)])) / 2 / CENT
        for at, symbol, price in fills
        if quotes[(at, symbol)][1] > price  # hit by flow, not crossed by a falling ask
    ]
    assert len(moves) >= 150
    assert mean(moves) < 0, "the mid falls after a resting buy is hit, on average"
    assert sum(m < 0 for m in moves) > sum(m > 0 for m in moves)
