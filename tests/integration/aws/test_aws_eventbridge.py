"""EventBridgePublisher against moto in server mode: the event reaches the results queue through
the rule; failed entries and server errors are retried; an over-size result is trimmed."""

import json

import aioboto3
import pytest
from aws_samples import COMPLETED, make_result
from tests.support.aws_faults import FaultInjector, json_api_error, put_events_entry_failure
from tests.support.aws_stack import AwsStack

from plan_executor.adapters.aws_config import AwsConfig
from plan_executor.adapters.aws_retry import Retrier
from plan_executor.adapters.eventbridge_detail import MAX_ENTRY_BYTES, entry_bytes, fit_detail
from plan_executor.adapters.eventbridge_publisher import (
    DETAIL_TYPE,
    EventBridgeConfig,
    EventBridgePublisher,
)
from plan_executor.domain.results import MAX_REASON_CHARS, ExecutionResult, LedgerRef
from plan_executor.ports import ResultPublishError

LEDGER = LedgerRef(
    bucket="ledger-bucket", keys=("executions/x/result.json", "executions/x/orders.jsonl")
)


def _publisher(stack: AwsStack, aws: AwsConfig, retrier: Retrier) -> EventBridgePublisher:
    config = EventBridgeConfig(bus_name=stack.event_bus, source=stack.result_source)
    return EventBridgePublisher(config, aws, retrier=retrier, session=aioboto3.Session())


async def test_the_result_event_reaches_the_results_queue(
    aws_stack: AwsStack, aws_config: AwsConfig, retrier: Retrier
) -> None:
    result = make_result().model_copy(update={"ledger": LEDGER})

    receipt = await _publisher(aws_stack, aws_config, retrier).publish(result)

    [event] = aws_stack.result_events(expected=1)
    assert event["id"] == receipt.event_id
    assert (receipt.trimmed, receipt.attempts) == (False, 1)
    assert event["source"] == aws_stack.result_source
    assert event["detail-type"] == DETAIL_TYPE == "ExecutionResult"
    assert event["time"] == COMPLETED.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ExecutionResult.model_validate(event["detail"]) == result
    first_order = event["detail"]["orders"][0]
    assert first_order["filled_qty"] == "24.691357802"
    assert first_order["avg_fill_price"] == "187.41"  # to the tick; the ledger keeps the exact


async def test_failed_entries_are_retried_until_accepted(
    aws_stack: AwsStack, aws_config: AwsConfig, retrier: Retrier, aws_faults: FaultInjector
) -> None:
    aws_faults.add(put_events_entry_failure("ThrottlingException", times=2))

    receipt = await _publisher(aws_stack, aws_config, retrier).publish(make_result())

    assert receipt.attempts == 3
    assert len(aws_faults.requests("events", operation="PutEvents")) == 3
    events = aws_stack.result_events(expected=1)
    assert [e["id"] for e in events] == [receipt.event_id]
    assert aws_stack.receive_now(aws_stack.results_queue_url) == []


async def test_server_errors_are_retried(
    aws_stack: AwsStack, aws_config: AwsConfig, retrier: Retrier, aws_faults: FaultInjector
) -> None:
    aws_faults.add(json_api_error("events", "PutEvents", "InternalException", 500, times=1))

    receipt = await _publisher(aws_stack, aws_config, retrier).publish(make_result())

    assert receipt.attempts == 2
    assert len(aws_stack.result_events(expected=1)) == 1


async def test_entries_failing_every_time_end_in_a_typed_error(
    aws_stack: AwsStack, aws_config: AwsConfig, retrier: Retrier, aws_faults: FaultInjector
) -> None:
    aws_faults.add(put_events_entry_failure("InternalFailure", times=None))

    with pytest.raises(ResultPublishError, match="InternalFailure"):
        await _publisher(aws_stack, aws_config, retrier).publish(make_result())

    assert len(aws_faults.requests("events", operation="PutEvents")) == retrier.policy.max_attempts
    assert aws_stack.receive_now(aws_stack.results_queue_url) == []


async def test_a_permanent_entry_error_is_not_retried(
    aws_stack: AwsStack, aws_config: AwsConfig, retrier: Retrier, aws_faults: FaultInjector
) -> None:
    aws_faults.add(put_events_entry_failure("MalformedDetail", times=None))

    with pytest.raises(ResultPublishError, match="MalformedDetail"):
        await _publisher(aws_stack, aws_config, retrier).publish(make_result())

    assert len(aws_faults.requests("events", operation="PutEvents")) == 1


async def test_an_over_size_result_is_published_trimmed_and_says_so(
    aws_stack: AwsStack, aws_config: AwsConfig, retrier: Retrier
) -> None:
    result = make_result(items=60, children=12).model_copy(update={"ledger": LEDGER})
    assert len(result.model_dump_json()) > MAX_ENTRY_BYTES

    receipt = await _publisher(aws_stack, aws_config, retrier).publish(result)

    assert receipt.trimmed
    [event] = aws_stack.result_events(expected=1)
    published = ExecutionResult.model_validate(event["detail"])
    assert [o.symbol for o in published.orders] == [o.symbol for o in result.orders]
    assert all(o.child_orders == () for o in published.orders)
    assert published.summary == result.summary
    assert published.ledger == LEDGER
    assert published.reason is not None
    assert published.reason.startswith("one item re-pegged; trimmed")
    assert "s3://ledger-bucket/executions/x/result.json" in published.reason


def test_orders_are_dropped_when_dropping_child_orders_is_not_enough() -> None:
    result = make_result(items=60, children=1, reason="x" * MAX_REASON_CHARS)
    limit = 4000  # the summary fits, 60 items without child orders do not

    fitted = fit_detail(result, source="plan-executor", detail_type=DETAIL_TYPE, limit=limit)

    assert fitted.trimmed
    assert entry_bytes("plan-executor", DETAIL_TYPE, fitted.detail) <= limit
    published = ExecutionResult.model_validate_json(fitted.detail)
    assert published.orders == ()
    assert published.summary == result.summary
    assert published.reason is not None
    assert len(published.reason) <= MAX_REASON_CHARS
    assert "per-item orders left out" in published.reason
    assert "dead-letter queue" in published.reason


def test_a_result_that_cannot_fit_is_refused() -> None:
    with pytest.raises(ValueError, match="entry limit"):
        fit_detail(make_result(), source="plan-executor", detail_type=DETAIL_TYPE, limit=200)


async def test_a_result_that_cannot_fit_raises_a_publish_error(
    aws_stack: AwsStack, aws_config: AwsConfig, retrier: Retrier, aws_faults: FaultInjector
) -> None:
    config = EventBridgeConfig(aws_stack.event_bus, aws_stack.result_source, max_entry_bytes=200)
    publisher = EventBridgePublisher(config, aws_config, retrier=retrier)

    with pytest.raises(ResultPublishError, match="entry limit"):
        await publisher.publish(make_result())

    assert aws_faults.requests("events") == []


def test_entry_size_counts_utf8_bytes() -> None:
    detail = json.dumps({"note": "é"}, ensure_ascii=False)
    assert entry_bytes("s", "t", detail) == 14 + 1 + 1 + len(detail) + 1
