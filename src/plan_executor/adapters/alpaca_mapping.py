"""Alpaca orders, statuses and `trade_updates` events in our terms, and our orders on the wire.

Statuses that ChildOrderStatus does not name are mapped conservatively: never terminal, never
filled beyond the reported `filled_qty`, so the engine keeps tracking the order and cancels it
at the end if it is still open:
  pending_new, accepted_for_bidding, pending_review, held, suspended, unknown -> ACCEPTED
  stopped -> NEW; calculated -> DONE_FOR_DAY
and any of these with `filled_qty > 0` -> PARTIALLY_FILLED.
Stream events without an UpdateKind of their own (stopped, suspended, calculated, restated,
order_replace_rejected, held) become a SNAPSHOT of the order's status; unknown events are
ignored (the feed counts them).
"""

import logging
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType

from plan_executor.adapters.alpaca_wire import (
    MalformedResponseError,
    Wire,
    optional_decimal,
    optional_time,
    wire_object,
    wire_str,
    wire_time,
)
from plan_executor.domain.enums import ChildOrderStatus, OrderType, Side
from plan_executor.domain.money import ZERO, Price, Shares
from plan_executor.domain.order_updates import OrderUpdate, UpdateKind
from plan_executor.ports import BrokerOrder, OrderRequest, TradeEvent

log = logging.getLogger(__name__)

_S = ChildOrderStatus
_K = UpdateKind

STATUS_BY_ALPACA: Mapping[str, ChildOrderStatus] = MappingProxyType(
    {
        "new": _S.NEW,
        "partially_filled": _S.PARTIALLY_FILLED,
        "filled": _S.FILLED,
        "done_for_day": _S.DONE_FOR_DAY,
        "canceled": _S.CANCELED,
        "expired": _S.EXPIRED,
        "replaced": _S.REPLACED,
        "pending_cancel": _S.PENDING_CANCEL,
        "pending_replace": _S.PENDING_REPLACE,
        "accepted": _S.ACCEPTED,
        "rejected": _S.REJECTED,
        # Conservative readings of statuses we have no name for (see the module docstring).
        "pending_new": _S.ACCEPTED,
        "accepted_for_bidding": _S.ACCEPTED,
        "pending_review": _S.ACCEPTED,
        "held": _S.ACCEPTED,
        "suspended": _S.ACCEPTED,
        "stopped": _S.NEW,
        "calculated": _S.DONE_FOR_DAY,
    }
)
UNKNOWN_STATUS_READING = _S.ACCEPTED

KIND_BY_EVENT: Mapping[str, UpdateKind] = MappingProxyType(
    {
        "accepted": _K.ACCEPTED,
        "pending_new": _K.ACCEPTED,
        "new": _K.NEW,
        "partial_fill": _K.PARTIAL_FILL,
        "fill": _K.FILL,
        "pending_cancel": _K.PENDING_CANCEL,
        "pending_replace": _K.PENDING_REPLACE,
        "canceled": _K.CANCELED,
        "expired": _K.EXPIRED,
        "rejected": _K.REJECTED,
        "replaced": _K.REPLACED,
        "order_cancel_rejected": _K.CANCEL_REJECTED,
        "done_for_day": _K.DONE_FOR_DAY,
    }
)
SNAPSHOT_EVENTS = frozenset(
    {"stopped", "suspended", "calculated", "restated", "order_replace_rejected", "held"}
)

TYPE_BY_ALPACA: Mapping[str, OrderType] = MappingProxyType(
    {
        "limit": OrderType.LIMIT,
        "market": OrderType.MARKET,
        # Orders we never send (placed by hand on the account) read as what they become once
        # triggered; the engine only needs their side, symbol and status.
        "stop_limit": OrderType.LIMIT,
        "stop": OrderType.MARKET,
        "trailing_stop": OrderType.MARKET,
    }
)
_WORKING_READINGS = frozenset({_S.ACCEPTED, _S.NEW})
_FILL_KINDS = frozenset({_K.FILL, _K.PARTIAL_FILL})


def status_from_wire(alpaca_status: str, filled_qty: Shares) -> ChildOrderStatus:
    status = STATUS_BY_ALPACA.get(alpaca_status)
    if status is None:
        log.warning(
            "unknown Alpaca order status %r read as %s", alpaca_status, UNKNOWN_STATUS_READING
        )
        status = UNKNOWN_STATUS_READING
    if status in _WORKING_READINGS and filled_qty > 0:
        return _S.PARTIALLY_FILLED
    return status


