"""An event loop whose clock a test moves forward, so that a deadline comes when the test says
so, not when a loaded machine happens to get there.

The loop's time is the monotonic clock plus an offset that only grows: real time passes as
usual, and `SteppableClock.advance_to` adds the rest. Every asyncio timer (`asyncio.wait_for`,
`asyncio.timeout`, `asyncio.sleep`) reads this time, so a jump fires every timer it passes,
as if that much time had gone by. Threads and other processes keep real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


class SteppableClock:
    """Monotonic seconds plus what the test added."""

    def __init__(self) -> None:
        self._added = 0.0

    def now(self) -> float:
        return time.monotonic() + self._added

    def advance_to(self, instant: float) -> None:
        """Jump to `instant` (a reading of `now`); an instant already passed changes nothing."""
        self._added += max(instant - self.now(), 0.0)


class SteppableLoop(asyncio.SelectorEventLoop):
    """A selector event loop that reads its time from a `SteppableClock`."""

    def __init__(self, clock: SteppableClock | None = None) -> None:
        super().__init__()
        self.clock = clock or SteppableClock()

    def time(self) -> float:
        return self.clock.now()


def running_steppable_loop() -> SteppableLoop:
    loop = asyncio.get_running_loop()
    assert isinstance(loop, SteppableLoop), f"not a steppable loop: {loop!r}"
    return loop


def run_on_steppable_loop(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on a new steppable loop."""
    with asyncio.Runner(loop_factory=SteppableLoop) as runner:
        return runner.run(main)


class _SteppablePolicy(asyncio.DefaultEventLoopPolicy):
    def __init__(self, clock: SteppableClock) -> None:
        super().__init__()
        self._clock = clock

    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        if threading.current_thread() is threading.main_thread():
            return SteppableLoop(self._clock)
        return super().new_event_loop()


@contextlib.contextmanager
def steppable_event_loops(clock: SteppableClock) -> Iterator[None]:
    """Meanwhile every loop made on the main thread (`asyncio.run` in code under test) runs on
    `clock`; loops of other threads (a simulator's) keep real time."""
    previous = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(_SteppablePolicy(clock))
    try:
        yield
    finally:
        asyncio.set_event_loop_policy(previous)
