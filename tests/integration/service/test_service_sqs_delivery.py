"""PlanDelivery=sqs: the rule feeds a queue and Lambda's SQS event source mapping hands the
function a batch. A plan's message is done when its plan reached an outcome (SUCCESS or a
REJECTED refusal alike); only an execution that raised is reported back for redelivery.

The batch is built from what moto's queue really holds after the template's rule delivered the
producer's event on the bus (the body is the EventBridge event), in the record shape Lambda's
event source mapping passes (`Records[].body`, `messageId`, `eventSource: aws:sqs`)."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from service_support import LambdaContextStub, SimThread, current_event, invoke
from tests.support.aws_stack import DEFAULT_REGION, AwsStack
from tests.support.eventbridge_routes import queue_behind_rules

PRODUCER_EVENT = "alchemiser-rebalance-planned.json"


def _queued_batch(stack: AwsStack, *events: dict[str, Any]) -> dict[str, Any]:
    """Put `events` on the bus; a rule like the template's routes them to a queue; the batch
    Lambda would receive from it."""
    events_client, sqs = stack.client("events"), stack.client("sqs")
    pattern = {"source": ["alchemiser.portfolio"], "detail-type": ["RebalancePlanned"]}
    queue_url, queue_arn = queue_behind_rules(
        events_client, sqs, stack.event_bus, {"plans": pattern}
    )
    entries = [
        {
            "Source": event["source"],
            "DetailType": event["detail-type"],
            "Detail": json.dumps(event["detail"]),
            "EventBusName": stack.event_bus,
        }
        for event in events
    ]
    assert events_client.put_events(Entries=entries)["FailedEntryCount"] == 0
    messages = sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
    )["Messages"]
    assert len(messages) == len(events)
    return {"Records": [_record(message, queue_arn) for message in messages]}


def _as_eventbridge_sends_it(body: str) -> str:
    """moto's queue target writes the event without `account` (its default input template
    leaves it out); EventBridge sends the whole event, `account` included (AWS's "EventBridge
    event structure"), so it is put back, and nothing else is changed."""
    event = json.loads(body)
    assert "account" not in event, "moto now sends account: drop this repair"
    event["account"] = "123456789012"
    return json.dumps(event)


def _record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": _as_eventbridge_sends_it(message["Body"]),
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": DEFAULT_REGION,
    }


def test_a_queued_producer_plan_executes_and_its_message_is_done(
    handler: ModuleType, sim: SimThread, aws_stack: AwsStack
) -> None:
    batch = _queued_batch(aws_stack, current_event(PRODUCER_EVENT))

    response = invoke(handler, batch)

    assert response == {"batchItemFailures": []}
    [published] = aws_stack.result_events(expected=1)
    assert published["detail"]["status"] == "SUCCESS"
    assert published["detail"]["plan_id"].startswith("portfolio_v2_workflow-")
    assert sim.order_posts()


def test_a_refused_plan_is_an_outcome_not_a_message_to_redeliver(
    handler: ModuleType, sim: SimThread, aws_stack: AwsStack
) -> None:
    event = current_event(PRODUCER_EVENT)
    event["detail"]["rebalance_plan"]["items"][0]["priority"] = 9

    response = invoke(handler, _queued_batch(aws_stack, event))

    assert response == {"batchItemFailures": []}
    [published] = aws_stack.result_events(expected=1)
    assert published["detail"]["status"] == "REJECTED"
    assert "priority" in published["detail"]["reason"]
    assert sim.order_posts() == []


def test_an_execution_that_raises_leaves_its_message_for_redelivery(
    handler: ModuleType, sim: SimThread, aws_stack: AwsStack
) -> None:
    batch = _queued_batch(aws_stack, current_event(PRODUCER_EVENT))
    too_little_time = LambdaContextStub(remaining_s=0.5)

    with pytest.raises(BatchProcessingError) as raised:
        invoke(handler, batch, too_little_time)

    # Every message of the batch failed: the invocation fails (Lambda redelivers the batch
    # after the visibility timeout, and the function's error alarm sees it, as on direct
    # delivery); each message's own error is named.
    assert "raise the function timeout" in str(raised.value)
    assert sim.order_posts() == []
    assert aws_stack.receive_now(aws_stack.results_queue_url) == []
