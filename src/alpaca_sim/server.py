"""In-process server: `async with SimServer() as sim:` on an ephemeral loopback port."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

from aiohttp import web

from alpaca_sim.app import build_app
from alpaca_sim.clock import SimClock
from alpaca_sim.context import SimContext
from alpaca_sim.driver import ClockDriver
from alpaca_sim.faults import FaultInjector
from alpaca_sim.ratelimit import RateLimiter
from alpaca_sim.requestlog import RequestLog
from alpaca_sim.scenario import Scenario, default_scenario
from alpaca_sim.stream import StreamHub
from alpaca_sim.venue import Venue

SHUTDOWN_TIMEOUT_SECONDS = 2.0


class SimServer:
    def __init__(
        self,
        scenario: Scenario | None = None,
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        speed: float | None = None,
        tick_interval: float = 0.05,
        wall: Callable[[], float] = time.time,
    ) -> None:
        chosen = scenario if scenario is not None else default_scenario()
        self._host = host
        self._requested_port = port
        self.venue = Venue(chosen, seed=seed, clock=_clock_for(chosen, speed))
        self.hub = StreamHub(self.venue, self._credentials, limit=chosen.stream_limit)
        self.faults = FaultInjector(self.venue, self.hub)
        self.limiter = RateLimiter(
            chosen.rate_limit_per_min, enabled=chosen.rate_limit_enabled, wall=wall
        )
        self.context = SimContext(
            venue=self.venue,
            faults=self.faults,
            limiter=self.limiter,
            hub=self.hub,
            log=RequestLog(),
            api_key=chosen.api_key,
            api_secret=chosen.api_secret,
        )
        self.driver = ClockDriver(self.venue, interval=tick_interval)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    @property
    def api_key(self) -> str:
        return self.context.api_key

    @property
    def api_secret(self) -> str:
        return self.context.api_secret

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("SimServer is not running")
        return self._port

    @property
    def trading_url(self) -> str:
        """For TradingClient(url_override=...): scheme, host and port, no /v2."""
        return f"http://{self._host}:{self.port}"

    @property
    def data_url(self) -> str:
        return self.trading_url

    @property
    def stream_url(self) -> str:
        return f"ws://{self._host}:{self.port}/stream"

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("SimServer already started")
        runner = web.AppRunner(
            build_app(self.context),
            handler_cancellation=True,  # a client that gives up on a hung request frees it
            shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS,
            access_log=None,
        )
        await runner.setup()
        self._runner = runner
        try:
            site = web.TCPSite(runner, self._host, self._requested_port)
            await site.start()
            self._port = int(runner.addresses[0][1])
            self.hub.attach()
            self.driver.start()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Release hung requests, close websockets, stop the driver, then the server."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        await self.driver.stop()
        self.faults.shutdown()
        await self.hub.close_all()
        await runner.cleanup()
        self._port = None

    def _credentials(self) -> tuple[str, str]:
        return self.context.credentials()


def _clock_for(scenario: Scenario, speed: float | None) -> SimClock | None:
    """A wall-following clock when a speed is asked for; else the venue's own (manual) clock."""
    if speed is None:
        return None
    return SimClock(scenario.clock.start, speed=speed)
