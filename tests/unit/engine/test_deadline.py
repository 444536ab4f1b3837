"""Step 9: the deadline cancels this plan's open orders and still reports every fill."""

import asyncio
from datetime import timedelta
from decimal import Decimal

from plan_executor.domain.enums import ChildOrderStatus, ExecutionStatus, ItemStatus
from plan_executor.domain.ledger import CancelReason, LedgerCancellationLine, LedgerOrderLine

from .builders import Harness, fast_settings, item, plan_detail

BUDGET_S = 0.3


def _stuck_market() -> Harness:
    """Every order rests unfilled for far longer than the budget (after a first partial)."""
    h = Harness(settings=fast_settings(step_wait=timedelta(seconds=60)))
    h.listed("AAPL", "100.00", "100.10")
    h.listed("MSFT", "200.00", "200.20")
    h.broker.hold("AAPL", "100")
    h.broker.accept_fills["AAPL"] = [Decimal(4)]
    return h


async def test_market_that_never_fills_ends_timed_out_within_budget() -> None:
    h = _stuck_market()
    detail = plan_detail(
        [item("AAPL", "SELL", "5000", target_weight="0"), item("MSFT", "BUY", "500")]
    )
    loop = asyncio.get_running_loop()
    started = loop.time()

    outcome = await h.run(detail, budget_s=BUDGET_S)

    elapsed = loop.time() - started
    assert elapsed <= BUDGET_S + h.settings.cleanup_budget.total_seconds()
    result = outcome.result
    assert result.status is ExecutionStatus.TIMED_OUT
    assert h.broker.open_orders() == []
    sell, buy = result.orders
    assert sell.filled_qty == Decimal(4)
    assert sell.status is ItemStatus.PARTIALLY_FILLED
    assert buy.status is ItemStatus.CANCELED
    assert buy.child_orders == ()
    first_limit = sell.child_orders[0].limit_price
    assert first_limit is not None
    assert result.summary.filled_sell_notional == Decimal(4) * first_limit
    order_line, cancel_line = outcome.ledger_lines
    assert isinstance(order_line, LedgerOrderLine)
    assert order_line.filled_qty == Decimal(4)
    assert order_line.status is ChildOrderStatus.CANCELED
    assert isinstance(cancel_line, LedgerCancellationLine)
    assert cancel_line.reason is CancelReason.DEADLINE
    assert cancel_line.confirmed_at is not None


async def test_submission_cut_by_the_deadline_is_found_and_cancelled() -> None:
    h = Harness(settings=fast_settings(step_wait=timedelta(seconds=60)))
    h.listed("AAPL", "100.00", "100.10")
    h.broker.hold("AAPL", "100")
    h.broker.submit_delay_s = 0.2  # the broker commits the order after the deadline came

    outcome = await h.run(
        plan_detail([item("AAPL", "SELL", "5000", target_weight="0")]), budget_s=0.05
    )

    assert outcome.result.status is ExecutionStatus.TIMED_OUT
    assert len(h.broker.orders) == 1
    assert h.broker.open_orders() == []
    (child,) = outcome.result.orders[0].child_orders
    assert child.status is ChildOrderStatus.CANCELED
    assert child.broker_order_id is not None


async def test_deadline_during_guard_rails_rejects_without_orders() -> None:
    h = Harness()
    h.listed("AAPL", "100.00", "100.10")
    h.broker.hold("AAPL", "100")

    outcome = await h.run(plan_detail([item("AAPL", "SELL", "500")]), budget_s=0)

    assert outcome.result.status is ExecutionStatus.REJECTED
    assert outcome.result.reason is not None
    assert "deadline" in outcome.result.reason
    assert h.broker.submitted == []
