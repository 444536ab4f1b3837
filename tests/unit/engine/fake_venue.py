"""The fake broker's venue: orders, matching against the scripted market, fills, holds, and
the trade updates it emits. Alpaca's rules that matter to the engine are kept: held shares and
buying power, wash-trade refusals, fills at the touch up to the displayed size."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from plan_executor.domain.enums import ChildOrderStatus, OrderType, Side
from plan_executor.domain.money import Price, Shares
from plan_executor.domain.order_updates import TERMINAL_STATUSES, OrderUpdate, UpdateKind
from plan_executor.ports import BrokerOrder, OrderRejected, OrderRequest, TradeEvent

from .fake_market import FakeClock, FakeMarket
from .fake_stream import FakeFeed

S = ChildOrderStatus
MARKET_BUY_HOLD = Decimal("1.02")
"""Alpaca values a market buy above the ask when holding buying power (its collar)."""


@dataclass
class FakeOrder:
    """The broker's own record of one order (mutable: the broker moves it)."""

    broker_id: str
    client_order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal
    limit_price: Decimal | None
    status: ChildOrderStatus
    submitted_at: datetime
    updated_at: datetime
    filled_qty: Decimal = Decimal(0)
    avg_price: Decimal | None = None

    @property
    def is_open(self) -> bool:
        return self.status not in TERMINAL_STATUSES

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.filled_qty

    def snapshot(self, *, hide_avg: bool = False) -> BrokerOrder:
        return BrokerOrder(
            broker_id=self.broker_id,
            client_order_id=self.client_order_id,
            symbol=self.symbol,
            side=self.side,
            order_type=self.order_type,
            qty=Shares(self.qty),
            limit_price=Price(self.limit_price) if self.limit_price is not None else None,
            status=self.status,
            filled_qty=Shares(self.filled_qty),
            filled_avg_price=None if hide_avg or self.avg_price is None else Price(self.avg_price),
            submitted_at=self.submitted_at,
            updated_at=self.updated_at,
        )


