"""Reading the DLQ without consuming it, and putting dead-lettered ledgers where they belong.

Listing receives every message once (hidden meanwhile, so none is read twice) and then makes
them all visible again at once: nothing is deleted. `redrive` writes each complete ledger with
the service's own S3 ledger store (conditional puts, so a ledger already in S3 is confirmed by
its checksum and never overwritten: a second run changes nothing) and deletes a ledger's
messages only once both objects are confirmed in S3.
"""

import asyncio
import os
import random
from dataclasses import dataclass, field
from typing import Any, Final

import boto3

from plan_executor.adapters.aws_config import AwsConfig
from plan_executor.adapters.aws_retry import Retrier, RetryPolicy
from plan_executor.adapters.s3_ledger import S3LedgerConfig, S3LedgerStore
from plan_executor.ops.dlq_messages import DlqMessage, LedgerGroup, from_sqs, ledger_groups
from plan_executor.ports import FailureSinkError, UnwrittenLedger

HIDE_SECONDS: Final = 120
"""Long enough to read the whole queue (and write the ledgers) before SQS shows them again."""


def sqs_client() -> Any:
    return boto3.client("sqs", region_name=os.environ.get("AWS_REGION"))


def read_all(sqs: Any, queue_url: str, *, limit: int) -> list[DlqMessage]:
    """Up to `limit` messages, each once; the caller must `release` or delete them."""
    messages: dict[str, DlqMessage] = {}
    while len(messages) < limit:
        batch = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(10, limit - len(messages)),
            VisibilityTimeout=HIDE_SECONDS,
            WaitTimeSeconds=1,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
        ).get("Messages", [])
        if not batch:
            break
        for raw in batch:
            messages.setdefault(raw["MessageId"], from_sqs(raw))
    return list(messages.values())


def release(sqs: Any, queue_url: str, messages: list[DlqMessage]) -> None:
    """Make `messages` visible again now (they stay in the queue)."""
    for start in range(0, len(messages), 10):
        entries = [
            {"Id": str(n), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": 0}
            for n, m in enumerate(messages[start : start + 10])
        ]
        sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=entries)


def delete(sqs: Any, queue_url: str, messages: tuple[DlqMessage, ...]) -> None:
    for start in range(0, len(messages), 10):
        entries = [
            {"Id": str(n), "ReceiptHandle": m.receipt_handle}
            for n, m in enumerate(messages[start : start + 10])
        ]
        failed = sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed")
        if failed:
            raise RuntimeError(f"could not delete {len(failed)} message(s): {failed[0]}")


@dataclass
class RedriveReport:
    written: list[str] = field(default_factory=list)
    """s3:// keys now holding a dead-lettered ledger (newly written or confirmed there)."""
    problems: list[str] = field(default_factory=list)


class _NoSecondDeadLetter:
    """A FailureSink that refuses: a ledger that still cannot be written stays in the DLQ as
    it is, instead of being dead-lettered a second time."""

    async def send_ledger(self, ledger: UnwrittenLedger) -> None:
        raise FailureSinkError("left in the DLQ")


async def _write(group: LedgerGroup, aws: AwsConfig) -> tuple[str, ...] | str:
    """The keys now in S3, or what went wrong."""
    ledger = group.ledger
    assert ledger is not None
    retrier = Retrier(RetryPolicy(), rng=random.Random())  # noqa: S311 (backoff jitter)
    store = S3LedgerStore(
        S3LedgerConfig(ledger.bucket), aws, _NoSecondDeadLetter(), retrier=retrier
    )
    outcome = await store.write(ledger.result, ledger.lines)
    if outcome.ref is None:
        return outcome.error or "not written"
    return tuple(f"s3://{outcome.ref.bucket}/{key}" for key in outcome.ref.keys)


def redrive(sqs: Any, queue_url: str, *, limit: int) -> RedriveReport:
    """Each complete ledger in the queue written to S3, then its messages deleted; every other
    message (and a ledger not written) made visible again, on every path."""
    messages = read_all(sqs, queue_url, limit=limit)
    report = RedriveReport()
    deleted: set[str] = set()
    aws = AwsConfig(
        region=os.environ.get("AWS_REGION") or "us-east-1",
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL"),
    )
    try:
        for group in ledger_groups(messages):
            outcome = _redrive_one(group, aws)
            if isinstance(outcome, str):
                report.problems.append(f"ledger of {_name(group)}: {outcome}")
                continue
            delete(sqs, queue_url, group.messages)
            deleted.update(m.message_id for m in group.messages)
            report.written.extend(outcome)
    finally:
        release(sqs, queue_url, [m for m in messages if m.message_id not in deleted])
    return report


def _redrive_one(group: LedgerGroup, aws: AwsConfig) -> tuple[str, ...] | str:
    if group.ledger is None:
        return group.problem or "unreadable"
    return asyncio.run(_write(group, aws))


def _name(group: LedgerGroup) -> str:
    if group.ledger is not None:
        return f"plan {group.ledger.result.plan_id} attempt {group.ledger.result.attempt}"
    return f"{len(group.messages)} part(s)"
