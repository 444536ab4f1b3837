"""`ResultPublisher` over EventBridge: one `ExecutionResult` event per execution attempt.

PutEvents can succeed as a call yet fail the entry (`FailedEntryCount` > 0); such an entry is
sent again under the retry policy unless its error code says a retry cannot help. Consumers
should de-duplicate on `detail.event_id`: a call whose response was lost may have delivered.
"""

import logging
from dataclasses import dataclass
from typing import Any, Final

import aioboto3

from plan_executor.adapters.aws_config import AwsConfig
from plan_executor.adapters.aws_retry import Retrier, is_transient_aws_error
from plan_executor.adapters.eventbridge_detail import (
    MAX_ENTRY_BYTES,
    fit_compat_detail,
    fit_detail,
)
from plan_executor.domain.compat_alchemiser import COMPAT_SOURCE, compat_events
from plan_executor.domain.results import ExecutionResult
from plan_executor.ports import PublishReceipt, ResultPublishError

DETAIL_TYPE: Final = "ExecutionResult"
DEFAULT_SOURCE: Final = "plan-executor"
PERMANENT_ENTRY_ERRORS: Final = frozenset(
    {
        "MalformedDetail",
        "InvalidArgument",
        "AccessDeniedException",
        "NotAuthorizedForSourceException",
        "NotAuthorizedForDetailTypeException",
    }
)

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EventBridgeConfig:
    bus_name: str = "default"
    source: str = DEFAULT_SOURCE
    max_entry_bytes: int = MAX_ENTRY_BYTES
    alchemiser_compat: bool = False
    """Also publish alchemiser's TradeExecuted / WorkflowFailed (domain/compat_alchemiser.py)."""

    def __post_init__(self) -> None:
        if not self.bus_name or not self.source:
            raise ValueError("bus_name and source must not be empty")


class FailedEntryError(Exception):
    """PutEvents answered, but did not accept the entry."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"entry failed: {code}: {message}")
        self.code = code


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, FailedEntryError):
        return exc.code not in PERMANENT_ENTRY_ERRORS
    return is_transient_aws_error(exc)


class EventBridgePublisher:
    def __init__(
        self,
        config: EventBridgeConfig,
        aws: AwsConfig,
        *,
        retrier: Retrier,
        session: aioboto3.Session | None = None,
    ) -> None:
        self._config = config
        self._aws = aws
        self._retrier = retrier
        self._session = session or aioboto3.Session()

    async def publish(self, result: ExecutionResult) -> PublishReceipt:
        try:
            fitted = fit_detail(
                result,
                source=self._config.source,
                detail_type=DETAIL_TYPE,
                limit=self._config.max_entry_bytes,
            )
        except ValueError as exc:
            raise ResultPublishError(str(exc)) from exc
        if fitted.trimmed:
            _log.warning("result of attempt %s trimmed to fit one event", result.attempt)
        entry = {
            "Time": result.completed_at,
            "Source": self._config.source,
            "DetailType": DETAIL_TYPE,
            "Detail": fitted.detail,
            "EventBusName": self._config.bus_name,
        }
        attempts = 0

        async def put_once(events: Any) -> str:
            nonlocal attempts
            attempts += 1
            return await _put_entry(events, entry)

        try:
            async with self._session.client("events", **self._aws.client_kwargs()) as events:
                event_id = await self._retrier.run(
                    lambda: put_once(events), transient=_retryable, what="PutEvents"
                )
        except Exception as exc:
            raise ResultPublishError(
                f"ExecutionResult of attempt {result.attempt} not published "
                f"after {attempts} attempt(s): {exc}"
            ) from exc
        if self._config.alchemiser_compat:
            await self._publish_compat(result)
        return PublishReceipt(event_id=event_id, trimmed=fitted.trimmed, attempts=attempts)

    async def _publish_compat(self, result: ExecutionResult) -> None:
        """alchemiser's events, after the ExecutionResult is out and in a call of their own: a
        failure here is logged as an error and never resends the ExecutionResult."""
        for detail_type, detail in compat_events(result):
            entry = {
                "Time": result.completed_at,
                "Source": COMPAT_SOURCE,
                "DetailType": detail_type,
                "Detail": fit_compat_detail(
                    detail, COMPAT_SOURCE, detail_type, self._config.max_entry_bytes
                ),
                "EventBusName": self._config.bus_name,
            }
            try:
                async with self._session.client("events", **self._aws.client_kwargs()) as events:
                    await self._retrier.run(
                        lambda: _put_entry(events, entry),  # noqa: B023 (awaited in the loop)
                        transient=_retryable,
                        what=f"PutEvents {detail_type}",
                    )
            except Exception as exc:
                _log.error(
                    "alchemiser %s of attempt %s not published: %s",
                    detail_type,
                    result.attempt,
                    exc,
                )


async def _put_entry(events: Any, entry: dict[str, Any]) -> str:
    response = await events.put_events(Entries=[entry])
    outcome: dict[str, Any] = response["Entries"][0]
    if response.get("FailedEntryCount", 0) or "EventId" not in outcome:
        raise FailedEntryError(
            str(outcome.get("ErrorCode", "Unknown")), str(outcome.get("ErrorMessage", ""))
        )
    return str(outcome["EventId"])
