"""What CloudWatch gets from an invocation: EMF metrics and structured log lines on stdout."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest
from service_support import (
    METRICS_NAMESPACE,
    SERVICE_NAME,
    child_ids,
    current_event,
    emf_blobs,
    invoke,
    log_records,
    metric_names,
)
from tests.support.aws_stack import AwsStack

from plan_executor import invocation
from plan_executor.adapters.eventbridge_detail import entry_bytes, fit_detail
from plan_executor.domain.results import LEDGER_ONLY_FIELDS, ExecutionResult

PLAN = "mixed-sell-and-buy.json"


def test_the_emf_blob_counts_the_plan_and_its_orders_in_the_namespace(
    handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    result = invoke(handler, current_event(PLAN))

    [plan_blob] = [
        blob for blob in emf_blobs(capsys.readouterr().out) if "ExecutionDuration" in blob
    ]
    assert result["status"] == "SUCCESS"
    assert set(metric_names(plan_blob).values()) == {METRICS_NAMESPACE}
    assert plan_blob["service"] == SERVICE_NAME
    assert plan_blob["PlansSucceeded"] == [1.0]
    assert plan_blob["OrdersPlaced"] == [float(len(child_ids(result)))]
    filled = sum(1 for order in result["orders"] if order["status"] == "FILLED")
    assert plan_blob["OrdersFilled"] == [float(filled)]
    assert plan_blob["OrdersSkipped"] == [1.0]  # the HOLD
    assert plan_blob["RePegs"] == [float(result["summary"]["repegs"])]
    assert len(plan_blob["SlippageBps"]) == filled
    for absent in ("LedgerWriteFailures", "DuplicatesServed", "PlansRejected"):
        assert absent not in plan_blob


def test_a_result_stored_trimmed_still_counts_every_order(
    handler: ModuleType,
    aws_stack: AwsStack,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A result too large for one event is stored and answered trimmed (child orders left
    out); the metrics still count the orders the execution placed. The trimming threshold is
    lowered here to a byte below this result's whole size, so it is trimmed however many child
    orders the walk sent (a real one takes a plan of more than ~160 items)."""

    def trimmed_form(runtime: Any, result: ExecutionResult) -> dict[str, Any]:
        whole = result.model_dump_json(exclude=set(LEDGER_ONLY_FIELDS))
        limit = entry_bytes("plan-executor", "x", whole) - 1
        fitted = fit_detail(result, source="plan-executor", detail_type="x", limit=limit)
        stored: dict[str, Any] = json.loads(fitted.detail)
        return stored

    monkeypatch.setattr(invocation, "stored_form", trimmed_form)
    answered = invoke(handler, current_event(PLAN))

    [plan_blob] = [
        blob for blob in emf_blobs(capsys.readouterr().out) if "ExecutionDuration" in blob
    ]
    [published] = aws_stack.result_events(expected=1)
    placed = child_ids(published["detail"])
    assert "trimmed to fit" in str(answered["reason"])
    assert child_ids(answered) == []
    assert placed
    assert plan_blob["OrdersPlaced"] == [float(len(placed))]


def test_a_rejected_event_counts_as_rejected(
    handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    invoke(handler, current_event("rejected-wrong-sign.json"))

    blobs = emf_blobs(capsys.readouterr().out)
    assert any(blob.get("PlansRejected") == [1.0] for blob in blobs)
    assert not any("PlansSucceeded" in blob or "LedgerWriteFailures" in blob for blob in blobs)


def test_every_log_line_of_a_parsed_plan_names_the_plan_and_its_correlation_id(
    handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    event = current_event(PLAN)
    plan = event["detail"]["rebalance_plan"]

    result = invoke(handler, event)

    records = log_records(capsys.readouterr().out)
    progress = [record for record in records if "progress" in record]
    logged_orders = {r["client_order_id"] for r in progress if r["progress"] == "order"}
    assert logged_orders == set(child_ids(result)), "every child order's changes are logged"
    assert {r["phase"] for r in progress if r["progress"] == "phase_started"} >= {"sells", "buys"}
    assert any(record["message"] == "plan finished" for record in records)
    for record in records:
        assert record["plan_id"] == plan["plan_id"], record
        assert record["correlation_id"] == plan["correlation_id"], record
        assert record["service"] == SERVICE_NAME, record
