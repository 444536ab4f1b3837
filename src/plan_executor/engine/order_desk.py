"""The engine's hands at the broker: submit a tracked order, cancel and confirm, re-read a price.

A submission is registered with the tracker before it is sent, and sent as a task the deadline
cannot cancel (the cleanup waits for its answer instead), so no order can exist at the broker
without the engine knowing its client_order_id. A cancel is only done when the broker confirms a
terminal state: a fill may win the race (incident 7), and no replacement is sent before that.
"""

import asyncio
import logging
from datetime import datetime, timedelta

from plan_executor.domain.child_order import ChildOrder, submitted
from plan_executor.domain.ledger import CancelReason
from plan_executor.engine.broker_views import rejected_locally
from plan_executor.engine.journal import CancellationRecord, ExecutionJournal
from plan_executor.engine.tracker import OrderTracker, is_terminal
from plan_executor.ports import (
    Broker,
    BrokerError,
    BrokerOrder,
    Clock,
    OrderNotCancelable,
    OrderRejected,
    OrderRequest,
)

logger = logging.getLogger(__name__)


class OrderDesk:
    def __init__(
        self,
        broker: Broker,
        tracker: OrderTracker,
        journal: ExecutionJournal,
        clock: Clock,
        *,
        cancel_confirm_timeout: timedelta,
        price_reread_attempts: int,
        price_reread_wait: timedelta,
    ) -> None:
        self._broker = broker
        self._tracker = tracker
        self._journal = journal
        self._clock = clock
        self._confirm_timeout = cancel_confirm_timeout
        self._reread_attempts = price_reread_attempts
        self._reread_wait_s = price_reread_wait.total_seconds()

    async def submit(self, request: OrderRequest) -> ChildOrder:
        """Send one order. Raises `OrderRejected` (recorded as rejected), or whatever else the
        broker raised once the outcome was looked up and the order is not there (absent: over;
        lookup failed: unresolved). An order the lookup finds was placed: it is returned, to be
        worked like any other (left alone, it would rest unwatched)."""
        cid = request.client_order_id
        self._tracker.register(
            submitted(
                client_order_id=cid,
                symbol=request.symbol,
                side=request.side,
                order_type=request.order_type,
                qty=request.qty,
                limit_price=request.limit_price,
                at=self._clock.now(),
            )
        )
        task = asyncio.create_task(self._broker.submit(request), name=f"submit-{cid}")
        self._journal.inflight.add(task)
        task.add_done_callback(lambda done: self._submission_answered(cid, done))
        try:
            broker_order = await asyncio.shield(task)
        except OrderRejected:
            raise
        except Exception as error:  # any other failure leaves the outcome unknown: ask
            self._journal.unknown_outcomes.add(cid)
            if not await self._look_up_after_unknown_outcome(cid):
                raise
            logger.warning("submission of %s failed (%s), yet the order was placed", cid, error)
            return self._tracker.get(cid)
        return self._tracker.apply_snapshot(broker_order)

    def _submission_answered(self, cid: str, task: "asyncio.Task[BrokerOrder]") -> None:
        """Record the broker's answer, also when the submitting coroutine was cancelled."""
        self._journal.inflight.discard(task)
        if task.cancelled():
            self._journal.unknown_outcomes.add(cid)
            return
        error = task.exception()
        if error is None:
            self._tracker.apply_snapshot(task.result())
        elif isinstance(error, OrderRejected):
            self._tracker.replace_state(rejected_locally(self._tracker.get(cid), self._clock.now()))
        else:
            self._journal.unknown_outcomes.add(cid)
            logger.warning("submission of %s has an unknown outcome: %s", cid, error)

    async def _look_up_after_unknown_outcome(self, cid: str) -> bool:
        """True when the broker has the order (now tracked). False when it never arrived (it is
        over) or the lookup failed too (it stays unacknowledged for the final sweep)."""
        try:
            found = await self._broker.order_by_client_id(cid)
        except BrokerError as error:
            logger.warning("lookup of %s failed: %s", cid, error)
            return False
        if found is None:
            self._tracker.replace_state(rejected_locally(self._tracker.get(cid), self._clock.now()))
            return False
        self._tracker.apply_snapshot(found)
        return True

    async def cancel_and_confirm(self, cid: str, reason: CancelReason) -> ChildOrder:
        """Cancel `cid` and wait for a terminal state (a fill may win). The order is returned as
        it stands: still open when the broker never confirmed."""
        order = self._tracker.get(cid)
        if order.is_terminal:
            return order
        record = CancellationRecord(cid, order.symbol, order.side, reason, self._clock.now())
        self._journal.cancellations.append(record)
        if order.broker_id is None:
            order = await self._refresh_quietly(cid)
        if order.is_open and order.broker_id is not None:
            await self._request_cancel(cid, order.broker_id)
        order = await self.confirm_terminal(cid)
        if order.is_terminal:
            self._confirmed(cid, order.terminal_at or self._clock.now())
        return order

    def _confirmed(self, cid: str, at: datetime) -> None:
        """Every cancel asked for `cid` is now answered (an earlier one may have been cut off
        by the deadline before its confirmation came)."""
        for record in self._journal.cancellations:
            if record.client_order_id == cid and record.confirmed_at is None:
                record.confirmed_at = at

    async def _request_cancel(self, cid: str, broker_id: str) -> None:
        try:
            await self._broker.cancel(broker_id)
        except OrderNotCancelable:
            logger.info("cancel of %s: already terminal at the broker", cid)
        except BrokerError as error:
            logger.warning("cancel of %s failed: %s", cid, error)

    async def confirm_terminal(self, cid: str) -> ChildOrder:
        """Wait for the terminal news; if it does not come in time, ask the broker once."""
        order = await self._tracker.wait_until(cid, is_terminal, self._confirm_timeout)
        if order.is_open:
            order = await self._refresh_quietly(cid)
        return order

    async def settle_price(self, cid: str) -> ChildOrder:
        """Re-read an order filled without an average price until the broker gives it
        (incident 15: an estimate is never recorded as a fill)."""
        order = self._tracker.get(cid)
        for attempt in range(self._reread_attempts):
            if not order.needs_price_reread:
                break
            if attempt:
                await asyncio.sleep(self._reread_wait_s)
            order = await self._refresh_quietly(cid)
        return order

    async def _refresh_quietly(self, cid: str) -> ChildOrder:
        try:
            return await self._tracker.refresh(cid)
        except BrokerError as error:
            logger.warning("read of %s failed: %s", cid, error)
            return self._tracker.get(cid)
