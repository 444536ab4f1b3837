"""The engine acts on the choice between walk and marketable (docs/design.md 2.9) and reports
it per item, and on paper once per plan."""

from datetime import timedelta
from decimal import Decimal

from plan_executor.domain.enums import Execution, ExecutionStatus, ItemStatus, OrderType
from plan_executor.domain.execution_choice import PAPER_NOTE, PAPER_REASON
from plan_executor.domain.ledger import CancelReason, LedgerCancellationLine

from .builders import T0, Harness, fast_settings, item, plan_detail

PAPER = fast_settings(venue=None)
"""The venue from the trading mode: the harness's paper keys."""


def _paper_market(h: Harness) -> None:
    h.listed("AAPL", "100.00", "101.20")  # far touch ~60 bps from the mid: past NORMAL's cap
    h.listed("BRK.B", "497.70", "497.90", fractionable=False)
    h.listed("MSFT", "200.00", "200.20")
    h.broker.hold("AAPL", "12.5")
    h.broker.hold("BRK.B", "12")


async def test_on_paper_each_item_is_one_market_order_and_the_plan_says_so_once() -> None:
    h = Harness(settings=PAPER)
    _paper_market(h)
    plan = [
        item("AAPL", "SELL", "5000", target_weight="0"),
        item("BRK.B", "SELL", "1000"),
        item("MSFT", "BUY", "1000"),
    ]

    outcome = await h.run(plan_detail(plan))

    result = outcome.result
    assert [r.order_type for r in h.broker.submitted] == [OrderType.MARKET] * 3
    assert h.broker.cancel_requests == []
    brk = h.broker.submitted_for("BRK.B")[0]
    assert brk.qty == Decimal(2), "$1000 of a whole-share $497.80 stock: 2 shares, rounded down"
    msft = h.broker.submitted_for("MSFT")[0]
    assert msft.qty * Decimal("200.20") <= Decimal(1000), "a buy sized at the ask, in budget"
    for order in result.orders:
        assert order.execution is Execution.MARKETABLE
        assert order.execution_reason == PAPER_REASON
        assert (order.repegs, order.market_fallback, order.status) == (0, False, ItemStatus.FILLED)
        assert order.reason is None
    assert result.status is ExecutionStatus.SUCCESS
    assert result.reason == PAPER_NOTE
    assert result.summary.market_fallbacks == 0


async def test_on_paper_an_urgent_item_is_a_market_order_too() -> None:
    h = Harness(settings=PAPER)
    _paper_market(h)

    outcome = await h.run(plan_detail([item("MSFT", "BUY", "1000")], urgency="URGENT"))

    [sent] = h.broker.submitted
    assert sent.order_type is OrderType.MARKET
    assert outcome.result.orders[0].execution is Execution.MARKETABLE


async def test_a_marketable_order_unfilled_in_its_wait_is_cancelled_like_the_fallback() -> None:
    h = Harness(settings=PAPER)
    _paper_market(h)
    h.broker.unmatched.add("MSFT")

    outcome = await h.run(plan_detail([item("MSFT", "BUY", "1000")]))

    [sent] = h.broker.submitted
    assert h.broker.cancel_requests == [sent.client_order_id]
    [cancel] = [line for line in outcome.ledger_lines if isinstance(line, LedgerCancellationLine)]
    assert cancel.reason is CancelReason.WAIT_EXPIRED
    [order] = outcome.result.orders
    assert order.status is ItemStatus.FAILED
    assert order.reason is not None
    assert order.reason.startswith("market order unfilled after")
    assert outcome.result.reason is not None
    assert outcome.result.reason.count(PAPER_NOTE) == 1


async def test_live_with_less_time_left_than_the_walk_sends_one_market_order() -> None:
    h = Harness(settings=fast_settings(step_wait=timedelta(seconds=60)))  # a 4-minute walk
    h.listed("AAPL", "100.00", "100.20")
    h.broker.hold("AAPL", "100")

    outcome = await h.run(plan_detail([item("AAPL", "SELL", "5000")]), budget_s=60)

    [sent] = h.broker.submitted
    assert sent.order_type is OrderType.MARKET
    [order] = outcome.result.orders
    assert order.execution is Execution.MARKETABLE
    assert order.execution_reason is not None
    assert order.execution_reason.startswith("time left ")
    assert outcome.result.reason is None, "no paper note on live"


async def test_live_with_the_close_nearer_than_the_walk_sends_one_market_order() -> None:
    h = Harness(settings=fast_settings(step_wait=timedelta(seconds=30)))  # a 2-minute walk
    h.listed("AAPL", "100.00", "100.20")
    h.broker.hold("AAPL", "100")
    h.broker.closes_at = T0 + timedelta(minutes=1)

    outcome = await h.run(plan_detail([item("AAPL", "SELL", "5000")]), budget_s=600)

    assert [r.order_type for r in h.broker.submitted] == [OrderType.MARKET]
    [order] = outcome.result.orders
    assert order.execution_reason == "time left 60 s, under the walk's 120.1 s"


async def test_live_with_a_wide_spread_and_time_to_spare_walks() -> None:
    h = Harness()
    h.listed("AAPL", "100.00", "100.20")
    h.broker.hold("AAPL", "100")

    outcome = await h.run(plan_detail([item("AAPL", "SELL", "5000")]))

    assert h.broker.submitted[0].order_type is OrderType.LIMIT
    [order] = outcome.result.orders
    assert order.execution is Execution.WALK
    assert order.execution_reason is not None
    assert order.execution_reason.startswith("spread 20 ticks")


async def test_an_item_skipped_by_sizing_reports_no_choice() -> None:
    h = Harness(settings=PAPER)
    h.listed("BRK.B", "497.70", "497.90", fractionable=False)

    outcome = await h.run(plan_detail([item("BRK.B", "BUY", "100")]))

    [order] = outcome.result.orders
    assert order.status is ItemStatus.SKIPPED
    assert (order.execution, order.execution_reason) == (None, None)
    assert outcome.result.reason is not None
    assert PAPER_NOTE not in outcome.result.reason, "nothing was sent: no note"
