"""Turning the broker's REST view of an order into our child-order terms."""

from dataclasses import replace
from datetime import datetime

from plan_executor.domain.child_order import ChildOrder
from plan_executor.domain.enums import ChildOrderStatus
from plan_executor.domain.order_updates import TERMINAL_STATUSES, OrderUpdate, UpdateKind
from plan_executor.ports import BrokerOrder


def snapshot_update(order: BrokerOrder) -> OrderUpdate:
    """A REST read as a SNAPSHOT update for `apply`."""
    avg = order.filled_avg_price if order.filled_qty > 0 else None
    return OrderUpdate(
        kind=UpdateKind.SNAPSHOT,
        at=order.updated_at,
        broker_id=order.broker_id,
        status=order.status,
        filled_qty=order.filled_qty,
        avg_price=avg if avg is not None and avg > 0 else None,
    )


def child_from_broker(order: BrokerOrder) -> ChildOrder:
    """A child order adopted from the broker's view (an earlier attempt's order, or one whose
    history no longer fits the state machine). The broker's REST view is the truth."""
    filled = order.filled_qty
    avg = order.filled_avg_price if filled > 0 else None
    terminal = order.status in TERMINAL_STATUSES
    return ChildOrder(
        client_order_id=order.client_order_id,
        broker_id=order.broker_id,
        symbol=order.symbol,
        side=order.side,
        order_type=order.order_type,
        qty=order.qty,
        limit_price=order.limit_price,
        status=order.status,
        filled_qty=filled,
        avg_fill_price=avg,
        fills=(),
        submitted_at=order.submitted_at,
        terminal_at=order.updated_at if terminal else None,
        needs_price_reread=filled > 0 and avg is None,
    )


def rebuilt_from_broker(known: ChildOrder, order: BrokerOrder) -> ChildOrder:
    """`known` overwritten by the broker's view, keeping the fills already recorded."""
    fresh = child_from_broker(order)
    return replace(fresh, fills=known.fills, submitted_at=known.submitted_at)


def rejected_locally(order: ChildOrder, at: datetime) -> ChildOrder:
    """A submission the broker refused outright: it never existed at the broker."""
    return replace(order, status=ChildOrderStatus.REJECTED, terminal_at=at)
