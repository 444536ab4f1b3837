"""The simulated Alpaca venue: the one facade the HTTP layer and tests talk to.

Every public method first brings the book up to `clock.now()` (tick), then acts; trade updates
are delivered to subscribers, in order, once the state they describe is complete.
"""

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

from alpaca_sim.asset_listing import AssetQuery, list_assets
from alpaca_sim.clock import SimClock
from alpaca_sim.engine import ArmedFault, Engine, TradeUpdate
from alpaca_sim.errors import BAD_REQUEST, SimError, bad_request, not_found
from alpaca_sim.inputs import closing_qty, positive_qty, scripted_price, scripted_size
from alpaca_sim.orders import SimOrder
from alpaca_sim.rules import (
    OrderRequest,
    parse_order_id,
    parse_order_request,
    parse_replace_request,
    replacement_request,
)
from alpaca_sim.scenario import AssetSpec, Scenario
from alpaca_sim.views import account_view, positions_view, select_orders, state_view
from alpaca_sim.wire import Json, asset_wire, clock_wire, order_wire, quote_wire

__all__ = ["TradeUpdate", "Venue"]

Listener = Callable[[TradeUpdate], None]
_FEEDS = frozenset({"iex", "sip", "delayed_sip", "otc", "boats", "overnight"})


class Venue:
    def __init__(self, scenario: Scenario, *, seed: int, clock: SimClock | None = None) -> None:
        self.clock = clock if clock is not None else SimClock(scenario.clock.start)
        self._listeners: list[Listener] = []
        self._watchers: list[Callable[[], None]] = []
        self._start(scenario, seed)

    def _start(self, scenario: Scenario, seed: int) -> None:
        self._seed = seed
        self._engine = Engine(scenario, seed, self.clock.now())

    def reset(self, scenario: Scenario, *, seed: int | None = None) -> None:
        """Start over from `scenario` at its start instant; subscribers stay subscribed."""
        self.clock.set(scenario.clock.start)
        self._start(scenario, self._seed if seed is None else seed)
        self._notify_watchers()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def watch(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback` after every operation (the book or the clock may have changed)."""
        self._watchers.append(callback)

        def unwatch() -> None:
            if callback in self._watchers:
                self._watchers.remove(callback)

        return unwatch

    def tick(self) -> None:
        with self._op():
            pass

    def seconds_until_due(self) -> float | None:
        """Wall seconds until the book next has something to do on its own (an ack, a fill, an
        expiry, a market step, a flow arrival); None if nothing is scheduled or the clock is
        manual (time then moves only through calls, which tick themselves)."""
        speed = self.clock.speed
        due = self._engine.next_due() if speed > 0 else None
        if due is None:
            return None
        return max(0.0, (due - self.clock.now()).total_seconds() / speed)

    @contextmanager
    def _op(self) -> Iterator[Engine]:
        engine = self._engine
        try:
            engine.run_until(self.clock.now())
            yield engine
        finally:
            try:
                self._publish(engine)
            finally:
                self._notify_watchers()

    def _notify_watchers(self) -> None:
        for watcher in list(self._watchers):
            watcher()

    def _publish(self, engine: Engine) -> None:
        updates, engine.outbox = engine.outbox, []
        failure: Exception | None = None
        for update in updates:
            for listener in list(self._listeners):
                try:
                    listener(update)
                except Exception as exc:  # deliver to every listener, then report
                    failure = failure or exc
        if failure is not None:
            raise failure

    # ----- trading API -----

    def account(self) -> Json:
        with self._op() as engine:
            return account_view(engine, engine.cursor)

    def list_positions(self) -> list[Json]:
        with self._op() as engine:
            return positions_view(engine, engine.cursor)

    def get_position(self, symbol_or_asset_id: str) -> Json:
        with self._op() as engine:
            symbol = self._held_symbol(symbol_or_asset_id)
            return positions_view(engine, engine.cursor, [symbol])[0]

    def close_position(
        self, symbol_or_asset_id: str, *, qty: str | None, percentage: str | None
    ) -> Json:
        with self._op() as engine:
            symbol = self._held_symbol(symbol_or_asset_id)
            amount = closing_qty(
                engine.account.position_qty(symbol),
                fractionable=engine.scenario.assets[symbol].fractionable,
                qty=qty,
                percentage=percentage,
            )
            request = OrderRequest(
                symbol, "sell", "market", "day", amount, None, None, False, None, "simple"
            )
            return order_wire(engine.place(request))

    def list_orders(
        self,
        *,
        status: str = "open",
        limit: int = 50,
        after: str | None = None,
        until: str | None = None,
        direction: str = "desc",
        nested: bool = False,
        side: str | None = None,
        symbols: list[str] | None = None,
    ) -> list[Json]:
        with self._op() as engine:
            chosen = select_orders(
                engine.orders.values(),
                status=status,
                limit=limit,
                after=after,
                until=until,
                direction=direction,
                side=side,
                symbols=symbols,
            )
            return [_answer(o) for o in chosen]

    def submit_order(self, body: Mapping[str, object]) -> Json:
        with self._op() as engine:
            return _answer(engine.place(parse_order_request(body)))

    def get_order(self, order_id: str, *, nested: bool = False) -> Json:
        with self._op():
            return _answer(self._order(order_id))

    def get_order_by_client_id(self, client_order_id: str) -> Json:
        with self._op() as engine:
            order_id = engine.client_order_ids.get(client_order_id)
            if order_id is None:
                raise not_found("order not found")
            return _answer(engine.orders[order_id])

    def replace_order(self, order_id: str, body: Mapping[str, object]) -> Json:
        with self._op() as engine:
            old = self._order(order_id)
            request = replacement_request(old, parse_replace_request(body))
            return order_wire(engine.place(request, replacing=old))

    def cancel_order(self, order_id: str) -> None:
        with self._op() as engine:
            engine.cancel(self._order(order_id))

    def cancel_all_orders(self) -> list[Json]:
        with self._op() as engine:
            results: list[Json] = []
            for order in engine.open_orders():
                try:
                    engine.cancel(order)
                    results.append({"id": order.id, "status": 200, "body": order_wire(order)})
                except SimError as exc:
                    results.append({"id": order.id, "status": exc.status, "body": exc.body()})
            return results

    def clock_view(self) -> Json:
        with self._op() as engine:
            return clock_wire(engine.cursor, engine.calendar)

    def get_asset(self, symbol_or_asset_id: str) -> Json:
        with self._op():
            asset = self._asset(symbol_or_asset_id)
            if asset is None:
                raise not_found("asset not found")
            return asset_wire(asset)

    def list_assets(self, query: AssetQuery) -> list[Json]:
        with self._op() as engine:
            return list_assets(engine.scenario.assets.values(), query)

    def latest_quotes(self, symbols: list[str], feed: str | None = None) -> Json:
        with self._op() as engine:
            if feed is not None and feed not in _FEEDS:
                raise SimError(400, BAD_REQUEST, f"invalid feed: {feed}")
            quotes: Json = {}
            for raw in symbols:
                symbol = raw.strip().upper()
                asset = engine.scenario.assets.get(symbol)
                if asset is not None:
                    quote = engine.market.quote(symbol, engine.cursor)
                    lot = engine.scenario.quote_lot
                    quotes[symbol] = quote_wire(quote, asset.exchange, feed or "iex", lot)
            return {"quotes": quotes}

    # ----- control -----

    def state(self) -> Json:
        """Everything, for tests and GET /_sim/state: orders with fills, account, quotes..."""
        with self._op() as engine:
            return state_view(engine, seed=self._seed)

    def script_quote(
        self,
        symbol: str,
        *,
        bid: str | None,
        ask: str | None,
        bid_size: str | None = None,
        ask_size: str | None = None,
        age_seconds: float = 0.0,
        hold: bool = True,
    ) -> None:
        with self._op() as engine:
            asset = self._known(symbol)
            bid_price, ask_price = scripted_price(bid, "bid"), scripted_price(ask, "ask")
            default_size = Decimal(engine.scenario.sizes[asset.symbol])
            if age_seconds < 0:
                raise bad_request("age_seconds must be >= 0")
            engine.market.script(
                asset.symbol,
                bid=bid_price,
                ask=ask_price,
                bid_size=scripted_size(bid_size, bid_price, default_size),
                ask_size=scripted_size(ask_size, ask_price, default_size),
                age=timedelta(seconds=age_seconds),
                hold=hold,
                at=engine.cursor,
            )
            engine.quote_changed(asset.symbol)

    def clear_scripted_quote(self, symbol: str) -> None:
        with self._op() as engine:
            name = self._known(symbol).symbol
            engine.market.clear_script(name)
            engine.quote_changed(name)

    def set_halted(self, symbol: str, halted: bool) -> None:
        with self._op() as engine:
            name = self._known(symbol).symbol
            if halted:
                engine.market.halt(name, engine.cursor)
            else:
                engine.market.resume(name)
                engine.quote_changed(name)

    def set_latency(self, *, ack_ms: float, fill_ms: float) -> None:
        with self._op() as engine:
            if ack_ms < 0 or fill_ms < 0:
                raise bad_request("latencies must be >= 0")
            engine.ack_latency = timedelta(milliseconds=ack_ms)
            engine.fill_latency = timedelta(milliseconds=fill_ms)

    def race_fill_on_next_cancel(self, symbol: str | None = None) -> None:
        with self._op() as engine:
            engine.race_armed = True
            engine.race_symbol = None if symbol is None else self._known(symbol).symbol

    def reject_next_order(self, status: int, code: int | None, message: str) -> None:
        with self._op() as engine:
            engine.reject_next = (status, code, message)

    def cancel_next_orders(self, symbol: str | None = None, count: int = 1) -> None:
        """The venue itself cancels the next `count` orders (on `symbol`) as soon as it has
        acknowledged them, unasked, as a broker may (a `canceled` update, no fill)."""
        with self._op() as engine:
            name = None if symbol is None else self._known(symbol).symbol
            if count < 1:
                raise bad_request("count must be >= 1")
            engine.venue_cancels.extend(ArmedFault(name) for _ in range(count))

    def omit_price_on_next_fill(self, symbol: str | None = None, reads: int = 0) -> None:
        """The next fill (on `symbol`) is published without `price` or `filled_avg_price`, and
        the next `reads` REST answers about its order show no average price either."""
        with self._op() as engine:
            name = None if symbol is None else self._known(symbol).symbol
            if reads < 0:
                raise bad_request("reads must be >= 0")
            engine.unpriced_fills.append(ArmedFault(name, hidden_reads=reads))

    def partial_fill_next(self, symbol: str, qty: str, count: int = 1) -> None:
        """The next `count` fills on `symbol` take at most `qty` shares each, the rest of the
        order working on: the paper engine's random partial fills (alpaca_sim.fillmodel), at a
        moment the caller chooses. A fill-or-kill order is never cut."""
        with self._op() as engine:
            name = self._known(symbol).symbol
            cap = positive_qty(qty)
            if count < 1:
                raise bad_request("count must be >= 1")
            engine.partial_fills.extend(ArmedFault(name, partial_qty=cap) for _ in range(count))

    # ----- lookups -----

    def _order(self, order_id: str) -> SimOrder:
        order = self._engine.orders.get(parse_order_id(order_id))
        if order is None:
            raise not_found("order not found")
        return order

    def _asset(self, symbol_or_asset_id: str) -> AssetSpec | None:
        assets = self._engine.scenario.assets
        by_symbol = assets.get(symbol_or_asset_id.strip().upper())
        if by_symbol is not None:
            return by_symbol
        return next((a for a in assets.values() if a.asset_id == symbol_or_asset_id), None)

    def _known(self, symbol: str) -> AssetSpec:
        asset = self._asset(symbol)
        if asset is None:
            raise not_found("asset not found")
        return asset

    def _held_symbol(self, symbol_or_asset_id: str) -> str:
        asset = self._asset(symbol_or_asset_id)
        if asset is None or asset.symbol not in self._engine.account.holdings:
            raise not_found("position does not exist")
        return asset.symbol


def _answer(order: SimOrder) -> Json:
    """An order as a REST answer shows it (an unpriced-fill fault may hide its average)."""
    wire = order_wire(order)
    if order.unpriced_reads > 0:
        order.unpriced_reads -= 1
        wire["filled_avg_price"] = None
    return wire
