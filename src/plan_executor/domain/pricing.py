"""Limit prices for the smart-order walk: tick rules, urgency profiles, step prices.

A walk starts inside the spread at a fraction measured from our own side (the bid for a buy,
the ask for a sell), steps toward the far touch and ends one step through it. Prices are
rounded to the passive side (a buy down, a sell up) on Alpaca's tick grid: 2 decimals at or
above $1, 4 below. A re-peg at the price already working is never produced (incident 8), and
a quote that is zero, one-sided or crossed is never priced from (incidents 4 and 5).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from types import MappingProxyType

from plan_executor.domain.enums import Side, Urgency
from plan_executor.domain.money import Bps, Price
from plan_executor.domain.quotes import Quote, structural_problem
from plan_executor.domain.slippage import BPS_PER_UNIT, adverse_sign, slippage_bps

PENNY = Decimal("0.01")
SUB_PENNY = Decimal("0.0001")
ONE_DOLLAR = Decimal(1)


class UnpriceableQuoteError(ValueError):
    """A limit price was asked for from a quote that failed the structural check."""


def tick_size(at: Decimal) -> Decimal:
    """The price increment allowed at `at`."""
    return PENNY if at >= ONE_DOLLAR else SUB_PENNY


def is_valid_limit_price(candidate: Decimal) -> bool:
    """Positive and on the tick grid for its level."""
    if not candidate.is_finite() or candidate <= 0:
        return False
    return candidate == candidate.quantize(tick_size(candidate))


def round_passive(side: Side, raw: Decimal) -> Price:
    """`raw` rounded to the tick toward our passive side: a buy down, a sell up."""
    if not raw.is_finite() or raw <= 0:
        raise ValueError(f"a limit price must be positive, got {raw}")
    rounding = ROUND_FLOOR if adverse_sign(side) > 0 else ROUND_CEILING
    rounded = raw.quantize(tick_size(raw), rounding=rounding)
    if rounded <= 0:
        raise ValueError(f"{raw} is below the smallest tick; no passive buy price exists")
    # A sell rounded up from just under $1 lands on 1.0000: restate it on the penny grid.
    return Price(rounded.quantize(tick_size(rounded)))


@dataclass(frozen=True, slots=True)
class PricingProfile:
    """How one urgency walks the book.

    `fractions` are the steps inside the spread, each a fraction of the spread measured from
    our side (0 = our touch, 0.5 = mid, 1 = far touch); the first is the starting price. One
    final step prices `through_far_bps` beyond the far touch. `step_wait` is how long each step
    rests; after the last one the engine may fall back to a market order, unless the price has
    run more than `market_fallback_cap_bps` against us since arrival.
    """

    fractions: tuple[Decimal, ...]
    through_far_bps: Bps
    step_wait: timedelta
    market_wait: timedelta
    market_fallback_cap_bps: Bps

    def __post_init__(self) -> None:
        if any(not 0 <= fraction <= 1 for fraction in self.fractions):
            raise ValueError(f"fractions must lie in [0, 1]: {self.fractions}")
        if any(a >= b for a, b in zip(self.fractions, self.fractions[1:], strict=False)):
            raise ValueError(f"fractions must increase strictly: {self.fractions}")
        if self.through_far_bps <= 0:
            raise ValueError("through_far_bps must be positive")
        if self.step_wait <= timedelta(0) or self.market_wait <= timedelta(0):
            raise ValueError("waits must be positive")
        if self.market_fallback_cap_bps < 0:
            raise ValueError("market_fallback_cap_bps must not be negative")

    @property
    def step_count(self) -> int:
        """Steps in the walk, the final through-the-far step included."""
        return len(self.fractions) + 1

    @property
    def walk_duration(self) -> timedelta:
        """How long the walk takes when nothing fills: every step's wait, then the market
        fallback's wait."""
        return self.step_count * self.step_wait + self.market_wait


def _profile(fractions: str, through_bps: int, step_s: int, cap_bps: int) -> PricingProfile:
    return PricingProfile(
        fractions=tuple(Decimal(part) for part in fractions.split()),
        through_far_bps=Bps(Decimal(through_bps)),
        step_wait=timedelta(seconds=step_s),
        market_wait=timedelta(seconds=30),
        market_fallback_cap_bps=Bps(Decimal(cap_bps)),
    )


DEFAULT_PROFILES: Mapping[Urgency, PricingProfile] = MappingProxyType(
    {
        Urgency.LOW: _profile("0.2 0.5 0.75 0.95", through_bps=5, step_s=15, cap_bps=30),
        Urgency.NORMAL: _profile("0.5 0.75 0.95", through_bps=5, step_s=10, cap_bps=50),
        Urgency.HIGH: _profile("0.8 0.95", through_bps=10, step_s=5, cap_bps=100),
        Urgency.URGENT: _profile("", through_bps=10, step_s=5, cap_bps=200),
    }
)
"""Production defaults. URGENT has no inside steps: its first price is already marketable."""


