"""The ports the engine needs, in our own types. No SDK type crosses them.

Adapters implement these Protocols (`adapters/`); unit tests implement them with small fakes.
"""

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from plan_executor.domain.enums import ChildOrderStatus, OrderType, Side
from plan_executor.domain.ledger import LedgerCancellationLine, LedgerOrderLine
from plan_executor.domain.ledger_keys import LedgerKeys
from plan_executor.domain.money import Dollars, Price, Shares
from plan_executor.domain.order_updates import OrderUpdate
from plan_executor.domain.quotes import Quote
from plan_executor.domain.results import ExecutionResult, LedgerRef

# --- broker value types ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MarketClock:
    at: datetime
    is_open: bool
    next_open: datetime
    next_close: datetime


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    equity: Dollars
    cash: Dollars
    buying_power: Dollars
    trading_blocked: bool
    """True when the broker refuses orders for the account (any block or non-active status)."""


@dataclass(frozen=True, slots=True)
class Position:
    symbol: str
    qty: Shares
    qty_available: Shares
    """`qty` less shares held by open sell orders."""


@dataclass(frozen=True, slots=True)
class AssetInfo:
    symbol: str
    tradable: bool
    fractionable: bool
    active: bool


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A DAY order for a share quantity. There is no notional field on purpose: every order is
    sized in shares by the one sizing path, so dollars can never be sent as a quantity."""

    client_order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    qty: Shares
    limit_price: Price | None = None

    def __post_init__(self) -> None:
        if self.qty <= 0:
            raise ValueError(f"order quantity must be positive, got {self.qty}")
        if (self.order_type is OrderType.LIMIT) != (self.limit_price is not None):
            raise ValueError("a limit price is required for limit orders and only for them")


@dataclass(frozen=True, slots=True)
class BrokerOrder:
    """The broker's view of one order (a REST read)."""

    broker_id: str
    client_order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    qty: Shares
    limit_price: Price | None
    status: ChildOrderStatus
    filled_qty: Shares
    filled_avg_price: Price | None
    submitted_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class TradeEvent:
    """One `trade_updates` message: which order, and the news in our own terms."""

    client_order_id: str
    symbol: str
    update: OrderUpdate


# --- broker errors ----------------------------------------------------------------------------


class BrokerError(Exception):
    """Any failure talking to the broker."""


class BrokerUnavailable(BrokerError):
    """Transient failures persisted past the retry budget or the deadline."""


