"""Each fault kind, observed through alpaca-py or raw HTTP (SDK retries off unless stated)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from alpaca.common.exceptions import APIError
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.requests import StockLatestQuoteRequest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus, TimeInForce
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest

from alpaca_sim.server import SimServer

WAIT_SECONDS = 30.0
"""Hang guard: what is awaited happens within milliseconds."""
UNROUTED = {OrderStatus.ACCEPTED, OrderStatus.PENDING_NEW}
"""A submit's answer, before the venue acknowledges the order (the manual clock stands still)."""


def resting_buy(client_order_id: str) -> LimitOrderRequest:
    return LimitOrderRequest(
        symbol="AAPL",
        qty=1,
        side=OrderSide.BUY,
        time_in_force=TimeInForce.DAY,
        limit_price=1.00,
        client_order_id=client_order_id,
    )


def market_buy(symbol: str = "MSFT", qty: float = 1) -> MarketOrderRequest:
    return MarketOrderRequest(
        symbol=symbol, qty=qty, side=OrderSide.BUY, time_in_force=TimeInForce.DAY
    )


async def held(sim: SimServer, count: int) -> None:
    """Wait (bounded) until exactly `count` requests sit inside a delay or hang rule."""
    async with asyncio.timeout(WAIT_SECONDS):
        await sim.faults.wait_held(count)


def orders_with_client_id(sim: SimServer, client_order_id: str) -> list[dict[str, Any]]:
    orders = sim.venue.list_orders(status="all", limit=500)
    return [o for o in orders if o["client_order_id"] == client_order_id]


@pytest.mark.parametrize("status", [429, 500, 503, 504])
async def test_status_before_commits_nothing(trading: TradingClient, sim: SimServer, status: int):
    sim.faults.fail_next(status, method="POST", path="/v2/orders", phase="before")

    with pytest.raises(APIError) as caught:
        await asyncio.to_thread(trading.submit_order, resting_buy(f"before-{status}"))

    assert caught.value.status_code == status
    assert caught.value.code == status * 100000 + 10000
    assert orders_with_client_id(sim, f"before-{status}") == []
    # the rule was for one request only
    order = await asyncio.to_thread(trading.submit_order, resting_buy(f"again-{status}"))
    assert order.status in UNROUTED


async def test_status_after_commits_but_the_client_sees_the_error(
    trading: TradingClient, sim: SimServer
):
    sim.faults.fail_next(500, method="POST", path="/v2/orders", phase="after")

    with pytest.raises(APIError) as caught:
        await asyncio.to_thread(trading.submit_order, resting_buy("after-500"))

    assert caught.value.status_code == 500
    found = await asyncio.to_thread(trading.get_order_by_client_id, "after-500")
    assert found.status in UNROUTED


async def test_sdk_retry_of_a_504_after_commit_hits_the_duplicate_rule(sim: SimServer):
    """The documented hazard: alpaca-py retries 504 on POST /v2/orders by itself."""
    client = TradingClient(sim.api_key, sim.api_secret, url_override=sim.trading_url)
    client._retry, client._retry_wait = 1, 0
    sim.faults.fail_next(504, method="POST", path="/v2/orders", phase="after")

    with pytest.raises(APIError) as caught:
        await asyncio.to_thread(client.submit_order, resting_buy("retried"))

    assert (caught.value.status_code, caught.value.code) == (422, 40010001)
    assert len(orders_with_client_id(sim, "retried")) == 1
    posts = [r for r in sim.context.log.entries() if r["method"] == "POST"]
    assert [r["status"] for r in posts] == [504, 422]
    assert [r["client_order_id"] for r in posts] == ["retried", "retried"]


async def test_sdk_retry_of_a_504_before_commit_succeeds_once(sim: SimServer):
    client = TradingClient(sim.api_key, sim.api_secret, url_override=sim.trading_url)
    client._retry, client._retry_wait = 1, 0
    sim.faults.fail_next(504, method="POST", path="/v2/orders", phase="before")

    order = await asyncio.to_thread(client.submit_order, resting_buy("retried-ok"))

    assert order.status in UNROUTED
    assert len(orders_with_client_id(sim, "retried-ok")) == 1


