"""SqsFailureSink: a ledger of any size reaches the DLQ in parts that fit SQS and reassemble
exactly; retries on transient SQS errors; malformed part sets are refused."""

import json
import random

import aioboto3
import pytest
from aws_samples import PLAN_ID, make_lines, make_result
from tests.support.aws_faults import FaultInjector, json_api_error
from tests.support.aws_stack import AwsStack

from plan_executor.adapters.aws_config import AwsConfig
from plan_executor.adapters.aws_retry import Retrier
from plan_executor.adapters.failure_sink import (
    DEAD_LETTER_KIND,
    DeadLetterFormatError,
    SqsFailureSink,
    SqsFailureSinkConfig,
    decode_dead_letter,
    encode_dead_letter,
)
from plan_executor.domain.ledger_keys import ledger_keys
from plan_executor.ports import FailureSinkError, UnwrittenLedger

SQS_MAX_MESSAGE_BYTES = 256 * 1024


def _unwritten(items: int = 3, children: int = 2, bucket: str = "ledger-bucket") -> UnwrittenLedger:
    result = make_result(items=items, children=children)
    keys = ledger_keys(PLAN_ID, result.started_at.date(), result.attempt)
    return UnwrittenLedger(result, tuple(make_lines(result)), bucket, keys, "s3 said no")


def _sink(stack: AwsStack, aws: AwsConfig, retrier: Retrier, part_chars: int) -> SqsFailureSink:
    config = SqsFailureSinkConfig(stack.dlq_url, part_chars=part_chars)
    return SqsFailureSink(config, aws, retrier=retrier, session=aioboto3.Session())


async def test_a_big_ledger_arrives_in_parts_that_reassemble_exactly(
    aws_stack: AwsStack, aws_config: AwsConfig, retrier: Retrier
) -> None:
    ledger = _unwritten(items=40, children=6)

    await _sink(aws_stack, aws_config, retrier, part_chars=4000).send_ledger(ledger)

    messages = aws_stack.receive_now(aws_stack.dlq_url)
    assert len(messages) > 1
    for message in messages:
        assert len(message["Body"].encode()) <= 4000 + 1024
        attributes = message["MessageAttributes"]
        assert attributes["kind"]["StringValue"] == DEAD_LETTER_KIND
        assert attributes["plan_id"]["StringValue"] == PLAN_ID
        assert attributes["attempt"]["StringValue"] == ledger.result.attempt
    bodies = [m["Body"] for m in messages]
    random.Random(3).shuffle(bodies)
    letter = decode_dead_letter(bodies)
    assert (letter.result, letter.lines) == (ledger.result, ledger.lines)
    assert letter.bucket == "ledger-bucket"
    assert ledger.keys is not None
    assert letter.keys == {"result": ledger.keys.result, "orders": ledger.keys.orders}
    assert letter.reason == "s3 said no"


def test_default_parts_fit_an_sqs_message_even_for_incompressible_ledgers() -> None:
    rng = random.Random(11)
    noisy = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(900_000))
    ledger = _unwritten()
    ledger = UnwrittenLedger(ledger.result, ledger.lines, ledger.bucket, ledger.keys, noisy)

    bodies = encode_dead_letter(ledger)

    assert len(bodies) > 1
    assert all(len(body.encode()) < SQS_MAX_MESSAGE_BYTES - 8 * 1024 for body in bodies)
    assert decode_dead_letter(bodies).reason == noisy


async def test_transient_sqs_errors_are_retried(
    aws_stack: AwsStack, aws_config: AwsConfig, retrier: Retrier, aws_faults: FaultInjector
) -> None:
    aws_faults.add(json_api_error("sqs", "SendMessage", "InternalFailure", 500, times=2))
    ledger = _unwritten()

    await _sink(aws_stack, aws_config, retrier, part_chars=192 * 1024).send_ledger(ledger)

    assert len(aws_faults.requests("sqs", operation="SendMessage")) == 3
    assert decode_dead_letter(
        [m["Body"] for m in aws_stack.receive_now(aws_stack.dlq_url)]
    ).result == (ledger.result)


async def test_a_refusing_queue_raises_a_typed_error(
    aws_stack: AwsStack, aws_config: AwsConfig, retrier: Retrier, aws_faults: FaultInjector
) -> None:
    aws_faults.add(json_api_error("sqs", "SendMessage", "AccessDenied", 403, times=None))

    with pytest.raises(FailureSinkError, match="AccessDenied"):
        await _sink(aws_stack, aws_config, retrier, part_chars=1000).send_ledger(_unwritten())

    assert len(aws_faults.requests("sqs", operation="SendMessage")) == 1


def test_a_missing_part_is_refused() -> None:
    bodies = encode_dead_letter(_unwritten(items=20, children=4), part_chars=500)

    with pytest.raises(DeadLetterFormatError, match="incomplete"):
        decode_dead_letter(bodies[:1] + bodies[2:])


def test_parts_of_two_ledgers_are_refused() -> None:
    first = encode_dead_letter(_unwritten(items=20, children=4), part_chars=500)
    other = encode_dead_letter(_unwritten(items=20, children=4, bucket="other"), part_chars=500)

    with pytest.raises(DeadLetterFormatError):
        decode_dead_letter(first[:1] + other[1:])


def test_tampered_data_is_refused() -> None:
    bodies = encode_dead_letter(_unwritten(), part_chars=500)
    envelope = json.loads(bodies[-1])
    envelope["data"] = envelope["data"][:-8] + "AAAAAAAA"
    bodies[-1] = json.dumps(envelope)

    with pytest.raises(DeadLetterFormatError):
        decode_dead_letter(bodies)


def test_other_messages_in_the_dlq_are_not_taken_for_ledgers() -> None:
    lambda_failure_record = json.dumps({"version": "1.0", "requestContext": {}})

    with pytest.raises(DeadLetterFormatError, match="not a dead-lettered ledger"):
        decode_dead_letter([lambda_failure_record])
