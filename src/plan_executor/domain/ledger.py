"""Ledger lines: `orders.jsonl` holds one JSON line per child order and per cancellation.

Each line is self-describing (`kind`), carries the plan, attempt and correlation ids so Athena
can join without the file path, and includes its arrival quote and every fill as reported.
An order line also keeps the quotes read while it was the item's latest order (at most
`MAX_QUOTES_PER_ORDER`), so a report can chart the book the order was worked against.
"""

from collections.abc import Iterable
from enum import StrEnum
from functools import cache
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, TypeAdapter

from plan_executor.domain.enums import ChildOrderStatus, OrderType, Side
from plan_executor.domain.identifiers import PlanId, Symbol, TraceId
from plan_executor.domain.ledger_keys import AttemptToken
from plan_executor.domain.results import (
    OUTPUT_MODEL_CONFIG,
    ArrivalQuote,
    BrokerOrderId,
    ClientOrderId,
    Quantity,
    QuotePrice,
    TradePrice,
)
from plan_executor.domain.wire_values import UtcTimestamp

ExecutionId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
MAX_QUOTES_PER_ORDER = 16
"""Quote samples kept per order line: the first read and the latest ones (engine/journal.py)."""


class CancelReason(StrEnum):
    """Why this service cancelled an order."""

    REPEG = "repeg"
    """Replaced by a better-priced child."""
    DEADLINE = "deadline"
    """The execution deadline came."""
    WAIT_EXPIRED = "wait_expired"
    """Still open when its wait ran out: a market order unfilled within its wait, a sell still
    open after the settlement wait."""
    EARLIER_ATTEMPT = "earlier_attempt"
    """Left open by an earlier attempt of this plan; cancelled before anything new is sent."""
    CONFLICTING_OPEN_ORDER = "conflicting_open_order"
    """An open order on one of the plan's symbols (it would trip the wash-trade check)."""
    PRICE_RAN = "price_ran"
    """The price moved beyond the slippage cap; the remainder was abandoned."""


class LedgerFill(BaseModel):
    """One execution as the broker reported it, or shares seen filled only in a REST read
    (stream down, or the order was answered already filled): then `execution_id` and `price`
    are null and the order line's `avg_fill_price` (the broker's) covers them. A price is never
    estimated."""

    model_config = OUTPUT_MODEL_CONFIG

    execution_id: ExecutionId | None = Field(description="Broker execution id, if given.")
    qty: Quantity = Field(description="Shares in this execution.")
    price: TradePrice | None = Field(
        description="Price of this execution; null when only the cumulative fill was seen."
    )
    time: UtcTimestamp = Field(description="When it executed.")


class LedgerQuote(BaseModel):
    """A top-of-book quote the smart order read and checked usable."""

    model_config = OUTPUT_MODEL_CONFIG

    bid: QuotePrice = Field(description="Best bid, dollars per share.")
    ask: QuotePrice = Field(description="Best ask, dollars per share.")
    time: UtcTimestamp = Field(description="Quote time (UTC).")


class _LedgerLineBase(BaseModel):
    """Fields every ledger line has; `kind` first so a line reads as what it is."""

    model_config = OUTPUT_MODEL_CONFIG

    kind: str = Field(description="'order' or 'cancellation'.")
    plan_id: PlanId = Field(description="The plan executed.")
    attempt: AttemptToken = Field(description="The execution attempt.")
    correlation_id: TraceId = Field(description="The plan's correlation id.")
    symbol: Symbol = Field(description="The order's symbol.")
    side: Side = Field(description="buy or sell.")
    client_order_id: ClientOrderId = Field(description="Our id for the order.")
    broker_order_id: BrokerOrderId | None = Field(description="Broker's id; None if never acked.")
    arrival_quote: ArrivalQuote | None = Field(description="Quote the item started from.")
    fills: tuple[LedgerFill, ...] = Field(description="Every execution reported.")
    recorded_at: UtcTimestamp = Field(description="When this line was written.")


class LedgerOrderLine(_LedgerLineBase):
    """A child order sent to the broker, in its final known state."""

    kind: Literal["order"] = Field(default="order", description="A child order.")
    order_type: OrderType = Field(description="limit or market.")
    qty: Quantity = Field(description="Shares asked for.")
    limit_price: TradePrice | None = Field(description="None for market orders.")
    status: ChildOrderStatus = Field(description="Last known broker status.")
    submitted_at: UtcTimestamp | None = Field(description="When sent; None if never.")
    terminal_at: UtcTimestamp | None = Field(description="When it reached a final status.")
    filled_qty: Quantity = Field(description="Shares filled.")
    avg_fill_price: TradePrice | None = Field(description="The broker's; never an estimate.")
    quotes: tuple[LedgerQuote, ...] = Field(
        default=(),
        max_length=MAX_QUOTES_PER_ORDER,
        description="Quotes read while this was the item's latest order (each step's and each "
        "re-peg check's, and the one that priced the next order), oldest first; the first "
        f"and the latest kept, at most {MAX_QUOTES_PER_ORDER}. Empty for an earlier attempt's "
        "orders and in ledgers written before this field.",
    )


class LedgerCancellationLine(_LedgerLineBase):
    """A cancel this service asked for, and what the broker had filled by then."""

    kind: Literal["cancellation"] = Field(default="cancellation", description="A cancel.")
    reason: CancelReason = Field(description="Why we cancelled.")
    requested_at: UtcTimestamp = Field(description="When the cancel was sent.")
    confirmed_at: UtcTimestamp | None = Field(description="None if never confirmed.")
    filled_qty: Quantity = Field(description="Filled when the cancel was confirmed.")


LedgerLine = Annotated[LedgerOrderLine | LedgerCancellationLine, Field(discriminator="kind")]


@cache
def _line_adapter() -> TypeAdapter[LedgerOrderLine | LedgerCancellationLine]:
    adapter: TypeAdapter[LedgerOrderLine | LedgerCancellationLine] = TypeAdapter(LedgerLine)
    return adapter


def ledger_line_json(line: LedgerOrderLine | LedgerCancellationLine) -> str:
    """One line of `orders.jsonl` (no newline)."""
    return line.model_dump_json()


def orders_jsonl(lines: Iterable[LedgerOrderLine | LedgerCancellationLine]) -> str:
    """The whole `orders.jsonl` object: one line per record, newline-terminated."""
    return "".join(ledger_line_json(line) + "\n" for line in lines)


def parse_ledger_line(text: str | bytes) -> LedgerOrderLine | LedgerCancellationLine:
    """Read one line back (it must be one of ours)."""
    return _line_adapter().validate_json(text)
