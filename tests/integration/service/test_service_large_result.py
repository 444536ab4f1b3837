"""A plan of hundreds of items: its result must still fit the idempotency record (DynamoDB
items are at most 400 KB; a full result is about 1.6 KB per item), through Powertools' own
writes on moto's DynamoDB."""

from __future__ import annotations

import json
from types import ModuleType

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
)
from tests.integration.aws.aws_samples import make_result
from tests.support.aws_stack import AwsStack

from plan_executor.invocation import IDEMPOTENCY_KEY_PREFIX, stored_form

DYNAMODB_ITEM_LIMIT = 400 * 1024
EVENT_ENTRY_LIMIT = 256 * 1024


def test_a_500_item_result_is_stored_as_its_event_carries_it(
    handler: ModuleType, aws_stack: AwsStack
) -> None:
    runtime, _ = handler._runtime()
    result = make_result(items=500, children=3)
    full = json.dumps(result.as_published())

    stored = stored_form(runtime, result)
    layer = DynamoDBPersistenceLayer(
        table_name=aws_stack.idempotency_table, boto3_client=aws_stack.client("dynamodb")
    )
    layer.configure(
        IdempotencyConfig(event_key_jmespath="plan_id"), key_prefix=IDEMPOTENCY_KEY_PREFIX
    )
    plan_key = {"plan_id": result.plan_id}
    layer.save_inprogress(data=plan_key, remaining_time_in_millis=60_000)
    layer.save_success(data=plan_key, result=stored)

    assert len(full.encode()) > DYNAMODB_ITEM_LIMIT, "the full result would not fit"
    assert len(json.dumps(stored).encode()) < EVENT_ENTRY_LIMIT
    assert "trimmed to fit the EventBridge entry limit" in str(stored["reason"])
    assert stored["summary"] == json.loads(full)["summary"]
    record = layer.get_record(data=plan_key)
    assert record.status == "COMPLETED"
    assert record.response_json_as_dict() == stored
