"""The short critical path keeps its safety: rails judged in order, the final listing made
whenever an order could be unknown, and an URGENT buy that spends its budget in one order."""

from decimal import Decimal

from plan_executor.domain.enums import ExecutionStatus, ItemStatus, OrderType, Side
from plan_executor.ports import BrokerUnavailable

from .builders import Harness, fast_settings, item, plan_detail


def _ready() -> Harness:
    h = Harness()
    h.listed("AAPL", "100.00", "100.10")
    h.listed("MSFT", "200.00", "200.20")
    h.broker.hold("AAPL", "100")
    return h


async def test_the_first_refusing_rail_names_the_rejection_when_reads_run_together() -> None:
    h = _ready()
    h.broker.market_open = False
    h.broker.faults["account"].append(BrokerUnavailable("account: 503"))
    h.broker.faults["assets"].append(BrokerUnavailable("assets: 503"))

    outcome = await h.run(plan_detail([item("AAPL", "SELL", "1000")]))

    assert outcome.result.reason is not None
    assert outcome.result.reason.startswith("guard rail market_open:")


async def test_a_local_rail_refuses_before_any_broker_call() -> None:
    h = _ready()
    h.settings = fast_settings(kill_switch=True)

    outcome = await h.run(plan_detail([item("AAPL", "SELL", "1000")]))

    assert outcome.result.status is ExecutionStatus.REJECTED
    assert h.broker.calls == []


async def test_cleanup_skips_the_listing_when_every_order_is_known_terminal() -> None:
    h = _ready()

    outcome = await h.run(plan_detail([item("AAPL", "SELL", "1000")], urgency="URGENT"))

    assert outcome.result.status is ExecutionStatus.SUCCESS
    assert h.broker.calls.count("orders_since") == 2  # reconcile and open orders only


async def test_cleanup_lists_the_plans_orders_after_an_unknown_submit_outcome() -> None:
    h = _ready()
    h.broker.faults["submit"].append(BrokerUnavailable("connection reset"))

    await h.run(plan_detail([item("AAPL", "SELL", "1000")], urgency="URGENT"))

    assert h.broker.calls.count("orders_since") == 3


async def test_an_urgent_buy_spends_its_budget_in_one_order_without_overspending() -> None:
    h = _ready()
    budget = Decimal(1500)  # 10 bps through the ask would leave ~$1.50 unspent at the ask

    outcome = await h.run(plan_detail([item("MSFT", "BUY", str(budget))], urgency="URGENT"))

    (request,) = h.broker.submitted
    assert request.side is Side.BUY
    assert request.order_type is OrderType.LIMIT
    assert request.limit_price is not None
    assert request.limit_price > Decimal("200.20")  # still through the far touch
    assert request.qty * request.limit_price <= budget
    (buy,) = outcome.result.orders
    assert buy.status is ItemStatus.FILLED
    assert budget - fast_settings().min_notional <= buy.filled_notional <= budget
