"""The /_sim/ control API: reset, state, clock, quotes, halts, faults, latency, stream drop."""

from __future__ import annotations

import asyncio
import json
from importlib import resources
from typing import Any

import aiohttp
import pytest

from alpaca_sim.server import SimServer

WAIT_SECONDS = 30.0
"""Hang guard: what is awaited happens within milliseconds."""


def resting_buy(client_order_id: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {
        "symbol": "AAPL",
        "qty": "1",
        "side": "buy",
        "type": "limit",
        "time_in_force": "day",
        "limit_price": "1.00",
    }
    if client_order_id is not None:
        body["client_order_id"] = client_order_id
    return body


async def post_order(http: aiohttp.ClientSession, body: dict[str, object]) -> dict[str, Any]:
    async with http.post("/v2/orders", json=body) as response:
        decoded: dict[str, Any] = await response.json()
        return decoded


async def test_same_seed_gives_the_same_ids_and_quotes(http: aiohttp.ClientSession, control):
    async def run() -> tuple[str, Any]:
        await control("POST", "reset", {"scenario": "default", "seed": 42})
        order = await post_order(http, resting_buy())
        await control("POST", "clock", {"advance": 30})
        state = await control("GET", "state")
        return order["id"], state["quotes"]

    assert await run() == await run()
    await control("POST", "reset", {"seed": 43})
    other = await post_order(http, resting_buy())
    assert other["id"] != (await run())[0]


async def test_reset_clears_orders_faults_and_log(
    http: aiohttp.ClientSession, sim: SimServer, control
):
    await post_order(http, resting_buy("before-reset"))
    sim.faults.fail_next(503, path="/v2/nothing-matches-this")

    await control("POST", "reset", {"scenario": "default"})

    state = await control("GET", "state")
    assert state["orders"] == []
    assert state["faults"] == []
    assert state["requests"] == []
    assert state["rate_limit"] == {"enabled": True, "per_minute": 200}


async def test_reset_with_a_scenario_object_changes_credentials_and_cash(sim: SimServer, control):
    scenario = json.loads(
        default_scenario_text().replace('"cash": "40125.37"', '"cash": "1000.00"')
    )
    scenario["auth"] = {"api_key": "other-key", "api_secret": "other-secret"}

    await control("POST", "reset", {"scenario": scenario, "seed": 1})

    assert sim.api_key == "other-key"
    headers = {"APCA-API-KEY-ID": "other-key", "APCA-API-SECRET-KEY": "other-secret"}
    async with (
        aiohttp.ClientSession(sim.trading_url, headers=headers) as session,
        session.get("/v2/account") as response,
    ):
        assert response.status == 200
        assert (await response.json())["cash"] == "1000.00"


def default_scenario_text() -> str:
    return resources.files("alpaca_sim").joinpath("scenarios/default.json").read_text("utf-8")


async def test_invalid_reset_is_refused_and_changes_nothing(
    http: aiohttp.ClientSession, sim: SimServer
):
    order = await post_order(http, resting_buy())
    for body in ({"scenario": "nonexistent"}, {"scenario": {"symbols": 3}}, {"seed": "x"}):
        async with http.post("/_sim/reset", json=body) as response:
            assert response.status in (400, 422)
            assert "message" in await response.json()
    assert sim.venue.get_order(order["id"])["id"] == order["id"]


async def test_clock_set_and_advance(control):
    advanced = await control("POST", "clock", {"advance": 90})
    assert advanced["timestamp"].startswith("2026-11-24T09:46:30")  # shown in ET like Alpaca

    moved = await control("POST", "clock", {"set": "2026-11-25T15:00:00Z"})
    assert moved["timestamp"].startswith("2026-11-25T10:00:00")
    assert moved["is_open"] is True


async def test_advancing_past_the_close_expires_day_orders(
    http: aiohttp.ClientSession, sim: SimServer, control
):
    order = await post_order(http, resting_buy())

    clock = await control("POST", "clock", {"set": "2026-11-24T21:00:01Z"})

    assert clock["is_open"] is False
    assert sim.venue.get_order(order["id"])["status"] == "expired"


async def test_bad_clock_requests_are_400(http: aiohttp.ClientSession):
    for body in ({}, {"advance": -5}, {"advance": "soon"}, {"set": "yesterday"}):
        async with http.post("/_sim/clock", json=body) as response:
            assert response.status in (400, 422), body


async def test_scripted_quote_and_its_removal(control, sim: SimServer):
    await control("POST", "quotes", {"symbol": "AAPL", "bid": "10.00", "ask": "10.05"})
    assert sim.venue.latest_quotes(["AAPL"])["quotes"]["AAPL"]["bp"] == 10

    await control("DELETE", "quotes/AAPL")
    assert sim.venue.latest_quotes(["AAPL"])["quotes"]["AAPL"]["bp"] != 10


async def test_halt_and_resume(control, sim: SimServer):
    await control("POST", "halt", {"symbol": "TSLA"})
    assert sim.venue.state()["halted"] == ["TSLA"]
    await control("POST", "halt", {"symbol": "TSLA", "halted": False})
    assert sim.venue.state()["halted"] == []


@pytest.mark.parametrize(
    ("spec", "observed"),
    [
        ({"kind": "status", "status": 503, "path": "/v2/account"}, 503),
        ({"kind": "status", "status": 429, "method": "GET", "path": "/v2/acc*"}, 429),
        ({"kind": "slow", "delay_ms": 1, "path": "/v2/account"}, 200),
    ],
)
async def test_http_faults_through_the_control_api(
    http: aiohttp.ClientSession, control, spec: dict[str, object], observed: int
):
    await control("POST", "faults", spec)
    assert len((await control("GET", "state"))["faults"]) == 1

    async with http.get("/v2/account") as response:
        assert response.status == observed
    assert (await control("GET", "state"))["faults"] == []


async def test_hang_through_the_control_api_released_by_delete(
    http: aiohttp.ClientSession, sim: SimServer, control
):
    await control("POST", "faults", {"kind": "hang", "path": "/v2/account"})
    hung = asyncio.create_task(http.get("/v2/account"))
    async with asyncio.timeout(WAIT_SECONDS):
        await sim.faults.wait_held(1)
    assert (await control("GET", "state"))["held_requests"] == 1

    await control("DELETE", "faults")

    response = await asyncio.wait_for(hung, WAIT_SECONDS)
    assert response.status == 200
    response.release()


async def test_venue_faults_through_the_control_api(
    http: aiohttp.ClientSession, sim: SimServer, control
):
    await control(
        "POST",
        "faults",
        {"kind": "reject_next_order", "status": 403, "code": 40310000, "message": "nope"},
    )
    assert (await post_order(http, resting_buy())) == {"code": 40310000, "message": "nope"}

    await control("POST", "latency", {"ack_ms": 500, "fill_ms": 0})
    latency = sim.venue.state()["latency"]
    assert (latency["ack_ms"], latency["fill_ms"]) == (500.0, 0.0)  # fixed, no longer drawn
    pending = await post_order(http, resting_buy())
    assert pending["status"] in ("pending_new", "accepted")

    await control("POST", "faults", {"kind": "latency", "ack_ms": 0})
    await control("POST", "faults", {"kind": "race_fill_on_next_cancel", "symbol": "AAPL"})
    await control(
        "POST", "faults", {"kind": "quote", "symbol": "MSFT", "bid": None, "ask": "500.00"}
    )
    assert sim.venue.latest_quotes(["MSFT"])["quotes"]["MSFT"]["bp"] == 0
    await control("POST", "faults", {"kind": "halt", "symbol": "NVDA"})
    assert sim.venue.state()["halted"] == ["NVDA"]


async def test_bad_fault_specs_are_400(http: aiohttp.ClientSession):
    for spec in (
        {"kind": "explode"},
        {"kind": "status", "status": 200},
        {"kind": "status", "status": 503, "phase": "during"},
        {"kind": "status", "status": 503, "count": 0},
        {"kind": "slow"},
        {"kind": "halt", "symbol": "AAPL", "halted": "yes"},
    ):
        async with http.post("/_sim/faults", json=spec) as response:
            assert response.status == 400, spec


async def test_stream_drop_through_the_control_api(sim: SimServer, control):
    async with aiohttp.ClientSession() as session:
        connection = await session.ws_connect(sim.stream_url)

        result = await control("POST", "stream/drop", {"refuse_seconds": 3600})

        assert result == {"dropped": 1}
        closing = await connection.receive(timeout=WAIT_SECONDS)
        assert closing.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
        assert (await control("GET", "state"))["streams"]["refusing"] is True
        await control("DELETE", "faults")
        assert (await control("GET", "state"))["streams"]["refusing"] is False
