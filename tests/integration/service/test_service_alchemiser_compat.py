"""AlchemiserCompatEvents: with the setting on, alchemiser's notifications rules (their patterns,
as alchemiser's template writes them, matched by moto's EventBridge) receive a TradeExecuted for
an executed plan and a WorkflowFailed for a refused one, through the real handler; with it off,
nothing but the ExecutionResult is published."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest
from service_support import SimThread, current_event, invoke
from tests.support.aws_stack import AwsStack
from tests.support.eventbridge_routes import queue_behind_rules

# alchemiser-quant template.yaml (7f11097f9), NotificationsFunction's EventBridgeRule events.
NOTIFICATION_PATTERNS = {
    "TradeExecuted": {"source": ["alchemiser.execution"], "detail-type": ["TradeExecuted"]},
    "WorkflowFailed": {"source": [{"prefix": "alchemiser."}], "detail-type": ["WorkflowFailed"]},
}


def _notifications_queue(stack: AwsStack) -> str:
    """A queue behind both of alchemiser's notification rules, on the results bus."""
    url, _ = queue_behind_rules(
        stack.client("events"), stack.client("sqs"), stack.event_bus, NOTIFICATION_PATTERNS
    )
    return url


def _notified(stack: AwsStack, url: str) -> dict[str, dict[str, Any]]:
    return {event["detail-type"]: event for event in map(_body, stack.receive_now(url))}


def _body(message: dict[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(message["Body"])
    return event


@pytest.fixture
def compat_on(monkeypatch: pytest.MonkeyPatch, lambda_env: dict[str, str]) -> None:
    del lambda_env  # ordering: the function's environment first
    monkeypatch.setenv("ALCHEMISER_COMPAT_EVENTS", "true")


def test_an_executed_plan_is_also_a_trade_executed_for_alchemisers_notifications(
    compat_on: None, handler: ModuleType, sim: SimThread, aws_stack: AwsStack
) -> None:
    url = _notifications_queue(aws_stack)

    result = invoke(handler, current_event("alchemiser-rebalance-planned.json"))

    assert result["status"] == "SUCCESS"
    notified = _notified(aws_stack, url)
    assert set(notified) == {"TradeExecuted"}
    event = notified["TradeExecuted"]
    assert event["source"] == "alchemiser.execution"
    detail = event["detail"]
    assert detail["success"] is True
    assert detail["correlation_id"] == result["correlation_id"]
    assert detail["causation_id"] == result["event_id"]
    traded = [o for o in result["orders"] if o["child_orders"]]
    assert detail["orders_placed"] == len(traded) == 6
    assert detail["orders_succeeded"] == 6
    assert detail["execution_data"]["plan_id"] == result["plan_id"]
    assert len(detail["orders_executed"]) == len(result["orders"])
    assert [e["detail"]["status"] for e in aws_stack.result_events(expected=1)] == ["SUCCESS"]


def test_a_refused_plan_is_a_workflow_failed_and_no_trade_executed(
    compat_on: None, handler: ModuleType, sim: SimThread, aws_stack: AwsStack
) -> None:
    url = _notifications_queue(aws_stack)
    event = current_event("alchemiser-rebalance-planned.json")
    event["detail"]["rebalance_plan"]["timestamp"] = "2020-01-01T00:00:00Z"

    result = invoke(handler, event)

    assert result["status"] == "REJECTED"
    notified = _notified(aws_stack, url)
    assert set(notified) == {"WorkflowFailed"}
    detail = notified["WorkflowFailed"]["detail"]
    assert detail["failure_step"] == "plan_validation"
    assert detail["workflow_type"] == "trading_execution"
    assert "max_plan_age" in detail["failure_reason"]
    assert detail["error_details"]["plan_id"] == result["plan_id"]
    assert sim.order_posts() == []


def test_with_the_setting_off_only_the_execution_result_is_published(
    handler: ModuleType, sim: SimThread, aws_stack: AwsStack
) -> None:
    url = _notifications_queue(aws_stack)

    invoke(handler, current_event("alchemiser-rebalance-planned.json"))

    assert _notified(aws_stack, url) == {}
    assert len(aws_stack.result_events(expected=1)) == 1
