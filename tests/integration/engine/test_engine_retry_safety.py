"""A crash at any point, then the same plan again: nothing sent twice, earlier fills count, and
the account ends where one clean run of the plan leaves it."""

from collections.abc import Callable
from decimal import Decimal

from engine_sim_views import (
    filled,
    open_orders,
    orders_of,
    positions,
    posted_ids,
    sent_twice,
)
from engine_support import PLAN_AGE, SEED, EngineHarness, event_detail

from alpaca_sim.scenario import default_scenario
from alpaca_sim.server import SimServer
from plan_executor.domain.enums import Action, ChildOrderStatus, ExecutionStatus, ItemStatus
from plan_executor.domain.events import RebalancePlannedDetail
from plan_executor.domain.results import ChildOrderRecord
from plan_executor.engine.progress import Phase, ProgressEvent, ProgressKind

HOLDING_SLACK = Decimal("0.002")
"""Holdings may differ from the clean run's by what other fill prices make of the plan's
dollars: this fraction of the item's notional, plus the $1 a buy may leave unspent."""

_clean_holdings: dict[str, dict[str, Decimal]] = {}

Stop = Callable[[ProgressEvent], bool]


def the_plan(urgency: str | None = None) -> RebalancePlannedDetail:
    """The plan of every run here (same content, same hash), dated for a fresh sim."""
    at = default_scenario().clock.start - PLAN_AGE
    return event_detail("mixed-sell-and-buy.json", at, urgency=urgency)


async def clean_run_holdings(detail: RebalancePlannedDetail) -> dict[str, Decimal]:
    """Holdings after one uninterrupted run on a fresh sim (same seed and scenario); computed
    once per plan for this module."""
    key = detail.rebalance_plan.plan_id
    if key not in _clean_holdings:
        async with SimServer(seed=SEED, speed=1.0) as clean_sim:
            outcome = await EngineHarness(clean_sim).run(detail)
            assert outcome.result.status is ExecutionStatus.SUCCESS
            _clean_holdings[key] = positions(clean_sim)
    return _clean_holdings[key]


def first_acknowledged(event: ProgressEvent) -> bool:
    return event.order is not None and event.order.broker_id is not None


def first_partial_fill(event: ProgressEvent) -> bool:
    order = event.order
    return order is not None and order.status is ChildOrderStatus.PARTIALLY_FILLED


def sells_ended(event: ProgressEvent) -> bool:
    return event.kind is ProgressKind.PHASE_ENDED and event.phase is Phase.SELLS


def assert_holdings_match(sim: SimServer, clean: dict[str, Decimal]) -> None:
    held = positions(sim)
    quotes = sim.venue.state()["quotes"]
    assert isinstance(quotes, dict)
    for entry in the_plan().rebalance_plan.items:
        symbol = entry.symbol
        mid = (Decimal(quotes[symbol]["bp"]) + Decimal(quotes[symbol]["ap"])) / 2
        gap = abs(held.get(symbol, Decimal(0)) - clean.get(symbol, Decimal(0))) * mid
        assert gap <= entry.planned_notional * HOLDING_SLACK + 1, (symbol, held, clean)


async def crash_at(sim: SimServer, stop: Stop) -> tuple[EngineHarness, int]:
    """Run the plan and crash it at `stop`; returns the harness (for the retry) and how many
    orders the crashed run posted."""
    harness = EngineHarness(sim)
    await harness.crash_when(the_plan(), stop)
    return harness, len(posted_ids(sim))


async def assert_retry_completes_the_plan(sim: SimServer, harness: EngineHarness) -> None:
    plan = the_plan()
    outcome = await harness.run(plan)

    result = outcome.result
    assert result.status is ExecutionStatus.SUCCESS
    assert sent_twice(sim) == []
    assert open_orders(sim) == []
    for order in result.orders:
        if order.action is Action.HOLD:
            continue
        side = "buy" if order.action is Action.BUY else "sell"
        at_sim = orders_of(sim, order.symbol, side)
        assert {c.client_order_id for c in order.child_orders} == {
            o["client_order_id"] for o in at_sim
        }, "the retry's result counts every attempt's orders"
        assert order.filled_qty == filled(at_sim).qty
        assert order.status is ItemStatus.FILLED
    assert_holdings_match(sim, await clean_run_holdings(plan))


async def test_crash_after_the_first_submit_then_retry(sim: SimServer) -> None:
    harness, posted = await crash_at(sim, first_acknowledged)

    assert posted >= 1
    assert open_orders(sim) != [], "the crash left an order working at the broker"
    await assert_retry_completes_the_plan(sim, harness)


async def test_crash_after_a_partial_fill_then_retry(sim: SimServer) -> None:
    # A bid above the market and a partial fill of 2: the walk's last AAPL limit fills 2, rests.
    sim.faults.script_quote("AAPL", bid="271.80", ask="271.90")
    sim.faults.partial_fill_next("AAPL", "2")
    harness, _ = await crash_at(sim, first_partial_fill)
    sim.faults.clear_quote("AAPL")  # the rest of the order is no longer marketable

    [partial] = [o for o in open_orders(sim) if Decimal(o["filled_qty"]) > 0]
    assert partial["symbol"] == "AAPL"
    await assert_retry_completes_the_plan(sim, harness)
    remainder = orders_of(sim, "AAPL", "sell")[-1]
    assert remainder["status"] == "filled"


async def test_crash_after_the_sell_phase_then_retry(sim: SimServer) -> None:
    harness, posted = await crash_at(sim, sells_ended)

    sells_before = [cid for cid in posted_ids(sim) if "-s-" in cid]
    assert sells_before
    assert all("-s-" in cid for cid in posted_ids(sim)), "the crash came before any buy"
    await assert_retry_completes_the_plan(sim, harness)
    retried = posted_ids(sim)[posted:]
    assert retried
    assert all("-b-" in cid for cid in retried), "completed sells are not sent again"


async def test_incident_12_a_replayed_plan_after_success_sends_nothing(sim: SimServer) -> None:
    harness = EngineHarness(sim)
    detail = the_plan(urgency="URGENT")
    first = await harness.run(detail)
    assert first.result.status is ExecutionStatus.SUCCESS
    posted, held = len(posted_ids(sim)), positions(sim)

    replay = await harness.run(detail)

    assert len(posted_ids(sim)) == posted
    assert positions(sim) == held
    assert replay.result.status is ExecutionStatus.SUCCESS
    for again, before in zip(replay.result.orders, first.result.orders, strict=True):
        assert again.status is before.status
        assert again.filled_qty == before.filled_qty
        assert again.avg_fill_price == before.avg_fill_price
        assert [_fills_of(c) for c in again.child_orders] == [
            _fills_of(c) for c in before.child_orders
        ]


def _fills_of(child: ChildOrderRecord) -> tuple[object, ...]:
    return (child.client_order_id, child.broker_order_id, child.status, child.filled_qty)
