"""One broker order placed for a plan item, and its single state-transition entry point.

`apply(order, update)` is the only way an order changes. The rules, each from an incident of
the predecessor:
- fills are de-duplicated by execution id and by the cumulative filled quantity (12);
- stale news (a lower cumulative fill, or news about a finished order without a new fill) is
  ignored, while an illegal move from an open order raises `IllegalTransition`;
- a fill that races a cancel wins: it is recorded, and a completed order is FILLED (7);
- the filled quantity only grows and never exceeds the order quantity (`OverFillError`);
- an average price is taken only from the broker; a fill without one leaves it unknown and
  sets `needs_price_reread` (15);
- cancels and expiries by the broker are terminal states the caller sees (9).
"""

from dataclasses import dataclass, replace
from datetime import datetime

from plan_executor.domain.enums import ChildOrderStatus, OrderType, Side
from plan_executor.domain.money import ZERO, Price, Shares
from plan_executor.domain.order_updates import (
    TERMINAL_STATUSES,
    TRANSITIONS,
    OrderUpdate,
    UpdateKind,
)


class ChildOrderError(Exception):
    """An update that cannot be applied to an order."""


class IllegalTransition(ChildOrderError):
    """The update is not a legal move from the order's current status."""


class OverFillError(ChildOrderError):
    """The broker reports more filled than the order's quantity."""


class MismatchedUpdateError(ChildOrderError):
    """The update carries another order's broker id."""


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution. `execution_id` and `price` are None when the fill was only seen as a rise
    in the cumulative quantity (a REST read): the broker's average price still covers it."""

    execution_id: str | None
    qty: Shares
    price: Price | None
    at: datetime


@dataclass(frozen=True, slots=True)
class ChildOrder:
    client_order_id: str
    broker_id: str | None
    symbol: str
    side: Side
    order_type: OrderType
    qty: Shares
    limit_price: Price | None
    status: ChildOrderStatus
    filled_qty: Shares
    avg_fill_price: Price | None
    fills: tuple[Fill, ...]
    submitted_at: datetime
    terminal_at: datetime | None
    needs_price_reread: bool

    def __post_init__(self) -> None:
        if not self.qty.is_finite() or self.qty <= 0:
            raise ValueError(f"order quantity must be positive, got {self.qty}")
        if not ZERO <= self.filled_qty <= self.qty:
            raise ValueError(f"filled {self.filled_qty} outside 0..{self.qty}")
        if (self.order_type is OrderType.LIMIT) != (self.limit_price is not None):
            raise ValueError("a limit price is required for limit orders and only for them")
        if self.limit_price is not None and self.limit_price <= 0:
            raise ValueError(f"limit price must be positive, got {self.limit_price}")

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def is_open(self) -> bool:
        return not self.is_terminal

    @property
    def leaves_qty(self) -> Shares:
        """Shares still working at the broker: zero once the order has ended."""
        return self.unfilled_qty if self.is_open else Shares(ZERO)

    @property
    def unfilled_qty(self) -> Shares:
        """Shares never filled: what a re-peg or market fallback may still send."""
        return Shares(self.qty - self.filled_qty)

    @property
    def execution_ids(self) -> frozenset[str]:
        return frozenset(fill.execution_id for fill in self.fills if fill.execution_id)


def submitted(
    *,
    client_order_id: str,
    symbol: str,
    side: Side,
    order_type: OrderType,
    qty: Shares,
    limit_price: Price | None,
    at: datetime,
) -> ChildOrder:
    """A new order as it is sent, before the broker has answered."""
    return ChildOrder(
        client_order_id=client_order_id,
        broker_id=None,
        symbol=symbol,
        side=side,
        order_type=order_type,
        qty=qty,
        limit_price=limit_price,
        status=ChildOrderStatus.PENDING_SUBMIT,
        filled_qty=Shares(ZERO),
        avg_fill_price=None,
        fills=(),
        submitted_at=at,
        terminal_at=None,
        needs_price_reread=False,
    )


