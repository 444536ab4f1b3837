"""Deterministic client order ids: `<plan hash>-<symbol>-<b|s>-<n>`, at most 48 characters.

The same plan always yields the same ids, so a retry finds its earlier orders at the broker
(the predecessor drew a random id per attempt and could not). `n` continues after the highest
`n` the broker already has for the symbol and side, so a new order never reuses an id (Alpaca
refuses a client_order_id forever, even after the first order was cancelled).
"""

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from plan_executor.domain.enums import Side

PLAN_HASH_LENGTH = 10
MAX_CLIENT_ORDER_ID_LENGTH = 48
"""Alpaca's current limit is 128; 48 was the documented limit and is kept as the safe one."""

_SIDE_CODES = {Side.BUY: "b", Side.SELL: "s"}
_SIDES_BY_CODE = {code: side for side, code in _SIDE_CODES.items()}
_PLAN_HASH = re.compile(r"[0-9a-f]{10}")
_SYMBOL = re.compile(r"[A-Z0-9][A-Z0-9./]*")
# '/' (e.g. a share class BRK/B) is written as '_', which a symbol never contains.
_ID = re.compile(
    r"(?P<hash>[0-9a-f]{10})-(?P<symbol>[A-Z0-9][A-Z0-9._]*)-(?P<side>[bs])-(?P<n>[1-9][0-9]*)"
)


@dataclass(frozen=True, slots=True)
class ParsedId:
    plan_hash: str
    symbol: str
    side: Side
    sequence: int


def short_plan_hash(plan_fingerprint: str) -> str:
    """The first 10 hex characters of the SHA-256 of the plan fingerprint."""
    if not plan_fingerprint:
        raise ValueError("a plan fingerprint is required")
    return hashlib.sha256(plan_fingerprint.encode()).hexdigest()[:PLAN_HASH_LENGTH]


def plan_prefix(plan_hash: str) -> str:
    """The prefix every client order id of this plan starts with (for listing at the broker)."""
    _require_plan_hash(plan_hash)
    return f"{plan_hash}-"


def client_order_id(plan_hash: str, symbol: str, side: Side, sequence: int) -> str:
    """The id of the `sequence`-th order (from 1) for this plan, symbol and side."""
    _require_plan_hash(plan_hash)
    if _SYMBOL.fullmatch(symbol) is None:
        raise ValueError(f"symbol {symbol!r} cannot be encoded in a client order id")
    if sequence < 1:
        raise ValueError(f"sequence must be at least 1, got {sequence}")
    encoded = symbol.replace("/", "_")
    order_id = f"{plan_hash}-{encoded}-{_SIDE_CODES[side]}-{sequence}"
    if len(order_id) > MAX_CLIENT_ORDER_ID_LENGTH:
        raise ValueError(f"client order id {order_id!r} is longer than 48 characters")
    return order_id


def parse_client_order_id(value: str) -> ParsedId | None:
    """The parts of one of our ids; None for anything else (e.g. a manual order's id)."""
    if len(value) > MAX_CLIENT_ORDER_ID_LENGTH:
        return None
    match = _ID.fullmatch(value)
    if match is None:
        return None
    return ParsedId(
        plan_hash=match["hash"],
        symbol=match["symbol"].replace("_", "/"),
        side=_SIDES_BY_CODE[match["side"]],
        sequence=int(match["n"]),
    )


def belongs_to_plan(value: str, plan_hash: str) -> bool:
    """Whether `value` is one of this plan's client order ids."""
    parsed = parse_client_order_id(value)
    return parsed is not None and parsed.plan_hash == plan_hash


def next_sequence(
    existing_ids: Iterable[str], symbol: str, side: Side, *, plan_hash: str | None = None
) -> int:
    """One after the highest sequence already used for `symbol` and `side` (1 if none).

    With `plan_hash`, ids of other plans are left out; without it they can only push the
    sequence higher, which is harmless.
    """
    used = [
        parsed.sequence
        for parsed in map(parse_client_order_id, existing_ids)
        if parsed is not None
        and parsed.symbol == symbol
        and parsed.side == side
        and (plan_hash is None or parsed.plan_hash == plan_hash)
    ]
    return max(used, default=0) + 1


def _require_plan_hash(plan_hash: str) -> None:
    if _PLAN_HASH.fullmatch(plan_hash) is None:
        raise ValueError(f"plan hash must be {PLAN_HASH_LENGTH} lowercase hex characters")
