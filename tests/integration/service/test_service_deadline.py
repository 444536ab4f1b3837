"""The deadline: a market that never fills within the Lambda's remaining time ends TIMED_OUT,
with every order of the plan cancelled at the broker, a ledger, and a result event. The
deadline comes once the plan's order is working (service_deadline), whatever the load."""

from __future__ import annotations

from types import ModuleType

import pytest
from service_deadline import invoke_until_timed_out
from service_support import SimThread, current_event, emf_blobs, with_items
from tests.support.aws_stack import AwsStack

from plan_executor.domain.ledger import LedgerCancellationLine, parse_ledger_line
from plan_executor.engine.config import ExecutionSettings

SYMBOL = "GOOGL"
MARGIN_S = 1.0


def test_a_market_that_never_fills_times_out_cleanly(
    handler: ModuleType,
    sim: SimThread,
    aws_stack: AwsStack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sim.call(lambda server: server.faults.halt(SYMBOL))
    event = with_items(current_event("buys-only.json"), "deadline-plan-1", SYMBOL)
    cleanup_s = ExecutionSettings().cleanup_budget.total_seconds()

    result, context = invoke_until_timed_out(
        handler, event, monkeypatch, margin_s=MARGIN_S, cleanup_s=cleanup_s
    )

    assert context.get_remaining_time_in_millis() > 0, "finished before Lambda's own timeout"
    assert result["status"] == "TIMED_OUT"
    [order] = result["orders"]
    assert order["child_orders"], "an order was working when the deadline came"
    assert sim.orders(status="open") == []
    at_sim = sim.orders()
    assert {o["client_order_id"] for o in at_sim} == {
        child["client_order_id"] for child in order["child_orders"]
    }
    assert all(o["status"] == "canceled" for o in at_sim)

    assert result["ledger"] is not None
    s3 = aws_stack.client("s3")
    orders_key = next(key for key in result["ledger"]["keys"] if key.endswith("orders.jsonl"))
    body = s3.get_object(Bucket=aws_stack.ledger_bucket, Key=orders_key)["Body"].read()
    lines = [parse_ledger_line(line) for line in body.decode().splitlines()]
    deadline_cancels = [
        line
        for line in lines
        if isinstance(line, LedgerCancellationLine) and line.reason == "deadline"
    ]
    assert {line.client_order_id for line in deadline_cancels} == {
        o["client_order_id"] for o in at_sim
    }
    assert all(line.confirmed_at is not None for line in deadline_cancels)

    [published] = aws_stack.result_events(expected=1)
    assert published["detail"]["status"] == "TIMED_OUT"
    assert published["detail"]["event_id"] == result["event_id"]
    assert any(blob.get("PlansTimedOut") == [1.0] for blob in emf_blobs(capsys.readouterr().out))