async def test_fault_count_and_path_pattern(http: aiohttp.ClientSession, sim: SimServer):
    sim.faults.fail_next(503, count=2, method="GET", path="/v2/orders/*")
    order = sim.venue.submit_order(
        {
            "symbol": "AAPL",
            "qty": 1,
            "side": "buy",
            "type": "limit",
            "time_in_force": "day",
            "limit_price": "1",
        }
    )
    statuses = []
    for path in (
        "/v2/account",
        f"/v2/orders/{order['id']}",
        f"/v2/orders/{order['id']}",
        f"/v2/orders/{order['id']}",
    ):
        async with http.get(path) as response:
            statuses.append(response.status)
    assert statuses == [200, 503, 503, 200]


async def test_non_json_gateway_body(trading: TradingClient, sim: SimServer):
    sim.faults.fail_next(502, path="/v2/account", body="<html>Bad Gateway</html>")

    with pytest.raises(APIError) as caught:
        await asyncio.to_thread(trading.get_account)

    assert caught.value.status_code == 502
    assert str(caught.value) == "<html>Bad Gateway</html>"


async def test_slow_response_still_answers_and_does_not_block_others(
    http: aiohttp.ClientSession, sim: SimServer
):
    sim.faults.slow(60_000, path="/v2/account")
    slow = asyncio.create_task(http.get("/v2/account"))
    await held(sim, 1)

    async with http.get("/v2/clock") as response:
        assert response.status == 200
    assert not slow.done()
    slow.cancel()  # the client gives up: the server stops waiting for it
    await asyncio.gather(slow, return_exceptions=True)
    await held(sim, 0)

    sim.faults.slow(1, path="/v2/account")
    async with http.get("/v2/account") as response:
        assert response.status == 200
    assert sim.context.log.entries()[-1]["fault"] == "slow 1ms"


async def test_hang_until_cleared(http: aiohttp.ClientSession, sim: SimServer):
    sim.faults.hang(method="GET", path="/v2/account")
    hung = asyncio.create_task(http.get("/v2/account"))
    await held(sim, 1)

    async with http.get("/v2/clock") as response:
        assert response.status == 200
    assert not hung.done()

    sim.faults.clear()
    response = await asyncio.wait_for(hung, WAIT_SECONDS)
    assert response.status == 200
    response.release()


async def test_hang_ends_when_the_client_disconnects(sim: SimServer):
    sim.faults.hang(count=None, path="/v2/account")
    headers = {"APCA-API-KEY-ID": sim.api_key, "APCA-API-SECRET-KEY": sim.api_secret}
    async with aiohttp.ClientSession(sim.trading_url, headers=headers) as session:
        hung = asyncio.create_task(session.get("/v2/account"))
        await held(sim, 1)
        hung.cancel()
        await asyncio.gather(hung, return_exceptions=True)

    await held(sim, 0)


async def test_hang_after_commit_then_release(http: aiohttp.ClientSession, sim: SimServer):
    sim.faults.hang(method="POST", path="/v2/orders", phase="after")
    body = {
        "symbol": "AAPL",
        "qty": 1,
        "side": "buy",
        "type": "limit",
        "time_in_force": "day",
        "limit_price": 1.0,
        "client_order_id": "hung-after",
    }
    hung = asyncio.create_task(http.post("/v2/orders", json=body))
    await held(sim, 1)

    assert len(orders_with_client_id(sim, "hung-after")) == 1  # committed while hung

    sim.faults.clear()
    response = await asyncio.wait_for(hung, WAIT_SECONDS)
    assert response.status == 200
    assert (await response.json())["client_order_id"] == "hung-after"


@pytest.mark.parametrize("kind", ["hang", "slow"])
async def test_shutdown_releases_hung_and_slow_requests(kind: str):
    async with SimServer() as server:
        if kind == "hang":
            server.faults.hang(count=None)
        else:
            server.faults.slow(3_600_000)
        headers = {"APCA-API-KEY-ID": server.api_key, "APCA-API-SECRET-KEY": server.api_secret}
        async with aiohttp.ClientSession(server.trading_url, headers=headers) as session:
            hung = asyncio.create_task(session.get("/v2/account"))
            await held(server, 1)
            await server.stop()
            response = await asyncio.wait_for(hung, WAIT_SECONDS)
            assert response.status == 503
            response.release()


