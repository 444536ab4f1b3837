"""S3LedgerStore when S3 fails (over real HTTP): bounded retries, then the full ledger in the
DLQ and an outcome that says so; and when the DLQ fails too, an outcome that says it is lost."""

import pytest
from aws_samples import PLAN_ID, LedgerStoreFactory, RecordedSleeps, make_lines, make_result
from tests.support.aws_faults import FaultInjector, json_api_error, s3_error
from tests.support.aws_stack import AwsStack

from plan_executor.adapters.aws_retry import Retrier
from plan_executor.adapters.failure_sink import decode_dead_letter
from plan_executor.domain.ledger_keys import ledger_keys


def _dead_letters(stack: AwsStack) -> list[str]:
    return [message["Body"] for message in stack.receive_now(stack.dlq_url)]


async def test_transient_errors_are_retried_with_bounded_jittered_backoff(
    aws_stack: AwsStack,
    ledger_store: LedgerStoreFactory,
    retrier: Retrier,
    aws_faults: FaultInjector,
    sleeps: RecordedSleeps,
) -> None:
    aws_faults.add(s3_error("SlowDown", 503, path_contains="orders.jsonl", times=2))
    result = make_result()

    outcome = await ledger_store().write(result, make_lines(result))

    assert outcome.ref is not None
    assert len(aws_faults.requests("s3", method="PUT", path_contains="orders.jsonl")) == 3
    assert len(sleeps.delays) == 2
    ceilings = [retrier.policy.ceiling(n) for n in (1, 2)]
    assert all(0 <= d <= c for d, c in zip(sleeps.delays, ceilings, strict=True))


async def test_a_persistent_failure_sends_the_full_ledger_to_the_dlq(
    aws_stack: AwsStack,
    ledger_store: LedgerStoreFactory,
    retrier: Retrier,
    aws_faults: FaultInjector,
) -> None:
    aws_faults.add(s3_error("ServiceUnavailable", 503, path_contains="orders.jsonl", times=None))
    result = make_result(items=4, children=3)
    lines = make_lines(result)

    outcome = await ledger_store().write(result, lines)

    assert outcome.ref is None
    assert outcome.dead_lettered
    assert not outcome.lost
    assert "ServiceUnavailable" in (outcome.error or "")
    attempts = aws_faults.requests("s3", method="PUT", path_contains="orders.jsonl")
    assert len(attempts) == retrier.policy.max_attempts
    letter = decode_dead_letter(_dead_letters(aws_stack))
    assert (letter.result, letter.lines) == (result, tuple(lines))
    keys = ledger_keys(PLAN_ID, result.started_at.date(), result.attempt)
    assert letter.bucket == aws_stack.ledger_bucket
    assert letter.keys == {"result": keys.result, "orders": keys.orders}
    assert letter.reason == outcome.error


async def test_a_missing_bucket_is_not_retried_and_dead_letters(
    aws_stack: AwsStack, ledger_store: LedgerStoreFactory, aws_faults: FaultInjector
) -> None:
    result = make_result()
    store = ledger_store(bucket="no-such-ledger-bucket")

    outcome = await store.write(result, make_lines(result))

    assert outcome.ref is None
    assert outcome.dead_lettered
    assert "NoSuchBucket" in (outcome.error or "")
    assert len(aws_faults.requests("s3", method="PUT")) == 2  # one per object, no retries
    assert decode_dead_letter(_dead_letters(aws_stack)).result == result


async def test_when_the_dlq_fails_too_the_outcome_says_the_ledger_is_lost(
    aws_stack: AwsStack,
    ledger_store: LedgerStoreFactory,
    retrier: Retrier,
    aws_faults: FaultInjector,
) -> None:
    aws_faults.add(json_api_error("sqs", "SendMessage", "InternalFailure", 500, times=None))
    result = make_result()
    store = ledger_store(bucket="no-such-ledger-bucket")

    outcome = await store.write(result, make_lines(result))

    assert outcome.ref is None
    assert not outcome.dead_lettered
    assert outcome.lost
    assert "dead-letter failed" in (outcome.error or "")
    assert len(aws_faults.requests("sqs", operation="SendMessage")) == retrier.policy.max_attempts


@pytest.mark.parametrize("plan_id", ["../escape", ".hidden"])
async def test_a_result_without_usable_keys_is_dead_lettered(
    aws_stack: AwsStack, ledger_store: LedgerStoreFactory, plan_id: str
) -> None:
    result = make_result().model_copy(update={"plan_id": plan_id})

    outcome = await ledger_store().write(result, [])

    assert outcome.ref is None
    assert outcome.dead_lettered
    letter = decode_dead_letter(_dead_letters(aws_stack))
    assert letter.keys is None
    assert letter.result.plan_id == plan_id
