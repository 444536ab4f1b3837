"""The real alpaca-py TradingStream against the sim; REST agrees with the stream at every step
(the recorder: stream_recorder.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus, TimeInForce
from alpaca.trading.models import TradeUpdate
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest
from stream_recorder import StreamRecorder

from alpaca_sim.server import SimServer


@pytest.fixture
async def recorder(sim: SimServer) -> AsyncIterator[StreamRecorder]:
    recorder = StreamRecorder(sim)
    await recorder.start()
    yield recorder
    await recorder.stop()


async def assert_rest_agrees(trading: TradingClient, update: TradeUpdate) -> None:
    rest = await asyncio.to_thread(trading.get_order_by_id, update.order.id)
    assert rest.status == update.order.status
    assert rest.filled_qty == update.order.filled_qty
    assert rest.filled_avg_price == update.order.filled_avg_price
    assert rest.updated_at == update.order.updated_at


async def test_partial_fills_then_cancel_reach_the_stream_and_rest_agrees(
    sim: SimServer, trading: TradingClient, recorder: StreamRecorder, control
):
    await control("POST", "quotes", {"symbol": "AAPL", "bid": "100.00", "ask": "100.02"})
    # The paper engine's random partial fills, on cue: the next two fills take 10 shares each.
    await control(
        "POST", "faults", {"kind": "partial_fill", "symbol": "AAPL", "qty": "10", "count": 2}
    )
    order = await asyncio.to_thread(
        trading.submit_order,
        LimitOrderRequest(
            symbol="AAPL",
            qty=25,
            side=OrderSide.BUY,
            time_in_force=TimeInForce.DAY,
            limit_price=100.02,
        ),
    )

    first = await recorder.until("partial_fill")
    assert first[0].order.id == order.id
    assert Decimal(first[-1].order.filled_qty) == 10
    assert Decimal(str(first[-1].qty)) == 10
    assert Decimal(str(first[-1].price)) == Decimal("100.02")
    await assert_rest_agrees(trading, first[-1])

    await control("POST", "clock", {"advance": 1})  # the next market step: still marketable
    second = await recorder.until("partial_fill")
    assert Decimal(second[-1].order.filled_qty) == 20
    assert second[-1].execution_id != first[-1].execution_id
    position_before = Decimal(str(first[-1].position_qty))
    assert Decimal(str(second[-1].position_qty)) == position_before + 10
    await assert_rest_agrees(trading, second[-1])

    await asyncio.to_thread(trading.cancel_order_by_id, order.id)
    third = await recorder.until("canceled")
    assert third[-1].order.status == OrderStatus.CANCELED
    assert Decimal(third[-1].order.filled_qty) == 20
    await assert_rest_agrees(trading, third[-1])


async def test_a_full_fill_reaches_the_stream_with_price_qty_and_position(
    sim: SimServer, trading: TradingClient, recorder: StreamRecorder
):
    held = await asyncio.to_thread(trading.get_open_position, "MSFT")

    order = await asyncio.to_thread(
        trading.submit_order,
        MarketOrderRequest(symbol="MSFT", qty=2, side=OrderSide.BUY, time_in_force=TimeInForce.DAY),
    )

    updates = await recorder.until("fill")
    fill = updates[-1]
    assert fill.order.id == order.id
    assert fill.order.status == OrderStatus.FILLED
    assert Decimal(str(fill.qty)) == 2
    assert Decimal(str(fill.position_qty)) == Decimal(held.qty) + 2
    assert Decimal(str(fill.price)) == Decimal(fill.order.filled_avg_price)
    await assert_rest_agrees(trading, fill)
