"""The shared rate limiter, driven by an injected clock: sleeping advances that clock."""

import asyncio
from collections import deque

import pytest

from plan_executor.engine.limiter import TokenBucket, alpaca_trading_budget


class FakeTime:
    """A monotonic clock that moves only when a waiter sleeps; records each sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


async def test_a_full_bucket_lets_a_burst_through_without_waiting() -> None:
    time = FakeTime()
    bucket = TokenBucket(5, 60, clock=time.clock, sleep=time.sleep)

    for _ in range(5):
        await bucket.acquire()

    assert time.sleeps == []
    assert bucket.available == pytest.approx(0)


async def test_an_empty_bucket_waits_for_exactly_one_refill() -> None:
    time = FakeTime()
    bucket = TokenBucket(2, 120, clock=time.clock, sleep=time.sleep)  # 2 tokens per second
    await bucket.acquire()
    await bucket.acquire()

    await bucket.acquire()

    assert time.sleeps == [pytest.approx(0.5)]
    assert time.now == pytest.approx(1000.5)


async def test_refill_never_exceeds_capacity() -> None:
    time = FakeTime()
    bucket = TokenBucket(3, 60, clock=time.clock, sleep=time.sleep)
    await bucket.acquire()

    time.now += 3600

    assert bucket.available == 3


async def test_partial_refill_is_credited() -> None:
    time = FakeTime()
    bucket = TokenBucket(1, 60, clock=time.clock, sleep=time.sleep)  # 1 token per second
    await bucket.acquire()
    time.now += 0.75

    await bucket.acquire()

    assert time.sleeps == [pytest.approx(0.25)]


async def test_waiters_are_served_in_arrival_order() -> None:
    time = FakeTime()
    bucket = TokenBucket(1, 60, clock=time.clock, sleep=time.sleep)
    served: list[int] = []

    async def take(number: int) -> None:
        await bucket.acquire()
        served.append(number)

    await asyncio.gather(*(take(n) for n in range(6)))

    assert served == list(range(6))


async def test_a_cancelled_waiter_takes_no_token() -> None:
    blocked = asyncio.Event()

    async def sleep_forever(_: float) -> None:
        blocked.set()
        await asyncio.Event().wait()

    now = [0.0]
    bucket = TokenBucket(1, 60, clock=lambda: now[0], sleep=sleep_forever)
    await bucket.acquire()
    waiter = asyncio.create_task(bucket.acquire())
    async with asyncio.timeout(5):
        await blocked.wait()

    waiter.cancel()
    await asyncio.wait({waiter})
    now[0] += 1.0  # one token refilled: it must still be there

    assert waiter.cancelled()
    assert bucket.available == pytest.approx(1)


async def test_the_alpaca_budget_never_allows_more_than_200_in_any_minute() -> None:
    time = FakeTime()
    bucket = alpaca_trading_budget(clock=time.clock, sleep=time.sleep)
    window: deque[float] = deque()
    busiest = 0

    for _ in range(1000):
        await bucket.acquire()
        window.append(time.now)
        while window[0] <= time.now - 60:
            window.popleft()
        busiest = max(busiest, len(window))

    assert busiest <= 200
    assert busiest >= 190  # and it does not waste the budget either


@pytest.mark.parametrize(("capacity", "per_minute"), [(0, 60), (1, 0), (1, -5)])
def test_nonsense_budgets_are_refused(capacity: int, per_minute: float) -> None:
    with pytest.raises(ValueError, match=r"capacity|refill"):
        TokenBucket(capacity, per_minute)


@pytest.mark.parametrize(("limit", "burst"), [(200, 0), (200, 200), (10, 11)])
def test_a_budget_whose_burst_eats_the_limit_is_refused(limit: int, burst: int) -> None:
    with pytest.raises(ValueError, match="burst"):
        alpaca_trading_budget(limit, burst)


@pytest.mark.parametrize("limit", [2, 10, 21, 200, 10_000])
def test_every_allowed_limit_gets_a_budget_within_it(limit: int) -> None:
    time = FakeTime()
    bucket = alpaca_trading_budget(limit, clock=time.clock, sleep=time.sleep)

    assert 1 <= bucket.available < limit


def test_one_bucket_spans_invocations_and_their_event_loops() -> None:
    """The runtime keeps the bucket; each invocation runs its own loop. What one spent still
    counts for the next, and waiting works on the new loop (a lock bound to the old loop would
    raise there)."""
    time = FakeTime()
    bucket = TokenBucket(3, 60, clock=time.clock, sleep=time.sleep)  # 1 token per second

    async def invocation(requests: int) -> None:
        await asyncio.gather(*(bucket.acquire() for _ in range(requests)))

    asyncio.run(invocation(5))  # two wait: the second queues behind the first
    assert time.sleeps == [pytest.approx(1.0)] * 2
    asyncio.run(invocation(2))

    assert time.sleeps == [pytest.approx(1.0)] * 4
