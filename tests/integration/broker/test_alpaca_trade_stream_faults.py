"""The trade_updates subscription under the stream's own faults, through alpaca-py's
TradingStream against the simulator: a second connection refused or the first one closed
(one connection per key, alpaca_sim/stream_limit.py), and a silent connection replaced."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from broker_helpers import WAIT_S, config_for, market

from alpaca_sim.server import SimServer
from alpaca_sim.stream_limit import ConnectionLimit
from plan_executor.adapters.alpaca_broker import AlpacaBroker
from plan_executor.adapters.alpaca_stream import AlpacaTradeEvents, AlpacaTradeFeed
from plan_executor.domain.order_updates import UpdateKind
from plan_executor.ports import TradeEvent

NEVER_S = 3600.0
"""A connect timeout no test may wait out: entering must end on the refusal itself."""


async def buy_now(broker: AlpacaBroker, sim: SimServer, client_order_id: str, symbol: str) -> None:
    """A market buy; the sim's manual clock then moves a second, so that an ack or fill it
    makes asynchronous (latency) happens now (without latency: the market moves a step)."""
    await broker.submit(market(client_order_id, symbol, "1"))
    sim.venue.clock.advance(1.0)
    sim.venue.tick()


async def next_fill(feed: AlpacaTradeFeed) -> TradeEvent:
    async with asyncio.timeout(WAIT_S):
        async for event in feed:
            if event.update.kind is UpdateKind.FILL:
                return event
    raise AssertionError("the feed ended before a fill")


async def hold_the_slot(
    session: aiohttp.ClientSession, sim: SimServer
) -> aiohttp.ClientWebSocketResponse:
    """Another client of the same key, authenticated and listening."""
    other = await session.ws_connect(sim.stream_url)
    await other.send_json(
        {"action": "authenticate", "data": {"key_id": sim.api_key, "secret_key": sim.api_secret}}
    )
    assert (await frame(other))["data"]["status"] == "authorized"
    await other.send_json({"action": "listen", "data": {"streams": ["trade_updates"]}})
    assert (await frame(other))["stream"] == "listening"
    return other


async def frame(ws: aiohttp.ClientWebSocketResponse) -> Any:
    """The next frame, decoded (the stream sends binary frames of JSON)."""
    return json.loads((await ws.receive(timeout=WAIT_S)).data)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened


@pytest.mark.parametrize("limit", [ConnectionLimit.REFUSE_HANDSHAKE, ConnectionLimit.REFUSE_AUTH])
async def test_a_refused_stream_returns_a_disconnected_feed_at_once_then_gets_in(
    sim: SimServer, broker: AlpacaBroker, session: aiohttp.ClientSession, limit: ConnectionLimit
) -> None:
    sim.faults.stream_connection_limit(limit)
    other = await hold_the_slot(session, sim)

    async with asyncio.timeout(WAIT_S):  # not the connect timeout: the refusal ends the wait
        events = AlpacaTradeEvents(config_for(sim, stream_connect_timeout_s=NEVER_S))
        feed = await events.__aenter__()
    try:
        assert feed.connected is False
        assert feed.failed_attempts >= 1
        assert sim.hub.refused.value >= 1

        await other.close()  # the slot frees: alpaca-py's next try gets in
        async with asyncio.timeout(WAIT_S):
            await feed.wait_until_connected(True)
        await buy_now(broker, sim, "s-MSFT-b-1", "MSFT")
        assert (await next_fill(feed)).client_order_id == "s-MSFT-b-1"
    finally:
        await events.aclose()


async def test_closed_for_a_newer_connection_the_feed_reconnects_and_closes_that_one(
    sim: SimServer, broker: AlpacaBroker, session: aiohttp.ClientSession
) -> None:
    sim.faults.stream_connection_limit(ConnectionLimit.CLOSE_OLDER)
    async with broker.trade_events() as feed:
        assert feed.connected is True
        other = await hold_the_slot(session, sim)  # ours is closed for it

        async with asyncio.timeout(WAIT_S):
            await sim.hub.replaced.wait_at_least(2)  # and alpaca-py's reconnect closes it
            await feed.wait_until_connected(True)
        closing = await other.receive(timeout=WAIT_S)
        await buy_now(broker, sim, "s-NVDA-b-1", "NVDA")
        fill = await next_fill(feed)

    assert feed.drops >= 1
    assert closing.type is aiohttp.WSMsgType.CLOSE
    assert fill.client_order_id == "s-NVDA-b-1"


async def test_restart_gives_up_a_silent_connection_for_a_new_one(
    sim: SimServer, broker: AlpacaBroker
) -> None:
    async with broker.trade_events() as feed:
        assert sim.faults.silence_streams() == 1
        await buy_now(broker, sim, "s-MSFT-b-1", "MSFT")  # unheard

        feed.restart()
        assert feed.connected is False
        async with asyncio.timeout(WAIT_S):
            await sim.hub.listens.wait_at_least(2)
            await feed.wait_until_connected(True)
        await buy_now(broker, sim, "s-NVDA-b-1", "NVDA")
        fill = await next_fill(feed)

    assert fill.client_order_id == "s-NVDA-b-1", "the silenced order's news was lost with it"
    assert (feed.restarts, feed.drops) == (1, 1)
    assert sim.hub.connection_count == 0
