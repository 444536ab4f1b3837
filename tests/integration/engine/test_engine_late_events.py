"""Late trade updates (alpaca_sim/late_events.py): the stream's terminal news for an order comes
after a REST read has shown that order terminal. The recorded fills must not change: the
tracker applies news by the broker's cumulative filled_qty and execution ids
(domain/child_order.py), so a late fill only names an execution REST already counted, and a
late cancel changes nothing. Each late update is released by the test once the engine has
recorded the REST view, so "late" is late for the engine, not only at the sim.
"""

import asyncio
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from broker_helpers import CountingLimiter, config_for, settle
from engine_sim_views import (
    ORDERS_PATH,
    assert_result_matches_sim,
    open_orders,
    orders_of,
    placed_twice,
    sent_twice,
)
from engine_support import BUDGET_S, SEED, EngineHarness, fast_settings, full_exit, plan_detail
from engine_support import plan_time as planned_at

from alpaca_sim import default_scenario
from alpaca_sim.server import SimServer
from plan_executor.adapters.alpaca_broker import AlpacaBroker
from plan_executor.domain.child_order import ChildOrder, submitted
from plan_executor.domain.enums import (
    ChildOrderStatus,
    ExecutionStatus,
    ItemStatus,
    OrderType,
    Side,
)
from plan_executor.domain.ledger import LedgerOrderLine
from plan_executor.domain.money import Price, Shares
from plan_executor.engine.progress import ProgressEvent
from plan_executor.engine.tracker import OrderTracker
from plan_executor.ports import OrderRequest

WAIT_S = 30.0
"""Hang guard for what comes within milliseconds."""
NEVER = timedelta(hours=1)
"""The tracker's polling and silence timers in the tracker-level test: the stream is healthy
there, and nothing may be read unless the test reads it."""
PLAN_HASH = "0123456789"


def named(order: ChildOrder) -> bool:
    """Every fill of the order carries the broker's execution (the stream's news of it)."""
    return bool(order.fills) and all(fill.execution_id is not None for fill in order.fills)


class LateFill:
    """Progress hook for a one-sell plan: the sell's first order fills as soon as it is
    acknowledged (its fill held back by the sim); once the engine recorded it FILLED from REST,
    the held fill is released, and the final sweep's listing is held until it was applied."""

    def __init__(self, sim: SimServer) -> None:
        self._sim = sim
        self.cid = ""
        self.filled: list[ChildOrder] = []

    def __call__(self, event: ProgressEvent) -> None:
        order = event.order
        if order is None:
            return
        if not self.cid and order.broker_id is not None:
            self.cid = order.client_order_id
            self._sim.faults.script_quote("AAPL", bid="271.60", ask="271.70")  # through it
            self._sim.venue.tick()
        if order.client_order_id != self.cid or order.status is not ChildOrderStatus.FILLED:
            return
        self.filled.append(order)
        if named(order):
            self._sim.faults.clear()  # the late fill was applied: the listing may go
        else:
            self._sim.faults.hang(method="GET", path=ORDERS_PATH)
            self._sim.faults.release_late_trade_updates()


async def test_a_late_fill_after_rest_showed_the_order_filled_changes_no_fill(
    sim: SimServer,
) -> None:
    sim.faults.script_quote("AAPL", bid="271.40", ask="271.50")  # the first limit rests
    sim.faults.late_trade_updates("AAPL", release="manual")
    harness = EngineHarness(sim, settings=fast_settings(step_wait_ms=300))
    hook = LateFill(sim)

    outcome = await harness.run(
        plan_detail([full_exit("AAPL", "6100")], planned_at(sim)),
        budget_s=BUDGET_S,
        on_progress=hook,
    )

    assert sim.hub.late.released.value == 1
    assert [named(order) for order in hook.filled] == [False, True], "REST first, then the event"
    assert {order.filled_qty for order in hook.filled} == {hook.filled[0].qty}
    assert outcome.result.status is ExecutionStatus.SUCCESS
    [result] = outcome.result.orders
    assert result.status is ItemStatus.FILLED
    assert_result_matches_sim(sim, result)
    [line] = [
        line
        for line in outcome.ledger_lines
        if isinstance(line, LedgerOrderLine) and line.client_order_id == hook.cid
    ]
    sim_order = next(o for o in orders_of(sim, "AAPL") if o["client_order_id"] == hook.cid)
    assert sum(fill.qty for fill in line.fills) == line.filled_qty == Decimal(sim_order["qty"])
    assert {fill.execution_id for fill in line.fills} - {None} <= {
        fill["execution_id"] for fill in sim_order["fills"]
    }
    assert (placed_twice(sim), sent_twice(sim), open_orders(sim)) == ([], [], [])


