"""The retry policy and error classification shared by the AWS adapters, and the client config."""

import random

import pytest
from aws_samples import RecordedSleeps
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ParamValidationError,
    ReadTimeoutError,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from plan_executor.adapters.aws_config import AwsConfig
from plan_executor.adapters.aws_retry import Retrier, RetryPolicy, is_transient_aws_error


def _client_error(code: str, status: int) -> ClientError:
    response = {
        "Error": {"Code": code, "Message": "m"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "PutObject")  # type: ignore[arg-type]


class Flaky:
    """Fails with the given errors in turn, then returns "done"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


@pytest.mark.parametrize(
    "error",
    [
        _client_error("SlowDown", 503),
        _client_error("ThrottlingException", 400),
        _client_error("Whatever", 500),
        _client_error("TooManyRequests", 429),
        EndpointConnectionError(endpoint_url="http://x"),
        ConnectionClosedError(endpoint_url="http://x"),
        ReadTimeoutError(endpoint_url="http://x"),
        TimeoutError(),
    ],
)
def test_transient_errors(error: Exception) -> None:
    assert is_transient_aws_error(error)


@pytest.mark.parametrize(
    "error",
    [
        _client_error("NoSuchBucket", 404),
        _client_error("AccessDenied", 403),
        _client_error("PreconditionFailed", 412),
        ParamValidationError(report="bad"),
        ValueError("bug"),
    ],
)
def test_permanent_errors(error: Exception) -> None:
    assert not is_transient_aws_error(error)


async def test_transient_failures_are_retried_then_succeed(sleeps: RecordedSleeps) -> None:
    operation = Flaky(_client_error("SlowDown", 503), TimeoutError())
    retrier = Retrier(RetryPolicy(max_attempts=3), rng=random.Random(1), sleep=sleeps)

    assert await retrier.run(operation) == "done"

    assert operation.calls == 3
    assert len(sleeps.delays) == 2


async def test_attempts_are_bounded_and_the_last_error_is_raised(sleeps: RecordedSleeps) -> None:
    errors = [_client_error("SlowDown", 503) for _ in range(5)]
    operation = Flaky(*errors)
    retrier = Retrier(RetryPolicy(max_attempts=3), rng=random.Random(1), sleep=sleeps)

    with pytest.raises(ClientError) as caught:
        await retrier.run(operation)

    assert caught.value is errors[2]
    assert operation.calls == 3


async def test_a_permanent_error_is_raised_at_once(sleeps: RecordedSleeps) -> None:
    operation = Flaky(_client_error("NoSuchBucket", 404))
    retrier = Retrier(RetryPolicy(max_attempts=5), rng=random.Random(1), sleep=sleeps)

    with pytest.raises(ClientError):
        await retrier.run(operation)

    assert (operation.calls, sleeps.delays) == (1, [])


async def test_a_custom_classification_decides(sleeps: RecordedSleeps) -> None:
    operation = Flaky(KeyError("entry failed"))
    retrier = Retrier(RetryPolicy(max_attempts=2), rng=random.Random(1), sleep=sleeps)

    assert await retrier.run(operation, transient=lambda e: isinstance(e, KeyError)) == "done"


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    base=st.floats(0.001, 1.0),
    factor=st.floats(1.0, 50.0),
    retry=st.integers(1, 30),
)
def test_pauses_are_jittered_within_an_exponential_ceiling(
    seed: int, base: float, factor: float, retry: int
) -> None:
    policy = RetryPolicy(max_attempts=31, base_delay_s=base, max_delay_s=base * factor)

    delay = policy.delay(retry, random.Random(seed))

    assert 0 <= delay <= policy.ceiling(retry) <= policy.max_delay_s
    assert policy.ceiling(retry) == min(base * factor, base * 2 ** (retry - 1))


def test_jitter_spreads_pauses() -> None:
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=1.0)
    rng = random.Random(5)
    assert len({round(policy.delay(1, rng), 6) for _ in range(20)}) > 10


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0},
        {"base_delay_s": 0},
        {"base_delay_s": 2.0, "max_delay_s": 1.0},
        {"attempt_timeout_s": 0},
    ],
)
def test_policy_refuses_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (the message is not the point)
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_client_config_has_timeouts_and_no_hidden_retries() -> None:
    kwargs = AwsConfig(region="eu-west-1", endpoint_url="", read_timeout_s=7.0).client_kwargs()

    assert kwargs["region_name"] == "eu-west-1"
    assert kwargs["endpoint_url"] is None
    config = kwargs["config"]
    assert (config.read_timeout, config.connect_timeout) == (7.0, 2.0)
    assert config.retries["total_max_attempts"] == 1