class OrderRejected(BrokerError):
    """The broker refused an order for a business reason (buying power, qty, wash trade...)."""

    def __init__(self, message: str, *, code: int | None = None, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.status = status


class OrderNotFound(BrokerError):
    """No order with that id exists at the broker."""


class OrderNotCancelable(BrokerError):
    """The order already reached a terminal status (it may have filled). `order` is the
    broker's view of it, read back after the refusal, when the adapter has one."""

    def __init__(self, message: str, *, order: BrokerOrder | None = None) -> None:
        super().__init__(message)
        self.order = order


# --- ports ------------------------------------------------------------------------------------


class TradeEventFeed(Protocol):
    """An open `trade_updates` subscription. `connected` is False while the stream is down, in
    which case the tracker falls back to polling."""

    @property
    def connected(self) -> bool: ...

    def __aiter__(self) -> AsyncIterator[TradeEvent]: ...


class Broker(Protocol):
    async def clock(self) -> MarketClock: ...

    async def account(self) -> AccountSnapshot: ...

    async def positions(self) -> Mapping[str, Position]: ...

    async def assets(self, symbols: Sequence[str]) -> Mapping[str, AssetInfo]:
        """The symbols' flags as the broker lists them now, in ONE request whatever their
        number, never from a cache: a symbol not listed as an active asset reads as neither
        tradable nor active (or is left out; the guard rails refuse both)."""
        ...

    async def latest_quotes(self, symbols: Sequence[str]) -> Mapping[str, Quote]: ...

    async def orders_since(
        self, since: datetime, *, symbols: Sequence[str] | None = None, open_only: bool = False
    ) -> list[BrokerOrder]: ...

    async def submit(self, request: OrderRequest) -> BrokerOrder:
        """Submit once. An unknown outcome (timeout, 5xx, reset, duplicate id) is resolved by
        looking the client_order_id up; never by sending again."""
        ...

    async def order_by_client_id(self, client_order_id: str) -> BrokerOrder | None: ...

    async def cancel(self, broker_id: str) -> None:
        """Request a cancel; the outcome arrives as an update (a fill may win the race)."""
        ...

    def trade_events(self) -> "TradeEventSubscription": ...

    async def aclose(self) -> None: ...


class TradeEventSubscription(Protocol):
    """`async with broker.trade_events() as feed:` opens the stream; leaving closes it."""

    async def __aenter__(self) -> TradeEventFeed: ...

    async def __aexit__(self, *exc_info: object) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware UTC wall time."""
        ...


class RateLimiter(Protocol):
    """One budget shared by every broker call of an invocation (Alpaca: 200 requests/min)."""

    async def acquire(self) -> None:
        """Wait until one more request may be sent."""
        ...


# --- ledger, results and the failure destination ----------------------------------------------

LedgerEntry = LedgerOrderLine | LedgerCancellationLine
"""One line of `orders.jsonl`."""


@dataclass(frozen=True, slots=True)
class LedgerWriteOutcome:
    """What became of one attempt's ledger. `ref` is set when both objects were written; else
    `error` says why not and `dead_lettered` whether the full ledger reached the failure
    destination instead. Never silent: the caller puts `ref` (or None and the reason) in the
    result and fires a metric when `ref` is None."""

    ref: LedgerRef | None
    error: str | None = None
    dead_lettered: bool = False

    def __post_init__(self) -> None:
        if (self.ref is None) == (self.error is None):
            raise ValueError("exactly one of ref and error must be set")
        if self.ref is not None and self.dead_lettered:
            raise ValueError("a written ledger is not dead-lettered")

    @property
    def lost(self) -> bool:
        """Neither in S3 nor in the failure destination: the caller must fail the invocation
        (so it is retried) rather than report success."""
        return self.ref is None and not self.dead_lettered


@dataclass(frozen=True, slots=True)
class UnwrittenLedger:
    """A ledger that could not be written, with where it should have gone (`keys` is None only
    when no keys could be derived), for the failure destination."""

    result: ExecutionResult
    lines: tuple[LedgerEntry, ...]
    bucket: str
    keys: LedgerKeys | None
    reason: str


@dataclass(frozen=True, slots=True)
class PublishReceipt:
    event_id: str
    """The id EventBridge gave the event."""
    trimmed: bool
    """True when child orders (or all orders) were left out to fit the entry size limit; the
    result's `reason` then says so and points to the ledger."""
    attempts: int


class ResultPublishError(Exception):
    """The result event could not be published after retries."""


class FailureSinkError(Exception):
    """The failure destination refused the ledger after retries."""


class LedgerStore(Protocol):
    async def write(
        self, result: ExecutionResult, lines: Sequence[LedgerEntry]
    ) -> LedgerWriteOutcome:
        """Write `result.json` (the result with `ledger` set to where it was written) and
        `orders.jsonl` for `result.attempt`; never overwrite another attempt's objects. Storage
        failures are returned, not raised; the full ledger then goes to the failure sink."""
        ...

    async def stored_result(
        self, plan_id: str, started_at: datetime, attempt: str
    ) -> ExecutionResult | None:
        """The `result.json` an attempt wrote (with its `ledger` set), None if it wrote none;
        raises when the store cannot answer."""
        ...


class ResultPublisher(Protocol):
    async def publish(self, result: ExecutionResult) -> PublishReceipt:
        """Publish one `ExecutionResult` event; raises `ResultPublishError` on final failure."""
        ...


class FailureSink(Protocol):
    async def send_ledger(self, ledger: UnwrittenLedger) -> None:
        """Hand a full ledger to the failure destination; raises `FailureSinkError`."""
        ...
