"""The local AWS stack: the resources the service uses, created fresh under a name prefix on
moto in server mode (`start_moto_server`, real HTTP on loopback).

Used by `plan-executor replay` / `local-stack` and by the tests (through tests/support), so it
has no pytest import.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import boto3

from plan_executor.adapters.kill_switch import OFF, SwitchState
from plan_executor.local.aws_server import LocalMotoServer, start_moto_server

__all__ = [
    "DEFAULT_EVENT_BUS",
    "DEFAULT_REGION",
    "FAKE_CREDENTIALS",
    "LOCAL_SERVICE_NAME",
    "RESULT_DETAIL_TYPE",
    "RESULT_SOURCE",
    "TEST_ALPACA_SECRET",
    "AwsStack",
    "LocalMotoServer",
    "create_stack",
    "local_client",
    "start_moto_server",
]

DEFAULT_REGION: Final = "us-east-1"
LOCAL_SERVICE_NAME: Final = "plan-executor-local"
"""The name prefix env/sam-local-env.json expects (table, bucket, queues, secret)."""
DEFAULT_EVENT_BUS: Final = "default"
RESULT_SOURCE: Final = "plan-executor"
RESULT_DETAIL_TYPE: Final = "ExecutionResult"
FAKE_CREDENTIALS: Final = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
INITIAL_SWITCH: Final = SwitchState(OFF, "local-stack", "creation", "the stack was created")
TEST_ALPACA_SECRET: Final = {"key_id": "PKTEST0001", "secret_key": "s3cr3t-TEST", "mode": "paper"}


@functools.cache
def local_client(service: str, endpoint_url: str, region: str = DEFAULT_REGION) -> Any:
    """A boto3 client with fake credentials on a local endpoint, made once (building a client
    parses the service model: most of the cost of setting up a stack)."""
    return boto3.client(  # type: ignore[call-overload]  # a service chosen at run time
        service,
        region_name=region,
        endpoint_url=endpoint_url,
        aws_access_key_id=FAKE_CREDENTIALS["aws_access_key_id"],
        aws_secret_access_key=FAKE_CREDENTIALS["aws_secret_access_key"],
    )


@dataclass(frozen=True, slots=True)
class AwsStack:
    endpoint_url: str
    region: str
    idempotency_table: str
    ledger_bucket: str
    event_bus: str
    result_source: str
    results_rule: str
    results_queue_url: str
    dlq_url: str
    dlq_arn: str
    secret_id: str
    secret_arn: str
    kill_switch_parameter: str

    def client(self, service: str) -> Any:
        """A plain boto3 client on the stack, for setting up and inspecting."""
        return local_client(service, self.endpoint_url, self.region)

    def aws_env(self) -> dict[str, str]:
        """What an AWS SDK in a child process needs to use this stack."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["aws_secret_access_key"],
        }

    def service_env(self) -> dict[str, str]:
        """The service's settings for this stack (names as template.yaml and settings.py have
        them)."""
        return {
            **self.aws_env(),
            "EVENT_BUS_NAME": self.event_bus,
            "RESULT_SOURCE": self.result_source,
            "IDEMPOTENCY_TABLE": self.idempotency_table,
            "LEDGER_BUCKET": self.ledger_bucket,
            "FAILURE_QUEUE_URL": self.dlq_url,
            "CREDENTIALS_SOURCE": "secretsmanager",
            "ALPACA_SECRET_ID": self.secret_id,
            "KILL_SWITCH_PARAMETER": self.kill_switch_parameter,
        }

    def receive(self, queue_url: str, *, expected: int, timeout_s: float = 5.0) -> list[Any]:
        """Long-poll `queue_url` until `expected` messages arrived or `timeout_s` passed."""
        sqs = self.client("sqs")
        messages: list[Any] = []
        deadline = time.monotonic() + timeout_s
        while len(messages) < expected and (left := deadline - time.monotonic()) > 0:
            response = sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=min(10, expected - len(messages)),
                WaitTimeSeconds=max(1, min(20, int(left))),
                MessageAttributeNames=["All"],
            )
            messages.extend(response.get("Messages", []))
        return messages

    def receive_now(self, queue_url: str) -> list[Any]:
        """Whatever is in `queue_url` at this moment (no waiting)."""
        sqs = self.client("sqs")
        messages: list[Any] = []
        while batch := sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", []):
            messages.extend(batch)
        return messages

    def result_events(self, *, expected: int = 1, timeout_s: float = 5.0) -> list[dict[str, Any]]:
        """Result events routed by the rule to the results queue, as EventBridge sent them."""
        messages = self.receive(self.results_queue_url, expected=expected, timeout_s=timeout_s)
        return [json.loads(message["Body"]) for message in messages]


def create_stack(
    endpoint_url: str,
    *,
    name_prefix: str,
    region: str = DEFAULT_REGION,
    alpaca_secret: Mapping[str, str] = TEST_ALPACA_SECRET,
    result_source: str = RESULT_SOURCE,
    event_bus: str | None = None,
) -> AwsStack:
    """Create every resource under `name_prefix` (lowercase letters, digits, dashes).

    The results rule goes on `event_bus` (EventBridge's `default` bus always exists), or on a
    new `<prefix>-bus` when None."""

    def client(service: str) -> Any:
        return local_client(service, endpoint_url, region)

    table = f"{name_prefix}-idempotency"
    _create_idempotency_table(client("dynamodb"), table)
    bucket = f"{name_prefix}-ledger"
    _create_ledger_bucket(client("s3"), bucket)
    sqs = client("sqs")
    results_url, results_arn = _create_queue(sqs, f"{name_prefix}-results")
    dlq_url, dlq_arn = _create_queue(sqs, f"{name_prefix}-dlq")
    bus, rule = event_bus or f"{name_prefix}-bus", f"{name_prefix}-results"
    _route_results(
        client("events"), bus, rule, result_source, results_arn, create_bus=not event_bus
    )
    secret = client("secretsmanager").create_secret(
        Name=f"{name_prefix}/alpaca", SecretString=json.dumps(dict(alpaca_secret))
    )
    kill_switch = kill_switch_parameter_name(name_prefix)
    client("ssm").put_parameter(Name=kill_switch, Value=INITIAL_SWITCH.to_value(), Type="String")
    return AwsStack(
        endpoint_url=endpoint_url,
        region=region,
        idempotency_table=table,
        ledger_bucket=bucket,
        event_bus=bus,
        result_source=result_source,
        results_rule=rule,
        results_queue_url=results_url,
        dlq_url=dlq_url,
        dlq_arn=dlq_arn,
        secret_id=secret["Name"],
        secret_arn=secret["ARN"],
        kill_switch_parameter=kill_switch,
    )


def kill_switch_parameter_name(name_prefix: str) -> str:
    """As template.yaml names it for a stack."""
    return f"/{name_prefix}/kill-switch"


def _create_idempotency_table(dynamodb: Any, table: str) -> None:
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"}
    )


def _create_ledger_bucket(s3: Any, bucket: str) -> None:
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [rule]})
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )


def _create_queue(sqs: Any, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name, Attributes={"SqsManagedSseEnabled": "true"})["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return url, attributes["Attributes"]["QueueArn"]


def _route_results(
    events: Any, bus: str, rule: str, source: str, queue_arn: str, *, create_bus: bool
) -> None:
    if create_bus:
        events.create_event_bus(Name=bus)
    pattern = {"source": [source], "detail-type": [RESULT_DETAIL_TYPE]}
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "results", "Arn": queue_arn}])
