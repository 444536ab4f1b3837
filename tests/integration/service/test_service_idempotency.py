"""A plan runs at most once per plan id: duplicates get the stored result, a concurrent
duplicate is turned away while the first runs, and a changed plan under a used id is refused."""

from __future__ import annotations

import concurrent.futures
from dataclasses import replace
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
)
from service_support import (
    EMPTY_METRICS_WARNING,
    LambdaContextStub,
    SimThread,
    child_ids,
    current_event,
    emf_blobs,
    invoke,
)
from tests.support.aws_faults import FaultInjector
from tests.support.aws_stack import AwsStack

PLAN = "mixed-sell-and-buy.json"
RENDEZVOUS_TIMEOUT_S = 30.0
"""A hang guard: both writes arrive within a cold start of each other (about a second)."""
INVOCATION_TIMEOUT_S = 60.0


def second_context() -> LambdaContextStub:
    return LambdaContextStub(aws_request_id="00000000-0000-4000-8000-000000000002")


def test_the_same_event_twice_executes_once_and_serves_the_stored_result(
    handler: ModuleType,
    sim: SimThread,
    aws_stack: AwsStack,
    capsys: pytest.CaptureFixture[str],
) -> None:
    event = current_event(PLAN)
    first = invoke(handler, event)
    orders_after_first = sim.posted_ids()
    first_metrics = emf_blobs(capsys.readouterr().out)

    second = invoke(handler, event, second_context())

    assert first["status"] == "SUCCESS"
    assert second == first
    assert sim.posted_ids() == orders_after_first
    assert sorted(orders_after_first) == sorted(child_ids(first))
    [published] = aws_stack.result_events(expected=1)
    assert published["detail"]["event_id"] == first["event_id"]
    assert aws_stack.receive_now(aws_stack.results_queue_url) == []
    second_metrics = emf_blobs(capsys.readouterr().out)
    assert any(blob.get("PlansSucceeded") == [1.0] for blob in first_metrics)
    assert any(blob.get("DuplicatesServed") == [1.0] for blob in second_metrics)
    assert not any("PlansSucceeded" in blob for blob in second_metrics)


@pytest.mark.filterwarnings(EMPTY_METRICS_WARNING)  # the refused invocation records none
def test_two_concurrent_invocations_of_one_plan_execute_it_once(
    handler: ModuleType, sim: SimThread, aws_stack: AwsStack, aws_faults: FaultInjector
) -> None:
    event = current_event(PLAN)
    # Both idempotency records are written at the same moment: a true race, not a sequence.
    together = aws_faults.hold_together(
        "dynamodb", "POST", "", parties=2, timeout_s=RENDEZVOUS_TIMEOUT_S
    )
    contexts = [LambdaContextStub(), second_context()]

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(invoke, handler, event, context) for context in contexts]
        outcomes = [future.exception(INVOCATION_TIMEOUT_S) or future.result() for future in futures]

    assert together.met
    results = [outcome for outcome in outcomes if isinstance(outcome, dict)]
    refused = [o for o in outcomes if isinstance(o, IdempotencyAlreadyInProgressError)]
    assert len(results) == 1, outcomes
    assert len(refused) == 1, outcomes
    [result] = results
    assert result["status"] == "SUCCESS"
    posted = sim.posted_ids()
    assert len(posted) == len(set(posted)), "no client_order_id sent twice"
    assert sorted(posted) == sorted(child_ids(result))
    [published] = aws_stack.result_events(expected=1)
    assert published["detail"]["event_id"] == result["event_id"]
    assert aws_stack.receive_now(aws_stack.results_queue_url) == []


def test_a_changed_plan_under_a_used_plan_id_is_refused(
    handler: ModuleType, sim: SimThread, aws_stack: AwsStack
) -> None:
    event = current_event(PLAN)
    first = invoke(handler, event)
    orders_after_first = sim.posted_ids()
    changed = _with_trade_amount(event, "MSFT", Decimal("2400.00"))

    refused = invoke(handler, changed, second_context())

    assert first["status"] == "SUCCESS"
    assert refused["status"] == "REJECTED"
    assert refused["plan_id"] == first["plan_id"]
    assert "plan_id_reused" in refused["reason"]
    assert "detail.rebalance_plan.plan_id" in refused["reason"]
    assert sim.posted_ids() == orders_after_first
    published = aws_stack.result_events(expected=2)
    assert sorted(p["detail"]["status"] for p in published) == ["REJECTED", "SUCCESS"]
    again = invoke(handler, event, replace(second_context(), aws_request_id="third"))
    assert again == first, "the stored result of the original plan is untouched"


def _with_trade_amount(event: dict[str, Any], symbol: str, amount: Decimal) -> dict[str, Any]:
    changed = {**event, "detail": {**event["detail"]}}
    plan = {**changed["detail"]["rebalance_plan"]}
    plan["items"] = [
        {**item, "trade_amount": str(amount)} if item["symbol"] == symbol else item
        for item in plan["items"]
    ]
    changed["detail"]["rebalance_plan"] = plan
    return changed
