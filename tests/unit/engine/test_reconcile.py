"""Steps 2-4: an earlier attempt's orders, the id sequence, and other open orders."""

import pytest

from plan_executor.domain.enums import ChildOrderStatus, ItemStatus, Side
from plan_executor.domain.ledger import CancelReason, LedgerCancellationLine
from plan_executor.domain.order_ids import parse_client_order_id
from plan_executor.engine.errors import ExecutionInfrastructureError
from plan_executor.ports import BrokerUnavailable

from .builders import PLAN_TIME, Harness, item, plan_detail, plan_order_id

S = ChildOrderStatus


async def test_earlier_fills_count_and_open_orders_are_cancelled_before_new_orders() -> None:
    h = Harness()
    h.listed("AAPL", "100.00", "100.10")
    h.broker.hold("AAPL", "15")  # 20 held before the earlier attempt sold 5
    detail = plan_detail([item("AAPL", "SELL", "2000")], urgency="URGENT")
    filled_id = plan_order_id(detail, "AAPL", Side.SELL, 1)
    open_id = plan_order_id(detail, "AAPL", Side.SELL, 2)
    at = PLAN_TIME
    h.broker.seed_order(
        filled_id, "AAPL", Side.SELL, "5", limit="100.00", status=S.FILLED,
        filled_qty="5", avg_price="100.00", submitted_at=at,
    )  # fmt: skip
    h.broker.seed_order(
        open_id, "AAPL", Side.SELL, "10", limit="101.00", status=S.NEW, submitted_at=at
    )

    outcome = await h.run(detail)

    new_ids = [request.client_order_id for request in h.broker.submitted]
    assert new_ids
    first_submit = h.broker.log.index(("submit", new_ids[0]))
    assert h.broker.log.index(("canceled", open_id)) < first_submit
    # Remaining work is $2000 - $500 already sold: about 15 shares, never the full 20.
    assert sum(h.broker.orders[cid].filled_qty for cid in new_ids) < 15
    result = outcome.result.orders[0]
    assert result.status is ItemStatus.FILLED
    assert (
        result.filled_notional >= 2000 - 100
    )  # within one share of the plan, earlier fill included
    ids = [child.client_order_id for child in result.child_orders]
    assert ids[:2] == [filled_id, open_id]
    cancellations = [line for line in outcome.ledger_lines if line.kind == "cancellation"]
    assert isinstance(cancellations[0], LedgerCancellationLine)
    assert cancellations[0].reason is CancelReason.EARLIER_ATTEMPT
    assert cancellations[0].client_order_id == open_id


async def test_sequence_numbers_continue_after_the_highest_existing() -> None:
    h = Harness()
    h.listed("MSFT", "200.00", "200.20")
    detail = plan_detail([item("MSFT", "BUY", "1000")], urgency="URGENT")
    for n in (1, 4):
        h.broker.seed_order(
            plan_order_id(detail, "MSFT", Side.BUY, n), "MSFT", Side.BUY, "1",
            limit="150.00", status=S.CANCELED, submitted_at=PLAN_TIME,
        )  # fmt: skip

    await h.run(detail)

    parsed = [parse_client_order_id(r.client_order_id) for r in h.broker.submitted]
    assert [p.sequence for p in parsed if p is not None] == [5]


async def test_full_exit_after_an_earlier_partial_sells_what_is_left() -> None:
    h = Harness()
    h.listed("AAPL", "100.00", "100.10")
    h.broker.hold("AAPL", "7.2273576")
    detail = plan_detail([item("AAPL", "SELL", "1000", target_weight="0")], urgency="URGENT")
    h.broker.seed_order(
        plan_order_id(detail, "AAPL", Side.SELL, 1), "AAPL", Side.SELL, "10", limit="100.00",
        status=S.CANCELED, filled_qty="2.7726424", avg_price="100.00", submitted_at=PLAN_TIME,
    )  # fmt: skip

    outcome = await h.run(detail)

    (request,) = h.broker.submitted
    assert request.qty == h.broker.orders[request.client_order_id].qty
    assert str(request.qty.normalize()) == "7.2273576"
    assert outcome.result.orders[0].filled_qty == 10
    assert outcome.result.orders[0].status is ItemStatus.FILLED


