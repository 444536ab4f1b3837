"""The last step of every execution: leave none of this plan's orders open, and know every fill.

It also lists the plan's open orders at the broker (one call), in case a submission was cut off
before its answer arrived. That listing is skipped only when it cannot find anything: the
reconcile completed (so the tracker has every earlier order), every order of this plan the
tracker knows is terminal, and no submission's outcome is unknown. Bounded by
`settings.cleanup_budget`.
"""

import asyncio
import logging

from plan_executor.domain.child_order import ChildOrder
from plan_executor.domain.enums import ChildOrderStatus
from plan_executor.domain.ledger import CancelReason
from plan_executor.domain.order_ids import belongs_to_plan
from plan_executor.engine.broker_views import rejected_locally
from plan_executor.engine.errors import ExecutionInfrastructureError
from plan_executor.engine.plan_steps import Engine
from plan_executor.engine.reconcile import list_plan_orders
from plan_executor.ports import BrokerError

logger = logging.getLogger(__name__)


async def final_sweep(engine: Engine) -> list[str]:
    """Cancel and confirm this plan's open orders and re-read missing prices. Returns the
    client_order_ids still not confirmed terminal when the budget ran out."""
    budget_s = engine.settings.cleanup_budget.total_seconds()
    try:
        await asyncio.wait_for(_sweep(engine), budget_s)
    except TimeoutError:
        logger.error("cleanup ran out of its %.1fs budget", budget_s)
    unconfirmed = [order.client_order_id for order in _plan_orders(engine) if order.is_open]
    if unconfirmed:
        logger.error("orders not confirmed terminal: %s", unconfirmed)
    return unconfirmed


async def _sweep(engine: Engine) -> None:
    inflight = set(engine.journal.inflight)
    if inflight:
        await asyncio.wait(inflight)
    if not _all_known_terminal(engine):
        await _adopt_listed(engine)
    await asyncio.gather(
        *(_resolve_unacked(engine, order.client_order_id) for order in _unacked(engine))
    )
    orders = _plan_orders(engine)
    still_open = [order.client_order_id for order in orders if order.is_open]
    unpriced = [o.client_order_id for o in orders if o.is_terminal and o.needs_price_reread]
    # Each order on its own: a cancel the broker keeps unconfirmed must not hold up the others
    # or the price re-reads (the budget ends its retries).
    await asyncio.gather(
        *(_cancel_then_price(engine, cid) for cid in still_open),
        *(engine.desk.settle_price(cid) for cid in unpriced),
    )


async def _cancel_then_price(engine: Engine, cid: str) -> None:
    await engine.desk.cancel_until_confirmed(cid, CancelReason.DEADLINE)
    await engine.desk.settle_price(cid)


async def _adopt_listed(engine: Engine) -> None:
    """The broker's list of this plan's open orders: any the tracker lacks is adopted."""
    try:
        listed = await list_plan_orders(
            engine.broker, engine.journal, engine.settings, open_only=True
        )
    except ExecutionInfrastructureError as error:
        logger.warning("cleanup could not list the plan's orders: %s", error)
        return
    for broker_order in listed:
        known = engine.tracker.knows(broker_order.client_order_id)
        order = engine.tracker.adopt(broker_order)
        run = engine.journal.run_for(order.symbol, order.side)
        if not known and run is not None:
            run.earlier_ids.append(order.client_order_id)


def _all_known_terminal(engine: Engine) -> bool:
    """Whether the broker can hold no open order of this plan that the tracker lacks or
    believes terminal (an unacknowledged submission, PENDING_SUBMIT, is not terminal), and
    the stream has named every fill. A fill seen only in a REST answer waits for its
    execution on the stream; the listing's round trip is kept as that wait."""
    journal = engine.journal
    if not engine.reconciled or journal.inflight or journal.unknown_outcomes:
        return False
    return all(
        order.is_terminal and all(fill.price is not None for fill in order.fills)
        for order in _plan_orders(engine)
    )


def _unacked(engine: Engine) -> list[ChildOrder]:
    return [o for o in _plan_orders(engine) if o.status is ChildOrderStatus.PENDING_SUBMIT]


async def _resolve_unacked(engine: Engine, cid: str) -> None:
    """A submission without an answer: the broker has it, or it never arrived."""
    try:
        found = await engine.broker.order_by_client_id(cid)
    except BrokerError as error:
        logger.warning("cannot resolve unacknowledged %s: %s", cid, error)
        return
    if found is None:
        logger.warning("%s never reached the broker", cid)
        engine.tracker.replace_state(rejected_locally(engine.tracker.get(cid), engine.clock.now()))
    else:
        engine.tracker.apply_snapshot(found)


def _plan_orders(engine: Engine) -> list[ChildOrder]:
    plan_hash = engine.journal.plan_hash
    return [o for o in engine.tracker.orders() if belongs_to_plan(o.client_order_id, plan_hash)]
