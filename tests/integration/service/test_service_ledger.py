"""The S3 ledger of an invocation: result.json and orders.jsonl as promised, and a ledger S3 will
not take is never lost (it goes to the DLQ, the result says so and a metric fires)."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest
from service_support import (
    SimThread,
    child_orders,
    current_event,
    emf_blobs,
    fresh_handler,
    invoke,
)
from tests.support.aws_faults import FaultInjector, s3_error
from tests.support.aws_stack import AwsStack

from plan_executor.adapters.failure_sink import decode_dead_letter
from plan_executor.domain.execution_choice import PAPER_NOTE, PAPER_REASON
from plan_executor.domain.ledger import (
    LedgerCancellationLine,
    LedgerOrderLine,
    parse_ledger_line,
)
from plan_executor.domain.results import RESULT_SCHEMA_VERSION, ExecutionResult

PLAN = "mixed-sell-and-buy.json"


def read_object(stack: AwsStack, key: str) -> tuple[bytes, dict[str, Any]]:
    response = stack.client("s3").get_object(Bucket=stack.ledger_bucket, Key=key)
    return response["Body"].read(), response


def test_the_ledger_holds_the_result_and_a_line_per_child_order_and_cancellation(
    handler: ModuleType, sim: SimThread, aws_stack: AwsStack
) -> None:
    result = invoke(handler, current_event(PLAN))

    ledger = result["ledger"]
    assert ledger is not None
    assert ledger["bucket"] == aws_stack.ledger_bucket
    result_key, orders_key = sorted(ledger["keys"], key=lambda key: not key.endswith(".json"))
    plan_id, attempt = result["plan_id"], result["attempt"]
    prefix = f"executions/date={result['started_at'][:10]}/plan_id={plan_id}/attempt={attempt}/"
    assert (result_key, orders_key) == (f"{prefix}result.json", f"{prefix}orders.jsonl")

    body, stored = read_object(aws_stack, result_key)
    assert stored["ServerSideEncryption"] == "AES256"
    assert ExecutionResult.model_validate_json(body) == ExecutionResult.model_validate(result)

    body, _ = read_object(aws_stack, orders_key)
    lines = [parse_ledger_line(line) for line in body.decode().splitlines()]
    order_lines = [line for line in lines if isinstance(line, LedgerOrderLine)]
    cancellations = [line for line in lines if isinstance(line, LedgerCancellationLine)]
    children = {child["client_order_id"]: child for child in child_orders(result)}
    assert Counter(line.client_order_id for line in order_lines) == Counter(children.keys())
    at_sim = {order["client_order_id"]: order for order in sim.orders()}
    for line in order_lines:
        assert (line.plan_id, line.attempt) == (plan_id, attempt)
        assert line.arrival_quote is not None
        assert sum((fill.qty for fill in line.fills), Decimal(0)) == line.filled_qty
        assert line.filled_qty == Decimal(children[line.client_order_id]["filled_qty"])
        assert line.filled_qty == Decimal(at_sim[line.client_order_id]["filled_qty"])
    canceled_at_sim = {cid for cid, order in at_sim.items() if order["status"] == "canceled"}
    assert canceled_at_sim, "the walk re-pegged at least once in this plan"
    assert all(line.confirmed_at is not None for line in cancellations)
    asked = {line.client_order_id: line for line in cancellations}
    assert set(asked) >= canceled_at_sim, "a cancel at the sim that the ledger does not hold"
    for cid in set(asked) - canceled_at_sim:
        # The cancel was asked for, and a fill won the race: the line says what had filled.
        assert at_sim[cid]["status"] == "filled", (cid, at_sim[cid]["status"])
        assert asked[cid].filled_qty == Decimal(at_sim[cid]["filled_qty"]), cid


def test_a_simulated_run_is_paper_by_default_and_its_ledger_says_how_each_item_went(
    lambda_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sim: SimThread,
    aws_stack: AwsStack,
) -> None:
    del lambda_env, capsys  # ordering only: environment and stdout capture come first
    monkeypatch.delenv("EXECUTION_VENUE")  # TRADING_MODE=simulated alone: the paper venue
    handler = fresh_handler()

    result = invoke(handler, current_event(PLAN))

    assert result["ledger"] is not None
    [result_key] = [key for key in result["ledger"]["keys"] if key.endswith("result.json")]
    stored = json.loads(read_object(aws_stack, result_key)[0])
    assert stored["schema_version"] == RESULT_SCHEMA_VERSION
    assert stored["reason"].count(PAPER_NOTE) == 1
    sent = [order for order in stored["orders"] if order["child_orders"]]
    assert sent
    for order in sent:
        assert (order["execution"], order["execution_reason"]) == ("marketable", PAPER_REASON)
        assert {child["order_type"] for child in order["child_orders"]} == {"market"}
    untraded = [order for order in stored["orders"] if not order["child_orders"]]
    assert all(order["execution"] is None for order in untraded)
    published = [(order["symbol"], order["execution"]) for order in result["orders"]]
    assert published == [(order["symbol"], order["execution"]) for order in stored["orders"]]
    assert {order["type"] for order in sim.orders()} == {"market"}


def test_a_ledger_s3_refuses_goes_to_the_dlq_and_the_result_says_so(
    handler: ModuleType,
    sim: SimThread,
    aws_stack: AwsStack,
    aws_faults: FaultInjector,
    capsys: pytest.CaptureFixture[str],
) -> None:
    event = current_event(PLAN)
    plan_id = event["detail"]["rebalance_plan"]["plan_id"]
    aws_faults.add(
        s3_error("ServiceUnavailable", 503, path_contains=f"plan_id={plan_id}", times=None)
    )

    result = invoke(handler, event)

    assert result["status"] == "SUCCESS"
    assert result["ledger"] is None
    assert "ledger not written to S3" in result["reason"]
    assert aws_faults.requests("s3", method="PUT", path_contains=f"plan_id={plan_id}")
    letter = decode_dead_letter(m["Body"] for m in aws_stack.receive_now(aws_stack.dlq_url))
    assert letter.result.attempt == result["attempt"]
    assert letter.result.event_id == result["event_id"]
    assert letter.result.orders == ExecutionResult.model_validate(result).orders
    assert "ServiceUnavailable" in letter.reason
    assert letter.bucket == aws_stack.ledger_bucket
    assert Counter(
        line.client_order_id for line in letter.lines if isinstance(line, LedgerOrderLine)
    ) == Counter(child["client_order_id"] for child in child_orders(result))
    [published] = aws_stack.result_events(expected=1)
    assert published["detail"]["ledger"] is None
    assert published["detail"]["reason"] == result["reason"]
    metrics = emf_blobs(capsys.readouterr().out)
    assert any(blob.get("LedgerWriteFailures") == [1.0] for blob in metrics)
