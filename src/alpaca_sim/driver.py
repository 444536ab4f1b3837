"""Background task that keeps the market moving when the sim clock follows wall time.

With a running clock (speed > 0) resting orders must fill and day orders expire even when no
request arrives. The driver sleeps until the venue's next due instant (an ack, a fill, an expiry,
a market step, a flow arrival) and ticks then; every venue operation wakes it to re-plan, since
a call may schedule something sooner. It does not poll: an idle sim costs no CPU, and a due
update is published at its instant. The outcome does not depend on when ticks happen (the venue
replays everything due in time order), only the wall time at which updates go out.

With the manual clock (speed == 0, the tests' default) it never ticks: time moves only through
the control API, whose calls tick the venue themselves. No sleep lasts longer than
max(interval, MIN_IDLE_SECONDS), so a clock speed changed directly (not through the venue) is
still seen; `interval` also paces the retries after a failed tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

    from alpaca_sim.clock import SimClock

log = logging.getLogger(__name__)

MIN_IDLE_SECONDS = 0.25
"""The longest sleep is max(interval, this): a short interval must not turn into polling."""


class DrivenVenue(Protocol):
    @property
    def clock(self) -> SimClock: ...

    def tick(self) -> None: ...

    def seconds_until_due(self) -> float | None: ...

    def watch(self, callback: Callable[[], None]) -> Callable[[], None]: ...


class ClockDriver:
    def __init__(self, venue: DrivenVenue, *, interval: float = 0.05) -> None:
        self._venue = venue
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._unwatch: Callable[[], None] | None = None
        self.ticks = 0

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._task is None:
            self._loop = asyncio.get_running_loop()
            self._loop_thread = threading.get_ident()
            self._unwatch = self._venue.watch(self._venue_changed)
            self._task = asyncio.create_task(self._run(), name="alpaca-sim-clock-driver")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None
        if task is None:
            return
        task.cancel()
        await asyncio.wait({task})

    async def _run(self) -> None:
        failed = False
        while True:
            woken = await self._sleep(self._interval if failed else self._seconds_to_next_tick())
            self._wake.clear()
            if woken:
                continue  # a venue call ticked the book itself: only the plan may change
            failed = self._venue.clock.speed > 0 and not self.tick_once()
            self._wake.clear()  # the tick's own notification needs no re-plan

    def _seconds_to_next_tick(self) -> float:
        longest = max(self._interval, MIN_IDLE_SECONDS)
        due = self._venue.seconds_until_due()
        return longest if due is None else min(due, longest)

    async def _sleep(self, seconds: float) -> bool:
        """Sleep `seconds`; True if a venue operation cut the sleep short."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return False
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()
                return True
        return False

    def _venue_changed(self) -> None:
        if threading.get_ident() == self._loop_thread:
            self._wake.set()
        elif self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    def tick_once(self) -> bool:
        """One tick; False if it failed (logged: one bad tick must not stop the market)."""
        try:
            self._venue.tick()
        except Exception:
            log.exception("alpaca_sim: venue.tick() failed")
            return False
        self.ticks += 1
        return True
