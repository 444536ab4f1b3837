"""Every knob of the execution engine in one frozen object with production defaults.

Tests shorten durations through this object only (see `with_walk_durations`).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal
from types import MappingProxyType

from plan_executor.domain.enums import Urgency, Venue
from plan_executor.domain.execution_choice import DEFAULT_WALK_MIN_SPREAD_TICKS
from plan_executor.domain.money import Dollars, dollars
from plan_executor.domain.pricing import DEFAULT_PROFILES, PricingProfile
from plan_executor.domain.sizing import MIN_NOTIONAL


@dataclass(frozen=True, slots=True)
class ExecutionSettings:
    """How a plan is executed. Durations are `timedelta`; money is `Dollars`."""

    # --- guard rails (step 1) ---
    kill_switch: bool = False
    """True refuses every plan before any broker call that could trade."""
    allow_live: bool = False
    """Live credentials are refused unless this is True (paper is the default world)."""
    max_plan_age: timedelta = timedelta(minutes=5)
    max_order_notional: Dollars = field(default_factory=lambda: dollars(25_000))
    """Per plan item, and again per child order before it is sent."""
    max_plan_notional: Dollars = field(default_factory=lambda: dollars(250_000))
    """Sells plus buys of one plan."""
    max_equity_fraction: Decimal = Decimal(1)
    """Neither side of a plan may exceed this fraction of account equity."""

    # --- quotes and pricing (step 8) ---
    quote_max_age: timedelta = timedelta(seconds=10)
    max_spread_bps: Decimal = Decimal(300)
    quote_attempts: int = 3
    """Quote reads per pricing decision before the item fails with the quote problem."""
    quote_retry_wait: timedelta = timedelta(milliseconds=500)
    quote_batch_window: timedelta = timedelta(milliseconds=20)
    """How long a single-symbol quote read waits for others to share one batch call with."""
    profiles: Mapping[Urgency, PricingProfile] = field(default_factory=lambda: DEFAULT_PROFILES)
    """Per urgency: walk fractions, step wait, market fallback wait and slippage cap."""
    peg_check_interval: timedelta = timedelta(milliseconds=2500)
    """Within an inside-spread step, how often the live quote is read to follow a price that
    runs away (a quarter of NORMAL's 10 s step)."""
    max_repegs_per_step: int = 3
    """Re-pegs within one step at most (0: never follow within a step)."""
    venue: Venue | None = None
    """Paper or live: whether an item may walk at all (`domain/execution_choice.py`). None:
    from the trading mode (live keys: live; paper keys and the simulator: paper). Set it to
    rehearse the other venue's path (tests, the bench, `EXECUTION_VENUE`)."""
    walk_min_spread_ticks: int | None = DEFAULT_WALK_MIN_SPREAD_TICKS
    """On live, an item whose arrival spread is narrower than this many ticks is sent as one
    market order instead of walking; None (the default): every live item is. The
    execution-cost benchmark found no spread where the walk paid at its assumed flow
    (bench/README.md (c)); set it (`WALK_MIN_SPREAD_TICKS`, e.g. 3) for symbols with heavy
    counterparty flow."""

    # --- sizing and buying power (step 7) ---
    buy_reserve_fraction: Decimal = Decimal("0.03")
    """Held back from buying power for the market-order collar (Alpaca: 2 % plus)."""
    allow_margin: bool = False
    """False: buys never spend more than cash, whatever margin buying power says."""
    min_notional: Dollars = MIN_NOTIONAL

    # --- order lifecycle ---
    settle_timeout: timedelta = timedelta(seconds=60)
    """Upper bound on waiting for every sell to be terminal before buying."""
    poll_interval: timedelta = timedelta(seconds=1)
    """REST polling period, used only while the trade stream is down."""
    cancel_confirm_timeout: timedelta = timedelta(seconds=5)
    cancel_retry_wait: timedelta = timedelta(milliseconds=500)
    """First pause before a cancel that was not confirmed is asked again; it doubles each time
    up to `cancel_retry_max_wait`. The retries run as long as the deadline (or, in the cleanup,
    the cleanup budget) allows: nothing more is sent for the item while its order may fill."""
    cancel_retry_max_wait: timedelta = timedelta(seconds=4)
    market_close_check_interval: timedelta = timedelta(seconds=1)
    """How often the broker's close is checked against the clock while the plan runs (the wait
    is timed to the close; this bounds how late a clock that jumps is noticed)."""
    price_reread_attempts: int = 3
    """REST reads of an order whose fill arrived without an average price (incident 15)."""
    price_reread_wait: timedelta = timedelta(milliseconds=500)

    # --- reconcile and open orders (steps 2-4) ---
    reconcile_margin: timedelta = timedelta(minutes=10)
    """Orders are listed from the plan timestamp minus this (clock skew)."""
    open_order_lookback: timedelta = timedelta(days=30)
    """How far back open orders on the plan's symbols are looked for (GTC orders live long)."""

    # --- deadline and rate (steps 9-10) ---
    cleanup_budget: timedelta = timedelta(seconds=20)
    """After the deadline: time to cancel, confirm and record; comes on top of the budget."""
    rate_limit_per_minute: int = 200
    """For the shared limiter the composition root builds; the engine does not count calls."""

    def __post_init__(self) -> None:
        _require(set(self.profiles) == set(Urgency), "profiles must cover every urgency")
        for name in _POSITIVE_DURATIONS:
            _require(getattr(self, name) > timedelta(0), f"{name} must be positive")
        for name in _POSITIVE_COUNTS:
            _require(getattr(self, name) >= 1, f"{name} must be at least 1")
        _require(Decimal(0) <= self.buy_reserve_fraction < 1, "buy_reserve_fraction in [0, 1)")
        _require(self.max_equity_fraction > 0, "max_equity_fraction must be positive")
        _require(self.max_spread_bps > 0, "max_spread_bps must be positive")
        _require(self.quote_batch_window >= timedelta(0), "quote_batch_window must not be negative")
        _require(self.max_repegs_per_step >= 0, "max_repegs_per_step must not be negative")
        _require(
            self.walk_min_spread_ticks is None or self.walk_min_spread_ticks >= 0,
            "walk_min_spread_ticks must not be negative",
        )
        _require(
            self.cancel_retry_max_wait >= self.cancel_retry_wait,
            "cancel_retry_max_wait must not be below cancel_retry_wait",
        )
        for name in ("max_order_notional", "max_plan_notional", "min_notional"):
            _require(getattr(self, name) >= 0, f"{name} must not be negative")

    def profile(self, urgency: Urgency) -> PricingProfile:
        return self.profiles[urgency]


_POSITIVE_DURATIONS = (
    "max_plan_age",
    "quote_max_age",
    "quote_retry_wait",
    "settle_timeout",
    "poll_interval",
    "cancel_confirm_timeout",
    "cancel_retry_wait",
    "cancel_retry_max_wait",
    "market_close_check_interval",
    "price_reread_wait",
    "peg_check_interval",
    "reconcile_margin",
    "open_order_lookback",
    "cleanup_budget",
)
_POSITIVE_COUNTS = ("quote_attempts", "price_reread_attempts", "rate_limit_per_minute")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def with_walk_durations(
    profiles: Mapping[Urgency, PricingProfile], *, step_wait: timedelta, market_wait: timedelta
) -> Mapping[Urgency, PricingProfile]:
    """`profiles` with every step and market wait replaced (tests, local demos)."""
    return MappingProxyType(
        {
            urgency: replace(profile, step_wait=step_wait, market_wait=market_wait)
            for urgency, profile in profiles.items()
        }
    )
