"""A stable hash of a plan's content.

Used for idempotency payload validation (same plan id, different plan = refused) and for the
short plan hash in client order ids. Representation differences that do not change the plan do
not change the hash: `"1234.50"`, `1234.5` and `1234.500` are one amount; a timestamp given as
`+02:00` or `Z` is one instant; an absent optional field equals an explicit null.
"""

import hashlib
import json
from datetime import datetime
from decimal import Decimal
from enum import Enum

from plan_executor.domain.plan import RebalancePlan

FINGERPRINT_VERSION = "plan-fingerprint-v1"


def canonical_plan_json(plan: RebalancePlan) -> str:
    """Sorted-key, whitespace-free JSON of the plan with numbers normalised."""
    content = _canonical(plan.model_dump(mode="python", exclude_none=True))
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def plan_fingerprint(plan: RebalancePlan) -> str:
    """SHA-256 hex digest of the versioned canonical JSON of the plan."""
    payload = f"{FINGERPRINT_VERSION}\n{canonical_plan_json(plan)}".encode("ascii")
    return hashlib.sha256(payload).hexdigest()


def _canonical(value: object) -> object:
    if isinstance(value, dict):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    if isinstance(value, Decimal):
        return _normalised_decimal(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, Enum):
        return value.value
    return value


def _normalised_decimal(value: Decimal) -> str:
    """Trailing zeros dropped without rounding (Decimal.normalize would round past 28 digits)."""
    if value == 0:
        return "0"
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # contracts hold finite Decimals only
    while exponent < 0 and digits[-1] == 0:
        digits, exponent = digits[:-1], exponent + 1
    return format(Decimal((sign, digits, exponent)), "f")
