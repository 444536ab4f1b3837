"""`LedgerStore` over S3: one attempt's `result.json` and `orders.jsonl`, written concurrently.

Every put is conditional (`If-None-Match: *`), so an attempt can never overwrite an object that
already exists, even as a new version. A put that fails with "precondition failed" is ours only
if the object there carries the SHA-256 we sent (an earlier try whose response was lost); any
other content is a conflict. Encryption is requested explicitly on every put rather than left to
the bucket default. What cannot be written after retries goes, in full, to the failure sink.
"""

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import aioboto3

from plan_executor.adapters.aws_config import AwsConfig
from plan_executor.adapters.aws_retry import Retrier, error_code
from plan_executor.domain.ledger import orders_jsonl
from plan_executor.domain.ledger_keys import LedgerKeys, ledger_keys
from plan_executor.domain.results import ExecutionResult, LedgerRef
from plan_executor.ports import FailureSink, LedgerEntry, LedgerWriteOutcome, UnwrittenLedger

DIGEST_METADATA: Final = "sha256"
RESULT_CONTENT_TYPE: Final = "application/json"
ORDERS_CONTENT_TYPE: Final = "application/x-ndjson"
MAX_ERROR_CHARS: Final = 400

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class S3LedgerConfig:
    """`kms_key_id` None means SSE-S3 (AES256); otherwise SSE-KMS with that key."""

    bucket: str
    kms_key_id: str | None = None

    def __post_init__(self) -> None:
        if not self.bucket:
            raise ValueError("bucket must not be empty")

    def encryption(self) -> dict[str, str]:
        if self.kms_key_id is None:
            return {"ServerSideEncryption": "AES256"}
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id}


@dataclass(frozen=True, slots=True)
class _LedgerObject:
    key: str
    body: bytes
    content_type: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


class LedgerConflictError(Exception):
    """The key already holds an object with other content."""


class S3LedgerStore:
    def __init__(
        self,
        config: S3LedgerConfig,
        aws: AwsConfig,
        failure_sink: FailureSink,
        *,
        retrier: Retrier,
        session: aioboto3.Session | None = None,
    ) -> None:
        self._config = config
        self._aws = aws
        self._sink = failure_sink
        self._retrier = retrier
        self._session = session or aioboto3.Session()

    async def write(
        self, result: ExecutionResult, lines: Sequence[LedgerEntry]
    ) -> LedgerWriteOutcome:
        day = result.started_at.astimezone(UTC).date()
        try:
            keys = ledger_keys(result.plan_id, day, result.attempt)
        except ValueError as exc:
            return await self._dead_letter(result, lines, None, f"no ledger keys: {exc}")
        ref = LedgerRef(bucket=self._config.bucket, keys=keys.all)
        stored = result.model_copy(update={"ledger": ref})
        objects = (
            _LedgerObject(keys.result, stored.model_dump_json().encode(), RESULT_CONTENT_TYPE),
            _LedgerObject(keys.orders, orders_jsonl(lines).encode(), ORDERS_CONTENT_TYPE),
        )
        error = await self._put_all(objects)
        if error is not None:
            return await self._dead_letter(result, lines, keys, error)
        return LedgerWriteOutcome(ref=ref)

    async def stored_result(
        self, plan_id: str, started_at: datetime, attempt: str
    ) -> ExecutionResult | None:
        keys = ledger_keys(plan_id, started_at.astimezone(UTC).date(), attempt)

        async def get() -> bytes | None:
            async with self._session.client("s3", **self._aws.client_kwargs()) as s3:
                try:
                    answer = await s3.get_object(Bucket=self._config.bucket, Key=keys.result)
                except Exception as exc:
                    if error_code(exc) in {"NoSuchKey", "404"}:
                        return None
                    raise
                body: bytes = await answer["Body"].read()
                return body

        body = await self._retrier.run(get, what=f"s3 get {keys.result}")
        return None if body is None else ExecutionResult.model_validate_json(body)

    async def _put_all(self, objects: Sequence[_LedgerObject]) -> str | None:
        """None when every object is in place, else what went wrong."""
        try:
            async with self._session.client("s3", **self._aws.client_kwargs()) as s3:
                outcomes = await asyncio.gather(
                    *(self._put(s3, obj) for obj in objects), return_exceptions=True
                )
        except Exception as exc:
            return f"s3 client failed: {exc}"
        errors = []
        for obj, outcome in zip(objects, outcomes, strict=True):
            if isinstance(outcome, Exception):
                errors.append(f"{obj.key.rsplit('/', 1)[-1]}: {outcome}")
            elif isinstance(outcome, BaseException):
                raise outcome
        return "; ".join(errors) or None

    async def _put(self, s3: Any, obj: _LedgerObject) -> None:
        async def put_once() -> None:
            await s3.put_object(
                Bucket=self._config.bucket,
                Key=obj.key,
                Body=obj.body,
                ContentType=obj.content_type,
                Metadata={DIGEST_METADATA: obj.digest},
                IfNoneMatch="*",
                **self._config.encryption(),
            )

        try:
            await self._retrier.run(put_once, what=f"s3 put {obj.key}")
        except Exception as exc:
            if error_code(exc) != "PreconditionFailed":
                raise
            await self._confirm_ours(s3, obj)

    async def _confirm_ours(self, s3: Any, obj: _LedgerObject) -> None:
        async def head() -> dict[str, Any]:
            response: dict[str, Any] = await s3.head_object(Bucket=self._config.bucket, Key=obj.key)
            return response

        existing = await self._retrier.run(head, what=f"s3 head {obj.key}")
        if existing.get("Metadata", {}).get(DIGEST_METADATA) != obj.digest:
            raise LedgerConflictError("already exists with other content; not overwritten")

    async def _dead_letter(
        self,
        result: ExecutionResult,
        lines: Sequence[LedgerEntry],
        keys: LedgerKeys | None,
        error: str,
    ) -> LedgerWriteOutcome:
        _log.error("ledger not written for attempt %s: %s", result.attempt, error)
        unwritten = UnwrittenLedger(result, tuple(lines), self._config.bucket, keys, error)
        try:
            await self._sink.send_ledger(unwritten)
        except Exception as exc:
            _log.critical("ledger of attempt %s is lost: %s", result.attempt, exc)
            return LedgerWriteOutcome(ref=None, error=_brief(f"{error}; dead-letter failed: {exc}"))
        return LedgerWriteOutcome(ref=None, error=_brief(error), dead_lettered=True)


def _brief(error: str) -> str:
    """Short enough for the result's `reason` next to other text; the DLQ has the details."""
    if len(error) <= MAX_ERROR_CHARS:
        return error
    return error[: MAX_ERROR_CHARS - 3] + "..."