async def test_a_late_cancel_after_rest_showed_the_order_canceled_changes_nothing() -> None:
    # The sim's clock is manual and moved only by `settle` (milliseconds), so no market step
    # comes between the buy's partial fill and its cancel: paper fills a partial fill's rest at
    # a later step (alpaca_sim.fillmodel). Random partial fills are off: the marker's fill must
    # be whole, as no later step comes to finish it.
    scenario = replace(default_scenario(), partial_fill_share=0.0)
    async with SimServer(scenario, seed=SEED) as sim:
        await _late_cancel_changes_nothing(sim)


async def _late_cancel_changes_nothing(sim: SimServer) -> None:
    broker = AlpacaBroker(config_for(sim), limiter=CountingLimiter(), rng=random.Random(SEED))
    try:
        async with broker.trade_events() as feed:
            tracker = OrderTracker(
                broker, feed, plan_hash=PLAN_HASH, poll_interval=NEVER, silence_timeout=NEVER
            )
            async with tracker.running():
                canceled, after = await _partial_fill_then_late_cancel(sim, broker, tracker)
    finally:
        await broker.aclose()

    assert canceled.status is ChildOrderStatus.CANCELED
    assert canceled.filled_qty == Decimal(10)
    assert after == canceled, "the late canceled changed nothing"


async def _partial_fill_then_late_cancel(
    sim: SimServer, broker: AlpacaBroker, tracker: OrderTracker
) -> tuple[ChildOrder, ChildOrder]:
    """A buy of 25 that fills 10 (heard), then is cancelled: REST shows it canceled before the
    held `canceled` is released; a later order's fill, heard on the same connection, proves the
    late event was applied first. Returns the order as REST showed it, and as it ended."""
    sim.faults.script_quote("MSFT", bid="500.00", ask="500.02")
    sim.faults.partial_fill_next("MSFT", "10")  # paper fills whatever the displayed size
    sim.faults.late_trade_updates("MSFT", release="manual")
    cid = await _send(broker, tracker, 1, "MSFT", OrderType.LIMIT, "25", Decimal("500.02"))
    settle(sim)  # acknowledged and partly filled, some milliseconds after the answer
    async with asyncio.timeout(WAIT_S):
        await tracker.wait_until(cid, lambda o: o.filled_qty == 10 and named(o), NEVER)
        broker_id = tracker.get(cid).broker_id
        assert broker_id is not None
        await broker.cancel(broker_id)
        settle(sim)  # the cancel completes after its drawn delay; its `canceled` is held
        await sim.hub.late.held.wait_at_least(1)
    canceled = await tracker.refresh(cid)

    assert sim.faults.release_late_trade_updates() == 1
    marker = await _send(broker, tracker, 2, "NVDA", OrderType.MARKET, "1", None)
    settle(sim)
    async with asyncio.timeout(WAIT_S):
        await tracker.wait_until(marker, lambda o: o.is_terminal and named(o), NEVER)
    return canceled, tracker.get(cid)


async def _send(
    broker: AlpacaBroker,
    tracker: OrderTracker,
    n: int,
    symbol: str,
    order_type: OrderType,
    qty: str,
    limit: Decimal | None,
) -> str:
    """Register and submit a buy; its news comes from the stream (the answer is not applied)."""
    cid = f"{PLAN_HASH}-{symbol}-b-{n}"
    limit_price = None if limit is None else Price(limit)
    tracker.register(
        submitted(
            client_order_id=cid,
            symbol=symbol,
            side=Side.BUY,
            order_type=order_type,
            qty=Shares(Decimal(qty)),
            limit_price=limit_price,
            at=datetime.now(UTC),
        )
    )
    await broker.submit(
        OrderRequest(cid, symbol, Side.BUY, order_type, Shares(Decimal(qty)), limit_price)
    )
    return cid
