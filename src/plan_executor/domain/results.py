"""The `ExecutionResult` event detail: what happened to a plan, item by item.

Every Decimal serialises to JSON as a fixed-point string, so no float ever appears downstream,
and a result read back from its JSON equals the original digit for digit.

Money is rounded for people: dollars to whole cents, per-share fill and limit prices to the
broker's tick (Alpaca: $0.01 at or above $1, $0.0001 below), both to the nearest with ties to
even (`money.REPORT_ROUNDING`). The types below round whatever builds a result, and the schema
states it. Exact fills are the ledger's (`domain/ledger.py`); slippage and the shortfall are
computed from them, not from the rounded average. Summary totals are sums of the rounded items,
so the items add up to them exactly. Quotes are as the broker sent them.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from plan_executor.domain.enums import (
    Action,
    ChildOrderStatus,
    Execution,
    ExecutionStatus,
    ItemStatus,
    OrderType,
    Side,
    TradingMode,
)
from plan_executor.domain.identifiers import MAX_PRODUCER_PLAN_ID_CHARS, StrategyId, Symbol, TraceId
from plan_executor.domain.ledger_keys import AttemptToken
from plan_executor.domain.money import REPORT_CONTEXT, ZERO, Bps, Dollars, Price, Shares, to_cents
from plan_executor.domain.plan import AllocationComparison
from plan_executor.domain.pricing import ONE_DOLLAR, PENNY, SUB_PENNY, tick_size
from plan_executor.domain.wire_values import (
    RECORD_LIMITS,
    DecimalField,
    NonNegativeInt,
    UtcTimestamp,
)

RESULT_SCHEMA_VERSION = "1.1"
"""1.1 added the optional `execution` and `execution_reason` of each order (a minor version:
additive, so a 1.0 reader that ignores unknown fields still reads it)."""
MAX_REASON_CHARS = 1000

OUTPUT_MODEL_CONFIG = ConfigDict(frozen=True, extra="forbid")

CENTS_PATTERN = r"^[0-9]+\.[0-9]{2}$"
TICK_PRICE_PATTERN = r"^([1-9][0-9]*\.[0-9]{2}|0\.[0-9]{4})$"
"""Two decimals at or above $1, four below: Alpaca's tick grid."""


def to_tick(price: Decimal) -> Price:
    """A positive per-share price on the broker's tick grid, as a report gives it
    (`money.REPORT_ROUNDING`); a price that reaches $1 is restated in cents, and a positive price
    never becomes zero (fills are on the grid, so neither happens to their average)."""
    rounded = price.quantize(tick_size(price), context=REPORT_CONTEXT)
    if rounded >= ONE_DOLLAR:
        return Price(rounded.quantize(PENNY, context=REPORT_CONTEXT))
    return Price(max(rounded, SUB_PENNY))


Quantity = Annotated[Shares, DecimalField(ge=ZERO, limits=RECORD_LIMITS)]
QuotePrice = Annotated[Price, DecimalField(ge=ZERO, limits=RECORD_LIMITS)]
TradePrice = Annotated[Price, DecimalField(gt=ZERO, limits=RECORD_LIMITS)]
"""An exact price (the ledger's)."""
Cents = Annotated[
    Dollars,
    DecimalField(ge=ZERO, limits=RECORD_LIMITS),
    AfterValidator(to_cents),
    WithJsonSchema({"type": "string", "pattern": CENTS_PATTERN}, mode="serialization"),
]
"""Dollars in whole cents, rounded to the nearest, ties to even."""
TickPrice = Annotated[
    Price,
    DecimalField(gt=ZERO, limits=RECORD_LIMITS),
    AfterValidator(to_tick),
    WithJsonSchema({"type": "string", "pattern": TICK_PRICE_PATTERN}, mode="serialization"),
]
"""A per-share price on the broker's tick grid, rounded to the nearest, ties to even."""
SlippageBps = Annotated[Bps, DecimalField(limits=RECORD_LIMITS)]
Reason = Annotated[str, StringConstraints(max_length=MAX_REASON_CHARS)]
ClientOrderId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[!-~]+$")]
BrokerOrderId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[!-~]+$")]
ResultPlanId = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_PRODUCER_PLAN_ID_CHARS)
]
BucketName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
ObjectKey = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class ArrivalQuote(BaseModel):
    """The quote an item's execution started from: the benchmark for slippage. Bid and ask
    are as the broker sent them; the mid is exactly their half-sum."""

    model_config = OUTPUT_MODEL_CONFIG

    bid: QuotePrice = Field(description="Best bid, dollars per share.")
    ask: QuotePrice = Field(description="Best ask, dollars per share.")
    mid: QuotePrice = Field(description="(bid + ask) / 2: the slippage benchmark.")
    time: UtcTimestamp = Field(description="Quote time (UTC).")


