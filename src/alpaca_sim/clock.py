"""Injectable simulation time."""

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


def require_aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at.isoformat()}: the simulator needs tz-aware times")
    return at.astimezone(UTC)


class SimClock:
    """Manual by default: time moves only by set()/advance(). With speed > 0 it follows the
    injected wall clock, scaled by `speed`, from the last anchor."""

    def __init__(
        self,
        start: datetime,
        *,
        speed: float = 0.0,
        wall: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self._wall = wall
        self._anchor = require_aware(start)
        self._anchor_wall = wall()
        self._speed = speed

    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        if value < 0:
            raise ValueError("speed must be >= 0")
        self._reanchor(self.now())
        self._speed = value

    def now(self) -> datetime:
        if self._speed == 0:
            return self._anchor
        elapsed = (self._wall() - self._anchor_wall) * self._speed
        return self._anchor + timedelta(seconds=elapsed)

    def set(self, at: datetime) -> None:
        self._reanchor(require_aware(at))

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("advance() takes a non-negative number of seconds")
        self._reanchor(self.now() + timedelta(seconds=seconds))

    def _reanchor(self, at: datetime) -> None:
        self._anchor = at
        self._anchor_wall = self._wall()
