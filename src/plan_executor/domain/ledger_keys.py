"""Where an execution attempt's ledger lives in S3, and how attempts are named.

Layout (Hive-style, so Athena can partition on date and plan_id):

    executions/date=YYYY-MM-DD/plan_id=<plan id>/attempt=<attempt token>/result.json
    executions/date=YYYY-MM-DD/plan_id=<plan id>/attempt=<attempt token>/orders.jsonl
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import StringConstraints

from plan_executor.domain.identifiers import is_safe_plan_id

LEDGER_ROOT = "executions"
RESULT_OBJECT = "result.json"
ORDERS_OBJECT = "orders.jsonl"

ATTEMPT_PATTERN = r"^[0-9]{4}-[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8,32}$"
_ATTEMPT = re.compile(ATTEMPT_PATTERN)
_NONCE = re.compile(r"[0-9a-f]{8,32}")
MAX_ATTEMPT_NUMBER = 9999

AttemptToken = Annotated[str, StringConstraints(pattern=ATTEMPT_PATTERN)]
"""`<n>-<UTC compact start time>-<random hex>`, see `attempt_token`."""


def attempt_token(number: int, started_at: datetime, nonce: str) -> str:
    """Name one execution attempt: `0002-20250602T143005Z-9f86d081`.

    Why three parts: `number` (1-9999, zero-padded so keys sort) is what a human reads, but it
    is computed by the caller and can repeat (a crashed invocation retried by Lambda may count
    the same n). The start time in UTC keeps listings in time order. The random hex, drawn by
    the caller from its injected generator, makes a collision between two attempts impossible
    in practice even when both start in the same second with the same n, so an attempt never
    overwrites another's objects. The token uses only [0-9A-Za-z-], safe in an S3 key.
    """
    if not 1 <= number <= MAX_ATTEMPT_NUMBER:
        raise ValueError(f"attempt number must be 1-{MAX_ATTEMPT_NUMBER}, got {number}")
    if started_at.tzinfo is None:
        raise ValueError("started_at must be timezone-aware")
    if not _NONCE.fullmatch(nonce):
        raise ValueError("nonce must be 8-32 lowercase hex characters")
    stamp = started_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{number:04d}-{stamp}-{nonce}"


@dataclass(frozen=True, slots=True)
class LedgerKeys:
    """The S3 keys of one attempt's ledger objects."""

    prefix: str
    result: str
    orders: str

    @property
    def all(self) -> tuple[str, ...]:
        return (self.result, self.orders)


def ledger_keys(plan_id: str, day: date, attempt: str) -> LedgerKeys:
    """Keys for `attempt` of `plan_id`, partitioned by `day` (the attempt's UTC start date)."""
    if isinstance(day, datetime):
        raise TypeError("day must be a date, not a datetime (the partition is a calendar day)")
    if not is_safe_plan_id(plan_id):
        raise ValueError("plan_id is not safe for an S3 key")
    if not _ATTEMPT.fullmatch(attempt):
        raise ValueError("attempt is not an attempt token")
    prefix = f"{LEDGER_ROOT}/date={day.isoformat()}/plan_id={plan_id}/attempt={attempt}/"
    return LedgerKeys(prefix=prefix, result=prefix + RESULT_OBJECT, orders=prefix + ORDERS_OBJECT)
