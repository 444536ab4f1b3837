"""Re-export of plan_executor.local.aws_stack; the server is the one with the fault layer."""

from __future__ import annotations

from tests.support.aws_server import LocalMotoServer, start_moto_server

from plan_executor.local.aws_stack import (
    DEFAULT_REGION,
    FAKE_CREDENTIALS,
    RESULT_DETAIL_TYPE,
    RESULT_SOURCE,
    TEST_ALPACA_SECRET,
    AwsStack,
    create_stack,
    local_client,
)

__all__ = [
    "DEFAULT_REGION",
    "FAKE_CREDENTIALS",
    "RESULT_DETAIL_TYPE",
    "RESULT_SOURCE",
    "TEST_ALPACA_SECRET",
    "AwsStack",
    "LocalMotoServer",
    "create_stack",
    "local_client",
    "start_moto_server",
]