class ChildOrderRecord(BaseModel):
    """One broker order sent for an item (a re-peg or market fallback is another child)."""

    model_config = OUTPUT_MODEL_CONFIG

    client_order_id: ClientOrderId = Field(description="Our deterministic id for the order.")
    broker_order_id: BrokerOrderId | None = Field(description="Broker's id; None if never acked.")
    order_type: OrderType = Field(description="limit or market.")
    side: Side = Field(description="buy or sell.")
    qty: Quantity = Field(description="Shares asked for by this child.")
    limit_price: TickPrice | None = Field(description="None for market orders.")
    submitted_at: UtcTimestamp | None = Field(description="When it was sent; None if never.")
    terminal_at: UtcTimestamp | None = Field(description="When it filled/canceled/expired/...")
    status: ChildOrderStatus = Field(description="Last known broker status.")
    filled_qty: Quantity = Field(description="Shares filled, as the broker reports.")
    avg_fill_price: TickPrice | None = Field(
        description="The broker's average, rounded to its tick ($0.01 at or above $1, $0.0001 "
        "below; nearest, ties to even); never an estimate. The exact one is in the ledger."
    )


class OrderResult(BaseModel):
    """What happened to one plan item."""

    model_config = OUTPUT_MODEL_CONFIG

    symbol: Symbol = Field(description="The plan item's symbol.")
    action: Action = Field(description="The plan item's action.")
    planned_notional: Cents = Field(description="|trade_amount| of the plan item, in cents.")
    filled_qty: Quantity = Field(description="Shares filled over all child orders (exact).")
    avg_fill_price: TickPrice | None = Field(
        description="Quantity-weighted broker average, rounded to the broker's tick ($0.01 at "
        "or above $1, $0.0001 below; nearest, ties to even). The exact fills are in the ledger."
    )
    filled_notional: Cents = Field(
        description="Dollars filled over all child orders: the exact sum of the fills rounded "
        "to whole cents (nearest, ties to even), not filled_qty times the rounded average."
    )
    status: ItemStatus = Field(description="Outcome of the item.")
    arrival_quote: ArrivalQuote | None = Field(description="None when no usable quote was had.")
    slippage_bps: SlippageBps | None = Field(
        description="Average fill vs arrival mid, positive = worse for us on both sides; from "
        "the exact fills, to 0.01 bps."
    )
    repegs: NonNegativeInt = Field(description="Times the limit was moved (cancel + resend).")
    market_fallback: StrictBool = Field(
        description="The walk ended short and a market order was sent for the remainder."
    )
    execution: Execution | None = Field(
        default=None,
        description="How the item was worked: 'walk' (limits walking the book, maybe a market "
        "fallback) or 'marketable' (one market order: walking could not pay here); null when "
        "no order was to be sized (skipped before, HOLD, a recovery). See docs/design.md 2.9.",
    )
    execution_reason: Reason | None = Field(
        default=None,
        description="Why `execution` was chosen: the venue, the urgency, the arrival spread in "
        "ticks or the time left (docs/design.md 4.1).",
    )
    reason: Reason | None = Field(
        description="How the item ended, about its final state: why it was skipped, reduced, "
        "capped or failed. A FILLED item carries only what explains its final state "
        "(capped_at_position, completed by an earlier attempt, an unknown average price), "
        "never a failure or an earlier step; see docs/design.md 4.1 for the vocabulary."
    )
    strategy_id: StrategyId | None = Field(description="The plan item's strategy_id.")
    child_orders: tuple[ChildOrderRecord, ...] = Field(description="Every broker order sent.")


class ExecutionSummary(BaseModel):
    """Totals over the items of one execution."""

    model_config = OUTPUT_MODEL_CONFIG

    items: NonNegativeInt = Field(description="Number of order results.")
    filled: NonNegativeInt = Field(description="Items FILLED.")
    partially_filled: NonNegativeInt = Field(description="Items PARTIALLY_FILLED.")
    failed: NonNegativeInt = Field(description="Items FAILED.")
    skipped: NonNegativeInt = Field(description="Items SKIPPED.")
    canceled: NonNegativeInt = Field(description="Items CANCELED.")
    planned_sell_notional: Cents = Field(description="Sum of the sells' planned_notional.")
    filled_sell_notional: Cents = Field(
        description="Dollars sold: the sum of the sells' rounded filled_notional."
    )
    planned_buy_notional: Cents = Field(description="Sum of the buys' planned_notional.")
    filled_buy_notional: Cents = Field(
        description="Dollars bought: the sum of the buys' rounded filled_notional."
    )
    implementation_shortfall_bps: SlippageBps | None = Field(
        description="Notional-weighted slippage vs arrival over filled items, from the exact "
        "fills, to 0.01 bps."
    )
    repegs: NonNegativeInt = Field(description="Re-pegs over all items.")
    market_fallbacks: NonNegativeInt = Field(description="Items that fell back to market.")


