"""S3LedgerStore against moto in server mode: both objects with the promised keys, fields,
content types and encryption, written concurrently; an attempt never overwrites existing objects
(a clash is dead-lettered), and a lost response is recognised as our own write."""

from aws_samples import PLAN_ID, LedgerStoreFactory, make_lines, make_result
from tests.support.aws_faults import FaultInjector, s3_error
from tests.support.aws_stack import AwsStack

from plan_executor.adapters.failure_sink import decode_dead_letter
from plan_executor.domain.ledger import parse_ledger_line
from plan_executor.domain.results import ExecutionResult, LedgerRef
from plan_executor.ports import LedgerWriteOutcome


def _dead_letters(stack: AwsStack) -> list[str]:
    return [message["Body"] for message in stack.receive_now(stack.dlq_url)]


async def test_writes_result_and_orders_under_hive_keys(
    aws_stack: AwsStack, ledger_store: LedgerStoreFactory
) -> None:
    result = make_result(items=3, children=2)
    lines = make_lines(result)

    outcome = await ledger_store().write(result, lines)

    prefix = f"executions/date=2025-06-02/plan_id={PLAN_ID}/attempt={result.attempt}/"
    expected = LedgerRef(
        bucket=aws_stack.ledger_bucket, keys=(prefix + "result.json", prefix + "orders.jsonl")
    )
    assert outcome == LedgerWriteOutcome(ref=expected)
    s3 = aws_stack.client("s3")
    stored = s3.get_object(Bucket=aws_stack.ledger_bucket, Key=prefix + "result.json")
    assert stored["ContentType"] == "application/json"
    assert stored["ServerSideEncryption"] == "AES256"
    again = ExecutionResult.model_validate_json(stored["Body"].read())
    assert again == result.model_copy(update={"ledger": expected})
    orders = s3.get_object(Bucket=aws_stack.ledger_bucket, Key=prefix + "orders.jsonl")
    assert orders["ContentType"] == "application/x-ndjson"
    assert orders["ServerSideEncryption"] == "AES256"
    text = orders["Body"].read().decode()
    assert text.endswith("\n")
    assert [parse_ledger_line(line) for line in text.splitlines()] == lines
    assert _dead_letters(aws_stack) == []


async def test_both_objects_are_written_concurrently(
    aws_stack: AwsStack, ledger_store: LedgerStoreFactory, aws_faults: FaultInjector
) -> None:
    # Each PUT is held at the server until the other arrives: sequential writes never meet.
    together = aws_faults.hold_together("s3", "PUT", "/executions/", parties=2, timeout_s=3.0)
    result = make_result()

    outcome = await ledger_store().write(result, make_lines(result))

    assert outcome.ref is not None
    assert together.met


async def test_kms_encryption_is_requested_when_configured(
    aws_stack: AwsStack, ledger_store: LedgerStoreFactory
) -> None:
    key_id = aws_stack.client("kms").create_key()["KeyMetadata"]["KeyId"]
    result = make_result()

    outcome = await ledger_store(kms_key_id=key_id).write(result, make_lines(result))

    assert outcome.ref is not None
    for key in outcome.ref.keys:
        head = aws_stack.client("s3").head_object(Bucket=aws_stack.ledger_bucket, Key=key)
        assert head["ServerSideEncryption"] == "aws:kms"
        assert head["SSEKMSKeyId"].endswith(key_id)


async def test_a_second_attempt_keeps_the_first_attempts_objects(
    aws_stack: AwsStack, ledger_store: LedgerStoreFactory
) -> None:
    store = ledger_store()
    first, second = make_result(nonce="0000aaaa"), make_result(nonce="1111bbbb", number=2)

    first_outcome = await store.write(first, make_lines(first))
    second_outcome = await store.write(second, make_lines(second))

    assert first_outcome.ref is not None
    assert second_outcome.ref is not None
    assert set(first_outcome.ref.keys).isdisjoint(second_outcome.ref.keys)
    listed = aws_stack.client("s3").list_objects_v2(Bucket=aws_stack.ledger_bucket)["Contents"]
    assert {o["Key"] for o in listed} == {*first_outcome.ref.keys, *second_outcome.ref.keys}


async def test_the_same_keys_are_never_overwritten(
    aws_stack: AwsStack, ledger_store: LedgerStoreFactory
) -> None:
    store = ledger_store()
    original = make_result(reason="original")
    impostor = make_result(reason="a different result under the same attempt token")
    written = await store.write(original, make_lines(original))
    assert written.ref is not None

    clash = await store.write(impostor, make_lines(impostor))

    assert clash.ref is None
    assert clash.dead_lettered
    assert "other content" in (clash.error or "")
    s3 = aws_stack.client("s3")
    key = written.ref.keys[0]
    body = s3.get_object(Bucket=aws_stack.ledger_bucket, Key=key)["Body"].read()
    assert ExecutionResult.model_validate_json(body).reason == "original"
    versions = s3.list_object_versions(Bucket=aws_stack.ledger_bucket, Prefix=key)["Versions"]
    assert len(versions) == 1
    assert decode_dead_letter(_dead_letters(aws_stack)).result == impostor


async def test_a_lost_response_is_resolved_by_recognising_our_own_object(
    aws_stack: AwsStack, ledger_store: LedgerStoreFactory, aws_faults: FaultInjector
) -> None:
    # S3 stores result.json, then the client sees a 500: the retry's 412 is our own write.
    aws_faults.add(s3_error("InternalError", 500, path_contains="result.json", after_commit=True))
    result = make_result()

    outcome = await ledger_store().write(result, make_lines(result))

    assert outcome.ref is not None
    assert len(aws_faults.requests("s3", method="PUT", path_contains="result.json")) == 2
    assert len(aws_faults.requests("s3", method="HEAD", path_contains="result.json")) == 1
    assert _dead_letters(aws_stack) == []
