"""The deadline: a market that never fills ends the run within budget + cleanup, TIMED_OUT,
with none of the plan's orders left open at the broker.

The deadline comes when the test moves the loop's clock to it, once the sells are working, so
a slow machine cannot make it come before them (or the run end some other way)."""

from engine_sim_views import open_orders, orders_of
from engine_support import (
    SEED,
    EngineHarness,
    deadline_s,
    fast_settings,
    full_exit,
    item,
    plan_detail,
    plan_time,
)
from tests.support.run_deadline import RunDeadline, working
from tests.support.steppable_loop import run_on_steppable_loop

from alpaca_sim.server import SimServer
from plan_executor.domain.enums import ExecutionStatus, ItemStatus
from plan_executor.domain.ledger import CancelReason, LedgerCancellationLine

BUDGET_S = 30.0
"""Never used up by the run itself: the test brings the deadline."""
STEP_WAIT_MS = 120_000
"""The first limits rest past the budget: only the deadline ends them."""


def test_a_halted_market_ends_timed_out_within_budget_with_nothing_left_open() -> None:
    run_on_steppable_loop(_a_halted_market())


async def _a_halted_market() -> None:
    async with SimServer(seed=SEED, speed=1.0) as sim:
        await _times_out(sim)


async def _times_out(sim: SimServer) -> None:
    settings = fast_settings(step_wait_ms=STEP_WAIT_MS, market_wait_ms=5000)
    harness = EngineHarness(sim, settings=settings)
    for symbol in ("AAPL", "NVDA", "MSFT"):
        sim.faults.halt(symbol)  # orders are accepted and never fill
    detail = plan_detail(
        [full_exit("AAPL", "6100"), item("NVDA", "SELL", "1500"), item("MSFT", "BUY", "1000")],
        plan_time(sim),
    )
    deadline = RunDeadline(BUDGET_S, when=working("AAPL", "NVDA"))

    outcome = await harness.run(detail, budget_s=BUDGET_S, on_progress=deadline)

    assert deadline.came, "the sells were working when the deadline came"
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
