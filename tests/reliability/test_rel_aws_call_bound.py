"""An AWS call that never answers is abandoned by the adapters' own per-attempt bound, even
where the SDK's socket timeouts do not apply.

Found by the fault matrix (a hung S3 PutObject waited far past its 5 s read timeout): botocore
sends S3 puts with `Expect: 100-continue`, and aiohttp waits for the interim `100 Continue`
before it sends the body and before its read timer starts; a server that accepted the
connection and then says nothing keeps that put waiting forever (the ledger write would then
hold the invocation until Lambda's own timeout, with no result and no DLQ copy).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import aioboto3
import pytest
from rel_support import aws_process_env

from plan_executor.adapters.aws_config import AwsConfig
from plan_executor.adapters.aws_retry import Retrier, RetryPolicy

SDK_READ_TIMEOUT_S = 0.2
ATTEMPT_TIMEOUT_S = 0.5
ATTEMPTS = 2
TEST_BOUND_S = 10.0
"""Far above ATTEMPTS x ATTEMPT_TIMEOUT_S; without the bound the call would never end."""


class SilentServer:
    """Accepts connections, reads each request's head, and never answers."""

    def __init__(self) -> None:
        self.requests = 0
        self._held: list[asyncio.StreamWriter] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        self.requests += 1
        self._held.append(writer)

    def close(self) -> None:
        for writer in self._held:
            writer.close()


@pytest.fixture
async def silent_s3(
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[str, SilentServer]]:
    for name, value in aws_process_env().items():
        monkeypatch.setenv(name, value)
    behaviour = SilentServer()
    server = await asyncio.start_server(behaviour.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", behaviour
    finally:
        behaviour.close()
        server.close()
        await server.wait_closed()


async def test_a_put_whose_answer_never_comes_is_abandoned_and_retried(
    silent_s3: tuple[str, SilentServer],
) -> None:
    endpoint, server = silent_s3
    aws = AwsConfig(
        region="us-east-1",
        endpoint_url=endpoint,
        connect_timeout_s=SDK_READ_TIMEOUT_S,
        read_timeout_s=SDK_READ_TIMEOUT_S,
    )
    policy = RetryPolicy(
        max_attempts=ATTEMPTS,
        base_delay_s=0.01,
        max_delay_s=0.01,
        attempt_timeout_s=ATTEMPT_TIMEOUT_S,
    )
    retrier = Retrier(policy, rng=random.Random(3))

    async with aioboto3.Session().client("s3", **aws.client_kwargs()) as s3:

        async def put() -> object:
            return await s3.put_object(Bucket="ledger", Key="result.json", Body=b"{}")

        attempts = asyncio.create_task(retrier.run(put, what="s3 put"))
        done, _ = await asyncio.wait({attempts}, timeout=TEST_BOUND_S)
        if not done:
            attempts.cancel()
        assert attempts in done, "the call hung: nothing bounded the attempt"
        assert isinstance(attempts.exception(), TimeoutError)

    assert server.requests == ATTEMPTS, "each attempt was sent, abandoned, and sent again"
