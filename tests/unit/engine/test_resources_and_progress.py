"""Step 11 and the progress callback: one stream, closed on every path; progress never breaks."""

import asyncio

import pytest
from tests.support.run_deadline import RunDeadline, working
from tests.support.steppable_loop import run_on_steppable_loop

from plan_executor.domain.enums import ExecutionStatus, ItemStatus
from plan_executor.domain.events import RebalancePlannedDetail
from plan_executor.engine.errors import ExecutionInfrastructureError
from plan_executor.engine.executor import run_plan
from plan_executor.engine.models import ExecutionDeps
from plan_executor.engine.progress import Phase, ProgressEvent, ProgressKind
from plan_executor.ports import BrokerUnavailable

from .builders import RUN_BUDGET_S, Harness, item, plan_detail, request_for
from .fakes import FakeOrder

BUDGET_S = 30.0
"""Far beyond the slow walk's first steps: the test brings the deadline."""


def _two_items() -> tuple[Harness, RebalancePlannedDetail]:
    h = Harness()
    h.listed("AAPL", "100.00", "100.10")
    h.listed("MSFT", "200.00", "200.20")
    h.broker.hold("AAPL", "20")
    return h, plan_detail([item("AAPL", "SELL", "1000"), item("MSFT", "BUY", "1000")])


def _assert_closed(h: Harness) -> None:
    assert len(h.broker.subscriptions) == 1
    assert h.broker.subscriptions[0].exited
    assert h.broker.feeds == []
    others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    assert others == []


async def test_one_stream_closed_after_success() -> None:
    h, detail = _two_items()
    outcome = await h.run(detail)
    assert outcome.result.status is ExecutionStatus.SUCCESS
    _assert_closed(h)


async def test_stream_closed_when_an_item_raises() -> None:
    h, detail = _two_items()
    h.broker.faults["submit"].append(RuntimeError("a bug in the adapter"))

    outcome = await h.run(detail)

    sell, buy = outcome.result.orders
    assert sell.status is ItemStatus.FAILED
    assert sell.reason is not None
    assert "internal error" in sell.reason
    assert buy.status is ItemStatus.FILLED
    _assert_closed(h)


async def test_stream_closed_and_result_given_when_a_phase_raises() -> None:
    h, detail = _two_items()
    h.broker.faults["positions"].append(RuntimeError("unexpected payload"))

    outcome = await h.run(detail)

    assert outcome.result.status is ExecutionStatus.FAILURE
    assert outcome.result.reason is not None
    assert "unexpected payload" in outcome.result.reason
    assert [order.status for order in outcome.result.orders] == [ItemStatus.FAILED] * 2
    assert h.broker.submitted == []
    _assert_closed(h)


async def test_stream_closed_when_the_engine_raises() -> None:
    h, detail = _two_items()
    h.broker.faults["orders_since"].append(BrokerUnavailable("503"))

    with pytest.raises(ExecutionInfrastructureError):
        await h.run(detail)

    _assert_closed(h)


def test_stream_closed_after_a_timeout() -> None:
    run_on_steppable_loop(_stream_closed_after_a_timeout())


async def _stream_closed_after_a_timeout() -> None:
    """The deadline is brought by the test (a steppable loop) once the sell is working, with
    the stream open, so a slow machine cannot bring it during the guard rails instead."""
    h, detail = _two_items()
    h.market.set_quote("AAPL", "90.00", "90.10")  # far from where the walk starts: slow
    deadline = RunDeadline(BUDGET_S, when=working("AAPL"))
    outcome = await h.run(detail, budget_s=BUDGET_S, on_progress=deadline)
    assert deadline.came
    assert outcome.result.status is ExecutionStatus.TIMED_OUT
    _assert_closed(h)


async def test_settlement_is_event_driven() -> None:
    h, detail = _two_items()
    outcome = await h.run(detail)

    assert len(h.broker.submitted_for("AAPL")) > 1  # the sell walked: waits were involved
    assert outcome.result.status is ExecutionStatus.SUCCESS
    assert "order_by_client_id" not in h.broker.calls


async def test_settlement_polls_when_the_stream_is_down() -> None:
    h, detail = _two_items()
    h.broker.stream_connected_at_open = False

    outcome = await h.run(detail)

    assert outcome.result.status is ExecutionStatus.SUCCESS
    assert "order_by_client_id" in h.broker.calls
    sell = outcome.result.orders[0]
    assert sell.filled_qty == sum(
        h.broker.orders[c.client_order_id].filled_qty for c in sell.child_orders
    )


async def test_progress_reports_phases_in_order_and_order_events() -> None:
    h, detail = _two_items()
    await h.run(detail)

    phases = [
        (event.kind, event.phase)
        for event in h.progress
        if event.kind is not ProgressKind.ORDER_CHANGED
    ]
    expected_order = [
        Phase.GUARDS,
        Phase.RECONCILE,
        Phase.OPEN_ORDERS,
        Phase.SELLS,
        Phase.SETTLEMENT,
        Phase.BUYS,
        Phase.CLEANUP,
    ]
    assert phases == [
        (kind, phase)
        for phase in expected_order
        for kind in (ProgressKind.PHASE_STARTED, ProgressKind.PHASE_ENDED)
    ]
    order_events = [event for event in h.progress if event.kind is ProgressKind.ORDER_CHANGED]
    assert {event.order.symbol for event in order_events if event.order} == {"AAPL", "MSFT"}


async def test_a_failing_progress_callback_does_not_break_execution() -> None:
    h, detail = _two_items()

    def explode(event: ProgressEvent) -> None:
        raise ValueError("display broke")

    deps = ExecutionDeps(
        broker=h.broker, clock=h.clock, trading_mode=h.mode, settings=h.settings, progress=explode
    )
    outcome = await run_plan(request_for(detail), deps, budget_s=RUN_BUDGET_S)
    assert outcome.result.status is ExecutionStatus.SUCCESS


async def test_stream_drop_mid_walk_is_covered_by_polling() -> None:
    h, detail = _two_items()

    def drop_stream_after_first_order(order: FakeOrder) -> None:
        for feed in h.broker.feeds:
            feed.disconnect()
        h.broker.after_submit.clear()

    h.broker.after_submit.append(drop_stream_after_first_order)

    outcome = await h.run(detail)

    assert outcome.result.status is ExecutionStatus.SUCCESS
    assert "order_by_client_id" in h.broker.calls
    for result in outcome.result.orders:
        at_broker = [h.broker.orders[child.client_order_id] for child in result.child_orders]
        assert result.filled_qty == sum(order.filled_qty for order in at_broker)
        assert [c.status for c in result.child_orders] == [o.status for o in at_broker]
    assert h.broker.open_orders() == []
