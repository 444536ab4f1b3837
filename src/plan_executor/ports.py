"""The ports the engine needs, in our own types. No SDK type crosses them.

Adapters implement these Protocols (`adapters/`); unit tests implement them with small fakes.
"""

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from plan_executor.domain.enums import ChildOrderStatus, OrderType, Side
from plan_executor.domain.money import Dollars, Price, Shares
from plan_executor.domain.order_updates import OrderUpdate
from plan_executor.domain.quotes import Quote

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
    """The order already reached a terminal status (it may have filled)."""


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

    async def assets(self, symbols: Sequence[str]) -> Mapping[str, AssetInfo]: ...

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
