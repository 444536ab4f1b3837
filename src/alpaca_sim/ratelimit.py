"""Per-API-key request limiter with Alpaca's X-RateLimit-* headers.

Sliding one-minute window on WALL time, not sim time: the limit models a gateway protecting the
broker from request bursts, which happen in real seconds. On the manual sim clock a sim-time window
would never roll over, and on an accelerated clock it would let a client exceed Alpaca's real
budget, so a sim-time limiter would teach the product the wrong pacing. A sliding window (rather
than fixed minutes) also refuses the double burst a fixed window allows across its boundary.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_SECONDS = 60.0
DEFAULT_PER_MINUTE = 200
RATE_LIMIT_BODY: dict[str, object] = {"code": 42910000, "message": "rate limit exceeded"}


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_epoch: int

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_epoch),
        }


class RateLimiter:
    def __init__(
        self,
        per_minute: int = DEFAULT_PER_MINUTE,
        *,
        enabled: bool = True,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._wall = wall
        self._hits: dict[str, deque[float]] = {}
        self.per_minute = DEFAULT_PER_MINUTE
        self.enabled = enabled
        self.configure(per_minute=per_minute)

    def configure(self, *, per_minute: int | None = None, enabled: bool | None = None) -> None:
        if per_minute is not None:
            if per_minute < 1:
                raise ValueError("per_minute must be at least 1")
            self.per_minute = per_minute
        if enabled is not None:
            self.enabled = enabled

    def reset(self, *, per_minute: int, enabled: bool) -> None:
        self._hits.clear()
        self.configure(per_minute=per_minute, enabled=enabled)

    def hit(self, key: str) -> RateDecision:
        """Count one request for `key` if the window has room; refused requests do not count."""
        now = self._wall()
        if not self.enabled:
            return RateDecision(True, self.per_minute, self.per_minute, math.ceil(now))
        hits = self._window(key, now)
        allowed = len(hits) < self.per_minute
        if allowed:
            hits.append(now)
        return self._decision(allowed, hits, now)

    def peek(self, key: str) -> RateDecision:
        now = self._wall()
        if not self.enabled:
            return RateDecision(True, self.per_minute, self.per_minute, math.ceil(now))
        hits = self._window(key, now) if key in self._hits else deque[float]()
        return self._decision(len(hits) < self.per_minute, hits, now)

    def snapshot(self) -> dict[str, object]:
        return {"enabled": self.enabled, "per_minute": self.per_minute}

    def _window(self, key: str, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - WINDOW_SECONDS:
            hits.popleft()
        return hits

    def _decision(self, allowed: bool, hits: deque[float], now: float) -> RateDecision:
        # Reset: when the oldest counted request leaves the window, freeing one slot.
        reset_at = hits[0] + WINDOW_SECONDS if hits else now
        remaining = max(self.per_minute - len(hits), 0)
        return RateDecision(allowed, self.per_minute, remaining, math.ceil(reset_at))
