"""Our retry backoff: bounded, exponential, jittered from an injected generator."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plan_executor.adapters.alpaca_http import RetryPolicy, backoff_delay

POLICY = RetryPolicy(attempts=5, base_s=0.25, cap_s=2.0)


@settings(max_examples=200)
@given(
    failures=st.integers(min_value=1, max_value=200),
    seed=st.integers(min_value=0, max_value=2**32),
    base=st.floats(min_value=0.001, max_value=5),
    cap_factor=st.floats(min_value=1, max_value=100),
)
def test_delay_is_within_half_and_all_of_the_capped_exponential(
    failures: int, seed: int, base: float, cap_factor: float
) -> None:
    policy = RetryPolicy(attempts=3, base_s=base, cap_s=base * cap_factor)
    ceiling = min(policy.cap_s, base * 2.0 ** (failures - 1))

    delay = backoff_delay(policy, failures, random.Random(seed))

    assert ceiling / 2 <= delay <= ceiling
    assert delay <= policy.cap_s


def test_the_ceiling_doubles_until_the_cap() -> None:
    highest = [backoff_delay(POLICY, n, _always_max()) for n in range(1, 7)]

    assert highest == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]


def test_at_least_half_of_the_ceiling_is_always_waited() -> None:
    lowest = [backoff_delay(POLICY, n, _always_min()) for n in range(1, 5)]

    assert lowest == [0.125, 0.25, 0.5, 1.0]


def test_the_same_seed_gives_the_same_delays() -> None:
    first = [backoff_delay(POLICY, n, random.Random(7)) for n in range(1, 5)]
    again = [backoff_delay(POLICY, n, random.Random(7)) for n in range(1, 5)]

    assert first == again


def test_concurrent_retries_are_spread_apart() -> None:
    rng = random.Random(11)

    delays = {backoff_delay(POLICY, 3, rng) for _ in range(50)}

    assert len(delays) == 50


@pytest.mark.parametrize(
    ("attempts", "base", "cap"), [(0, 0.1, 1.0), (1, 0.0, 1.0), (1, -1.0, 1.0), (1, 2.0, 1.0)]
)
def test_nonsense_policies_are_refused(attempts: int, base: float, cap: float) -> None:
    with pytest.raises(ValueError, match=r"attempts|backoff"):
        RetryPolicy(attempts=attempts, base_s=base, cap_s=cap)


def test_failures_start_at_one() -> None:
    with pytest.raises(ValueError, match="failures"):
        backoff_delay(POLICY, 0, random.Random(0))


class _Fixed(random.Random):
    def __init__(self, pick_high: bool) -> None:
        super().__init__(0)
        self._pick_high = pick_high

    def uniform(self, a: float, b: float) -> float:
        return b if self._pick_high else a


def _always_max() -> random.Random:
    return _Fixed(pick_high=True)


def _always_min() -> random.Random:
    return _Fixed(pick_high=False)
