"""In-process SimServer fixtures and real alpaca-py clients pointed at it.

alpaca-py's REST clients block, so tests call them through `asyncio.to_thread` while the server
runs on the test's event loop. SDK retries are switched off (`_retry = 0`, the attribute in
alpaca/common/rest.py) so 429/504 surface at once instead of after 3 x 3 s sleeps.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.trading.client import TradingClient
from tests.support.sim_clock import SETTLE_SECONDS

from alpaca_sim.server import SimServer


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with SimServer(seed=7) as server:
        yield server


@pytest.fixture
def trading(sim: SimServer) -> TradingClient:
    client = TradingClient(sim.api_key, sim.api_secret, paper=True, url_override=sim.trading_url)
    client._retry = 0
    return client


@pytest.fixture
def market_data(sim: SimServer) -> StockHistoricalDataClient:
    client = StockHistoricalDataClient(sim.api_key, sim.api_secret, url_override=sim.data_url)
    client._retry = 0
    return client


@pytest.fixture
async def http(sim: SimServer) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"APCA-API-KEY-ID": sim.api_key, "APCA-API-SECRET-KEY": sim.api_secret}
    async with aiohttp.ClientSession(sim.trading_url, headers=headers) as session:
        yield session


@pytest.fixture
def control(http: aiohttp.ClientSession) -> Callable[..., Any]:
    """POST/GET/DELETE a /_sim/ control endpoint and return the decoded JSON."""

    async def call(method: str, path: str, body: object = None) -> Any:
        async with http.request(method, f"/_sim/{path}", json=body) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    return call


@pytest.fixture
def settle(control: Callable[..., Any]) -> Callable[[], Awaitable[object]]:
    """Advance the manual sim clock (through the control API) past the venue's longest ack and
    execution delay: what was sent before has been acknowledged, and executed or canceled as
    far as the market allows, as a real venue does some milliseconds after the answer."""

    def advance() -> Awaitable[object]:
        return control("POST", "clock", {"advance": SETTLE_SECONDS})

    return advance
