"""`plan-executor dlq` and `redrive-ledger` on moto in server mode (SQS, S3 over HTTP).

The DLQ holds three kinds of message: ledger parts (written here by the real failure sink),
plans EventBridge could not deliver, and Lambda's on-failure records (their bodies and
attributes as AWS documents them: neither service runs on this machine).
"""

import asyncio
import json
from pathlib import Path
from typing import Any

import aioboto3
import pytest
from aws_samples import PLAN_ID, make_lines, make_result
from tests.support.aws_stack import AwsStack

from plan_executor.adapters.aws_config import AwsConfig
from plan_executor.adapters.aws_retry import Retrier
from plan_executor.adapters.failure_sink import SqsFailureSink, SqsFailureSinkConfig
from plan_executor.cli import main
from plan_executor.domain.ledger_keys import ledger_keys
from plan_executor.domain.results import ExecutionResult
from plan_executor.ports import UnwrittenLedger

SAVED_EVENT = Path(__file__).resolve().parents[3] / "events" / "mixed-sell-and-buy.json"
SAVED_PLAN_ID = json.loads(SAVED_EVENT.read_text())["detail"]["rebalance_plan"]["plan_id"]


@pytest.fixture(autouse=True)
def _aws_env(aws_stack: AwsStack, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in aws_stack.aws_env().items():
        monkeypatch.setenv(name, value)


def _unwritten(bucket: str) -> UnwrittenLedger:
    result = make_result(items=6, children=3)
    keys = ledger_keys(PLAN_ID, result.started_at.date(), result.attempt)
    return UnwrittenLedger(result, tuple(make_lines(result)), bucket, keys, "s3 said no")


async def _dead_letter(stack: AwsStack, aws: AwsConfig, retrier: Retrier) -> UnwrittenLedger:
    ledger = _unwritten(stack.ledger_bucket)
    config = SqsFailureSinkConfig(stack.dlq_url, part_chars=1500)
    sink = SqsFailureSink(config, aws, retrier=retrier, session=aioboto3.Session())
    await sink.send_ledger(ledger)
    return ledger


def _put_undelivered_plan(stack: AwsStack) -> None:
    attributes = {
        "ERROR_CODE": "SDK_CLIENT_ERROR",
        "ERROR_MESSAGE": "Unable to invoke Lambda function: rate exceeded",
        "RULE_ARN": "arn:aws:events:us-east-1:123456789012:rule/plan-requested",
        "TARGET_ARN": "arn:aws:lambda:us-east-1:123456789012:function:executor:live",
    }
    stack.client("sqs").send_message(
        QueueUrl=stack.dlq_url,
        MessageBody=SAVED_EVENT.read_text(),
        MessageAttributes={
            name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
        },
    )


def _put_failed_invocation(stack: AwsStack) -> None:
    record = {
        "version": "1.0",
        "timestamp": "2026-01-02T15:00:00.000Z",
        "requestContext": {
            "requestId": "c0ffee00-0000-4000-8000-000000000001",
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:executor:live",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": json.loads(SAVED_EVENT.read_text()),
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "7",
            "functionError": "Unhandled",
        },
        "responsePayload": {"errorMessage": "Task timed out after 600.00 seconds"},
    }
    stack.client("sqs").send_message(QueueUrl=stack.dlq_url, MessageBody=json.dumps(record))


def _queue_size(stack: AwsStack) -> int:
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.dlq_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def _versions(stack: AwsStack) -> list[tuple[str, str]]:
    listing = stack.client("s3").list_object_versions(Bucket=stack.ledger_bucket)
    return sorted((v["Key"], v["VersionId"]) for v in listing.get("Versions", []))


def _sections(output: str) -> list[dict[str, str]]:
    """The `[kind]` blocks of `dlq`'s output as dicts."""
    blocks: list[dict[str, str]] = []
    for line in output.splitlines():
        if line.startswith("["):
            blocks.append({"kind": line.strip("[]")})
        elif line.startswith("  ") and blocks:
            name, _, value = line.strip().partition(": ")
            blocks[-1][name] = value
    return blocks


def test_dlq_decodes_each_kind_and_deletes_nothing(
    aws_stack: AwsStack,
    aws_config: AwsConfig,
    retrier: Retrier,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ledger = asyncio.run(_dead_letter(aws_stack, aws_config, retrier))
    _put_undelivered_plan(aws_stack)
    _put_failed_invocation(aws_stack)
    total = _queue_size(aws_stack)
    assert total > 3  # the ledger came in several parts

    assert main(["dlq", "--queue-url", aws_stack.dlq_url]) == 0

    output = capsys.readouterr().out
    blocks = _sections(output)
    kinds = [block["kind"] for block in blocks]
    assert len(blocks) == total
    assert kinds.count("ledger") == total - 2
    assert {b["attempt"] for b in blocks if b["kind"] == "ledger"} == {ledger.result.attempt}
    (undelivered,) = [b for b in blocks if b["kind"] == "undelivered-event"]
    assert undelivered["plan_id"] == SAVED_PLAN_ID
    assert undelivered["error_code"] == "SDK_CLIENT_ERROR"
    (failed,) = [b for b in blocks if b["kind"] == "failed-invocation"]
    assert failed["condition"] == "RetriesExhausted"
    assert failed["error_message"] == "Task timed out after 600.00 seconds"
    assert failed["plan_id"] == SAVED_PLAN_ID
    assert f"ledger of {total - 2} message(s): complete" in output
    assert _queue_size(aws_stack) == total
    # Released, not hidden: a second listing sees every message again at once.
    assert main(["dlq", "--queue-url", aws_stack.dlq_url]) == 0
    assert len(_sections(capsys.readouterr().out)) == total


def _stored_result(stack: AwsStack, key: str) -> ExecutionResult:
    body = stack.client("s3").get_object(Bucket=stack.ledger_bucket, Key=key)["Body"].read()
    return ExecutionResult.model_validate_json(body)


def test_redrive_writes_the_ledger_once_and_keeps_other_messages(
    aws_stack: AwsStack,
    aws_config: AwsConfig,
    retrier: Retrier,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ledger = asyncio.run(_dead_letter(aws_stack, aws_config, retrier))
    _put_failed_invocation(aws_stack)
    assert ledger.keys is not None

    assert main(["redrive-ledger", "--queue-url", aws_stack.dlq_url]) == 0

    stored = _stored_result(aws_stack, ledger.keys.result)
    assert stored.model_copy(update={"ledger": None}) == ledger.result
    assert stored.ledger is not None
    assert set(stored.ledger.keys) == {ledger.keys.result, ledger.keys.orders}
    orders = aws_stack.client("s3").get_object(
        Bucket=aws_stack.ledger_bucket, Key=ledger.keys.orders
    )
    assert len(orders["Body"].read().decode().splitlines()) == len(ledger.lines)
    assert _queue_size(aws_stack) == 1  # only the failed invocation is left
    versions = _versions(aws_stack)
    assert len(versions) == 2
    capsys.readouterr()

    # The same ledger delivered again: confirmed in place, its messages deleted, S3 unchanged.
    asyncio.run(_dead_letter(aws_stack, aws_config, retrier))
    assert main(["redrive-ledger", "--queue-url", aws_stack.dlq_url]) == 0
    assert _versions(aws_stack) == versions
    assert _queue_size(aws_stack) == 1
    assert main(["redrive-ledger", "--queue-url", aws_stack.dlq_url]) == 0
    assert "0 object(s) in place, 0 ledger(s) left" in capsys.readouterr().out
    assert _versions(aws_stack) == versions


def test_a_ledger_that_conflicts_stays_in_the_queue(
    aws_stack: AwsStack,
    aws_config: AwsConfig,
    retrier: Retrier,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ledger = asyncio.run(_dead_letter(aws_stack, aws_config, retrier))
    assert ledger.keys is not None
    parts = _queue_size(aws_stack)
    s3: Any = aws_stack.client("s3")
    s3.put_object(Bucket=aws_stack.ledger_bucket, Key=ledger.keys.result, Body=b"{}")

    assert main(["redrive-ledger", "--queue-url", aws_stack.dlq_url]) == 1

    assert f"left in the DLQ: ledger of plan {PLAN_ID}" in capsys.readouterr().out
    assert _queue_size(aws_stack) == parts
    body = s3.get_object(Bucket=aws_stack.ledger_bucket, Key=ledger.keys.result)["Body"].read()
    assert body == b"{}"


def test_no_queue_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("FAILURE_QUEUE_URL", raising=False)
    assert main(["dlq"]) == 2
    assert "no queue" in capsys.readouterr().err
