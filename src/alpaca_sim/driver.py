"""Background task that keeps the market moving when the sim clock follows wall time.

With a running clock (speed > 0) resting orders must fill and day orders expire even when no
request arrives, so the driver calls venue.tick() every `interval` wall seconds. With the manual
clock (speed == 0, the tests' default) it does nothing: time moves only through the control API.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alpaca_sim.venue import Venue

log = logging.getLogger(__name__)


class ClockDriver:
    def __init__(self, venue: Venue, *, interval: float = 0.05) -> None:
        self._venue = venue
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self.ticks = 0

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="alpaca-sim-clock-driver")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        await asyncio.wait({task})

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            if self._venue.clock.speed > 0:
                self.tick_once()

    def tick_once(self) -> None:
        try:
            self._venue.tick()
            self.ticks += 1
        except Exception:
            # One bad tick must not stop the market; it is logged and the next tick retries.
            log.exception("alpaca_sim: venue.tick() failed")