async def test_delayed_ack_keeps_the_order_pending_until_the_clock_passes(
    trading: TradingClient, sim: SimServer
):
    sim.faults.delay_acks(ack_ms=2000)

    order = await asyncio.to_thread(trading.submit_order, resting_buy("slow-ack"))
    assert order.status in (OrderStatus.PENDING_NEW, OrderStatus.ACCEPTED)

    sim.venue.clock.advance(2.0)
    acked = await asyncio.to_thread(trading.get_order_by_id, order.id)
    assert acked.status == OrderStatus.NEW


async def test_reject_next_order(trading: TradingClient, sim: SimServer):
    sim.faults.reject_next_order(
        403, 40310100, "trade denied due to pattern day trading protection"
    )

    with pytest.raises(APIError) as caught:
        await asyncio.to_thread(trading.submit_order, resting_buy("pdt"))

    assert (caught.value.status_code, caught.value.code) == (403, 40310100)
    assert orders_with_client_id(sim, "pdt") == []
    order = await asyncio.to_thread(trading.submit_order, resting_buy("after-pdt"))
    assert order.status in UNROUTED


@pytest.mark.parametrize(
    ("bid", "ask", "expected_bid", "expected_ask"),
    [
        ("101.00", "100.00", Decimal("101"), Decimal("100")),  # crossed
        (None, "100.00", Decimal(0), Decimal("100")),  # one-sided
        ("0", "0", Decimal(0), Decimal(0)),  # zero
    ],
)
async def test_scripted_bad_quotes_reach_the_data_client(
    market_data: StockHistoricalDataClient,
    sim: SimServer,
    bid: str | None,
    ask: str,
    expected_bid: Decimal,
    expected_ask: Decimal,
):
    sim.faults.script_quote("AAPL", bid=bid, ask=ask)

    quotes = await asyncio.to_thread(
        market_data.get_stock_latest_quote, StockLatestQuoteRequest(symbol_or_symbols="AAPL")
    )

    assert Decimal(str(quotes["AAPL"].bid_price)) == expected_bid
    assert Decimal(str(quotes["AAPL"].ask_price)) == expected_ask


async def test_stale_quote_is_old(market_data: StockHistoricalDataClient, sim: SimServer):
    sim.faults.script_quote("AAPL", bid="100.00", ask="100.02", age_seconds=120)

    quotes = await asyncio.to_thread(
        market_data.get_stock_latest_quote, StockLatestQuoteRequest(symbol_or_symbols="AAPL")
    )

    age = sim.venue.clock.now() - quotes["AAPL"].timestamp
    assert age.total_seconds() == pytest.approx(120)


async def test_halted_symbol_accepts_orders_that_never_fill(trading: TradingClient, sim: SimServer):
    sim.faults.halt("MSFT")
    order = await asyncio.to_thread(trading.submit_order, market_buy("MSFT"))
    sim.venue.clock.advance(600)

    after = await asyncio.to_thread(trading.get_order_by_id, order.id)
    assert after.status == OrderStatus.NEW
    assert Decimal(after.filled_qty) == 0

    sim.faults.halt("MSFT", halted=False)
    sim.venue.clock.advance(1)
    resumed = await asyncio.to_thread(trading.get_order_by_id, order.id)
    assert resumed.status == OrderStatus.FILLED


async def test_fill_races_a_cancel(
    trading: TradingClient, sim: SimServer, settle: Callable[[], Awaitable[object]]
):
    order = await asyncio.to_thread(trading.submit_order, resting_buy("race"))
    await settle()  # working at the venue: only a live order can be filled by the race
    sim.faults.race_fill_on_next_cancel("AAPL")

    await asyncio.to_thread(trading.cancel_order_by_id, order.id)

    after = await asyncio.to_thread(trading.get_order_by_id, order.id)
    assert after.status == OrderStatus.FILLED
    assert Decimal(after.filled_qty) == 1
