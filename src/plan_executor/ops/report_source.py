"""One execution attempt's ledger read back from S3: which `result.json` a report is about,
and that object with its `orders.jsonl`.

Keys are Hive-style (`domain/ledger_keys.py`), so a plan is found by listing prefixes, never by
reading every object: the dates are listed with a delimiter, newest first, and only the plan's
prefix under each is listed. Among a plan's attempts the latest (by its start stamp) is chosen.
Anything unreadable or unparsable is an error: a report is never drawn from part of a ledger.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from pydantic import ValidationError

from plan_executor.domain.identifiers import is_safe_plan_id
from plan_executor.domain.ledger import (
    LedgerCancellationLine,
    LedgerOrderLine,
    parse_ledger_line,
)
from plan_executor.domain.ledger_keys import LEDGER_ROOT, ORDERS_OBJECT, RESULT_OBJECT
from plan_executor.domain.results import ExecutionResult

_DATE_SEGMENT: Final = "date="
_ATTEMPT_SEGMENT: Final = "attempt="


class ReportSourceError(Exception):
    """No ledger to report on, or one that cannot be read whole."""


@dataclass(frozen=True, slots=True)
class Selection:
    """Which attempt: the latest of `plan_id` (on `day` if given), or with `plan_id` None the
    latest attempt of any plan (on `day`, else on the newest day)."""

    plan_id: str | None = None
    day: date | None = None


@dataclass(frozen=True, slots=True)
class LedgerRecord:
    """One attempt's ledger objects, parsed."""

    bucket: str
    result_key: str
    result: ExecutionResult
    lines: tuple[LedgerOrderLine | LedgerCancellationLine, ...]

    @property
    def orders_key(self) -> str:
        return orders_key_of(self.result_key)

    @property
    def order_lines(self) -> tuple[LedgerOrderLine, ...]:
        return tuple(line for line in self.lines if isinstance(line, LedgerOrderLine))

    @property
    def cancellations(self) -> tuple[LedgerCancellationLine, ...]:
        return tuple(line for line in self.lines if isinstance(line, LedgerCancellationLine))


def orders_key_of(result_key: str) -> str:
    return result_key.removesuffix(RESULT_OBJECT) + ORDERS_OBJECT


def find_result_key(s3: Any, bucket: str, selection: Selection) -> str:
    """The `result.json` key of the selected attempt."""
    plan_id = selection.plan_id
    if plan_id is not None and not is_safe_plan_id(plan_id):
        raise ReportSourceError(f"not a plan id: {plan_id!r}")
    days = [selection.day.isoformat()] if selection.day else _days_newest_first(s3, bucket)
    for day in days:
        prefix = f"{LEDGER_ROOT}/{_DATE_SEGMENT}{day}/"
        if plan_id is not None:
            prefix += f"plan_id={plan_id}/"
        keys = [key for key in _keys(s3, bucket, prefix) if key.endswith("/" + RESULT_OBJECT)]
        if keys:
            return _latest(s3, bucket, keys)
    wanted = f"plan {plan_id}" if plan_id else "any plan"
    where = f" on {selection.day.isoformat()}" if selection.day else ""
    raise ReportSourceError(f"no ledger for {wanted}{where} in s3://{bucket}/{LEDGER_ROOT}/")


def load_record(s3: Any, bucket: str, result_key: str) -> LedgerRecord:
    """The attempt's `result.json` and `orders.jsonl`, both required."""
    result = _parse_result(bucket, result_key, _read(s3, bucket, result_key))
    orders_key = orders_key_of(result_key)
    orders_text = _read(s3, bucket, orders_key)
    try:
        lines = tuple(parse_ledger_line(line) for line in orders_text.splitlines() if line)
    except ValidationError as error:
        raise ReportSourceError(f"s3://{bucket}/{orders_key}: not our ledger: {error}") from None
    return LedgerRecord(bucket, result_key, result, lines)


def _read(s3: Any, bucket: str, key: str) -> str:
    try:
        body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        raise ReportSourceError(f"s3://{bucket}/{key} is missing") from None
    return body.decode("utf-8")


def _days_newest_first(s3: Any, bucket: str) -> list[str]:
    prefix = f"{LEDGER_ROOT}/{_DATE_SEGMENT}"
    days = [
        common["Prefix"].removeprefix(prefix).rstrip("/")
        for page in _pages(s3, bucket, prefix, delimiter="/")
        for common in page.get("CommonPrefixes", [])
    ]
    return sorted(days, reverse=True)


def _keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    return [
        entry["Key"] for page in _pages(s3, bucket, prefix) for entry in page.get("Contents", [])
    ]


def _pages(s3: Any, bucket: str, prefix: str, delimiter: str = "") -> Iterator[dict[str, Any]]:
    paginator = s3.get_paginator("list_objects_v2")
    extra = {"Delimiter": delimiter} if delimiter else {}
    yield from paginator.paginate(Bucket=bucket, Prefix=prefix, **extra)


def _latest(s3: Any, bucket: str, result_keys: Sequence[str]) -> str:
    """Attempt tokens are `NNNN-<UTC stamp to the second>-<hex>`: the stamp orders attempts;
    attempts started in the same second are told apart by their results' `started_at`."""
    newest = max(_stamp(key) for key in result_keys)
    tied = [key for key in result_keys if _stamp(key) == newest]
    if len(tied) == 1:
        return tied[0]
    return max(tied, key=lambda key: _parse_result(bucket, key, _read(s3, bucket, key)).started_at)


def _stamp(result_key: str) -> str:
    token = result_key.rsplit(_ATTEMPT_SEGMENT, 1)[-1].split("/", 1)[0]
    return token.split("-")[1]


def _parse_result(bucket: str, key: str, text: str) -> ExecutionResult:
    try:
        return ExecutionResult.model_validate_json(text)
    except ValidationError as error:
        raise ReportSourceError(f"s3://{bucket}/{key}: not our ledger: {error}") from None
