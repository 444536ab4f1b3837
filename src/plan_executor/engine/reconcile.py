"""Steps 2-4: find this plan's earlier orders, clear the way, and continue the id sequence.

An earlier attempt's orders (same plan hash in the client_order_id) are adopted into the items
they belong to, so their fills count; any still open is cancelled and confirmed terminal before
anything new is sent. Then open orders on the plan's symbols that are not ours are cancelled
(an opposite-side open order trips Alpaca's wash-trade check); orders on other symbols are
never touched.
"""

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime

from plan_executor.domain.ledger import CancelReason
from plan_executor.domain.order_ids import belongs_to_plan
from plan_executor.domain.order_updates import TERMINAL_STATUSES
from plan_executor.engine.config import ExecutionSettings
from plan_executor.engine.errors import ExecutionInfrastructureError
from plan_executor.engine.journal import ExecutionJournal, OrderIdAllocator
from plan_executor.engine.order_desk import OrderDesk
from plan_executor.engine.tracker import OrderTracker
from plan_executor.ports import Broker, BrokerError, BrokerOrder

logger = logging.getLogger(__name__)


async def list_plan_orders(
    broker: Broker, journal: ExecutionJournal, settings: ExecutionSettings, *, open_only: bool
) -> list[BrokerOrder]:
    """This plan's orders at the broker, by client_order_id prefix."""
    since = journal.plan.timestamp - settings.reconcile_margin
    symbols = sorted({item.symbol for item in journal.plan.items})
    try:
        orders = await broker.orders_since(since, symbols=symbols, open_only=open_only)
    except BrokerError as error:
        raise ExecutionInfrastructureError(f"cannot list this plan's orders: {error}") from error
    return [order for order in orders if belongs_to_plan(order.client_order_id, journal.plan_hash)]


async def reconcile_plan_orders(
    journal: ExecutionJournal,
    tracker: OrderTracker,
    desk: OrderDesk,
    earlier: Sequence[BrokerOrder],
) -> OrderIdAllocator:
    """Adopt the plan's earlier orders (`list_plan_orders`, all of them), cancel the open
    ones, and return the id allocator."""
    for broker_order in earlier:
        order = tracker.adopt(broker_order)
        run = journal.run_for(order.symbol, order.side)
        if run is not None and order.client_order_id not in run.earlier_ids:
            run.earlier_ids.append(order.client_order_id)
    still_open = [
        order.client_order_id for order in earlier if order.status not in TERMINAL_STATUSES
    ]
    await _cancel_all(desk, still_open, CancelReason.EARLIER_ATTEMPT, must_confirm=True)
    await asyncio.gather(*(desk.settle_price(order.client_order_id) for order in earlier))
    logger.info("reconciled %d earlier orders (%d were open)", len(earlier), len(still_open))
    return OrderIdAllocator(journal.plan_hash, [order.client_order_id for order in earlier])


def traded_symbols(journal: ExecutionJournal) -> list[str]:
    return sorted({run.symbol for run in journal.items if run.side is not None})


async def list_open_orders(
    broker: Broker, journal: ExecutionJournal, *, since: datetime
) -> list[BrokerOrder]:
    """Open orders on the symbols the plan trades (anyone's), for `cancel_conflicting_orders`.
    It only reads, so it may run while the plan's own earlier orders are reconciled."""
    symbols = traded_symbols(journal)
    if not symbols:
        return []
    try:
        return await broker.orders_since(since, symbols=symbols, open_only=True)
    except BrokerError as error:
        raise ExecutionInfrastructureError(f"cannot list open orders: {error}") from error


async def cancel_conflicting_orders(
    journal: ExecutionJournal,
    tracker: OrderTracker,
    desk: OrderDesk,
    found: Sequence[BrokerOrder],
) -> set[str]:
    """Cancel open orders on the plan's symbols that are not this plan's (`found` is what
    `list_open_orders` read). Returns the symbols where a cancel could not be confirmed
    (their items must not trade)."""
    symbols = traded_symbols(journal)
    foreign = [
        order
        for order in found
        if order.symbol in symbols
        and order.status not in TERMINAL_STATUSES
        and not belongs_to_plan(order.client_order_id, journal.plan_hash)
    ]
    for order in foreign:
        tracker.adopt(order)
    ids = [order.client_order_id for order in foreign]
    unconfirmed = await _cancel_all(desk, ids, CancelReason.CONFLICTING_OPEN_ORDER)
    return {tracker.get(cid).symbol for cid in unconfirmed}


async def _cancel_all(
    desk: OrderDesk,
    client_order_ids: Sequence[str],
    reason: CancelReason,
    *,
    must_confirm: bool = False,
) -> list[str]:
    """Cancel concurrently; the ids whose terminal state was not confirmed."""
    results = await asyncio.gather(
        *(desk.cancel_and_confirm(cid, reason) for cid in client_order_ids)
    )
    unconfirmed = [order.client_order_id for order in results if order.is_open]
    if unconfirmed and must_confirm:
        raise ExecutionInfrastructureError(
            f"earlier orders not confirmed cancelled: {', '.join(unconfirmed)}"
        )
    return unconfirmed
