"""Confidence intervals for the cost benchmark: paired items, resampled.

Every item of a plan runs once per method on the same seeded market, so the methods' costs
come in pairs (same seed, symbol, side and amount). The figures are notional-weighted costs in
bps; their uncertainty is estimated by resampling the pairs with replacement (a percentile
bootstrap, seeded so the report is reproducible), which keeps each item's two costs together:
the interval of a ratio or a difference then reflects how much the comparison, not each method
alone, moves with the sample.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

RESAMPLES = 2000
LEVEL = 0.95
_BOOTSTRAP_SEED = 20261205


@dataclass(frozen=True)
class Cost:
    """One item under one method: what it filled (dollars) and what that cost (bps)."""

    filled: float
    bps: float | None


@dataclass(frozen=True)
class Pair:
    """One item under the method measured and under the baseline."""

    measured: Cost
    baseline: Cost


@dataclass(frozen=True)
class Interval:
    value: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        return {"value": self.value, "low": self.low, "high": self.high}


def weighted_bps(costs: Sequence[Cost]) -> float:
    """Notional-weighted cost of the items that filled; NaN when none did."""
    priced = [c for c in costs if c.bps is not None and c.filled > 0]
    weight = sum(c.filled for c in priced)
    if not weight:
        return math.nan
    return sum(c.filled * c.bps for c in priced if c.bps is not None) / weight


def ratio(pairs: Sequence[Pair]) -> float:
    """Measured cost over baseline cost (NaN when the baseline cost is zero or unknown)."""
    baseline = weighted_bps([p.baseline for p in pairs])
    if not baseline or math.isnan(baseline):
        return math.nan
    return weighted_bps([p.measured for p in pairs]) / baseline


def difference(pairs: Sequence[Pair]) -> float:
    """Measured cost minus baseline cost, bps (negative: the measured method was cheaper)."""
    return weighted_bps([p.measured for p in pairs]) - weighted_bps([p.baseline for p in pairs])


def bootstrap(
    pairs: Sequence[Pair],
    statistic: Callable[[Sequence[Pair]], float],
    *,
    resamples: int = RESAMPLES,
    level: float = LEVEL,
) -> Interval:
    """`statistic` of `pairs` with its percentile interval over resampled pairs."""
    value = statistic(pairs)
    if len(pairs) < 2:
        return Interval(value, math.nan, math.nan)
    rng = random.Random(_BOOTSTRAP_SEED)
    draws = sorted(
        draw
        for draw in (statistic(rng.choices(pairs, k=len(pairs))) for _ in range(resamples))
        if not math.isnan(draw)
    )
    if not draws:
        return Interval(value, math.nan, math.nan)
    tail = (1 - level) / 2
    return Interval(value, _percentile(draws, tail), _percentile(draws, 1 - tail))


def _percentile(ordered: Sequence[float], fraction: float) -> float:
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]