def apply(order: ChildOrder, update: OrderUpdate) -> ChildOrder:
    """`order` after `update`: the one entry point of the state machine."""
    if update.broker_id and order.broker_id and update.broker_id != order.broker_id:
        raise MismatchedUpdateError(f"{order.client_order_id}: update for {update.broker_id}")
    if update.execution_id is not None and update.execution_id in order.execution_ids:
        return order  # a replayed execution
    cumulative = order.filled_qty if update.filled_qty is None else update.filled_qty
    if cumulative < order.filled_qty:
        return order  # news from before what we already know
    if cumulative > order.qty:
        raise OverFillError(f"{order.client_order_id}: filled {cumulative} of {order.qty}")
    new_fill = cumulative > order.filled_qty
    if not new_fill:
        order = _named_fills(order, update)
    if order.is_terminal and not new_fill:
        return _with_reread_price(order, update, cumulative)
    kind = update.effective_kind
    target = TRANSITIONS.get((order.status, kind))
    if target is None:
        raise IllegalTransition(f"{order.client_order_id}: {kind} while {order.status}")
    if kind is UpdateKind.FILL and cumulative != order.qty:
        raise IllegalTransition(f"{order.client_order_id}: fill at {cumulative} of {order.qty}")
    return _moved(order, update, _settled_status(target, cumulative, order.qty), cumulative)


def _settled_status(target: ChildOrderStatus, cumulative: Shares, qty: Shares) -> ChildOrderStatus:
    """The table's target, corrected by the quantities: complete means FILLED whatever the
    news was, and a working order with fills is PARTIALLY_FILLED."""
    if cumulative == qty:
        return ChildOrderStatus.FILLED
    if cumulative > 0 and target in (ChildOrderStatus.ACCEPTED, ChildOrderStatus.NEW):
        return ChildOrderStatus.PARTIALLY_FILLED
    return target


def _moved(
    order: ChildOrder, update: OrderUpdate, status: ChildOrderStatus, cumulative: Shares
) -> ChildOrder:
    new_fill = cumulative > order.filled_qty
    avg = _average_after(order, update, cumulative, new_fill=new_fill)
    ended = status in TERMINAL_STATUSES
    return replace(
        order,
        broker_id=order.broker_id or update.broker_id,
        status=status,
        filled_qty=cumulative,
        avg_fill_price=avg,
        fills=order.fills + _new_fills(order, update, cumulative),
        terminal_at=order.terminal_at or (update.at if ended else None),
        needs_price_reread=cumulative > 0 and avg is None,
    )


def _average_after(
    order: ChildOrder, update: OrderUpdate, cumulative: Shares, *, new_fill: bool
) -> Price | None:
    """Only the broker's cumulative average counts; a new fill without one makes it unknown."""
    if cumulative == 0:
        return None
    if new_fill or update.avg_price is not None:
        return update.avg_price
    return order.avg_fill_price


def _with_reread_price(order: ChildOrder, update: OrderUpdate, cumulative: Shares) -> ChildOrder:
    """A finished order ignores news except the broker's average price for the same fills."""
    if update.avg_price is None or cumulative != order.filled_qty or cumulative == 0:
        return order
    if update.avg_price == order.avg_fill_price:
        return order
    return replace(order, avg_fill_price=update.avg_price, needs_price_reread=False)


def _named_fills(order: ChildOrder, update: OrderUpdate) -> ChildOrder:
    """Shares first seen as a rise in a REST read (e.g. a submit answered already filled) get
    their execution when the stream's news for it arrives: the unpriced fill gives way to the
    execution's id, quantity and price. The cumulative quantity does not change."""
    qty, price = update.last_qty, update.last_price
    if update.execution_id is None or qty is None or price is None or qty <= 0:
        return order
    if qty > sum((fill.qty for fill in order.fills if fill.price is None), ZERO):
        return order
    kept: list[Fill] = []
    left = qty
    for fill in order.fills:
        if fill.price is None and left > 0:
            taken = min(fill.qty, left)
            left = Shares(left - taken)
            if fill.qty > taken:
                kept.append(replace(fill, qty=Shares(fill.qty - taken)))
            continue
        kept.append(fill)
    named = Fill(update.execution_id, qty, price, update.at)
    return replace(order, fills=(*kept, named))


def _new_fills(order: ChildOrder, update: OrderUpdate, cumulative: Shares) -> tuple[Fill, ...]:
    """Fills for the rise in cumulative quantity. If this execution explains only part of the
    rise, an earlier execution was missed: it is recorded without an id or a price."""
    delta = Shares(cumulative - order.filled_qty)
    if delta <= 0:
        return ()
    this_qty = update.last_qty
    if this_qty is None or this_qty >= delta:
        return (Fill(update.execution_id, delta, update.last_price, update.at),)
    missed = Fill(None, Shares(delta - this_qty), None, update.at)
    return (missed, Fill(update.execution_id, this_qty, update.last_price, update.at))
