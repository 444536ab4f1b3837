"""Bounded, jittered retries for AWS calls, owned by us rather than hidden inside botocore, so the
policy is visible, testable (sleep and randomness are injected) and the same for every adapter.
"""

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final, TypeVar

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[object]]

_log = logging.getLogger(__name__)

TRANSIENT_ERROR_CODES: Final = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "InternalError",
        "InternalFailure",
        "InternalException",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
    }
)
TRANSIENT_HTTP_STATUSES: Final = frozenset({429, 500, 502, 503, 504})


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a `ClientError` (e.g. "NoSuchBucket"), else None."""
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code")
    return None


def _http_status(exc: ClientError) -> int | None:
    return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def is_transient_aws_error(exc: BaseException) -> bool:
    """Throttling, server errors, timeouts and dropped connections: worth another try."""
    if isinstance(exc, ClientError):
        return error_code(exc) in TRANSIENT_ERROR_CODES or _http_status(exc) in (
            TRANSIENT_HTTP_STATUSES
        )
    return isinstance(exc, HTTPClientError | BotocoreConnectionError | TimeoutError)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`max_attempts` calls at most, each abandoned (a transient failure) after
    `attempt_timeout_s`; before retry n, a "full jitter" pause drawn uniformly from
    [0, min(max_delay_s, base_delay_s * 2**(n-1))], so the total time is bounded.

    The attempt bound is ours because the SDK's socket timeouts do not cover every hang:
    aiohttp drops its read timeout when an interim `100 Continue` arrives after the body was
    sent (botocore asks S3 for one on every PutObject), and then waits for the answer forever.
    """

    max_attempts: int = 4
    base_delay_s: float = 0.2
    max_delay_s: float = 2.0
    attempt_timeout_s: float = 10.0
    """Above the clients' connect plus read timeouts (AwsConfig): it only ends a real hang."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 < self.base_delay_s <= self.max_delay_s:
            raise ValueError("delays must satisfy 0 < base_delay_s <= max_delay_s")
        if not self.attempt_timeout_s > 0:
            raise ValueError("attempt_timeout_s must be positive")

    def ceiling(self, retry: int) -> float:
        """The longest pause before retry number `retry` (1-based)."""
        return min(self.max_delay_s, self.base_delay_s * 2.0 ** (retry - 1))

    def delay(self, retry: int, rng: random.Random) -> float:
        return rng.uniform(0.0, self.ceiling(retry))


class Retrier:
    """Runs an async operation under a `RetryPolicy`. The last error is re-raised unchanged
    when the attempts run out or the error is not transient."""

    def __init__(self, policy: RetryPolicy, *, rng: random.Random, sleep: Sleep = asyncio.sleep):
        self.policy = policy
        self._rng = rng
        self._sleep = sleep

    async def run(
        self,
        operation: Callable[[], Awaitable[T]],
        *,
        transient: Callable[[BaseException], bool] = is_transient_aws_error,
        what: str = "aws call",
    ) -> T:
        attempt = 1
        while True:
            try:
                async with asyncio.timeout(self.policy.attempt_timeout_s):
                    return await operation()
            except Exception as exc:
                if attempt >= self.policy.max_attempts or not transient(exc):
                    raise
                pause = self.policy.delay(attempt, self._rng)
                _log.warning(
                    "%s failed (attempt %d of %d, %s); retrying in %.3f s",
                    what,
                    attempt,
                    self.policy.max_attempts,
                    error_code(exc) or type(exc).__name__,
                    pause,
                )
            await self._sleep(pause)
            attempt += 1
