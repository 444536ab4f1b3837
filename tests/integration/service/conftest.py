"""Fixtures for the service tests: a fresh sim per test, its environment, a fresh handler."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from types import ModuleType

import pytest
from service_support import SimThread, fresh_handler, service_env, service_scenario
from tests.support.aws_stack import AwsStack


@pytest.fixture
def sim() -> Iterator[SimThread]:
    with SimThread(service_scenario(datetime.now(UTC))) as running:
        yield running


@pytest.fixture
def lambda_env(
    monkeypatch: pytest.MonkeyPatch, aws_stack: AwsStack, sim: SimThread
) -> dict[str, str]:
    """The function's environment, set for this test."""
    env = service_env(aws_stack, sim)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def handler(lambda_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> ModuleType:
    """The Lambda module imported in the test's environment, cold."""
    del lambda_env, capsys  # ordering only: environment and stdout capture come first
    return fresh_handler()
