"""The deadline: a market that never fills ends the run within budget + cleanup, TIMED_OUT,
with none of the plan's orders left open at the broker."""

from engine_sim_views import open_orders, orders_of
from engine_support import (
    EngineHarness,
    deadline_s,
    fast_settings,
    full_exit,
    item,
    plan_detail,
    plan_time,
)

from alpaca_sim.server import SimServer
from plan_executor.domain.enums import ExecutionStatus, ItemStatus
from plan_executor.domain.ledger import CancelReason, LedgerCancellationLine

BUDGET_S = 1.5


async def test_a_halted_market_ends_timed_out_within_budget_with_nothing_left_open(
    sim: SimServer,
) -> None:
    harness = EngineHarness(sim, settings=fast_settings(step_wait_ms=300, market_wait_ms=5000))
    for symbol in ("AAPL", "NVDA", "MSFT"):
        sim.faults.halt(symbol)  # orders are accepted and never fill
    detail = plan_detail(
        [full_exit("AAPL", "6100"), item("NVDA", "SELL", "1500"), item("MSFT", "BUY", "1000")],
        plan_time(sim),
    )

    outcome = await harness.run(detail, budget_s=BUDGET_S)

    assert harness.last_run_s <= deadline_s(harness.settings, BUDGET_S)
    result = outcome.result
    assert result.status is ExecutionStatus.TIMED_OUT
    assert open_orders(sim) == []
    sent = orders_of(sim, "AAPL") + orders_of(sim, "NVDA")
    assert sent, "the sells were working when the deadline came"
    assert {order["status"] for order in sent} == {"canceled"}
    assert orders_of(sim, "MSFT") == []
    assert {order.status for order in result.orders} == {ItemStatus.CANCELED}
    cancels = [line for line in outcome.ledger_lines if isinstance(line, LedgerCancellationLine)]
    deadline_cancels = [line for line in cancels if line.reason is CancelReason.DEADLINE]
    assert deadline_cancels
    assert all(line.confirmed_at is not None for line in deadline_cancels)
