"""Step 9: the deadline cancels this plan's open orders and still reports every fill.

The runs get a budget they never use up; the test brings the deadline (a steppable loop's
clock moved to the budget's end) at the point it is about, so load cannot move it."""

import asyncio
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from tests.support.run_deadline import RunDeadline
from tests.support.steppable_loop import run_on_steppable_loop

from plan_executor.domain.child_order import ChildOrder
from plan_executor.domain.enums import ChildOrderStatus, ExecutionStatus, ItemStatus
from plan_executor.domain.ledger import CancelReason, LedgerCancellationLine, LedgerOrderLine
from plan_executor.engine.progress import Phase, ProgressEvent, ProgressKind
from plan_executor.ports import BrokerOrder, OrderRequest

from .builders import Harness, fast_settings, item, plan_detail

BUDGET_S = 600.0
"""Never used up by the runs themselves (their orders rest for a minute), and longer than the
walk (4 steps of 60 s), so the items walk rather than go marketable (docs/design.md 2.9)."""


def _stuck_market() -> Harness:
    """Every order rests unfilled for far longer than the budget (after a first partial)."""
    h = Harness(settings=fast_settings(step_wait=timedelta(seconds=60)))
    h.listed("AAPL", "100.00", "100.10")
    h.listed("MSFT", "200.00", "200.20")
    h.broker.hold("AAPL", "100")
    h.broker.accept_fills["AAPL"] = [Decimal(4)]
    return h


def _partly_filled(orders: Mapping[str, ChildOrder]) -> bool:
    return any(order.status is ChildOrderStatus.PARTIALLY_FILLED for order in orders.values())


def test_market_that_never_fills_ends_timed_out_within_budget() -> None:
    run_on_steppable_loop(_market_that_never_fills())


async def _market_that_never_fills() -> None:
    h = _stuck_market()
    detail = plan_detail(
        [item("AAPL", "SELL", "5000", target_weight="0"), item("MSFT", "BUY", "500")]
    )
    deadline = RunDeadline(BUDGET_S, when=_partly_filled)
    loop = asyncio.get_running_loop()
    started = loop.time()

    outcome = await h.run(detail, budget_s=BUDGET_S, on_progress=deadline)

    elapsed = loop.time() - started
    assert deadline.came, "the sell rested after its first partial fill"
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


def test_submission_cut_by_the_deadline_is_found_and_cancelled() -> None:
    run_on_steppable_loop(_submission_cut_by_the_deadline())


async def _submission_cut_by_the_deadline() -> None:
    h = Harness(settings=fast_settings(step_wait=timedelta(seconds=60)))
    h.listed("AAPL", "100.00", "100.10")
    h.broker.hold("AAPL", "100")
    cleanup_started = asyncio.Event()
    deadline = RunDeadline(BUDGET_S, when=_sent)

    def note_cleanup(event: ProgressEvent) -> None:
        deadline(event)
        if event.kind is ProgressKind.PHASE_STARTED and event.phase is Phase.CLEANUP:
            cleanup_started.set()

    _commits_after(h, cleanup_started)  # the broker commits the order after the deadline came

    outcome = await h.run(
        plan_detail([item("AAPL", "SELL", "5000", target_weight="0")]),
        budget_s=BUDGET_S,
        on_progress=note_cleanup,
    )

    assert deadline.came, "the deadline came while the submission was in flight"
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


def _sent(orders: Mapping[str, ChildOrder]) -> bool:
    """A submission is in flight: registered, not yet answered."""
    return any(order.status is ChildOrderStatus.PENDING_SUBMIT for order in orders.values())


def _commits_after(h: Harness, event: asyncio.Event) -> None:
    """The broker takes each submission only once `event` is set."""
    original = h.broker.submit

    async def submit(request: OrderRequest, *args: Any, **kwargs: Any) -> BrokerOrder:
        await event.wait()
        return await original(request, *args, **kwargs)

    h.broker.submit = submit  # type: ignore[method-assign]
