"""The one owner of child-order state: stream events in, waiters out, polling as a fallback.

Every broker update for a tracked client_order_id goes through the domain's `apply`, so
duplicates and replays are counted once (incident 12), late news changes nothing the broker's
cumulative filled quantity already counted, broker cancels and expiries surface as terminal
states (incident 9) and a fill without an average price is flagged for a REST re-read
(incident 15). While the trade stream is connected and speaking no REST read is made here.
While it is down, or presumed silent, the orders being waited on are polled concurrently every
`poll_interval`, and once it is back every open order is read once to cover the gap (the stream
does not replay missed events).

Silent: the order desk tells the tracker when the stream owes news (`asking`, `expect_news`:
a submission or a cancel the broker took); news overdue by `silence_timeout` is read by REST,
and if the stream said nothing at all meanwhile it is presumed silent (`stream_watch.py`): the
tracker polls as if it were down and, silent one `silence_timeout` more, replaces the
connection (`TradeEventFeed.restart`). docs/design.md 2.7 states the bound.
"""

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager, suppress
from datetime import timedelta

from plan_executor.domain.child_order import ChildOrder, ChildOrderError, apply
from plan_executor.domain.order_ids import belongs_to_plan
from plan_executor.domain.order_updates import OrderUpdate
from plan_executor.engine.broker_views import (
    child_from_broker,
    rebuilt_from_broker,
    snapshot_update,
)
from plan_executor.engine.stream_watch import StreamWatch
from plan_executor.ports import Broker, BrokerError, BrokerOrder, TradeEvent, TradeEventFeed

logger = logging.getLogger(__name__)

OrderPredicate = Callable[[ChildOrder], bool]
OrderListener = Callable[[ChildOrder], None]


def is_terminal(order: ChildOrder) -> bool:
    return order.is_terminal


