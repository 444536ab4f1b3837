"""Order state: the lifecycle transition table and the simulator's order record.

Every status change goes through `apply()`, which looks the move up in TRANSITIONS and refuses
anything else. Each legal move names the trade_updates event it emits.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from alpaca_sim.decimals import ZERO, Dollars, Price, Shares

NO_SHARES = Shares(ZERO)


class OrderStatus(StrEnum):
    ACCEPTED = "accepted"
    PENDING_NEW = "pending_new"
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    DONE_FOR_DAY = "done_for_day"
    PENDING_CANCEL = "pending_cancel"
    CANCELED = "canceled"
    PENDING_REPLACE = "pending_replace"
    REPLACED = "replaced"
    EXPIRED = "expired"
    REJECTED = "rejected"


class OrderEvent(StrEnum):
    RECEIVED_IN_SESSION = "received_in_session"
    RECEIVED_OUT_OF_SESSION = "received_out_of_session"
    ACKNOWLEDGED = "acknowledged"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCEL_REQUESTED = "cancel_requested"
    CANCELED = "canceled"
    CANCEL_REJECTED = "cancel_rejected"
    REPLACE_REQUESTED = "replace_requested"
    REPLACED = "replaced"
    EXPIRED = "expired"
    DONE_FOR_DAY = "done_for_day"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Transition:
    to: OrderStatus
    update: str  # the trade_updates event name


class IllegalTransitionError(Exception):
    def __init__(self, status: OrderStatus | None, event: OrderEvent) -> None:
        super().__init__(f"illegal order transition: {status} --{event}-->")
        self.status = status
        self.event = event


S = OrderStatus
E = OrderEvent
_LIVE = (S.NEW, S.PARTIALLY_FILLED)
_UNROUTED = (S.ACCEPTED, S.PENDING_NEW)


def _each(
    sources: tuple[OrderStatus | None, ...], event: OrderEvent, to: OrderStatus, update: str
) -> dict[tuple[OrderStatus | None, OrderEvent], Transition]:
    return {(source, event): Transition(to, update) for source in sources}


# None is "no order yet": receipt creates the order in its first status.
TRANSITIONS: Mapping[tuple[OrderStatus | None, OrderEvent], Transition] = {
    **_each((None,), E.RECEIVED_IN_SESSION, S.PENDING_NEW, "pending_new"),
    **_each((None,), E.RECEIVED_OUT_OF_SESSION, S.ACCEPTED, "accepted"),
    **_each(_UNROUTED, E.ACKNOWLEDGED, S.NEW, "new"),
    **_each(_LIVE, E.PARTIALLY_FILLED, S.PARTIALLY_FILLED, "partial_fill"),
    **_each(_LIVE, E.FILLED, S.FILLED, "fill"),
    # A cancel is not instantaneous: the exchange may still execute while it is pending.
    **_each((S.PENDING_CANCEL,), E.PARTIALLY_FILLED, S.PENDING_CANCEL, "partial_fill"),
    **_each((S.PENDING_CANCEL,), E.FILLED, S.FILLED, "fill"),
    **_each((S.FILLED,), E.CANCEL_REJECTED, S.FILLED, "order_cancel_rejected"),
    **_each(
        (*_UNROUTED, *_LIVE, S.DONE_FOR_DAY), E.CANCEL_REQUESTED, S.PENDING_CANCEL, "pending_cancel"
    ),
    **_each((S.PENDING_CANCEL,), E.CANCELED, S.CANCELED, "canceled"),
    # The venue itself cancels: IOC/FOK remainders.
    **_each(_LIVE, E.CANCELED, S.CANCELED, "canceled"),
    **_each(_LIVE, E.REPLACE_REQUESTED, S.PENDING_REPLACE, "pending_replace"),
    **_each((S.PENDING_REPLACE,), E.REPLACED, S.REPLACED, "replaced"),
    **_each((*_UNROUTED, *_LIVE, S.DONE_FOR_DAY), E.EXPIRED, S.EXPIRED, "expired"),
    **_each(_LIVE, E.DONE_FOR_DAY, S.DONE_FOR_DAY, "done_for_day"),
    **_each((*_UNROUTED, S.NEW), E.REJECTED, S.REJECTED, "rejected"),
}

TERMINAL = frozenset({S.FILLED, S.CANCELED, S.EXPIRED, S.REPLACED, S.REJECTED})
CANCELABLE = frozenset(
    {S.ACCEPTED, S.PENDING_NEW, S.NEW, S.PARTIALLY_FILLED, S.DONE_FOR_DAY, S.PENDING_CANCEL}
)
REPLACEABLE = frozenset(_LIVE)
EXECUTABLE = frozenset({S.NEW, S.PARTIALLY_FILLED, S.PENDING_CANCEL})


def next_transition(status: OrderStatus | None, event: OrderEvent) -> Transition:
    """The legal move for `event` in `status`; raises IllegalTransitionError otherwise."""
    transition = TRANSITIONS.get((status, event))
    if transition is None:
        raise IllegalTransitionError(status, event)
    return transition


_STATUS_STAMPS = {
    S.FILLED: "filled_at",
    S.CANCELED: "canceled_at",
    S.EXPIRED: "expired_at",
    S.REJECTED: "failed_at",
    S.REPLACED: "replaced_at",
}


@dataclass(frozen=True)
class Fill:
    execution_id: str
    order_id: str
    symbol: str
    side: str
    price: Price
    qty: Shares
    at: datetime
    position_qty: Shares


@dataclass
class SimOrder:
    id: str
    seq: int
    client_order_id: str
    symbol: str
    asset_id: str
    side: str  # "buy" | "sell"
    order_type: str  # "market" | "limit"
    time_in_force: str
    qty: Shares | None
    notional: Dollars | None
    limit_price: Price | None
    collar_price: Price | None  # the limit Alpaca applies to market orders
    extended_hours: bool
    created_at: datetime
    status: OrderStatus
    sell_hold_qty: Shares = NO_SHARES  # shares a sell reserves (estimated for notional sells)
    replaces: str | None = None
    expires_at: datetime | None = None
    reject_on_ack: bool = False
    eligible_at: datetime | None = None  # may not execute before this instant
    unpriced_reads: int = 0  # REST answers still to show no average price (a fault)
    updated_at: datetime | None = None
    filled_at: datetime | None = None
    canceled_at: datetime | None = None
    expired_at: datetime | None = None
    failed_at: datetime | None = None
    replaced_at: datetime | None = None
    replaced_by: str | None = None
    fills: list[Fill] = field(default_factory=list)
    valued_at: Price | None = None  # the price a market order's buying power is held at

    @property
    def filled_qty(self) -> Shares:
        return Shares(sum((f.qty for f in self.fills), ZERO))

    @property
    def filled_notional(self) -> Dollars:
        return Dollars(sum((f.price * f.qty for f in self.fills), ZERO))

    @property
    def is_open(self) -> bool:
        return self.status not in TERMINAL

    @property
    def is_notional(self) -> bool:
        return self.notional is not None

    @property
    def remaining_qty(self) -> Shares:
        """Shares still to execute; for notional orders see remaining_notional."""
        if self.qty is None:
            return Shares(ZERO)
        return Shares(self.qty - self.filled_qty)

    @property
    def remaining_notional(self) -> Dollars:
        if self.notional is None:
            return Dollars(ZERO)
        return Dollars(max(ZERO, self.notional - self.filled_notional))

    @property
    def price_limit(self) -> Price | None:
        return self.limit_price if self.limit_price is not None else self.collar_price

    def apply(self, event: OrderEvent, at: datetime) -> Transition:
        """Move to the next status through the table (raises if illegal), stamping its time."""
        transition = next_transition(self.status, event)
        if transition.to is not self.status:
            stamp = _STATUS_STAMPS.get(transition.to)
            if stamp is not None:
                setattr(self, stamp, at)
        self.status = transition.to
        self.updated_at = at
        return transition
