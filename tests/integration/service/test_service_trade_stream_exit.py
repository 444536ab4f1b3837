"""Every invocation ends: leaving the trade stream while messages are still arriving must stop it.

Found by the service runs, which hung now and then after the cleanup phase: alpaca-py's receive
loop reads with `asyncio.wait_for(ws.recv(), 5)`, and on Python 3.11 a cancel that lands when
`recv` has just completed is swallowed, so the loop went on reading forever. A marketable order
acknowledged and filled within one move of the sim's manual clock (past its ack and execution
delays) makes the sim send `new` and `fill` back to back; leaving right after the first one puts
the cancel in that window (about half the time), so a few rounds show the hang reliably.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from tests.support.sim_clock import SETTLE_SECONDS

from alpaca_sim.server import SimServer
from plan_executor.adapters.alpaca_broker import AlpacaBroker
from plan_executor.adapters.alpaca_config import AlpacaConfig, Secret
from plan_executor.domain.enums import OrderType, Side
from plan_executor.domain.money import Shares
from plan_executor.ports import OrderRequest

ROUNDS = 8
WAIT_S = 30.0
"""Hang guard on each step (each takes milliseconds); a stream that does not stop never returns
from leaving it."""


class _NoLimit:
    async def acquire(self) -> None:
        return None


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with SimServer(seed=3) as server:
        yield server


@pytest.fixture
async def broker(sim: SimServer) -> AsyncIterator[AlpacaBroker]:
    config = AlpacaConfig(
        key_id=sim.api_key,
        secret_key=Secret(sim.api_secret),
        trading_url=sim.trading_url,
        data_url=sim.data_url,
        stream_url=sim.stream_url,
        stream_close_timeout_s=0.5,
    )
    adapter = AlpacaBroker(config, limiter=_NoLimit(), rng=random.Random(1))
    try:
        yield adapter
    finally:
        await adapter.aclose()


async def test_leaving_the_stream_as_a_message_arrives_stops_it(
    sim: SimServer, broker: AlpacaBroker
) -> None:
    for round_number in range(1, ROUNDS + 1):
        subscription = broker.trade_events()
        async with asyncio.timeout(WAIT_S):
            feed = await subscription.__aenter__()
            order = OrderRequest(
                f"x{round_number}-MSFT-b-1", "MSFT", Side.BUY, OrderType.MARKET, Shares(Decimal(1))
            )
            await broker.submit(order)
            sim.venue.clock.advance(SETTLE_SECONDS)  # the ack and the fill, in one tick
            sim.venue.tick()
            await anext(feed)
            await asyncio.sleep(0)  # the next message's read completes in this turn
        try:
            async with asyncio.timeout(WAIT_S):
                await subscription.aclose()
        except TimeoutError:
            pytest.fail(f"round {round_number}: the trade stream did not stop when left")
