"""Per item: walk the book, or send one immediately marketable order (docs/design.md 2.9).

The walk is worth its time only where a passive limit can earn more than a market order costs.
What the engine can observe decides, in this order:

1. The venue. Alpaca's paper engine fills only orders marketable against the NBBO, at the
   quote, with no price improvement (Alpaca docs, "Paper trading"): a limit inside the spread
   never fills there, so on paper the walk can only be slower, never cheaper. Paper: marketable.
2. The urgency. URGENT's walk is already marketable (its first limit is through the far touch,
   `pricing.DEFAULT_PROFILES`): it walks as it always has.
3. The spread, in ticks of the arrival quote. Live retail market orders are filled by
   wholesalers inside the spread (median effective/quoted spread ratio 0.43-0.5, April 2025,
   reported by globaltrading.net), so a market order costs about half the half-spread; a
   passive limit earns at most the half-spread and risks adverse selection and non-fill
   (Harris and Hasbrouck 1996). At a one-tick spread the walk's inside steps all round onto the
   touch. Narrower than `walk_min_spread_ticks`, or that setting unset (the default):
   marketable. The execution-cost benchmark (bench/execution_cost.py, alpaca_sim's live fill
   model, 400 items) found no spread at which the walk beat a price-improved market order at
   the flow it assumes (bench/README.md (c)): the walk is opt-in, for symbols whose
   counterparty flow makes a resting limit fill before the price runs.
4. The time left (the plan's deadline, the market's close) against the walk's own duration
   (`PricingProfile.walk_duration`): a walk that could not finish is not started.

Otherwise the item walks.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from plan_executor.domain.enums import Execution, TradingMode, Urgency, Venue
from plan_executor.domain.pricing import tick_size
from plan_executor.domain.quotes import Quote

DEFAULT_WALK_MIN_SPREAD_TICKS: int | None = None
"""The narrowest arrival spread, in ticks, at which a live item walks; None: no spread is wide
enough (the benchmark's finding, the module docstring's step 3)."""
NO_WALK_REASON = (
    "live: a market order, price-improved by the wholesaler, cost no more than the walk at any"
    " spread measured (bench/execution_cost.py); WALK_MIN_SPREAD_TICKS enables the walk"
)

PAPER_REASON = "paper venue: fills only marketable orders, at the quote, no price improvement"
URGENT_REASON = "urgent: the walk's first limit is already through the far touch"
PAPER_NOTE = (
    "paper venue: fills only marketable orders, so passive savings cannot be shown;"
    " items sent as marketable orders"
)
"""Said once in a plan's reason when its items were sent marketable on paper."""


@dataclass(frozen=True, slots=True)
class ExecutionChoice:
    execution: Execution
    reason: str


@dataclass(frozen=True, slots=True)
class ChoiceInputs:
    """What the engine can observe when an item starts."""

    venue: Venue
    urgency: Urgency
    spread_ticks: Decimal
    """The arrival quote's spread in ticks (`spread_in_ticks`)."""
    walk_duration: timedelta
    time_left: timedelta | None
    """Until the plan's deadline or the market's close, whichever is first; None: neither."""


def choose_execution(inputs: ChoiceInputs, *, walk_min_spread_ticks: int | None) -> ExecutionChoice:
    """WALK or MARKETABLE for one item, with the reason (the module docstring's order)."""
    if inputs.venue is Venue.PAPER:
        return ExecutionChoice(Execution.MARKETABLE, PAPER_REASON)
    if inputs.urgency is Urgency.URGENT:
        return ExecutionChoice(Execution.WALK, URGENT_REASON)
    if walk_min_spread_ticks is None:
        return ExecutionChoice(Execution.MARKETABLE, NO_WALK_REASON)
    spread = f"spread {_ticks(inputs.spread_ticks)}"
    if inputs.spread_ticks < walk_min_spread_ticks:
        return ExecutionChoice(
            Execution.MARKETABLE,
            f"{spread}, under the {walk_min_spread_ticks} a walk needs: too narrow to beat a"
            " market order",
        )
    walk = f"the walk's {_seconds(inputs.walk_duration)}"
    if inputs.time_left is not None and inputs.time_left < inputs.walk_duration:
        return ExecutionChoice(
            Execution.MARKETABLE, f"time left {_seconds(inputs.time_left)}, under {walk}"
        )
    return ExecutionChoice(Execution.WALK, f"{spread} and time for {walk}")


def spread_in_ticks(quote: Quote) -> Decimal:
    """The quote's spread counted in ticks of its bid's price level (a spread across $1 is
    counted in the finer tick); fractional only for a quote off the tick grid."""
    return (quote.ask - quote.bid) / tick_size(quote.bid)


def venue_for(mode: TradingMode, configured: Venue | None) -> Venue:
    """The venue an execution's orders meet: the configured one, else the trading mode's.
    Simulated runs meet alpaca_sim, which fills as Alpaca's paper engine does (at the quote,
    only marketable orders), so they are paper unless configured otherwise."""
    if configured is not None:
        return configured
    return Venue.LIVE if mode is TradingMode.LIVE else Venue.PAPER


def plan_note(venue: Venue, choices: Iterable[ExecutionChoice | None]) -> str | None:
    """The plan's note about its venue: on paper, once, when any item was sent marketable."""
    if venue is not Venue.PAPER:
        return None
    sent = any(
        choice is not None and choice.execution is Execution.MARKETABLE for choice in choices
    )
    return PAPER_NOTE if sent else None


def _ticks(count: Decimal) -> str:
    plain = format(count.normalize(), "f")
    return f"{plain} tick" if count == 1 else f"{plain} ticks"


def _seconds(interval: timedelta) -> str:
    return f"{round(interval.total_seconds(), 1):g} s"