class FakeVenue:
    def __init__(self, clock: FakeClock, market: FakeMarket, *, cash: str) -> None:
        self.clock_source = clock
        self.market = market
        market.on_move(self._rematch)
        self.cash = Decimal(cash)
        self.holdings: dict[str, Decimal] = {}
        self.orders: dict[str, FakeOrder] = {}
        self.feeds: list[FakeFeed] = []
        self.buying_power_override: Decimal | None = None
        self.stream_omits_avg_price = False
        self.duplicate_stream_events = False
        self.unannounced_fills: set[str] = set()
        """Symbols whose fills are never published on the stream (only a read shows them)."""
        self.log: list[tuple[str, str]] = []
        self.unmatched: set[str] = set()
        """Symbols whose orders are accepted and never matched (as in a halt)."""
        """(what, client_order_id) in the order the broker saw or did it."""
        self._ids = 0

    def open_orders(self) -> list[FakeOrder]:
        return [order for order in self.orders.values() if order.is_open]

    def cancel_by_broker(self, client_order_id: str, *, expire: bool = False) -> None:
        order = self.orders[client_order_id]
        kind = UpdateKind.EXPIRED if expire else UpdateKind.CANCELED
        self._end(order, S.EXPIRED if expire else S.CANCELED, kind)

    def _confirm_cancel(self, order: FakeOrder) -> None:
        if order.is_open:
            self._end(order, S.CANCELED, UpdateKind.CANCELED)

    def _rematch(self, symbol: str) -> None:
        for order in self.open_orders():
            if order.symbol == symbol:
                self._match(order)

    def _match(self, order: FakeOrder) -> None:
        book = self.market.book(order.symbol)
        if book is None or not order.is_open or order.status is S.PENDING_CANCEL:
            return
        if order.symbol in self.unmatched:
            return
        buying = order.side is Side.BUY
        touch, size = (book.ask, book.ask_size) if buying else (book.bid, book.bid_size)
        if touch <= 0 or size <= 0:
            return
        if order.order_type is OrderType.LIMIT:
            assert order.limit_price is not None
            crosses = order.limit_price >= touch if buying else order.limit_price <= touch
            if not crosses:
                return
        self._fill(order, min(order.remaining, size), touch)

    def _fill(self, order: FakeOrder, qty: Decimal, at_price: Decimal) -> None:
        if qty <= 0:
            return
        self.log.append(("fill", order.client_order_id))
        before = order.filled_qty * (order.avg_price or 0)
        order.filled_qty += qty
        order.avg_price = (before + qty * at_price) / order.filled_qty
        sign = 1 if order.side is Side.BUY else -1
        self.cash -= sign * qty * at_price
        self.holdings[order.symbol] = self.holdings.get(order.symbol, Decimal(0)) + sign * qty
        done = order.filled_qty == order.qty
        order.status = S.FILLED if done else S.PARTIALLY_FILLED
        order.updated_at = self.clock_source.now()
        kind = UpdateKind.FILL if done else UpdateKind.PARTIAL_FILL
        if order.symbol not in self.unannounced_fills:
            self._emit(order, kind, last_qty=qty, last_price=at_price)

    def _end(self, order: FakeOrder, status: ChildOrderStatus, kind: UpdateKind) -> None:
        self.log.append((str(status), order.client_order_id))
        order.status = status
        order.updated_at = self.clock_source.now()
        self._emit(order, kind)

    def _emit(
        self,
        order: FakeOrder,
        kind: UpdateKind,
        *,
        last_qty: Decimal | None = None,
        last_price: Decimal | None = None,
    ) -> None:
        avg = None if self.stream_omits_avg_price else order.avg_price
        update = OrderUpdate(
            kind=kind,
            at=self.clock_source.now(),
            broker_id=order.broker_id,
            filled_qty=Shares(order.filled_qty),
            avg_price=Price(avg) if avg is not None and order.filled_qty > 0 else None,
            execution_id=self._next_id("x") if last_qty is not None else None,
            last_qty=Shares(last_qty) if last_qty is not None else None,
            last_price=Price(last_price) if last_price is not None else None,
        )
        event = TradeEvent(order.client_order_id, order.symbol, update)
        copies = 2 if self.duplicate_stream_events else 1
        for feed in list(self.feeds):
            for _ in range(copies):
                feed.push(event)

    # --- rules ---------------------------------------------------------------------------------

    def _check_admissible(self, request: OrderRequest) -> None:
        opposite = [
            o
            for o in self.open_orders()
            if o.symbol == request.symbol and o.side is not request.side
        ]
        if opposite:
            raise OrderRejected("potential wash trade detected", code=40310000, status=403)
        if request.side is Side.SELL:
            available = self.holdings.get(request.symbol, Decimal(0)) - self._held_for_sells(
                request.symbol
            )
            if request.qty > available:
                raise OrderRejected(
                    f"insufficient qty available (requested {request.qty}, available {available})",
                    code=40310000,
                    status=403,
                )
            return
        cost = request.qty * self._buy_hold_price(request.symbol, request.limit_price)
        power = self.cash - self._held_for_buys()
        if self.buying_power_override is not None:
            power = min(power, self.buying_power_override)
        if cost > power:
            raise OrderRejected("insufficient buying power", code=40310000, status=403)

    def _held_for_sells(self, symbol: str) -> Decimal:
        return sum(
            (o.remaining for o in self.open_orders() if o.symbol == symbol and o.side is Side.SELL),
            Decimal(0),
        )

    def _held_for_buys(self) -> Decimal:
        return sum(
            (
                o.remaining * self._buy_hold_price(o.symbol, o.limit_price)
                for o in self.open_orders()
                if o.side is Side.BUY
            ),
            Decimal(0),
        )

    def _buy_hold_price(self, symbol: str, limit: Decimal | None) -> Decimal:
        if limit is not None:
            return limit
        book = self.market.book(symbol)
        return (book.ask if book else Decimal(0)) * MARKET_BUY_HOLD

    def _touch(self, order: FakeOrder) -> Decimal:
        book = self.market.book(order.symbol)
        assert book is not None
        return book.ask if order.side is Side.BUY else book.bid

    def _mid(self, symbol: str) -> Decimal:
        book = self.market.book(symbol)
        return (book.bid + book.ask) / 2 if book else Decimal(0)

    def _next_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self._ids:06d}"
