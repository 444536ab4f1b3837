"""The engine's hands at the broker: submit a tracked order, cancel and confirm, re-read a price.

A submission is registered with the tracker before it is sent, and sent as a task the deadline
cannot cancel (the cleanup waits for its answer instead), so no order can exist at the broker
without the engine knowing its client_order_id. A cancel is only done when the broker confirms a
terminal state: a fill may win the race (incident 7), and no replacement is sent before that.
A cancel the broker did not confirm (an outage) is asked again with a growing pause until it is
(`cancel_until_confirmed`), so no order is left live behind an item that gave up.
"""

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from plan_executor.domain.child_order import ChildOrder, submitted
from plan_executor.domain.ledger import CancelReason
from plan_executor.engine.broker_views import rejected_locally
from plan_executor.engine.journal import CancellationRecord, ExecutionJournal
from plan_executor.engine.market_close import MarketClose
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


@dataclass(frozen=True, slots=True)
class CancelRetry:
    """The pauses between the rounds of a cancel the broker has not confirmed."""

    first_wait: timedelta
    max_wait: timedelta


class OrderDesk:
    def __init__(
        self,
        broker: Broker,
        tracker: OrderTracker,
        journal: ExecutionJournal,
        clock: Clock,
        close: MarketClose,
        *,
        cancel_confirm_timeout: timedelta,
        cancel_retry: CancelRetry,
        price_reread_attempts: int,
        price_reread_wait: timedelta,
    ) -> None:
        self._broker = broker
        self._tracker = tracker
        self._journal = journal
        self._clock = clock
        self._close = close
        self._confirm_timeout = cancel_confirm_timeout
        self._retry = cancel_retry
        self._reread_attempts = price_reread_attempts
        self._reread_wait_s = price_reread_wait.total_seconds()

    async def submit(self, request: OrderRequest) -> ChildOrder:
        """Send one order. Raises `MarketClosed` (nothing sent) once the market has closed,
        `OrderRejected` (recorded as rejected), or whatever else the broker raised once the
        outcome was looked up and the order is not there (absent: over; lookup failed:
        unresolved). An order the lookup finds was placed: it is returned, to be worked like
        any other (left alone, it would rest unwatched)."""
        self._close.refuse_if_passed()
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
        task = asyncio.create_task(self._broker.submit(request), name=_submit_task_name(cid))
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
        """Cancel `cid` and wait for a terminal state (a fill may win), once. The order is
        returned as it stands: still open when the broker never confirmed."""
        order = self._tracker.get(cid)
        if order.is_terminal:
            return order
        self._record(order, reason)
        return self._confirmed_if_terminal(await self._cancel_once(cid, wait_if_failed=True))

    async def cancel_until_confirmed(self, cid: str, reason: CancelReason) -> ChildOrder:
        """Cancel `cid` and ask again, after a pause that doubles up to its cap, until the
        broker confirms a terminal state (a fill may win). Returns only a terminal order: the
        caller's deadline, or the cleanup's budget, is what ends the retries otherwise."""
        order = self._tracker.get(cid)
        if order.is_terminal:
            return order
        self._record(order, reason)
        order = await self._cancel_once(cid, wait_if_failed=False)
        pause = self._retry.first_wait
        while order.is_open:
            logger.warning("cancel of %s not confirmed; asking again in %s", cid, pause)
            order = await self._tracker.wait_until(cid, is_terminal, pause)
            if order.is_open:
                order = await self._cancel_once(cid, wait_if_failed=False)
            pause = min(pause * 2, self._retry.max_wait)
        return self._confirmed_if_terminal(order)

    def _record(self, order: ChildOrder, reason: CancelReason) -> None:
        cid = order.client_order_id
        record = CancellationRecord(cid, order.symbol, order.side, reason, self._clock.now())
        self._journal.cancellations.append(record)

    async def _cancel_once(self, cid: str, *, wait_if_failed: bool) -> ChildOrder:
        """Ask for the cancel, then confirm it: wait for the news (then read) when the broker
        took the request, or when `wait_if_failed` (a request that failed may still have
        arrived); else only read the order (the caller's pause listens for the news)."""
        order = self._tracker.get(cid)
        if order.broker_id is None and not self._sending(cid):
            await self._look_up_after_unknown_outcome(cid)  # never arrived: it is over
            order = self._tracker.get(cid)
        if order.is_terminal:
            return order
        taken = order.broker_id is not None and await self._request_cancel(cid, order.broker_id)
        if taken or wait_if_failed:
            return await self.confirm_terminal(cid)
        return await self._refresh_quietly(cid)

    def _sending(self, cid: str) -> bool:
        """Whether the submission of `cid` still awaits the broker's answer."""
        return any(task.get_name() == _submit_task_name(cid) for task in self._journal.inflight)

    def _confirmed_if_terminal(self, order: ChildOrder) -> ChildOrder:
        if order.is_terminal:
            self._confirmed(order.client_order_id, order.terminal_at or self._clock.now())
        return order

    def _confirmed(self, cid: str, at: datetime) -> None:
        """Every cancel asked for `cid` is now answered (an earlier one may have been cut off
        by the deadline before its confirmation came)."""
        for record in self._journal.cancellations:
            if record.client_order_id == cid and record.confirmed_at is None:
                record.confirmed_at = at

    async def _request_cancel(self, cid: str, broker_id: str) -> bool:
        """True when the broker took the request, or said the order is past cancelling (its
        state read back then, when the broker gives it, is applied at once: the terminal state,
        a fill included, is known without waiting for the news)."""
        try:
            await self._broker.cancel(broker_id)
        except OrderNotCancelable as past:
            logger.info("cancel of %s: already terminal at the broker (%s)", cid, past)
            if past.order is not None and past.order.client_order_id == cid:
                self._tracker.apply_snapshot(past.order)
        except BrokerError as error:
            logger.warning("cancel of %s failed: %s", cid, error)
            return False
        return True

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


def _submit_task_name(cid: str) -> str:
    return f"submit-{cid}"
