"""AlpacaBroker against an in-process SimServer, through the real alpaca-py SDK."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest
from broker_helpers import BACKOFF_SEED, CountingLimiter, RecordedSleeps, config_for

from alpaca_sim.server import SimServer
from plan_executor.adapters.alpaca_broker import AlpacaBroker


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with SimServer(seed=3) as server:
        yield server


@pytest.fixture
def limiter() -> CountingLimiter:
    return CountingLimiter()


@pytest.fixture
def sleeps() -> RecordedSleeps:
    return RecordedSleeps()


@pytest.fixture
async def broker(
    sim: SimServer, limiter: CountingLimiter, sleeps: RecordedSleeps
) -> AsyncIterator[AlpacaBroker]:
    adapter = AlpacaBroker(
        config_for(sim), limiter=limiter, rng=random.Random(BACKOFF_SEED), sleep=sleeps
    )
    yield adapter
    await adapter.aclose()
