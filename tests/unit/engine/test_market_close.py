"""The broker's close, read by the guard rails, ends the plan like a deadline whose cause is
the close: nothing is sent from it on, what rests is cancelled and confirmed, and every item
still being worked ends `market_closed`."""

from collections.abc import Sequence
from datetime import timedelta

from plan_executor.domain.enums import ExecutionStatus, ItemStatus
from plan_executor.domain.ledger import CancelReason, LedgerCancellationLine, LedgerLine

from .builders import T0, Harness, fast_settings, item, plan_detail

CLOSE = T0 + timedelta(hours=1)
PLAN = (item("AAPL", "SELL", "500"), item("MSFT", "BUY", "1000"))


def _closing_after_the_first_order(h: Harness) -> None:
    """AAPL's limits rest unfilled; the market closes as soon as the first one is placed."""
    h.listed("AAPL", "100.00", "100.10")
    h.listed("MSFT", "200.00", "200.20")
    h.broker.hold("AAPL", "10")
    h.broker.unmatched.add("AAPL")
    h.broker.closes_at = CLOSE
    h.broker.after_submit.append(lambda _: h.clock.advance(CLOSE - T0))


def _cancellations(lines: Sequence[LedgerLine]) -> list[LedgerCancellationLine]:
    return [line for line in lines if isinstance(line, LedgerCancellationLine)]


def _assert_every_item_ended_by_the_close(
    statuses: Sequence[tuple[ItemStatus, str | None]],
) -> None:
    for status, reason in statuses:
        assert status is ItemStatus.CANCELED
        assert reason is not None
        assert reason.startswith("market_closed"), reason


async def test_the_close_stops_the_plan_and_the_order_resting_at_it_is_cancelled() -> None:
    settings = fast_settings(
        step_wait=timedelta(seconds=30),  # the walk alone would rest on long after the close
        market_close_check_interval=timedelta(milliseconds=5),
    )
    h = Harness(settings=settings)
    _closing_after_the_first_order(h)

    outcome = await h.run(plan_detail(PLAN))

    [sent] = h.broker.submitted
    assert h.broker.open_orders() == []
    [cancel] = _cancellations(outcome.ledger_lines)
    assert cancel.client_order_id == sent.client_order_id
    assert cancel.reason is CancelReason.DEADLINE, "cancelled by the stop at the close"
    assert cancel.confirmed_at is not None
    assert outcome.result.status is not ExecutionStatus.TIMED_OUT
    _assert_every_item_ended_by_the_close([(r.status, r.reason) for r in outcome.result.orders])


async def test_no_order_is_sent_after_the_close_even_before_the_plan_is_stopped() -> None:
    # The plan is looked at only once an hour: only the check before each send stops the walk.
    h = Harness(settings=fast_settings(market_close_check_interval=timedelta(hours=1)))
    _closing_after_the_first_order(h)

    outcome = await h.run(plan_detail(PLAN))

    [sent] = h.broker.submitted
    [cancel] = _cancellations(outcome.ledger_lines)
    assert (cancel.client_order_id, cancel.reason) == (sent.client_order_id, CancelReason.REPEG)
    assert h.broker.open_orders() == []
    (sell, buy) = outcome.result.orders
    assert [child.client_order_id for child in sell.child_orders] == [sent.client_order_id]
    assert buy.child_orders == ()
    _assert_every_item_ended_by_the_close([(r.status, r.reason) for r in outcome.result.orders])
