"""The local stack itself: every resource exists as the service expects, tests get fresh
resources, and the fault layer answers over real HTTP."""

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from tests.support.aws_faults import FaultInjector, s3_error
from tests.support.aws_stack import (
    FAKE_CREDENTIALS,
    RESULT_DETAIL_TYPE,
    TEST_ALPACA_SECRET,
    AwsStack,
    LocalMotoServer,
    create_stack,
)


def test_the_stack_has_every_resource(aws_stack: AwsStack) -> None:
    dynamodb = aws_stack.client("dynamodb")
    table = dynamodb.describe_table(TableName=aws_stack.idempotency_table)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    ttl = dynamodb.describe_time_to_live(TableName=aws_stack.idempotency_table)
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expiration"
    s3 = aws_stack.client("s3")
    assert s3.get_bucket_versioning(Bucket=aws_stack.ledger_bucket)["Status"] == "Enabled"
    rules = s3.get_bucket_encryption(Bucket=aws_stack.ledger_bucket)[
        "ServerSideEncryptionConfiguration"
    ]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    secret = aws_stack.client("secretsmanager").get_secret_value(SecretId=aws_stack.secret_arn)
    assert json.loads(secret["SecretString"]) == TEST_ALPACA_SECRET
    env = aws_stack.service_env()
    assert env["LEDGER_BUCKET"] == aws_stack.ledger_bucket
    assert env["FAILURE_QUEUE_URL"] == aws_stack.dlq_url
    assert env["AWS_ENDPOINT_URL"] == aws_stack.endpoint_url


def test_the_rule_routes_only_result_events_to_the_results_queue(aws_stack: AwsStack) -> None:
    events = aws_stack.client("events")
    entries = [
        {"Source": aws_stack.result_source, "DetailType": RESULT_DETAIL_TYPE, "Detail": "{}"},
        {"Source": "someone.else", "DetailType": RESULT_DETAIL_TYPE, "Detail": "{}"},
        {"Source": aws_stack.result_source, "DetailType": "RebalancePlanned", "Detail": "{}"},
    ]
    for entry in entries:
        events.put_events(Entries=[{**entry, "EventBusName": aws_stack.event_bus}])

    routed = aws_stack.result_events(expected=1)

    assert [(e["source"], e["detail-type"]) for e in routed] == [
        (aws_stack.result_source, RESULT_DETAIL_TYPE)
    ]
    assert aws_stack.receive_now(aws_stack.results_queue_url) == []


def test_each_test_gets_fresh_names(moto_server: LocalMotoServer, aws_stack: AwsStack) -> None:
    other = create_stack(moto_server.endpoint_url, name_prefix="pe-fresh-check")
    assert other.ledger_bucket != aws_stack.ledger_bucket
    assert other.dlq_url != aws_stack.dlq_url


def test_the_server_speaks_http_on_loopback(moto_server: LocalMotoServer) -> None:
    assert moto_server.endpoint_url.startswith("http://127.0.0.1:")
    sts = boto3.client(
        "sts", endpoint_url=moto_server.endpoint_url, region_name="us-east-1", **FAKE_CREDENTIALS
    )
    assert sts.get_caller_identity()["Account"].isdigit()


def test_faults_answer_over_http_and_then_expire(
    aws_stack: AwsStack, aws_faults: FaultInjector
) -> None:
    s3 = aws_stack.client("s3")
    fault = aws_faults.add(s3_error("SlowDown", 503, path_contains="/flaky", times=1))
    s3_no_retry = boto3.client(
        "s3",
        endpoint_url=aws_stack.endpoint_url,
        region_name=aws_stack.region,
        config=boto3.session.Config(retries={"total_max_attempts": 1}),
        **FAKE_CREDENTIALS,
    )

    with pytest.raises(ClientError, match="SlowDown"):
        s3_no_retry.put_object(Bucket=aws_stack.ledger_bucket, Key="flaky", Body=b"1")
    s3_no_retry.put_object(Bucket=aws_stack.ledger_bucket, Key="flaky", Body=b"2")

    assert fault.hits == 1
    assert s3.get_object(Bucket=aws_stack.ledger_bucket, Key="flaky")["Body"].read() == b"2"
    assert [r.method for r in aws_faults.requests("s3", path_contains="/flaky")] == [
        "PUT",
        "PUT",
        "GET",
    ]
