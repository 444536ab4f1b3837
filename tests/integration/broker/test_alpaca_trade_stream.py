"""The trade_updates subscription against the simulator's websocket, through alpaca-py's
TradingStream: events, drops, recovery, a stream that never comes, and a clean exit."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from broker_helpers import WAIT_S, client_tasks_since, config_for, market, resting_buy, settle

from alpaca_sim.server import SimServer
from plan_executor.adapters.alpaca_broker import AlpacaBroker
from plan_executor.adapters.alpaca_config import Secret
from plan_executor.adapters.alpaca_stream import AlpacaTradeEvents, AlpacaTradeFeed
from plan_executor.domain.order_updates import UpdateKind
from plan_executor.ports import TradeEvent


async def next_event(feed: AlpacaTradeFeed, wanted: UpdateKind) -> TradeEvent:
    async with asyncio.timeout(WAIT_S):
        async for event in feed:
            if event.update.kind is wanted:
                return event
    raise AssertionError(f"the feed ended before a {wanted} event")


def websocket_of(events: AlpacaTradeEvents) -> Any:
    stream = events._stream
    assert stream is not None
    return stream._ws


@pytest.fixture
async def feed(broker: AlpacaBroker) -> AsyncIterator[AlpacaTradeFeed]:
    async with broker.trade_events() as opened:
        yield opened


async def test_entering_connects_and_listens(feed: AlpacaTradeFeed, sim: SimServer) -> None:
    assert feed.connected is True
    assert sim.hub.connection_count == 1


async def test_a_fill_is_seen_on_the_stream_and_via_rest(
    broker: AlpacaBroker, feed: AlpacaTradeFeed, sim: SimServer
) -> None:
    submitted = await broker.submit(market("s-MSFT-b-1", "MSFT", "2.5"))
    settle(sim)

    fill = await next_event(feed, UpdateKind.FILL)
    rest = await broker.order_by_client_id("s-MSFT-b-1")

    assert fill.client_order_id == "s-MSFT-b-1"
    assert fill.symbol == "MSFT"
    assert fill.update.broker_id == submitted.broker_id
    assert fill.update.execution_id
    assert rest is not None
    assert fill.update.filled_qty == rest.filled_qty == Decimal("2.5")
    assert fill.update.avg_price == rest.filled_avg_price
    assert fill.update.last_qty is not None
    assert fill.update.last_price is not None


async def test_new_then_cancel_arrive_in_order(
    broker: AlpacaBroker, feed: AlpacaTradeFeed, sim: SimServer
) -> None:
    order = await broker.submit(resting_buy("s-AAPL-b-1"))
    settle(sim)
    await next_event(feed, UpdateKind.NEW)

    await broker.cancel(order.broker_id)
    settle(sim)
    canceled = await next_event(feed, UpdateKind.CANCELED)

    assert canceled.client_order_id == "s-AAPL-b-1"
    assert canceled.update.filled_qty == 0


async def test_a_dropped_stream_flips_connected_and_recovers(
    broker: AlpacaBroker, feed: AlpacaTradeFeed, sim: SimServer
) -> None:
    sim.faults.drop_streams(refuse_seconds=0.2)
    async with asyncio.timeout(WAIT_S):
        await feed.wait_until_connected(False)
    assert feed.drops == 1

    async with asyncio.timeout(WAIT_S):
        await feed.wait_until_connected(True)
    await broker.submit(market("s-NVDA-b-1", "NVDA", "1"))
    settle(sim)
    fill = await next_event(feed, UpdateKind.FILL)

    assert fill.client_order_id == "s-NVDA-b-1"


async def test_a_stream_that_stays_down_never_raises(broker: AlpacaBroker, sim: SimServer) -> None:
    async with broker.trade_events() as feed:
        sim.faults.drop_streams(refuse_seconds=600)
        async with asyncio.timeout(WAIT_S):
            await feed.wait_until_connected(False)
        await broker.submit(market("s-JNJ-b-1", "JNJ", "1"))  # REST still works

        assert feed.connected is False

    assert [event async for event in feed] == []


async def test_a_stream_unavailable_at_entry_returns_a_disconnected_feed_that_recovers(
    broker: AlpacaBroker, sim: SimServer
) -> None:
    sim.faults.drop_streams(refuse_seconds=600)
    events = AlpacaTradeEvents(config_for(sim, stream_connect_timeout_s=0.3))

    async with events as feed:
        assert feed.connected is False
        sim.hub.allow_connections()
        async with asyncio.timeout(WAIT_S):
            await feed.wait_until_connected(True)
        await broker.submit(market("s-XOM-b-1", "XOM", "1"))
        settle(sim)
        assert (await next_event(feed, UpdateKind.FILL)).client_order_id == "s-XOM-b-1"


async def test_wrong_credentials_give_a_disconnected_feed_not_an_error(sim: SimServer) -> None:
    config = replace(config_for(sim, stream_connect_timeout_s=0.3), secret_key=Secret("wrong"))

    async with AlpacaTradeEvents(config) as feed:
        assert feed.connected is False


async def test_exit_closes_the_websocket_and_leaves_no_task(sim: SimServer) -> None:
    before = asyncio.all_tasks()
    events = AlpacaTradeEvents(config_for(sim))

    async with events as feed:
        assert feed.connected is True
        websocket = websocket_of(events)

    assert feed.connected is False
    assert feed.drops == 0  # leaving is not a drop
    assert websocket.closed
    assert client_tasks_since(before) == set()


async def test_exit_while_reconnecting_leaves_no_task(sim: SimServer) -> None:
    before = asyncio.all_tasks()
    events = AlpacaTradeEvents(config_for(sim, stream_reconnect_min_s=5, stream_reconnect_max_s=5))

    async with events as feed:
        sim.faults.drop_streams(refuse_seconds=600)
        async with asyncio.timeout(WAIT_S):
            await feed.wait_until_connected(False)

    assert client_tasks_since(before) == set()


async def test_leaving_twice_is_harmless(sim: SimServer) -> None:
    events = AlpacaTradeEvents(config_for(sim))
    async with events:
        pass

    await events.aclose()

    with pytest.raises(RuntimeError, match="once"):
        await events.__aenter__()


async def test_a_deadline_while_connecting_leaves_no_task(sim: SimServer) -> None:
    before = asyncio.all_tasks()
    # Connected, never answered: a refusal would end the wait before the deadline.
    sim.faults.silence_streams(new_connections=True)
    events = AlpacaTradeEvents(config_for(sim, stream_connect_timeout_s=30))

    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await events.__aenter__()

    assert client_tasks_since(before) == set()