class LedgerRef(BaseModel):
    """Where this attempt's ledger objects were written."""

    model_config = OUTPUT_MODEL_CONFIG

    bucket: BucketName = Field(description="S3 bucket.")
    keys: tuple[ObjectKey, ...] = Field(description="Object keys (result.json, orders.jsonl).")


LEDGER_ONLY_FIELDS = frozenset({"allocation_comparison"})
"""Fields of `ExecutionResult` that the ledger keeps and the result event leaves out: they can be
as large as the plan and no consumer of the event needs them."""


class ExecutionResult(BaseModel):
    """Detail of the `ExecutionResult` event: one per plan execution attempt.

    Money is rounded to the nearest, ties to even: dollars to whole cents, per-share fill and
    limit prices to the broker's tick ($0.01 at or above $1, $0.0001 below). Summary totals
    are the sums of the rounded items. The ledger's order lines keep the exact fills, and
    slippage is computed from them."""

    model_config = OUTPUT_MODEL_CONFIG

    schema_version: str = Field(default=RESULT_SCHEMA_VERSION, description="Result schema.")
    event_id: TraceId = Field(description="Id of this result event.")
    correlation_id: TraceId = Field(description="The plan's correlation id ('unknown' if none).")
    causation_id: TraceId = Field(description="The input EventBridge event id.")
    plan_id: ResultPlanId = Field(description="The plan's id ('unknown' if it had none).")
    status: ExecutionStatus = Field(description="Outcome of the plan execution.")
    reason: Reason | None = Field(
        description="Why, when not a plain SUCCESS (field and rule); on a paper venue it also "
        "says, once, that items were sent as marketable orders (docs/design.md 2.9)."
    )
    trading_mode: TradingMode = Field(description="paper, live or simulated.")
    started_at: UtcTimestamp = Field(description="When this attempt started.")
    completed_at: UtcTimestamp = Field(description="When this attempt finished.")
    duration_ms: NonNegativeInt = Field(description="completed_at - started_at.")
    attempt: AttemptToken = Field(description="This attempt's token (see ledger keys).")
    orders: tuple[OrderResult, ...] = Field(description="One per plan item.")
    summary: ExecutionSummary = Field(description="Totals over orders.")
    ledger: LedgerRef | None = Field(description="None when the ledger could not be written.")
    allocation_comparison: AllocationComparison | None = Field(
        default=None,
        description="The producer's allocation comparison, as received. Ledger only: written "
        "to result.json, left out of the ExecutionResult event (see LEDGER_ONLY_FIELDS).",
    )

    @model_validator(mode="after")
    def _completed_after_start(self) -> Self:
        if self.completed_at < self.started_at:
            raise ValueError("completed_at is before started_at")
        return self

    def as_published(self) -> dict[str, Any]:
        """The JSON the result event carries (and the invocation returns and stores): every
        field but the ledger-only ones."""
        return self.model_dump(mode="json", exclude=set(LEDGER_ONLY_FIELDS))


def summarize_orders(
    orders: Sequence[OrderResult], *, implementation_shortfall_bps: Bps | None
) -> ExecutionSummary:
    """Counts and notionals over `orders`; the shortfall is computed by the slippage rules."""

    def count(status: ItemStatus) -> int:
        return sum(1 for order in orders if order.status is status)

    def total(action: Action, *, filled: bool) -> Dollars:
        chosen = [o for o in orders if o.action is action]
        return Dollars(
            sum((o.filled_notional if filled else o.planned_notional for o in chosen), ZERO)
        )

    return ExecutionSummary(
        items=len(orders),
        filled=count(ItemStatus.FILLED),
        partially_filled=count(ItemStatus.PARTIALLY_FILLED),
        failed=count(ItemStatus.FAILED),
        skipped=count(ItemStatus.SKIPPED),
        canceled=count(ItemStatus.CANCELED),
        planned_sell_notional=total(Action.SELL, filled=False),
        filled_sell_notional=total(Action.SELL, filled=True),
        planned_buy_notional=total(Action.BUY, filled=False),
        filled_buy_notional=total(Action.BUY, filled=True),
        implementation_shortfall_bps=implementation_shortfall_bps,
        repegs=sum(order.repegs for order in orders),
        market_fallbacks=sum(1 for order in orders if order.market_fallback),
    )


def duration_ms(started_at: datetime, completed_at: datetime) -> int:
    """Whole milliseconds between two aware instants, never negative."""
    return max(0, (completed_at - started_at) // timedelta(milliseconds=1))
