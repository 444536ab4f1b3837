"""Every saved event in events/ through the Lambda handler gives its documented outcome
(events/README.md): valid plans execute at the simulated broker, bad ones are REJECTED with the
field and the rule named, and never reach the broker's order endpoint."""

from __future__ import annotations

import json
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest
from service_support import (
    SimThread,
    child_ids,
    current_event,
    invoke,
    saved_event_names,
)
from tests.support.aws_stack import AwsStack

EXECUTED = {
    "mixed-sell-and-buy.json": "SUCCESS",
    "full-liquidation.json": "SUCCESS",
    "buys-only.json": "SUCCESS",
    "no-trades-required.json": "SUCCESS",
    "alchemiser-rebalance-planned.json": "SUCCESS",
    "alchemiser-no-trades.json": "SUCCESS",
}
REJECTED = {
    "rejected-stale-plan.json": ("detail.rebalance_plan.timestamp", "max_plan_age"),
    "rejected-wrong-sign.json": (
        "detail.rebalance_plan.items[2].trade_amount",
        "sign_agrees_with_action",
    ),
    "rejected-duplicate-symbol.json": ("detail.rebalance_plan.items[3].symbol", "unique_symbols"),
    "rejected-missing-plan-id.json": ("detail.rebalance_plan.plan_id", "required"),
    "rejected-naive-timestamp.json": ("detail.rebalance_plan.timestamp", "timezone_required"),
    "rejected-schema-v2.json": ("detail.schema_version", "schema_major_1"),
}


def the_one_result_event(stack: AwsStack) -> dict[str, Any]:
    published = stack.result_events(expected=1)
    assert len(published) == 1
    assert stack.receive_now(stack.results_queue_url) == [], "one result event per invocation"
    return published[0]


def test_every_saved_event_has_an_expected_outcome() -> None:
    assert sorted(EXECUTED.keys() | REJECTED.keys()) == saved_event_names()


@pytest.mark.parametrize("name", sorted(EXECUTED))
def test_a_valid_plan_executes_at_the_broker(
    name: str,
    handler: ModuleType,
    sim: SimThread,
    aws_stack: AwsStack,
) -> None:
    event = current_event(name)
    trades = event["detail"].get("trades_required", True)

    result = invoke(handler, event)

    assert result["status"] == EXECUTED[name], result["reason"]
    for order in result["orders"]:
        traded = trades and order["action"] != "HOLD"
        assert order["status"] == ("FILLED" if traded else "SKIPPED"), order
    assert sorted(sim.posted_ids()) == sorted(child_ids(result))
    assert len(set(sim.posted_ids())) == len(sim.posted_ids()), "no client_order_id sent twice"
    assert bool(sim.posted_ids()) is trades
    published = the_one_result_event(aws_stack)
    assert published["detail"]["event_id"] == result["event_id"]
    assert published["detail"]["status"] == result["status"]


def test_a_full_liquidation_sells_exactly_what_is_held(handler: ModuleType, sim: SimThread) -> None:
    held = sim.positions()
    event = current_event("full-liquidation.json")

    result = invoke(handler, event)

    assert result["status"] == "SUCCESS"
    sold = {order["symbol"]: Decimal(order["filled_qty"]) for order in result["orders"]}
    assert sold == {symbol: Decimal(held[symbol]) for symbol in sold}
    assert sold.keys().isdisjoint(sim.positions())


def test_the_order_cap_refuses_an_item_above_it_before_any_order(
    handler: ModuleType, sim: SimThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_ORDER_NOTIONAL", "6000")  # the AAPL exit is worth $6,107.62
    result = invoke(handler, current_event("full-liquidation.json"))

    assert result["status"] == "REJECTED"
    assert "notional_limits" in result["reason"]
    assert "AAPL" in result["reason"]
    assert sim.order_posts() == []


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_a_bad_event_is_rejected_naming_the_field_and_sends_no_order(
    name: str, handler: ModuleType, sim: SimThread, aws_stack: AwsStack
) -> None:
    field, rule = REJECTED[name]

    result = invoke(handler, current_event(name))

    assert result["status"] == "REJECTED"
    assert field in result["reason"], result["reason"]
    assert rule in result["reason"], result["reason"]
    assert result["orders"] == [] or all(o["child_orders"] == [] for o in result["orders"])
    assert sim.order_posts() == []
    published = the_one_result_event(aws_stack)
    assert published["detail"]["status"] == "REJECTED"
    assert published["detail"]["reason"] == result["reason"]


def test_the_producers_allocation_comparison_is_in_the_ledger_and_not_in_the_event(
    handler: ModuleType, sim: SimThread, aws_stack: AwsStack
) -> None:
    event = current_event("alchemiser-rebalance-planned.json")
    sent = event["detail"]["allocation_comparison"]

    result = invoke(handler, event)

    result_key = next(key for key in result["ledger"]["keys"] if key.endswith("result.json"))
    stored = aws_stack.client("s3").get_object(Bucket=aws_stack.ledger_bucket, Key=result_key)
    recorded = json.loads(stored["Body"].read())["allocation_comparison"]
    assert recorded["deltas"].keys() == sent["deltas"].keys()
    assert Decimal(recorded["target_values"]["SPY"]) == Decimal(sent["target_values"]["SPY"])
    assert Decimal(recorded["target_values"]["GOOGL"]) == 0
    published = the_one_result_event(aws_stack)
    assert "allocation_comparison" not in published["detail"]


def test_an_event_of_another_detail_type_is_refused_before_any_order(
    handler: ModuleType, sim: SimThread, aws_stack: AwsStack
) -> None:
    event = current_event("mixed-sell-and-buy.json")
    event["detail-type"] = "Something"

    result = invoke(handler, event)

    assert result["status"] == "REJECTED"
    assert result["reason"].startswith("detail-type: allowed_values"), result["reason"]
    assert sim.order_posts() == []
    assert the_one_result_event(aws_stack)["detail"]["status"] == "REJECTED"
