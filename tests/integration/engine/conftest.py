"""The engine against an in-process SimServer running at real speed, through AlpacaBroker."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from engine_support import SEED, EngineHarness

from alpaca_sim.server import SimServer


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with SimServer(seed=SEED, speed=1.0) as server:
        yield server


@pytest.fixture
def harness(sim: SimServer) -> EngineHarness:
    return EngineHarness(sim)
