"""The engine against an in-process SimServer running at real speed, through AlpacaBroker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from engine_support import SEED, EngineHarness

from alpaca_sim import default_scenario
from alpaca_sim.server import SimServer


@pytest.fixture
async def sim(request: pytest.FixtureRequest) -> AsyncIterator[SimServer]:
    """The default scenario, with the fields an indirect parameter names replaced."""
    scenario = replace(default_scenario(), **getattr(request, "param", {}))
    async with SimServer(scenario, seed=SEED, speed=1.0) as server:
        yield server


@pytest.fixture
def harness(sim: SimServer) -> EngineHarness:
    return EngineHarness(sim)
