"""The /stream websocket protocol, driven with aiohttp's client (frame types visible)."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from emu_stream_clients import WAIT_SECONDS, authenticate, listen, receive
from tests.support.sim_clock import settle_server as settle

from alpaca_sim.server import SimServer

RECEIVE_TIMEOUT = WAIT_SECONDS


@pytest.fixture
async def ws(sim: SimServer):
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(sim.stream_url) as connection,
    ):
        yield connection


def submit_resting_buy(sim: SimServer, client_order_id: str) -> dict[str, object]:
    """A limit buy far below the market, acknowledged (streamed `new`) before this returns."""
    order = sim.venue.submit_order(
        {
            "symbol": "AAPL",
            "qty": "1",
            "side": "buy",
            "type": "limit",
            "time_in_force": "day",
            "limit_price": "1.00",
            "client_order_id": client_order_id,
        }
    )
    settle(sim)
    return order


async def test_authenticate_then_listen(ws: aiohttp.ClientWebSocketResponse, sim: SimServer):
    assert await authenticate(ws, sim) == {
        "stream": "authorization",
        "data": {"status": "authorized", "action": "authenticate"},
    }
    assert await listen(ws, ["trade_updates"]) == {
        "stream": "listening",
        "data": {"streams": ["trade_updates"]},
    }


async def test_wrong_credentials_are_unauthorized(ws: aiohttp.ClientWebSocketResponse):
    await ws.send_json({"action": "authenticate", "data": {"key_id": "x", "secret_key": "y"}})
    reply = await receive(ws)
    assert reply["data"] == {"status": "unauthorized", "action": "authenticate"}


async def test_listen_before_auth_is_unauthorized(ws: aiohttp.ClientWebSocketResponse):
    reply = await listen(ws, ["trade_updates"])
    assert reply == {
        "stream": "authorization",
        "data": {"status": "unauthorized", "action": "listen"},
    }


async def test_updates_arrive_in_order_as_binary_json(
    ws: aiohttp.ClientWebSocketResponse, sim: SimServer
):
    await authenticate(ws, sim)
    await listen(ws, ["trade_updates"])

    order = submit_resting_buy(sim, "s-1")
    sim.venue.cancel_order(str(order["id"]))
    settle(sim)
    events = []
    while not events or events[-1]["data"]["event"] != "canceled":
        events.append(await receive(ws))

    assert all(e["stream"] == "trade_updates" for e in events)
    history = json.loads(json.dumps(sim.venue.state()["trade_updates"]))
    assert [e["data"] for e in events] == history  # every update, in the venue's order
    assert next(e["data"]["event"] for e in events) in {"new", "pending_new"}


async def test_no_updates_before_listen_and_after_empty_listen(
    ws: aiohttp.ClientWebSocketResponse, sim: SimServer
):
    await authenticate(ws, sim)
    submit_resting_buy(sim, "unheard-1")
    await listen(ws, ["trade_updates"])
    assert await listen(ws, []) == {"stream": "listening", "data": {"streams": []}}
    submit_resting_buy(sim, "unheard-2")

    # A marker proves nothing else was queued: the next frame is the reply to this listen.
    assert (await listen(ws, ["trade_updates"]))["stream"] == "listening"


async def test_unknown_streams_are_not_acknowledged(
    ws: aiohttp.ClientWebSocketResponse, sim: SimServer
):
    await authenticate(ws, sim)
    reply = await listen(ws, ["trade_updates", "account_updates"])
    assert reply["data"]["streams"] == ["trade_updates"]


async def test_invalid_json_gets_an_error_frame(ws: aiohttp.ClientWebSocketResponse):
    await ws.send_str("{not json")
    reply = await receive(ws)
    assert reply["stream"] == "error"


async def test_drop_closes_every_connection_and_refusal_blocks_new_ones(sim: SimServer):
    async with aiohttp.ClientSession() as session:
        first = await session.ws_connect(sim.stream_url)
        await authenticate(first, sim)

        assert sim.faults.drop_streams(refuse_seconds=3600) == 1

        closing = await first.receive(timeout=RECEIVE_TIMEOUT)
        assert closing.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(sim.stream_url)
        assert refused.value.status == 503

        sim.hub.allow_connections()
        again = await session.ws_connect(sim.stream_url)
        assert (await authenticate(again, sim))["data"]["status"] == "authorized"
        await again.close()


async def test_server_exit_closes_websockets():
    async with SimServer() as server, aiohttp.ClientSession() as session:
        connection = await session.ws_connect(server.stream_url)
        await authenticate(connection, server)
        stopping = asyncio.create_task(server.stop())
        closing = await connection.receive(timeout=RECEIVE_TIMEOUT)
        await stopping

    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert connection.closed
