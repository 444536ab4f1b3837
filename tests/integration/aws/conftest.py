"""Fixtures for the AWS adapter tests: moto in server mode over HTTP, fast retries.

The stack fixtures live in tests/support/aws_fixtures.py (registered by the top-level
conftest.py).
"""

import random

import aioboto3
import pytest
from aws_samples import LedgerStoreFactory, RecordedSleeps
from tests.support.aws_stack import AwsStack

from plan_executor.adapters.aws_config import AwsConfig
from plan_executor.adapters.aws_retry import Retrier, RetryPolicy
from plan_executor.adapters.failure_sink import SqsFailureSink, SqsFailureSinkConfig
from plan_executor.adapters.s3_ledger import S3LedgerConfig, S3LedgerStore


@pytest.fixture
def sleeps() -> RecordedSleeps:
    return RecordedSleeps()


@pytest.fixture
def retry_policy() -> RetryPolicy:
    return RetryPolicy(max_attempts=4, base_delay_s=0.2, max_delay_s=2.0)


@pytest.fixture
def retrier(retry_policy: RetryPolicy, sleeps: RecordedSleeps) -> Retrier:
    return Retrier(retry_policy, rng=random.Random(7), sleep=sleeps)


@pytest.fixture
def aws_config(aws_stack: AwsStack) -> AwsConfig:
    return AwsConfig(region=aws_stack.region, endpoint_url=aws_stack.endpoint_url)


@pytest.fixture
def ledger_store(
    aws_stack: AwsStack, aws_config: AwsConfig, retrier: Retrier
) -> LedgerStoreFactory:
    """Builds an S3LedgerStore on the stack (bucket, DLQ or KMS key overridable)."""

    def build(
        *, bucket: str | None = None, dlq_url: str | None = None, kms_key_id: str | None = None
    ) -> S3LedgerStore:
        session = aioboto3.Session()
        sink_config = SqsFailureSinkConfig(dlq_url or aws_stack.dlq_url)
        sink = SqsFailureSink(sink_config, aws_config, retrier=retrier, session=session)
        config = S3LedgerConfig(bucket or aws_stack.ledger_bucket, kms_key_id=kms_key_id)
        return S3LedgerStore(config, aws_config, sink, retrier=retrier, session=session)

    return build
