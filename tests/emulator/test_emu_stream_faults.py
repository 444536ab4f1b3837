"""Stream faults through the real alpaca-py TradingStream (and aiohttp's client where the frames
themselves matter): one connection per key under each reading (stream_limit.py), a silent
socket (stream.py), late events (late_events.py)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable
from importlib import resources

import aiohttp
import pytest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus, TimeInForce
from alpaca.trading.models import Order, TradeUpdate
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest
from emu_stream_clients import (
    RETRY_BACKOFF_S,
    WAIT_SECONDS,
    StreamRecorder,
    authenticate,
    listen,
)

from alpaca_sim.server import SimServer
from alpaca_sim.stream_limit import ConnectionLimit

LIMIT_REPLY = {
    "stream": "authorization",
    "data": {
        "status": "unauthorized",
        "action": "authenticate",
        "message": "connection limit exceeded",
    },
}


def let_due_work_happen(sim: SimServer) -> None:
    """Move the sim's manual clock one second: the acks, fills and cancels it makes
    asynchronous (latency) happen now; without latency this only moves the market a step."""
    sim.venue.clock.advance(1.0)
    sim.venue.tick()


async def market_buy(sim: SimServer, trading: TradingClient, symbol: str) -> Order:
    request = MarketOrderRequest(
        symbol=symbol, qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY
    )
    order = await asyncio.to_thread(trading.submit_order, request)
    assert isinstance(order, Order)
    let_due_work_happen(sim)
    return order


async def resting_buy(sim: SimServer, trading: TradingClient, symbol: str = "AAPL") -> Order:
    request = LimitOrderRequest(
        symbol=symbol, qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY, limit_price=1.00
    )
    order = await asyncio.to_thread(trading.submit_order, request)
    assert isinstance(order, Order)
    let_due_work_happen(sim)
    return order


async def rest_view(trading: TradingClient, order: Order) -> Order:
    read = await asyncio.to_thread(trading.get_order_by_id, order.id)
    assert isinstance(read, Order)
    return read


async def fill_of(recorder: StreamRecorder, order: Order) -> list[TradeUpdate]:
    """The recorder's updates up to `order`'s fill, which must be the first fill it hears."""
    updates = await recorder.until("fill")
    assert updates[-1].order.id == order.id
    return updates


def sdk_logged(caplog: pytest.LogCaptureFixture, text: str) -> bool:
    return any(text in record.getMessage() for record in caplog.records)


async def waited(awaitable: Awaitable[None]) -> None:
    async with asyncio.timeout(WAIT_SECONDS):
        await awaitable


# --- one connection per key ----------------------------------------------------------------


async def test_by_default_a_second_stream_is_refused_at_the_handshake_until_the_first_goes(
    sim: SimServer, trading: TradingClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="alpaca.trading.stream")
    assert sim.hub.limit is ConnectionLimit.REFUSE_HANDSHAKE
    first = StreamRecorder(sim)
    await first.start()
    second = StreamRecorder(sim, backoff_s=RETRY_BACKOFF_S)
    await second.start(listening=None)

    await waited(sim.hub.refused.wait_at_least(2))  # refused, and again after its backoff
    assert sdk_logged(caplog, "server rejected WebSocket connection: HTTP 429")
    assert sim.hub.connection_count == 1
    order = await market_buy(sim, trading, "MSFT")
    await fill_of(first, order)
    assert second.updates.empty()

    await first.stop()  # the slot is free: the refused stream gets in on its next try
    await waited(sim.hub.wait_listening(1))
    later = await market_buy(sim, trading, "NVDA")
    await fill_of(second, later)
    await second.stop()


async def test_refuse_auth_answers_connection_limit_exceeded_then_closes(
    sim: SimServer, trading: TradingClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="alpaca.trading.stream")
    sim.faults.stream_connection_limit(ConnectionLimit.REFUSE_AUTH)
    first = StreamRecorder(sim)
    await first.start()

    async with aiohttp.ClientSession() as session, session.ws_connect(sim.stream_url) as raw:
        assert await authenticate(raw, sim) == LIMIT_REPLY
        closing = await raw.receive(timeout=WAIT_SECONDS)
    assert closing.type is aiohttp.WSMsgType.CLOSE
    assert (closing.data, closing.extra) == (1008, "connection limit exceeded")

    second = StreamRecorder(sim, backoff_s=RETRY_BACKOFF_S)
    await second.start(listening=None)
    await waited(sim.hub.refused.wait_at_least(3))  # the raw client, then the SDK twice
    assert sdk_logged(caplog, "failed to authenticate")
    order = await market_buy(sim, trading, "MSFT")
    await fill_of(first, order)
    assert second.updates.empty()

    await first.stop()
    await waited(sim.hub.wait_listening(1))
    await fill_of(second, await market_buy(sim, trading, "NVDA"))
    await second.stop()


async def test_close_older_authorizes_the_newer_stream_and_closes_the_older(
    sim: SimServer, trading: TradingClient
) -> None:
    sim.faults.stream_connection_limit(ConnectionLimit.CLOSE_OLDER)
    async with aiohttp.ClientSession() as session, session.ws_connect(sim.stream_url) as older:
        await authenticate(older, sim)
        await listen(older, ["trade_updates"])
        newer = StreamRecorder(sim)
        await newer.start(listening=None)
        await waited(sim.hub.replaced.wait_at_least(1))
        await waited(sim.hub.wait_listening(1))

        closing = await older.receive(timeout=WAIT_SECONDS)
        order = await market_buy(sim, trading, "MSFT")
        await fill_of(newer, order)
    assert closing.type is aiohttp.WSMsgType.CLOSE
    assert (closing.data, closing.extra) == (1008, "connection replaced by a newer one")
    assert sim.hub.refused.value == 0
    await newer.stop()


async def test_without_a_limit_two_streams_hear_the_same_fill(
    sim: SimServer, trading: TradingClient
) -> None:
    sim.faults.stream_connection_limit(ConnectionLimit.NONE)
    first, second = StreamRecorder(sim), StreamRecorder(sim)
    await first.start()
    await second.start(listening=2)

    order = await market_buy(sim, trading, "MSFT")

    one, two = await fill_of(first, order), await fill_of(second, order)
    assert one[-1].execution_id == two[-1].execution_id
    await first.stop()
    await second.stop()


# --- a silent socket -----------------------------------------------------------------------


@pytest.fixture
async def recorder(sim: SimServer) -> AsyncIterator[StreamRecorder]:
    recorder = StreamRecorder(sim)
    await recorder.start()
    yield recorder
    await recorder.stop()


async def test_a_silenced_stream_stays_open_hears_nothing_and_the_news_is_lost(
    sim: SimServer, trading: TradingClient, recorder: StreamRecorder
) -> None:
    socket = recorder.websocket()
    assert sim.faults.silence_streams() == 1

    swallowed = await market_buy(sim, trading, "MSFT")
    assert (await rest_view(trading, swallowed)).status == OrderStatus.FILLED
    assert sim.faults.end_stream_silence() == 1
    heard = await market_buy(sim, trading, "NVDA")

    updates = await fill_of(recorder, heard)
    assert {update.order.id for update in updates} == {heard.id}
    assert recorder.websocket() is socket, "the SDK never saw it close: no reconnect"
    assert (sim.hub.connection_count, sim.hub.refused.value) == (1, 0)


async def test_a_stalled_stream_keeps_its_backlog_and_sends_it_when_it_resumes(
    sim: SimServer, trading: TradingClient, recorder: StreamRecorder
) -> None:
    sim.faults.silence_streams(keep_backlog=True)
    stalled = await market_buy(sim, trading, "MSFT")
    assert (await rest_view(trading, stalled)).status == OrderStatus.FILLED
    assert recorder.updates.empty()

    sim.faults.end_stream_silence()

    await fill_of(recorder, stalled)


@pytest.mark.parametrize("answer_pings", [True, False])
async def test_a_silent_socket_answers_pings_only_in_the_default_reading(
    sim: SimServer, answer_pings: bool
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(sim.stream_url, autoping=False) as ws,
    ):
        await authenticate(ws, sim)
        await listen(ws, ["trade_updates"])
        sim.faults.silence_streams(answer_pings=answer_pings)
        sim.venue.submit_order(
            {
                "symbol": "AAPL",
                "qty": "1",
                "side": "buy",
                "type": "limit",
                "time_in_force": "day",
                "limit_price": "1.00",
            }
        )
        let_due_work_happen(sim)  # its acknowledgement, swallowed
        await ws.ping(b"still there?")
        if answer_pings:
            pong = await ws.receive(timeout=WAIT_SECONDS)
            assert (pong.type, pong.data) == (aiohttp.WSMsgType.PONG, b"still there?")
        else:
            await waited(sim.hub.pings_ignored.wait_at_least(1))
        sim.faults.end_stream_silence()

        # The next frame is the reply to this listen: the order's update was swallowed, and
        # (when pings go unanswered) no pong was owed either.
        assert (await listen(ws, ["trade_updates"]))["stream"] == "listening"


# --- late events ---------------------------------------------------------------------------


async def test_a_late_fill_is_sent_only_after_rest_has_shown_the_order_filled(
    sim: SimServer, trading: TradingClient, recorder: StreamRecorder
) -> None:
    sim.faults.late_trade_updates("AAPL")
    order = await resting_buy(sim, trading)
    await recorder.until("new")
    sim.faults.script_quote("AAPL", bid="0.98", ask="0.99")  # the ask comes down to the limit
    let_due_work_happen(sim)
    await waited(sim.hub.late.held.wait_at_least(1))
    assert sim.hub.late.released.value == 0

    rest = await rest_view(trading, order)

    assert rest.status == OrderStatus.FILLED
    assert sim.hub.late.released.value == 1
    late = (await fill_of(recorder, order))[-1]
    assert late.order.status == OrderStatus.FILLED
    assert late.order.filled_qty == rest.filled_qty == "1"


async def test_a_late_cancel_is_sent_only_after_rest_has_shown_the_order_canceled(
    sim: SimServer, trading: TradingClient, recorder: StreamRecorder
) -> None:
    sim.faults.late_trade_updates("AAPL")
    order = await resting_buy(sim, trading)
    await recorder.until("new")
    await asyncio.to_thread(trading.cancel_order_by_id, order.id)
    let_due_work_happen(sim)
    await waited(sim.hub.late.held.wait_at_least(1))

    rest = await rest_view(trading, order)

    assert rest.status == OrderStatus.CANCELED
    late = await recorder.until("canceled")
    assert late[-1].order.id == order.id
    assert late[-1].order.status == OrderStatus.CANCELED


async def test_only_the_armed_orders_are_late_and_manual_release_waits_for_the_test(
    sim: SimServer, trading: TradingClient, recorder: StreamRecorder
) -> None:
    sim.faults.late_trade_updates("MSFT", count=1, release="manual")
    late_one = await market_buy(sim, trading, "MSFT")
    await waited(sim.hub.late.held.wait_at_least(1))
    on_time = await market_buy(sim, trading, "MSFT")

    await fill_of(recorder, on_time)  # the second order's fill is not held back
    assert (await rest_view(trading, late_one)).status == OrderStatus.FILLED
    assert sim.hub.late.holding == 1, "a manual release waits even once REST showed it"

    assert sim.faults.release_late_trade_updates() == 1
    await fill_of(recorder, late_one)


# --- the control API -----------------------------------------------------------------------


async def test_stream_faults_through_the_control_api(
    sim: SimServer, control, recorder: StreamRecorder, trading: TradingClient
) -> None:
    assert await control("POST", "faults", {"kind": "stream_limit", "mode": "refuse_auth"}) == {
        "stream_limit": "refuse_auth"
    }
    assert await control("POST", "faults", {"kind": "silence_streams"}) == {"silenced": 1}
    late = {"kind": "late_events", "symbol": "MSFT", "release": "manual"}
    await control("POST", "faults", late)
    assert await control("POST", "faults", {"kind": "end_stream_silence"}) == {"resumed": 1}
    order = await market_buy(sim, trading, "MSFT")
    await waited(sim.hub.late.held.wait_at_least(1))

    streams = (await control("GET", "state"))["streams"]
    assert (streams["limit"], streams["silent"], streams["late_held"]) == ("refuse_auth", 0, 1)
    assert await control("POST", "faults", {"kind": "silence_streams"}) == {"silenced": 1}
    await control("DELETE", "faults")  # ends the silence and lets the late fill go

    await fill_of(recorder, order)
    streams = (await control("GET", "state"))["streams"]
    assert (streams["silent"], streams["late_held"]) == (0, 0)


async def test_bad_stream_fault_specs_are_400(http: aiohttp.ClientSession) -> None:
    for spec in (
        {"kind": "stream_limit", "mode": "two"},
        {"kind": "silence_streams", "answer_pings": "yes"},
        {"kind": "late_events", "count": 0},
        {"kind": "late_events", "release": "later"},
    ):
        async with http.post("/_sim/faults", json=spec) as response:
            assert response.status == 400, spec


async def test_reset_takes_the_limit_from_the_scenario(
    sim: SimServer, control, http: aiohttp.ClientSession
) -> None:
    text = resources.files("alpaca_sim").joinpath("scenarios/default.json").read_text("utf-8")
    scenario = {**json.loads(text), "stream": {"connection_limit": "close_older"}}

    await control("POST", "reset", {"scenario": scenario})
    assert sim.hub.limit is ConnectionLimit.CLOSE_OLDER
    await control("POST", "reset", {})
    assert sim.hub.limit is ConnectionLimit.REFUSE_HANDSHAKE
    scenario["stream"] = {"connection_limit": "sometimes"}
    async with http.post("/_sim/reset", json={"scenario": scenario}) as response:
        assert response.status == 422
    assert sim.hub.limit is ConnectionLimit.REFUSE_HANDSHAKE
