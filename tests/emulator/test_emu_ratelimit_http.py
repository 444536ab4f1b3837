"""Rate limiting over HTTP: 429 with Alpaca's body and headers, switches, /_sim/reset."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from alpaca.common.exceptions import APIError
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.requests import StockLatestQuoteRequest
from alpaca.trading.client import TradingClient

RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


async def statuses(http: aiohttp.ClientSession, path: str, count: int) -> list[int]:
    result = []
    for _ in range(count):
        async with http.get(path) as response:
            result.append(response.status)
    return result


async def test_over_the_limit_is_429_with_headers(http: aiohttp.ClientSession, control):
    await control("POST", "ratelimit", {"per_minute": 3})

    seen = []
    for _ in range(4):
        async with http.get("/v2/account") as response:
            seen.append((response.status, {h: response.headers[h] for h in RATE_HEADERS}))
            body = await response.json()

    assert [status for status, _ in seen] == [200, 200, 200, 429]
    assert [h["X-RateLimit-Remaining"] for _, h in seen] == ["2", "1", "0", "0"]
    assert {h["X-RateLimit-Limit"] for _, h in seen} == {"3"}
    assert int(seen[-1][1]["X-RateLimit-Reset"]) >= int(seen[0][1]["X-RateLimit-Reset"])
    assert body == {"code": 42910000, "message": "rate limit exceeded"}


async def test_alpaca_py_sees_the_429(trading: TradingClient, control):
    await control("POST", "ratelimit", {"per_minute": 1})
    await asyncio.to_thread(trading.get_clock)

    with pytest.raises(APIError) as caught:
        await asyncio.to_thread(trading.get_clock)

    assert (caught.value.status_code, caught.value.code) == (429, 42910000)


async def test_market_data_has_its_own_budget(
    http: aiohttp.ClientSession, market_data: StockHistoricalDataClient, control
):
    await control("POST", "ratelimit", {"per_minute": 1})
    assert await statuses(http, "/v2/account", 2) == [200, 429]

    quotes = await asyncio.to_thread(
        market_data.get_stock_latest_quote, StockLatestQuoteRequest(symbol_or_symbols="AAPL")
    )
    assert "AAPL" in quotes


async def test_switched_off_and_reset_restores_the_scenario_limit(
    http: aiohttp.ClientSession, control
):
    await control("POST", "ratelimit", {"enabled": False, "per_minute": 1})
    assert await statuses(http, "/v2/clock", 5) == [200] * 5

    await control("POST", "ratelimit", {"enabled": True})
    assert await statuses(http, "/v2/clock", 2) == [200, 429]

    await control("POST", "reset", {"scenario": "default"})
    async with http.get("/v2/clock") as response:
        assert response.status == 200
        assert response.headers["X-RateLimit-Limit"] == "200"
        assert response.headers["X-RateLimit-Remaining"] == "199"


async def test_control_api_is_not_rate_limited(http: aiohttp.ClientSession, control):
    await control("POST", "ratelimit", {"per_minute": 1})
    for _ in range(3):
        await control("GET", "state")


async def test_bad_ratelimit_settings_are_400(http: aiohttp.ClientSession):
    for body in ({"per_minute": 0}, {"per_minute": "many"}, {"enabled": "yes"}):
        async with http.post("/_sim/ratelimit", json=body) as response:
            assert response.status == 400
            assert "message" in await response.json()
