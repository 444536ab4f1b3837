"""The shared request budget: a token bucket implementing `ports.RateLimiter`.

Alpaca allows 200 trading requests per minute per account. A bucket of capacity C refilled at
r per minute lets at most C + r requests through in any 60 s window, so the default budget is
C = 20, r = 180: short bursts for a concurrent phase, never more than 200 in a minute.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable

SECONDS_PER_MINUTE = 60.0
ALPACA_REQUESTS_PER_MINUTE = 200
DEFAULT_BURST = 20
# Float refill can land a hair below a whole token; waiting for that hair could spin forever.
_ROUNDING_SLACK = 1e-9

MonotonicClock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class TokenBucket:
    """Up to `capacity` requests at once, refilled continuously at `refill_per_minute`.

    Waiters are served first come, first served. A waiter that is cancelled (an outer deadline)
    takes no token. Time comes from the injected monotonic `clock`; waiting uses `sleep`.

    One bucket may outlive an event loop (the Lambda runtime keeps it across invocations, each
    of which runs its own loop), so the budget spent by one invocation still counts for the
    next; only the queue of waiters belongs to a loop.
    """

    def __init__(
        self,
        capacity: int,
        refill_per_minute: float,
        *,
        clock: MonotonicClock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        if refill_per_minute <= 0:
            raise ValueError(f"refill_per_minute must be positive, got {refill_per_minute}")
        self._capacity = float(capacity)
        self._per_second = refill_per_minute / SECONDS_PER_MINUTE
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(capacity)
        self._last_refill = clock()
        self._turns: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    @property
    def available(self) -> float:
        """Tokens available now (fractional while refilling)."""
        self._refill()
        return self._tokens

    async def acquire(self) -> None:
        """Wait until one more request may be sent, then take its token."""
        async with self._turn():
            while True:
                self._refill()
                if self._tokens >= 1 - _ROUNDING_SLACK:
                    self._tokens = max(self._tokens - 1, 0.0)
                    return
                await self._sleep((1 - self._tokens) / self._per_second)

    def _turn(self) -> asyncio.Lock:
        """This loop's queue of waiters (locks of finished loops are dropped)."""
        loop = asyncio.get_running_loop()
        turn = self._turns.get(loop)
        if turn is None:
            self._turns = {old: lock for old, lock in self._turns.items() if not old.is_closed()}
            turn = self._turns[loop] = asyncio.Lock()
        return turn

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(now - self._last_refill, 0.0)
        self._last_refill = now
        self._tokens = min(self._capacity, self._tokens + elapsed * self._per_second)


def alpaca_trading_budget(
    limit_per_minute: int = ALPACA_REQUESTS_PER_MINUTE,
    burst: int | None = None,
    *,
    clock: MonotonicClock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
) -> TokenBucket:
    """A budget that never lets more than `limit_per_minute` requests through in any 60 s
    window (burst + refill = limit), e.g. Alpaca's 200 per account. The burst defaults to
    DEFAULT_BURST, or a tenth of a smaller limit."""
    if burst is None:
        burst = min(DEFAULT_BURST, max(1, limit_per_minute // 10))
    if not 1 <= burst < limit_per_minute:
        raise ValueError(f"burst must be within 1..{limit_per_minute - 1}, got {burst}")
    return TokenBucket(burst, limit_per_minute - burst, clock=clock, sleep=sleep)