def limit_price_for_step(side: Side, quote: Quote, profile: PricingProfile, step: int) -> Price:
    """The limit price for `step` of the walk (0 = start) from a checked quote."""
    problem = structural_problem(quote)
    if problem is not None:
        raise UnpriceableQuoteError(f"{quote.symbol}: {problem}")
    if not 0 <= step < profile.step_count:
        raise ValueError(f"step {step} outside 0..{profile.step_count - 1}")
    if step == len(profile.fractions):
        return _through_far(side, quote, profile.through_far_bps)
    ours, far = _touches(side, quote)
    return round_passive(side, ours + profile.fractions[step] * (far - ours))


def differs_from_working(new: Price, working: Price | None) -> bool:
    """Whether `new` is worth a re-peg: a different price from the one already working."""
    return working is None or new != working


def holds_working_price(
    side: Side, quote: Quote, profile: PricingProfile, *, step: int, working: Price
) -> bool:
    """Whether `step`, priced from `quote`, asks for the price already working: then the
    working order rests on through that step (it keeps its place in the queue) instead of
    being cancelled, and the step is not skipped (a skip would cut the walk's patience short
    wherever tick rounding merges steps: every inside step of a one-tick spread)."""
    if not 0 <= step < profile.step_count:
        return False
    return not differs_from_working(limit_price_for_step(side, quote, profile, step), working)


def price_ran_from(
    side: Side, quote: Quote, profile: PricingProfile, *, step: int, working: Price
) -> Price | None:
    """Within inside-spread `step`: the step's price from `quote` when it has moved away from
    us (a buy: higher; a sell: lower) by a tick or more from `working`, the price to follow.
    None for a move toward us (the working order is then more likely to fill), no move, or a
    step that is not inside the spread (the through-the-far step is not followed)."""
    if not 0 <= step < len(profile.fractions):
        return None
    candidate = limit_price_for_step(side, quote, profile, step)
    return candidate if adverse_sign(side) * (candidate - working) > 0 else None


@dataclass(frozen=True, slots=True)
class PegStep:
    step: int
    price: Price


def next_peg(
    side: Side, quote: Quote, profile: PricingProfile, *, after_step: int, working: Price | None
) -> PegStep | None:
    """The next step after `after_step` whose price differs from `working`; None when the walk
    is over. Use `after_step=-1, working=None` for the first price."""
    for step in range(after_step + 1, profile.step_count):
        candidate = limit_price_for_step(side, quote, profile, step)
        if differs_from_working(candidate, working):
            return PegStep(step, candidate)
    return None


def market_fallback_allowed(
    side: Side, arrival_mid: Price, current_quote: Quote, cap_bps: Decimal
) -> bool:
    """Whether a market order may finish the item: its likely price (the far touch) is no more
    than `cap_bps` worse than the arrival mid. An unusable quote or arrival says no."""
    if not arrival_mid.is_finite() or arrival_mid <= 0:
        return False
    if structural_problem(current_quote) is not None:
        return False
    _, far = _touches(side, current_quote)
    return slippage_bps(side, far, arrival_mid) <= cap_bps


def _touches(side: Side, quote: Quote) -> tuple[Price, Price]:
    """(our side, far side): a buyer rests on the bid and crosses to the ask."""
    return (quote.bid, quote.ask) if adverse_sign(side) > 0 else (quote.ask, quote.bid)


def _through_far(side: Side, quote: Quote, through_bps: Bps) -> Price:
    """At least one tick beyond the far touch, about `through_bps` beyond it."""
    _, far = _touches(side, quote)
    sign = adverse_sign(side)
    by_bps = round_passive(side, far * (1 + sign * through_bps / BPS_PER_UNIT))
    one_tick = _one_tick_through(side, far)
    if sign > 0:
        return max(by_bps, one_tick)
    return min(by_bps, one_tick) if one_tick > 0 else by_bps


def _one_tick_through(side: Side, far: Price) -> Price:
    """The first tick strictly beyond `far`; zero or less when a sell is already at the floor."""
    if adverse_sign(side) > 0:
        on_grid = far.quantize(tick_size(far), rounding=ROUND_FLOOR)
        beyond = on_grid + tick_size(on_grid)
    else:
        on_grid = far.quantize(tick_size(far), rounding=ROUND_CEILING)
        beyond = on_grid - (SUB_PENNY if on_grid <= ONE_DOLLAR else PENNY)
    return Price(beyond.quantize(tick_size(beyond)) if beyond > 0 else beyond)
