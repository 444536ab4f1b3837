"""The alchemiser-shaped events made from a result: which ones for which status, and the fields
alchemiser's notifications read, filled from the result."""

import json

import pytest
from tests.integration.aws.aws_samples import make_result

from plan_executor.adapters.eventbridge_detail import entry_bytes, fit_compat_detail
from plan_executor.domain.compat_alchemiser import (
    COMPAT_SOURCE,
    TRADE_EXECUTED,
    compat_events,
    trade_executed,
)
from plan_executor.domain.enums import ExecutionStatus, ItemStatus


@pytest.mark.parametrize(
    ("status", "kinds", "success"),
    [
        (ExecutionStatus.SUCCESS, ["TradeExecuted"], True),
        (ExecutionStatus.SUCCESS_WITH_SKIPS, ["TradeExecuted"], True),
        (ExecutionStatus.PARTIAL_SUCCESS, ["TradeExecuted"], False),
        (ExecutionStatus.FAILURE, ["TradeExecuted", "WorkflowFailed"], False),
        (ExecutionStatus.TIMED_OUT, ["TradeExecuted", "WorkflowFailed"], False),
        (ExecutionStatus.REJECTED, ["WorkflowFailed"], None),
    ],
)
def test_each_status_makes_the_events_alchemisers_executor_made(
    status: ExecutionStatus, kinds: list[str], success: bool | None
) -> None:
    result = make_result().model_copy(update={"status": status, "reason": "why"})
    events = dict(compat_events(result))
    assert list(events) == kinds
    if success is not None:
        assert events["TradeExecuted"]["success"] is success
        assert events["TradeExecuted"]["failure_reason"] == (None if success else "why")
    if "WorkflowFailed" in events:
        failed = events["WorkflowFailed"]
        assert failed["failure_reason"] == "why"
        assert failed["failure_step"] in {"plan_validation", "trade_execution", "deadline"}
        assert failed["event_id"] == f"workflow-failed-{result.event_id}"


def test_trade_executed_counts_items_and_names_the_failed_symbols() -> None:
    result = make_result(items=3)
    failed = result.orders[1].model_copy(update={"status": ItemStatus.FAILED})
    result = result.model_copy(update={"orders": (result.orders[0], failed, result.orders[2])})
    detail = trade_executed(result)
    assert detail["orders_placed"] == 3
    assert detail["orders_succeeded"] == sum(o.status is ItemStatus.FILLED for o in result.orders)
    assert detail["failed_symbols"] == [failed.symbol]
    assert detail["event_id"] == f"trade-executed-{result.event_id}"
    assert detail["causation_id"] == result.event_id
    assert detail["timestamp"].endswith("Z")
    assert isinstance(detail["execution_summary"]["filled_notional"], str)
    json.dumps(detail)  # JSON as it goes on the wire: no Decimal, no datetime left


def test_a_detail_too_big_for_one_entry_leaves_the_order_lists_out() -> None:
    detail = trade_executed(make_result(items=40, children=3))
    full = json.dumps(detail)
    limit = entry_bytes(COMPAT_SOURCE, TRADE_EXECUTED, full) - 1
    fitted = json.loads(fit_compat_detail(detail, COMPAT_SOURCE, TRADE_EXECUTED, limit))
    assert fitted["orders_left_out"] is True
    assert fitted["orders_executed"] == []
    assert fitted["execution_data"]["orders"] == []
    assert fitted["orders_placed"] == detail["orders_placed"]
