"""aclose(): HTTP sessions and threads released on every path, idempotent, and final."""

import asyncio
import random
import threading

import pytest
from broker_helpers import (
    WAIT_S,
    CountingLimiter,
    RecordedSleeps,
    client_tasks_since,
    config_for,
    resting_buy,
)

from alpaca_sim.server import SimServer
from plan_executor.adapters.alpaca_broker import AlpacaBroker
from plan_executor.ports import BrokerError


def http_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("alpaca-http")]


def new_broker(sim: SimServer, **overrides: object) -> AlpacaBroker:
    return AlpacaBroker(
        config_for(sim, **overrides),
        limiter=CountingLimiter(),
        rng=random.Random(1),
        sleep=RecordedSleeps(),
    )


async def test_aclose_leaves_no_thread_and_no_task(sim: SimServer) -> None:
    before = asyncio.all_tasks()
    broker = new_broker(sim)
    await asyncio.gather(broker.account(), broker.positions(), broker.clock())
    assert http_threads() != []

    await broker.aclose()

    assert http_threads() == []
    assert client_tasks_since(before) == set()


async def test_aclose_is_idempotent_and_final(sim: SimServer) -> None:
    broker = new_broker(sim)
    await broker.clock()

    await broker.aclose()
    await broker.aclose()

    with pytest.raises(BrokerError, match="closed"):
        await broker.clock()
    with pytest.raises(BrokerError, match="closed"):
        await broker.submit(resting_buy("l-AAPL-b-1"))


async def test_aclose_of_an_unused_broker(sim: SimServer) -> None:
    broker = new_broker(sim)

    await broker.aclose()

    assert http_threads() == []


async def test_a_caller_cut_off_by_its_deadline_does_not_leave_a_thread_behind(
    sim: SimServer,
) -> None:
    broker = new_broker(sim, http_timeout_s=0.3, retry_attempts=1)
    sim.faults.hang(count=None, path="/v2/account")
    call = asyncio.create_task(broker.account())
    async with asyncio.timeout(WAIT_S):
        await sim.faults.wait_held(1)  # the request is parked in the simulator

    call.cancel()  # an outer deadline: the caller stops waiting at once
    await asyncio.wait({call})
    await broker.aclose()  # waits for the thread, itself bounded by the HTTP timeout
    sim.faults.clear()

    assert call.cancelled()
    assert http_threads() == []
