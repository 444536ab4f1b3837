"""What an invocation left in the local stack, read back the way a consumer would: result
events from the queue the rule routes them to, ledger objects from the bucket."""

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from plan_executor.local.aws_stack import AwsStack

POLL_WAIT_S: Final = 1


@dataclass(frozen=True, slots=True)
class LedgerObject:
    key: str
    size: int | None
    """None when the object is missing."""


def take_result_events(aws: AwsStack, *, at_least: int, timeout_s: float) -> list[dict[str, Any]]:
    """Result events now in the results queue (waiting up to `timeout_s` for `at_least`),
    removed from it so the next read sees only newer ones."""
    sqs = aws.client("sqs")
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while True:
        wait = POLL_WAIT_S if len(events) < at_least and time.monotonic() < deadline else 0
        messages = sqs.receive_message(
            QueueUrl=aws.results_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait
        ).get("Messages", [])
        if not messages and (len(events) >= at_least or time.monotonic() >= deadline):
            return events
        for message in messages:
            events.append(json.loads(message["Body"]))
            sqs.delete_message(
                QueueUrl=aws.results_queue_url, ReceiptHandle=message["ReceiptHandle"]
            )


def ledger_objects(aws: AwsStack, bucket: str, keys: Sequence[str]) -> list[LedgerObject]:
    s3 = aws.client("s3")
    found = []
    for key in keys:
        listing = s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1).get("Contents", [])
        exact = [item for item in listing if item["Key"] == key]
        found.append(LedgerObject(key, int(exact[0]["Size"]) if exact else None))
    return found


def ledger_object_count(aws: AwsStack) -> int:
    s3 = aws.client("s3")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=aws.ledger_bucket)
    return sum(page.get("KeyCount", 0) for page in pages)


def dead_letters(aws: AwsStack) -> int:
    """Messages waiting in the DLQ (a ledger that could not be written lands there)."""
    attributes = aws.client("sqs").get_queue_attributes(
        QueueUrl=aws.dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])