class OrderTracker:
    """Child orders by client_order_id, kept current from the feed (or REST when it is down)."""

    def __init__(
        self,
        broker: Broker,
        feed: TradeEventFeed,
        *,
        plan_hash: str,
        poll_interval: timedelta,
        silence_timeout: timedelta,
        on_change: OrderListener | None = None,
    ) -> None:
        self._broker = broker
        self._feed = feed
        self._plan_hash = plan_hash
        self._poll_s = poll_interval.total_seconds()
        self._on_change = on_change
        self._orders: dict[str, ChildOrder] = {}
        self._early: dict[str, list[OrderUpdate]] = {}
        self._signals: dict[str, asyncio.Event] = {}
        self._waiting: Counter[str] = Counter()
        self._stream_alive = True
        self._watch = StreamWatch(silence_timeout.total_seconds())
        self._silent_since: float | None = None
        self.rest_reads = 0
        """REST reads made by this tracker (polling, gap cover, explicit refreshes)."""
        self.silences = 0
        """Times the stream was presumed silent."""
        self.restarts = 0
        """Times a silent stream's connection was replaced."""

    # --- state -----------------------------------------------------------------------------

    def register(self, order: ChildOrder) -> None:
        """Track a new order; call BEFORE submitting it, so no stream event can be missed."""
        self._orders[order.client_order_id] = order
        for update in self._early.pop(order.client_order_id, []):
            self._apply(order.client_order_id, update)
        self._changed(order.client_order_id)

    def adopt(self, broker_order: BrokerOrder) -> ChildOrder:
        """Track an order found at the broker (an earlier attempt's, or a foreign one)."""
        known = self._orders.get(broker_order.client_order_id)
        if known is None:
            self.register(child_from_broker(broker_order))
        else:
            self.apply_snapshot(broker_order)
        return self._orders[broker_order.client_order_id]

    def get(self, client_order_id: str) -> ChildOrder:
        return self._orders[client_order_id]

    def replace_state(self, order: ChildOrder) -> None:
        """Record a state decided outside the broker's news (a submission refused outright)."""
        self._orders[order.client_order_id] = order
        self._changed(order.client_order_id)

    def orders(self) -> list[ChildOrder]:
        return list(self._orders.values())

    def open_orders(self) -> list[ChildOrder]:
        return [order for order in self._orders.values() if order.is_open]

    def knows(self, client_order_id: str) -> bool:
        return client_order_id in self._orders

    def apply_snapshot(self, broker_order: BrokerOrder) -> ChildOrder:
        """Apply a REST read; if our history cannot absorb it, the broker's view wins."""
        cid = broker_order.client_order_id
        known = self._orders[cid]
        try:
            updated = apply(known, snapshot_update(broker_order))
        except (ChildOrderError, ValueError) as error:
            logger.warning("order %s rebuilt from the broker's view: %s", cid, error)
            updated = rebuilt_from_broker(known, broker_order)
        self._store(updated)
        return updated

    async def refresh(self, client_order_id: str) -> ChildOrder:
        """Read one order from the broker now and apply it. Errors propagate."""
        self.rest_reads += 1
        broker_order = await self._broker.order_by_client_id(client_order_id)
        if broker_order is not None:
            self.apply_snapshot(broker_order)
        return self._orders[client_order_id]

    # --- news the stream owes ------------------------------------------------------------------

    def asking(self, client_order_id: str) -> None:
        """A request about this order (a submission, a cancel) is about to be sent."""
        self._watch.asking(client_order_id, _now())

    def expect_news(self, client_order_id: str) -> None:
        """The broker took that request: the stream owes news about the order."""
        self._watch.answered(client_order_id, _now())

    # --- waiting -----------------------------------------------------------------------------

    async def wait_until(
        self, client_order_id: str, predicate: OrderPredicate, within: timedelta
    ) -> ChildOrder:
        """The order once `predicate` holds, or as it stands after `within` (no error: the
        caller decides what an order that is still open means)."""
        self._waiting[client_order_id] += 1
        try:
            async with asyncio.timeout(max(within.total_seconds(), 0)):
                while not predicate(self._orders[client_order_id]):
                    signal = self._signals.setdefault(client_order_id, asyncio.Event())
                    await signal.wait()
        except TimeoutError:
            pass
        finally:
            self._waiting[client_order_id] -= 1
            if self._waiting[client_order_id] <= 0:
                del self._waiting[client_order_id]
        return self._orders[client_order_id]

    async def wait_all(
        self, client_order_ids: Iterable[str], predicate: OrderPredicate, within: timedelta
    ) -> list[ChildOrder]:
        """Every order once `predicate` holds for all, or as they stand after `within`."""
        waits = [self.wait_until(cid, predicate, within) for cid in client_order_ids]
        return list(await asyncio.gather(*waits))

    # --- running -----------------------------------------------------------------------------

    @asynccontextmanager
    async def running(self) -> AsyncIterator["OrderTracker"]:
        """Consume the feed and poll when needed while the block runs; both tasks are
        cancelled and awaited on every way out."""
        tasks = [
            asyncio.create_task(self._consume(), name="tracker-feed"),
            asyncio.create_task(
                self._poll_when_needed(was_connected=self.stream_connected), name="tracker-poll"
            ),
        ]
        try:
            yield self
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with suppress(asyncio.CancelledError):
                    await task

    @property
    def stream_connected(self) -> bool:
        """Connected and not presumed silent: its news can be waited for."""
        return self._stream_up and self._silent_since is None

    @property
    def _stream_up(self) -> bool:
        return self._stream_alive and self._feed.connected

    async def _consume(self) -> None:
        try:
            async for event in self._feed:
                self._on_event(event)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("trade stream failed; falling back to polling")
        finally:
            self._stream_alive = False

    def _on_event(self, event: TradeEvent) -> None:
        cid = event.client_order_id
        self._watch.heard(cid, _now())
        if self._silent_since is not None:
            logger.warning("the trade stream speaks again")
            self._silent_since = None
        if cid in self._orders:
            self._apply(cid, event.update)
        elif belongs_to_plan(cid, self._plan_hash):
            # News about our order before it was registered or adopted: keep it for then.
            self._early.setdefault(cid, []).append(event.update)

    def _apply(self, cid: str, update: OrderUpdate) -> None:
        try:
            updated = apply(self._orders[cid], update)
        except ChildOrderError as error:
            # The next REST read (a waiter's fallback, or the gap cover) settles it.
            logger.warning("update for %s not applied: %s", cid, error)
            return
        self._store(updated)

    def _store(self, updated: ChildOrder) -> None:
        cid = updated.client_order_id
        if self._orders.get(cid) == updated:
            return
        self._orders[cid] = updated
        self._changed(cid)

    def _changed(self, cid: str) -> None:
        signal = self._signals.pop(cid, None)
        if signal is not None:
            signal.set()
        if self._on_change is not None:
            self._on_change(self._orders[cid])

    async def _poll_when_needed(self, *, was_connected: bool) -> None:
        """Every `poll_interval`: the waited orders while the stream is down or silent, every
        open order once it is back, and any order whose news is overdue."""
        while True:
            await asyncio.sleep(self._poll_s)
            overdue = self._overdue_news()
            connected = self.stream_connected
            if not connected:
                wanted = [*self._waiting, *overdue]
            elif not was_connected:
                wanted = [order.client_order_id for order in self.open_orders()]
            else:
                wanted = overdue
            read = await self._poll(list(dict.fromkeys(wanted)))
            self._watch.settled(cid for cid in overdue if cid in read)
            was_connected = connected

    def _overdue_news(self) -> list[str]:
        """Orders whose news is overdue; presume the stream silent when it said nothing at all
        since that news was owed, and replace a connection silent for another timeout."""
        now = _now()
        overdue = self._watch.overdue(now, self._is_open)
        if not self._stream_up:
            self._silent_since = None  # down: polled as such, and its reconnect is under way
        elif self._silent_since is None:
            mute_since = self._watch.mute_since(overdue)
            if mute_since is not None:
                self._silent_since = now
                self.silences += 1
                logger.warning(
                    "trade stream silent for %.1f s while %d orders owe news: reading by REST",
                    now - mute_since,
                    len(overdue),
                )
        elif now - self._silent_since >= self._watch.silence_s:
            logger.warning("trade stream still silent: replacing its connection")
            self._silent_since = None
            self.restarts += 1
            self._feed.restart()
        return overdue

    def _is_open(self, cid: str) -> bool:
        order = self._orders.get(cid)
        return order is not None and order.is_open

    async def _poll(self, client_order_ids: list[str]) -> set[str]:
        """Read these orders concurrently; a failed read is retried on the next round. Returns
        the ids read."""
        results = await asyncio.gather(
            *(self.refresh(cid) for cid in client_order_ids), return_exceptions=True
        )
        read: set[str] = set()
        for cid, result in zip(client_order_ids, results, strict=True):
            if isinstance(result, BrokerError):
                logger.warning("poll of %s failed: %s", cid, result)
            elif isinstance(result, Exception):
                logger.error("poll of %s failed unexpectedly", cid, exc_info=result)
            else:
                read.add(cid)
        return read


def _now() -> float:
    return asyncio.get_running_loop().time()
