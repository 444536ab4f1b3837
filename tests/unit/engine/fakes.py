"""Fakes of the engine's ports: a broker over the scripted market, and its trade stream.

The broker records what it saw and has hooks to inject faults, races, broker-initiated
cancels, latency and missing average prices. Its venue (matching, fills, Alpaca's rules) is in
`fake_venue`, the stream in `fake_stream`, the market and clock in `fake_market`.
"""

import asyncio
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from plan_executor.domain.enums import ChildOrderStatus, OrderType, Side
from plan_executor.domain.money import Dollars, Shares
from plan_executor.domain.order_updates import UpdateKind
from plan_executor.domain.quotes import Quote
from plan_executor.ports import (
    AccountSnapshot,
    AssetInfo,
    BrokerOrder,
    MarketClock,
    OrderNotCancelable,
    OrderNotFound,
    OrderRequest,
    Position,
)

from .fake_market import FakeClock, FakeMarket
from .fake_stream import FakeFeed, FakeSubscription
from .fake_venue import FakeOrder, FakeVenue

__all__ = ["FakeBroker", "FakeClock", "FakeFeed", "FakeMarket", "FakeOrder", "FakeSubscription"]

S = ChildOrderStatus


class FakeBroker(FakeVenue):
    """Implements `ports.Broker` over a `FakeMarket`."""

    def __init__(self, clock: FakeClock, market: FakeMarket, *, cash: str = "100000") -> None:
        super().__init__(clock, market, cash=cash)
        self.asset_infos: dict[str, AssetInfo] = {}
        self.subscriptions: list[FakeSubscription] = []
        # --- behaviour hooks ---
        self.market_open = True
        self.closes_at: datetime | None = None
        """The session close the market clock reports; None: six hours after the read."""
        self.trading_blocked = False
        self.stream_connected_at_open = True
        self.fill_wins_cancel: set[str] = set()
        """Symbols whose cancels lose to a fill of the whole remainder."""
        self.broker_cancels_limits: set[str] = set()
        """Symbols where the broker cancels every limit order right after accepting it."""
        self.cancel_latency_s = 0.0
        """> 0: a cancel goes pending first and is confirmed this much later."""
        self.rest_hides_avg_reads = 0
        """The next N REST reads of a filled order come without its average price."""
        self.accept_fills: dict[str, list[Decimal]] = defaultdict(list)
        """Symbol -> for each next accepted limit order, shares someone takes at its price."""
        self.submit_delay_s = 0.0
        """Simulated latency of a submission before the broker commits it."""
        self.read_delay_s = 0.0
        """Simulated latency of `order_by_client_id`."""
        self.after_submit: list[Callable[[FakeOrder], None]] = []
        """Called with each accepted order, after the broker acted on it."""
        self.faults: dict[str, list[BaseException]] = defaultdict(list)
        """Method name -> exceptions raised by its next calls, in order."""
        # --- what the broker saw ---
        self.calls: list[str] = []
        self.submitted: list[OrderRequest] = []
        self.cancel_requests: list[str] = []
        self.open_same_symbol_at_submit: dict[str, list[str]] = {}
        self.reads_in_flight = 0
        self.max_reads_in_flight = 0

    # --- setup ---------------------------------------------------------------------------

    def add_asset(self, symbol: str, *, fractionable: bool = True, tradable: bool = True) -> None:
        self.asset_infos[symbol] = AssetInfo(symbol, tradable, fractionable, active=True)

    def hold(self, symbol: str, qty: str) -> None:
        self.holdings[symbol] = Decimal(qty)

    def seed_order(
        self,
        client_order_id: str,
        symbol: str,
        side: Side,
        qty: str,
        *,
        limit: str | None,
        status: ChildOrderStatus,
        filled_qty: str = "0",
        avg_price: str | None = None,
        submitted_at: datetime,
    ) -> FakeOrder:
        """An order that already exists (an earlier attempt's, or a manual one)."""
        order = FakeOrder(
            broker_id=self._next_id("o"),
            client_order_id=client_order_id,
            symbol=symbol,
            side=side,
            order_type=OrderType.LIMIT if limit else OrderType.MARKET,
            qty=Decimal(qty),
            limit_price=Decimal(limit) if limit else None,
            status=status,
            submitted_at=submitted_at,
            updated_at=submitted_at,
            filled_qty=Decimal(filled_qty),
            avg_price=Decimal(avg_price) if avg_price else None,
        )
        self.orders[client_order_id] = order
        return order

    def submitted_for(self, symbol: str) -> list[OrderRequest]:
        return [request for request in self.submitted if request.symbol == symbol]

    # --- the port: reads --------------------------------------------------------------------

    async def clock(self) -> MarketClock:
        self._call("clock")
        now = self.clock_source.now()
        closes = self.closes_at or now + timedelta(hours=6)
        return MarketClock(now, self.market_open, now + timedelta(hours=16), closes)

    async def account(self) -> AccountSnapshot:
        self._call("account")
        equity = self.cash + sum(
            (qty * self._mid(symbol) for symbol, qty in self.holdings.items()), Decimal(0)
        )
        power = self.buying_power_override
        if power is None:
            power = self.cash - self._held_for_buys()
        return AccountSnapshot(
            Dollars(equity), Dollars(self.cash), Dollars(power), self.trading_blocked
        )

    async def positions(self) -> Mapping[str, Position]:
        self._call("positions")
        return {
            symbol: Position(symbol, Shares(qty), Shares(qty - self._held_for_sells(symbol)))
            for symbol, qty in self.holdings.items()
            if qty > 0
        }

    async def assets(self, symbols: Sequence[str]) -> Mapping[str, AssetInfo]:
        self._call("assets")
        return {
            symbol: self.asset_infos[symbol] for symbol in symbols if symbol in self.asset_infos
        }

    async def latest_quotes(self, symbols: Sequence[str]) -> Mapping[str, Quote]:
        self._call("latest_quotes")
        quotes = {symbol: self.market.read(symbol) for symbol in symbols}
        return {symbol: quote for symbol, quote in quotes.items() if quote is not None}

    async def orders_since(
        self, since: datetime, *, symbols: Sequence[str] | None = None, open_only: bool = False
    ) -> list[BrokerOrder]:
        self._call("orders_since")
        return [
            order.snapshot()
            for order in self.orders.values()
            if order.submitted_at >= since
            and (symbols is None or order.symbol in symbols)
            and (order.is_open or not open_only)
        ]

    async def order_by_client_id(self, client_order_id: str) -> BrokerOrder | None:
        self._call("order_by_client_id")
        self.reads_in_flight += 1
        self.max_reads_in_flight = max(self.max_reads_in_flight, self.reads_in_flight)
        try:
            if self.read_delay_s:
                await asyncio.sleep(self.read_delay_s)
        finally:
            self.reads_in_flight -= 1
        order = self.orders.get(client_order_id)
        if order is None:
            return None
        hide = self.rest_hides_avg_reads > 0 and order.filled_qty > 0
        if hide:
            self.rest_hides_avg_reads -= 1
        return order.snapshot(hide_avg=hide)

    # --- the port: orders -------------------------------------------------------------------

    async def submit(self, request: OrderRequest) -> BrokerOrder:
        self._call("submit")
        if self.submit_delay_s:
            await asyncio.sleep(self.submit_delay_s)
        existing = self.orders.get(request.client_order_id)
        if existing is not None:  # a duplicate id means "look it up", never a second order
            return existing.snapshot()
        self._check_admissible(request)
        self.submitted.append(request)
        self.open_same_symbol_at_submit[request.client_order_id] = [
            o.client_order_id for o in self.open_orders() if o.symbol == request.symbol
        ]
        now = self.clock_source.now()
        order = FakeOrder(
            broker_id=self._next_id("b"),
            client_order_id=request.client_order_id,
            symbol=request.symbol,
            side=request.side,
            order_type=request.order_type,
            qty=request.qty,
            limit_price=request.limit_price,
            status=S.NEW,
            submitted_at=now,
            updated_at=now,
        )
        self.orders[order.client_order_id] = order
        self.log.append(("submit", order.client_order_id))
        acknowledged = order.snapshot()
        self._emit(order, UpdateKind.NEW)
        taken = self.accept_fills.get(order.symbol)
        if taken and order.limit_price is not None:
            self._fill(order, min(taken.pop(0), order.remaining), order.limit_price)
        if order.order_type is OrderType.LIMIT and order.symbol in self.broker_cancels_limits:
            self._end(order, S.CANCELED, UpdateKind.CANCELED)
        else:
            self._match(order)
        for hook in self.after_submit:
            hook(order)
        return acknowledged

    async def cancel(self, broker_id: str) -> None:
        self._call("cancel")
        order = next((o for o in self.orders.values() if o.broker_id == broker_id), None)
        if order is None:
            raise OrderNotFound(broker_id)
        self.cancel_requests.append(order.client_order_id)
        self.log.append(("cancel", order.client_order_id))
        if not order.is_open:
            raise OrderNotCancelable(f"order {broker_id} is {order.status}", order=order.snapshot())
        if order.symbol in self.fill_wins_cancel:
            price = order.limit_price or self._touch(order)
            self._fill(order, order.remaining, price)
            return
        if self.cancel_latency_s > 0:
            order.status = S.PENDING_CANCEL
            self._emit(order, UpdateKind.PENDING_CANCEL)
            loop = asyncio.get_running_loop()
            loop.call_later(self.cancel_latency_s, self._confirm_cancel, order)
            return
        self._confirm_cancel(order)

    def trade_events(self) -> FakeSubscription:
        subscription = FakeSubscription(self.feeds, connected=self.stream_connected_at_open)
        self.subscriptions.append(subscription)
        return subscription

    async def aclose(self) -> None:
        self._call("aclose")

    def _call(self, method: str) -> None:
        self.calls.append(method)
        pending = self.faults.get(method)
        if pending:
            raise pending.pop(0)
