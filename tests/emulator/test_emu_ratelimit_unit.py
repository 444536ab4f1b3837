"""RateLimiter on an injected wall clock: sliding window, headers, switches, reset."""

from __future__ import annotations

import pytest

from alpaca_sim.ratelimit import RateLimiter


class FakeWall:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def test_allows_up_to_the_limit_then_refuses_without_counting_refusals() -> None:
    wall = FakeWall()
    limiter = RateLimiter(3, wall=wall)

    decisions = [limiter.hit("k") for _ in range(5)]

    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0, 0]
    wall.now += 60.0
    assert limiter.hit("k").allowed  # refused hits did not extend the window


def test_window_slides_one_request_at_a_time() -> None:
    wall = FakeWall()
    limiter = RateLimiter(2, wall=wall)
    limiter.hit("k")
    wall.now += 30.0
    limiter.hit("k")

    wall.now += 29.0
    assert not limiter.hit("k").allowed
    wall.now += 1.0  # the first hit is now 60 s old and leaves the window
    assert limiter.hit("k").allowed
    assert not limiter.hit("k").allowed


def test_reset_header_is_when_the_oldest_counted_request_expires() -> None:
    wall = FakeWall(1_800_000_000.25)
    limiter = RateLimiter(5, wall=wall)
    limiter.hit("k")
    wall.now += 10.0

    decision = limiter.hit("k")

    assert decision.headers() == {
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "3",
        "X-RateLimit-Reset": "1800000061",
    }


def test_keys_are_independent() -> None:
    limiter = RateLimiter(1, wall=FakeWall())
    assert limiter.hit("a").allowed
    assert limiter.hit("b").allowed
    assert not limiter.hit("a").allowed


def test_disabled_limiter_allows_everything_and_reports_full_budget() -> None:
    limiter = RateLimiter(2, enabled=False, wall=FakeWall())
    decisions = [limiter.hit("k") for _ in range(10)]
    assert all(d.allowed and d.remaining == 2 for d in decisions)


def test_peek_does_not_count() -> None:
    limiter = RateLimiter(1, wall=FakeWall())
    assert limiter.peek("k").remaining == 1
    assert limiter.hit("k").allowed


def test_reset_forgets_history_and_applies_new_settings() -> None:
    limiter = RateLimiter(1, wall=FakeWall())
    limiter.hit("k")
    limiter.reset(per_minute=2, enabled=True)
    assert [limiter.hit("k").allowed for _ in range(3)] == [True, True, False]


def test_rejects_a_non_positive_limit() -> None:
    with pytest.raises(ValueError, match="per_minute"):
        RateLimiter(0)
