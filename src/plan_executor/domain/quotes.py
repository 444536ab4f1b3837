"""Top-of-book quotes and the check that decides whether one can be priced from.

Incident 4 of the predecessor: a quote with ask = 0 produced a $0.01 limit. Incident 5: a
crossed market was priced from. Here a quote is only priced from after `check_quote` returned
None; a locked market (bid == ask) is usable, a crossed one (bid > ask) is not.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from plan_executor.domain.money import Bps, Price, Shares

BPS_PER_UNIT = Decimal(10_000)


class QuoteProblem(StrEnum):
    """Why a quote must not be priced from."""

    NOT_A_NUMBER = "NOT_A_NUMBER"
    """A price or size is NaN or infinite."""
    ZERO_PRICE = "ZERO_PRICE"
    """Neither side has a positive price, or a price is negative."""
    ONE_SIDED = "ONE_SIDED"
    """Exactly one side has a positive price (e.g. ask = 0)."""
    ZERO_SIZE = "ZERO_SIZE"
    """A side shows a price but no displayed size."""
    CROSSED = "CROSSED"
    """bid > ask."""
    STALE = "STALE"
    """Older than the allowed age."""
    FUTURE_DATED = "FUTURE_DATED"
    """Stamped further in the future than the allowed age: a clock is wrong."""
    SPREAD_TOO_WIDE = "SPREAD_TOO_WIDE"
    """Spread, in bps of the mid, above the cap."""


@dataclass(frozen=True, slots=True)
class Quote:
    """A top-of-book quote for one symbol at one instant (timezone-aware)."""

    symbol: str
    bid: Price
    ask: Price
    bid_size: Shares
    ask_size: Shares
    at: datetime

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("quote time must be timezone-aware")

    @property
    def mid(self) -> Price:
        return Price((self.bid + self.ask) / 2)

    @property
    def spread(self) -> Price:
        return Price(self.ask - self.bid)

    @property
    def spread_bps(self) -> Bps:
        """Spread as basis points of the mid. Only meaningful for a quote that passed the check."""
        mid = self.mid
        if mid <= 0:
            raise ValueError(f"no spread in bps for a non-positive mid ({self.symbol})")
        return Bps(self.spread / mid * BPS_PER_UNIT)


def check_quote(
    quote: Quote, now: datetime, *, max_age: timedelta, max_spread_bps: Decimal
) -> QuoteProblem | None:
    """The first reason `quote` must not be priced from at `now`, or None when it is usable."""
    return (
        structural_problem(quote)
        or _age_problem(quote, now, max_age)
        or _spread_problem(quote, max_spread_bps)
    )


def structural_problem(quote: Quote) -> QuoteProblem | None:
    """What makes `quote` unusable whatever the time and spread cap: bad numbers, zero or
    one-sided prices, no size, a crossed market."""
    numbers = (quote.bid, quote.ask, quote.bid_size, quote.ask_size)
    if not all(number.is_finite() for number in numbers):
        return QuoteProblem.NOT_A_NUMBER
    return _price_problem(quote) or _size_problem(quote)


def _price_problem(quote: Quote) -> QuoteProblem | None:
    if quote.bid < 0 or quote.ask < 0:
        return QuoteProblem.ZERO_PRICE
    if quote.bid == 0 and quote.ask == 0:
        return QuoteProblem.ZERO_PRICE
    if quote.bid == 0 or quote.ask == 0:
        return QuoteProblem.ONE_SIDED
    if quote.bid > quote.ask:
        return QuoteProblem.CROSSED
    return None


def _size_problem(quote: Quote) -> QuoteProblem | None:
    if quote.bid_size <= 0 or quote.ask_size <= 0:
        return QuoteProblem.ZERO_SIZE
    return None


def _age_problem(quote: Quote, now: datetime, max_age: timedelta) -> QuoteProblem | None:
    age = now - quote.at
    if age > max_age:
        return QuoteProblem.STALE
    if -age > max_age:
        return QuoteProblem.FUTURE_DATED
    return None


def _spread_problem(quote: Quote, max_spread_bps: Decimal) -> QuoteProblem | None:
    if quote.spread_bps > max_spread_bps:
        return QuoteProblem.SPREAD_TOO_WIDE
    return None