def order_from_wire(raw: Wire) -> BrokerOrder:
    filled = optional_decimal(raw, "filled_qty")
    filled_qty = Shares(ZERO if filled is None else filled)
    qty = optional_decimal(raw, "qty")
    submitted_at = optional_time(raw, "submitted_at") or wire_time(raw, "created_at")
    return BrokerOrder(
        broker_id=wire_str(raw, "id"),
        client_order_id=wire_str(raw, "client_order_id"),
        symbol=wire_str(raw, "symbol"),
        side=_side(raw),
        order_type=_order_type(raw),
        # A notional order (never ours) has no qty until it fills: what filled is what it is.
        qty=Shares(filled_qty if qty is None else qty),
        limit_price=_positive_price(raw, "limit_price"),
        status=status_from_wire(wire_str(raw, "status"), filled_qty),
        filled_qty=filled_qty,
        filled_avg_price=_positive_price(raw, "filled_avg_price"),
        submitted_at=submitted_at,
        updated_at=optional_time(raw, "updated_at") or submitted_at,
    )


def trade_event_from_wire(data: Wire) -> TradeEvent | None:
    """One `trade_updates` payload (`data` of the message); None for an event we do not know."""
    event = wire_str(data, "event")
    kind = KIND_BY_EVENT.get(event)
    if kind is None and event not in SNAPSHOT_EVENTS:
        return None
    order = order_from_wire(wire_object(data.get("order"), "order"))
    last_qty, last_price = _execution(data) if kind in _FILL_KINDS else (None, None)
    update = OrderUpdate(
        kind=_K.SNAPSHOT if kind is None else kind,
        at=optional_time(data, "timestamp") or order.updated_at,
        broker_id=order.broker_id,
        status=order.status if kind is None else None,
        filled_qty=order.filled_qty,
        avg_price=order.filled_avg_price,
        execution_id=_optional_str(data, "execution_id"),
        last_qty=last_qty,
        last_price=last_price,
    )
    return TradeEvent(client_order_id=order.client_order_id, symbol=order.symbol, update=update)


def order_body(request: OrderRequest) -> dict[str, str]:
    """POST /v2/orders body. Quantities and prices go as exact decimal strings (Alpaca's spec
    types them as strings); alpaca-py's request models would turn them into floats."""
    body = {
        "symbol": request.symbol,
        "qty": _plain(request.qty),
        "side": request.side.value,
        "type": request.order_type.value,
        "time_in_force": "day",
        "client_order_id": request.client_order_id,
    }
    if request.limit_price is not None:
        body["limit_price"] = _plain(request.limit_price)
    return body


def _execution(data: Wire) -> tuple[Shares | None, Price | None]:
    """This execution's quantity and price, when the broker sent usable ones."""
    qty = optional_decimal(data, "qty")
    if qty is None or qty <= 0:
        return None, None
    execution_price = optional_decimal(data, "price")
    usable_price = execution_price if execution_price is not None and execution_price > 0 else None
    return Shares(qty), None if usable_price is None else Price(usable_price)


def _side(raw: Wire) -> Side:
    side = raw.get("side")
    if side == "buy":
        return Side.BUY
    if side == "sell":
        return Side.SELL
    raise MalformedResponseError(f"side: expected buy or sell, got {side!r}")


def _order_type(raw: Wire) -> OrderType:
    name = raw.get("type") or raw.get("order_type")
    order_type = TYPE_BY_ALPACA.get(name) if isinstance(name, str) else None
    if order_type is None:
        raise MalformedResponseError(f"type: unknown order type {name!r}")
    return order_type


def _positive_price(raw: Wire, field: str) -> Price | None:
    """None when absent, null or not positive (an average of 0 is no average at all)."""
    value = optional_decimal(raw, field)
    return Price(value) if value is not None and value > 0 else None


def _optional_str(raw: Wire, field: str) -> str | None:
    value = raw.get(field)
    return value if isinstance(value, str) and value else None


def _plain(number: Decimal) -> str:
    """A decimal without exponent notation ("10", never "1E+1")."""
    return format(number, "f")
