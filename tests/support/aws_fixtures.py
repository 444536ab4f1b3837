"""pytest plugin: one moto server per session, a fresh local AWS stack per test.

Register it (e.g. `pytest_plugins = ["tests.support.aws_fixtures"]` in a top-level conftest).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest
from tests.support.aws_faults import FaultInjector
from tests.support.aws_stack import (
    FAKE_CREDENTIALS,
    AwsStack,
    LocalMotoServer,
    create_stack,
    start_moto_server,
)

_stack_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[LocalMotoServer]:
    """Fake credentials in the environment (for code that builds its own clients), no shared
    config or profile from the developer's machine, and the server itself."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", FAKE_CREDENTIALS["aws_access_key_id"])
        patch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_CREDENTIALS["aws_secret_access_key"])
        patch.setenv("AWS_CONFIG_FILE", os.devnull)
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            patch.delenv(name, raising=False)
        server = start_moto_server()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def aws_faults(moto_server: LocalMotoServer) -> Iterator[FaultInjector]:
    """The server's fault injector and request log, empty at the start of each test."""
    moto_server.faults.clear()
    yield moto_server.faults
    moto_server.faults.clear()


@pytest.fixture
def aws_stack(moto_server: LocalMotoServer, aws_faults: FaultInjector) -> AwsStack:
    """Fresh resources under a unique prefix; the request log starts after their creation."""
    stack = create_stack(
        moto_server.endpoint_url, name_prefix=f"pe-{os.getpid()}-{next(_stack_numbers)}"
    )
    aws_faults.clear()
    return stack
