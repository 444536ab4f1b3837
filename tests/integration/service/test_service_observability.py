"""What CloudWatch gets from an invocation: EMF metrics and structured log lines on stdout."""

from __future__ import annotations

from types import ModuleType

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
