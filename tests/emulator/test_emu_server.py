"""SimServer lifecycle and the clock driver."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
import pytest

from alpaca_sim.driver import ClockDriver
from alpaca_sim.server import SimServer

WAIT_SECONDS = 30.0
"""Hang guard: what is awaited happens within milliseconds."""


async def test_urls_need_a_running_server():
    server = SimServer()
    with pytest.raises(RuntimeError):
        _ = server.trading_url
    async with server:
        assert server.trading_url.startswith("http://127.0.0.1:")
        assert not server.trading_url.endswith("/v2")
        assert server.data_url == server.trading_url
        assert server.stream_url == f"ws://127.0.0.1:{server.port}/stream"
    with pytest.raises(RuntimeError):
        _ = server.port


async def test_exit_leaves_no_tasks_behind_even_with_a_hung_request_and_a_websocket():
    before = asyncio.all_tasks()
    async with aiohttp.ClientSession() as session:
        async with SimServer() as server:
            server.faults.hang(count=None)
            headers = {"APCA-API-KEY-ID": server.api_key, "APCA-API-SECRET-KEY": server.api_secret}
            hung = asyncio.create_task(
                session.get(f"{server.trading_url}/v2/account", headers=headers)
            )
            connection = await session.ws_connect(server.stream_url)
            async with asyncio.timeout(WAIT_SECONDS):
                await server.faults.wait_held(1)
        response = await asyncio.wait_for(hung, WAIT_SECONDS)
        response.release()
        await connection.close()

    assert response.status == 503
    assert asyncio.all_tasks() - before == set()


async def test_the_driver_moves_a_running_clock_without_requests():
    async with SimServer(speed=100_000, tick_interval=0.01) as server:
        expired = asyncio.Event()
        server.venue.subscribe(lambda u: expired.set() if u["event"] == "expired" else None)
        server.venue.submit_order(
            {
                "symbol": "AAPL",
                "qty": "1",
                "side": "buy",
                "type": "limit",
                "time_in_force": "day",
                "limit_price": "1.00",
            }
        )

        async with asyncio.timeout(WAIT_SECONDS):
            await expired.wait()  # the close passed and nobody sent a request

        assert server.driver.ticks > 0


@dataclass
class FakeClock:
    speed: float = 0.0


@dataclass
class FakeVenue:
    clock: FakeClock = field(default_factory=FakeClock)
    ticks: int = 0
    fail: bool = False

    def tick(self) -> None:
        self.ticks += 1
        if self.fail:
            raise RuntimeError("boom")

    def seconds_until_due(self) -> float:
        return 0.0  # always something due: the driver ticks on every turn once the clock runs

    def watch(self, callback: Callable[[], None]) -> Callable[[], None]:
        return lambda: None


async def let_driver_run(turns: int = 20) -> None:
    for _ in range(turns):
        await asyncio.sleep(0)  # interval 0: each turn lets the driver loop once


async def test_driver_is_idle_on_the_manual_clock_and_survives_failing_ticks(
    caplog: pytest.LogCaptureFixture,
):
    venue = FakeVenue()
    driver = ClockDriver(venue, interval=0)  # type: ignore[arg-type]
    driver.start()
    try:
        await let_driver_run()
        assert venue.ticks == 0

        venue.clock.speed = 60.0
        venue.fail = True
        await let_driver_run()
        assert venue.ticks > 1  # kept ticking after the first failure
        assert "venue.tick() failed" in caplog.text
        assert driver.running
    finally:
        await driver.stop()
    assert not driver.running


async def test_the_driver_sleeps_until_due_and_publishes_a_delayed_fill_unasked():
    async with SimServer(speed=1.0, tick_interval=0.001) as server:
        await asyncio.sleep(0.02)  # twenty polling intervals: a polling driver would tick
        assert server.driver.ticks == 0  # nothing is due, so the driver has not woken

        filled = asyncio.Event()
        server.venue.subscribe(lambda u: filled.set() if u["event"] == "fill" else None)
        server.venue.set_latency(ack_ms=0, fill_ms=30)
        order = server.venue.submit_order(
            {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"}
        )
        assert order["status"] == "new"  # acknowledged; may fill only after the fill latency

        async with asyncio.timeout(WAIT_SECONDS):
            await filled.wait()  # published by the driver at the due instant, no request sent

        assert server.venue.get_order(order["id"])["status"] == "filled"