async def test_cannot_list_orders_raises_infrastructure_error() -> None:
    h = Harness()
    h.listed("AAPL", "100.00", "100.10")
    h.broker.hold("AAPL", "10")
    h.broker.faults["orders_since"].append(BrokerUnavailable("orders: 503"))

    with pytest.raises(ExecutionInfrastructureError, match="cannot list"):
        await h.run(plan_detail([item("AAPL", "SELL", "500")]))

    assert h.broker.submitted == []
    assert h.broker.subscriptions[0].exited


async def test_only_the_plans_symbols_orders_are_cancelled() -> None:
    h = Harness()
    h.listed("AAPL", "100.00", "100.10")
    h.listed("TSLA", "250.00", "250.50")
    h.broker.hold("AAPL", "20")
    manual_aapl = h.broker.seed_order(
        "manual-aapl-buy", "AAPL", Side.BUY, "1", limit="90.00", status=S.NEW,
        submitted_at=PLAN_TIME,
    )  # fmt: skip
    manual_tsla = h.broker.seed_order(
        "manual-tsla-buy", "TSLA", Side.BUY, "1", limit="200.00", status=S.NEW,
        submitted_at=PLAN_TIME,
    )  # fmt: skip

    outcome = await h.run(plan_detail([item("AAPL", "SELL", "1000")], urgency="URGENT"))

    assert h.broker.cancel_requests == ["manual-aapl-buy"]
    assert manual_aapl.status is S.CANCELED
    assert manual_tsla.status is S.NEW
    assert outcome.result.orders[0].status is ItemStatus.FILLED  # no wash-trade refusal
    (line,) = [line for line in outcome.ledger_lines if line.kind == "cancellation"]
    assert isinstance(line, LedgerCancellationLine)
    assert line.reason is CancelReason.CONFLICTING_OPEN_ORDER
    assert line.client_order_id == "manual-aapl-buy"
    assert line.confirmed_at is not None


async def test_unconfirmed_cancel_of_a_conflicting_order_blocks_only_its_symbol() -> None:
    h = Harness()
    h.listed("AAPL", "100.00", "100.10")
    h.listed("MSFT", "200.00", "200.20")
    h.broker.hold("AAPL", "20")
    h.broker.seed_order(
        "manual-aapl-buy", "AAPL", Side.BUY, "1", limit="90.00", status=S.NEW,
        submitted_at=PLAN_TIME,
    )  # fmt: skip
    h.broker.faults["cancel"].append(BrokerUnavailable("cancel: 503"))
    h.broker.faults["order_by_client_id"].append(BrokerUnavailable("read: 503"))

    outcome = await h.run(
        plan_detail([item("AAPL", "SELL", "1000"), item("MSFT", "BUY", "1000")], urgency="URGENT")
    )

    sell, buy = outcome.result.orders
    assert sell.status is ItemStatus.FAILED
    assert sell.reason is not None
    assert "could not be cancelled" in sell.reason
    assert buy.status is ItemStatus.FILLED
    assert all(request.symbol == "MSFT" for request in h.broker.submitted)


async def test_item_completed_by_an_earlier_attempt_sends_nothing() -> None:
    h = Harness()
    h.listed("AAPL", "100.00", "100.10")
    h.broker.hold("AAPL", "5")
    detail = plan_detail([item("AAPL", "SELL", "1000")])
    h.broker.seed_order(
        plan_order_id(detail, "AAPL", Side.SELL, 1), "AAPL", Side.SELL, "10", limit="100.00",
        status=S.FILLED, filled_qty="10", avg_price="100.00", submitted_at=PLAN_TIME,
    )  # fmt: skip

    outcome = await h.run(detail)

    assert h.broker.submitted == []
    (result,) = outcome.result.orders
    assert result.status is ItemStatus.FILLED
    assert result.filled_qty == 10
    assert result.reason == "completed by an earlier attempt"


async def test_earlier_buy_fills_reduce_the_budget() -> None:
    h = Harness()
    h.listed("MSFT", "100.00", "100.10")
    detail = plan_detail([item("MSFT", "BUY", "1000")], urgency="URGENT")
    h.broker.seed_order(
        plan_order_id(detail, "MSFT", Side.BUY, 1), "MSFT", Side.BUY, "10", limit="100.00",
        status=S.CANCELED, filled_qty="6", avg_price="100.00", submitted_at=PLAN_TIME,
    )  # fmt: skip

    outcome = await h.run(detail)

    (request,) = h.broker.submitted
    assert request.limit_price is not None
    assert request.qty * request.limit_price <= 400
    assert request.qty * request.limit_price > 390
    (result,) = outcome.result.orders
    assert result.status is ItemStatus.FILLED
    assert 990 < result.filled_notional <= 1000
