"""Helpers for the AlpacaBroker tests against SimServer (the fixtures are in conftest.py)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal

from tests.support.sim_clock import settle_server

from alpaca_sim.server import SimServer
from plan_executor.adapters.alpaca_config import AlpacaConfig, Secret
from plan_executor.domain.enums import OrderType, Side
from plan_executor.domain.money import Price, Shares
from plan_executor.ports import OrderRequest

BACKOFF_SEED = 5
WAIT_S = 30.0
"""Hang guard on awaiting what the sim does in milliseconds (an event, a held request)."""
HEALTHY_CALL_BOUND_S = 10.0
"""HTTP and stream-connect timeout where the sim is meant to answer: far above its milliseconds,
so a loaded machine cannot turn a healthy call into a timeout (tests of timeouts set their own)."""


settle = settle_server
"""Move a manual-clock sim past the venue's drawn delays (tests/support/sim_clock.py)."""


class CountingLimiter:
    """A RateLimiter that never waits and counts the tokens taken."""

    def __init__(self) -> None:
        self.acquired = 0

    async def acquire(self) -> None:
        self.acquired += 1


class RecordedSleeps:
    """The broker's injected sleep: records each backoff, then yields without waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


def config_for(sim: SimServer, **overrides: object) -> AlpacaConfig:
    base = AlpacaConfig(
        key_id=sim.api_key,
        secret_key=Secret(sim.api_secret),
        trading_url=sim.trading_url,
        data_url=sim.data_url,
        stream_url=sim.stream_url,
        http_timeout_s=HEALTHY_CALL_BOUND_S,
        retry_attempts=3,
        backoff_base_s=0.01,
        backoff_cap_s=0.04,
        stream_connect_timeout_s=HEALTHY_CALL_BOUND_S,
        stream_close_timeout_s=0.5,
        stream_reconnect_min_s=0.05,
        stream_reconnect_max_s=0.2,
    )
    return replace(base, **overrides)


def api_requests(sim: SimServer, method: str, path: str) -> list[dict[str, object]]:
    return [
        entry
        for entry in sim.context.log.entries()
        if entry["method"] == method and entry["path"] == path
    ]


def sim_orders(sim: SimServer, client_order_id: str) -> list[dict[str, object]]:
    orders = sim.venue.list_orders(status="all", limit=500)
    return [order for order in orders if order["client_order_id"] == client_order_id]


def market(
    client_order_id: str, symbol: str = "AAPL", qty: str = "1.5", side: Side = Side.BUY
) -> OrderRequest:
    return OrderRequest(client_order_id, symbol, side, OrderType.MARKET, Shares(Decimal(qty)))


def resting_buy(client_order_id: str, symbol: str = "AAPL", qty: str = "2") -> OrderRequest:
    """A limit far below the market: stays open."""
    return OrderRequest(
        client_order_id,
        symbol,
        Side.BUY,
        OrderType.LIMIT,
        Shares(Decimal(qty)),
        Price(Decimal("1.00")),
    )


def client_tasks_since(before: set[asyncio.Task[object]]) -> set[str]:
    """Tasks started since `before` on the client side (the in-process server's own connection
    handlers are left out: they are the simulator's business)."""
    server_side = ("/aiohttp/", "/alpaca_sim/")
    return {
        f"{task.get_name()}: {task.get_coro()!r}"
        for task in asyncio.all_tasks() - before
        if not any(part in task.get_coro().cr_code.co_filename for part in server_side)  # type: ignore[union-attr]
    }
