"""HTTP details every endpoint shares: headers, auth, query and body parsing, request log."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import aiohttp
import pytest
from alpaca.data.enums import DataFeed
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.requests import StockLatestQuoteRequest

from alpaca_sim.server import SimServer

RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def order_body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "symbol": "AAPL",
        "qty": 1,
        "side": "buy",
        "type": "limit",
        "time_in_force": "day",
        "limit_price": 1.0,
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/v2/account", 200),
        ("GET", "/v2/orders/00000000-0000-4000-8000-000000000000", 404),
        ("GET", "/v2/orders/nope", 422),
        ("GET", "/v2/no-such-endpoint", 404),
        ("POST", "/v2/clock", 405),
        ("DELETE", "/v2/orders", 207),
    ],
)
async def test_every_api_response_carries_rate_and_request_id_headers(
    http: aiohttp.ClientSession, method: str, path: str, expected: int
):
    async with http.request(method, path) as response:
        assert response.status == expected
        assert all(h in response.headers for h in RATE_HEADERS)
        assert response.headers["X-Request-ID"]
        body = await response.json()
        if expected >= 400:
            assert isinstance(body["code"], int)


async def test_unauthorized_also_carries_headers(sim: SimServer):
    async with (
        aiohttp.ClientSession(sim.trading_url) as session,
        session.get("/v2/account", headers={"APCA-API-KEY-ID": sim.api_key}) as response,
    ):
        assert response.status == 401
        assert await response.json() == {"message": "unauthorized"}
        assert all(h in response.headers for h in RATE_HEADERS)


async def test_request_ids_are_distinct(http: aiohttp.ClientSession):
    ids = set()
    for _ in range(3):
        async with http.get("/v2/clock") as response:
            ids.add(response.headers["X-Request-ID"])
    assert len(ids) == 3


async def test_numbers_as_strings_or_json_numbers(http: aiohttp.ClientSession):
    for body in (order_body(qty="2", limit_price="1.25"), order_body(qty=2, limit_price=1.25)):
        async with http.post("/v2/orders", json=body) as response:
            order = await response.json()
            assert response.status == 200, order
            assert (order["qty"], order["limit_price"]) == ("2", "1.25")


async def test_malformed_json_body_is_400(http: aiohttp.ClientSession):
    for raw in ("{not json", "[1, 2]"):
        async with http.post(
            "/v2/orders", data=raw, headers={"Content-Type": "application/json"}
        ) as response:
            assert response.status == 400
            assert (await response.json())["code"] == 40010000


@pytest.mark.parametrize("nested", ["True", "true", "TRUE", "False", "false"])
async def test_query_booleans_any_case(http: aiohttp.ClientSession, nested: str):
    async with http.get("/v2/orders", params={"status": "all", "nested": nested}) as response:
        assert response.status == 200


async def test_invalid_query_values_are_422(http: aiohttp.ClientSession):
    for params in ({"nested": "yes"}, {"limit": "ten"}):
        async with http.get("/v2/orders", params=params) as response:
            assert response.status == 422
            assert (await response.json())["code"] == 40010001


async def test_comma_joined_symbols_filter(http: aiohttp.ClientSession):
    for symbol in ("AAPL", "MSFT", "NVDA"):
        async with http.post("/v2/orders", json=order_body(symbol=symbol)):
            pass
    params = {"status": "open", "symbols": "AAPL,NVDA"}
    async with http.get("/v2/orders", params=params) as response:
        assert sorted(o["symbol"] for o in await response.json()) == ["AAPL", "NVDA"]


async def test_request_log_records_method_path_query_status_and_client_order_id(
    http: aiohttp.ClientSession, sim: SimServer, control
):
    async with http.post("/v2/orders", json=order_body(client_order_id="logged-1")):
        pass
    async with http.get("/v2/orders", params={"status": "all"}):
        pass

    state = await control("GET", "state")

    post, listing = state["requests"][-2:]
    assert post["method"] == "POST"
    assert post["path"] == "/v2/orders"
    assert post["status"] == 200
    assert post["client_order_id"] == "logged-1"
    assert post["time"] == sim.venue.clock.now().isoformat()  # sim time, not wall time
    assert listing["query"] == {"status": "all"}
    assert "client_order_id" not in listing


async def test_latest_quotes_through_the_data_client(
    market_data: StockHistoricalDataClient, sim: SimServer
):
    quotes = await asyncio.to_thread(
        market_data.get_stock_latest_quote,
        StockLatestQuoteRequest(symbol_or_symbols=["AAPL", "MSFT"], feed=DataFeed.IEX),
    )

    assert set(quotes) == {"AAPL", "MSFT"}
    for quote in quotes.values():
        assert 0 < Decimal(str(quote.bid_price)) < Decimal(str(quote.ask_price))
        assert quote.bid_size > 0
        assert quote.ask_size > 0
        assert quote.timestamp <= sim.venue.clock.now()


async def test_latest_quotes_needs_symbols(http: aiohttp.ClientSession):
    async with http.get("/v2/stocks/quotes/latest") as response:
        assert response.status == 400
